"""The restricted maximal-covering MILP solved by SCIP (``pyscipopt``), where it is installed.

Same model and answer as :func:`geo.optimize.bound.solve_restricted` (HiGHS)::

    maximise   Σ_g w_g · y_g
    subject to y_g ≤ Σ_{j ∈ C(g) ∩ columns} x_j   for every group g
               Σ_j c_j · x_j ≤ B,  Σ_{j ∈ d} x_j ≤ max_d
               x_j ∈ {0, 1},  0 ≤ y_g ≤ 1

on the candidates ``columns`` only, started from a plan in hand. Why a second engine: on a city
with no sets yet at 800 m (the sample: 2,500 candidates, 41,003 pairs) SCIP's root cuts bring the
bound from the LP's 1,822,801 to 1,820,695 in ~5 s and its diving heuristic finds 1,815,008,
where HiGHS's branch and bound still had 1,821,717 and no better plan than the 1,789,613 it was
given after 6 s (benchmarks/README.md, "Issue 17").

SCIP's bound (``getDualbound``) is valid for plans within ``columns``, as HiGHS's is; the clock is
the wall clock (``timing/clocktype`` 2). :data:`AVAILABLE` says whether ``pyscipopt`` imports.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from geo.optimize.bound import RestrictedSolution, merge_identical

try:
    import pyscipopt
except ImportError:  # pragma: no cover - depends on the environment
    pyscipopt = None

AVAILABLE = pyscipopt is not None


def solve_restricted_scip(
    cover: sp.csr_array,
    weight: np.ndarray,
    cost: np.ndarray,
    budget: float,
    columns: np.ndarray,
    district: np.ndarray,
    district_max: dict,
    start_plan: np.ndarray,
    time_limit_s: float | None,
    mip_rel_gap: float,
    enough: float | None = None,
) -> RestrictedSolution:
    """Maximal covering over candidates ``columns`` by SCIP, started from ``start_plan`` (a feasible
    plan within ``columns``), with the budget (CNY) and district maximums; see the module doc.

    Stops at ``time_limit_s`` seconds (wall clock; None or infinite: no limit), at ``mip_rel_gap`` (SCIP's gap is
    relative to the smaller of plan and bound, so a little stricter than HiGHS's), or once a plan
    serves ``enough`` residents (``limits/primal``). ``chosen`` are global candidate positions.
    """
    if pyscipopt is None:
        raise ImportError("pyscipopt is not installed")
    columns = np.asarray(columns, dtype=int)
    sub, w = merge_identical(sp.csr_array(cover)[columns], weight)
    w = np.asarray(w, dtype=float)
    k, m = sub.shape
    by_group = sp.csc_array(sub)
    cost = np.asarray(cost, dtype=float)[columns]
    model = pyscipopt.Model()
    model.hideOutput()
    x = [model.addVar(vtype="B", name=f"x{j}") for j in range(k)]
    y = [model.addVar(vtype="C", lb=0.0, ub=1.0, obj=float(w[g]), name=f"y{g}") for g in range(m)]
    for g in range(m):
        members = by_group.indices[by_group.indptr[g] : by_group.indptr[g + 1]]
        model.addCons(pyscipopt.quicksum(x[j] for j in members) - y[g] >= 0)
    model.addCons(pyscipopt.quicksum(float(cost[j]) * x[j] for j in range(k)) <= float(budget))
    codes = np.asarray(district)[columns]
    for code in sorted(c for c in district_max if np.isfinite(district_max[c])):
        members = np.flatnonzero(codes == code)
        if members.size:
            model.addCons(pyscipopt.quicksum(x[j] for j in members) <= float(district_max[code]))
    model.setMaximize()
    model.setParam("timing/clocktype", 2)
    model.setParam("limits/gap", float(mip_rel_gap))
    if time_limit_s is not None and np.isfinite(time_limit_s):
        model.setParam("limits/time", max(float(time_limit_s), 0.01))
    if enough is not None and np.isfinite(enough):
        model.setParam("limits/primal", float(enough))

    x0 = np.isin(columns, np.asarray(start_plan, dtype=int)).astype(float)
    y0 = np.minimum(1.0, sp.csr_array(sub, dtype=float).T @ x0)
    start_value = float(w @ y0)
    start = model.createSol()
    for j in range(k):
        model.setSolVal(start, x[j], float(x0[j]))
    for g in range(m):
        model.setSolVal(start, y[g], float(y0[g]))
    model.addSol(start, free=True)
    model.optimizeNogil()  # other threads (a search for a plan, the app) run meanwhile
    status = model.getStatus()
    chosen, found = columns[x0 > 0.5], start_value
    if model.getNSols() > 0:
        best = model.getBestSol()
        picked = np.array([model.getSolVal(best, v) > 0.5 for v in x], dtype=bool)
        value = float(w @ np.minimum(1.0, sp.csr_array(sub, dtype=float).T @ picked.astype(float)))
        if value >= start_value:
            chosen, found = columns[picked], value
    bound = float(model.getDualbound())
    bound = bound if np.isfinite(bound) else np.inf
    optimal = status == "optimal"
    return RestrictedSolution(np.sort(chosen), found, max(bound, found), optimal, status)
