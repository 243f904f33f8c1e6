"""Large maximal-covering models: a Lagrangian bound by a smoothed dual, an LP bound by column
generation, reduced-cost fixing, and a restricted MILP started from a plan in hand (HiGHS through
``highspy``).

Everything here works on the grouped relation of :func:`geo.optimize.allocate.demand_groups`:
``cover`` (candidates × demand groups, CSR), ``weight`` (residents per group), ``cost`` (CNY per
candidate) and ``budget`` (CNY). District limits are not part of the bound (dropping constraints
only loosens it); the restricted MILP does respect district maximums.

Dual bound. For any ``0 ≤ λ ≤ w`` and ``μ ≥ 0`` every plan ``(x, y)`` serves at most::

    D(λ, μ) = Σ_g (w_g − λ_g)⁺ + μ·B + Σ_j ((Aλ)_j − μ·c_j)⁺

residents (weak duality of the LP relaxation). For a given ``λ`` the best ``μ`` is the ratio
``(Aλ)_j / c_j`` of the candidate that fills the budget when candidates are taken best ratio
first (the knapsack LP). The same inequality gives reduced-cost fixing: a plan that uses
candidate ``j`` with ``r_j = (Aλ)_j − μ·c_j < 0`` serves at most ``D + r_j``; when that is not
more than a plan already in hand, ``j`` can be left out of the search.

:func:`lagrangian_bound` lowers ``D(λ)`` by L-BFGS-B on a smoothed ``D``: one sparse product per
step, so it reaches the LP optimum (to ~0.01 %) on relations of millions of pairs where a round of
column generation's simplex takes tens of seconds. Its smoothed knapsack solutions give fractional
plans whose support tells where good plans lie.

Column generation finds a ``λ`` for which ``D`` equals the LP optimum: solve the LP over a few
candidates (with every group's row), read ``λ`` from the row duals, price every candidate with
one sparse product, add the ones with positive reduced cost, and re-solve from the last basis.
Each round's ``D`` is a valid bound whether or not the rounds finish.

``highspy._Highs`` is HiGHS's plain class: ``highspy.Highs`` prints a banner when it is built,
before its output can be switched off (HiGHS issues #1932, #2749).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, minimize

PRESOLVE_MAX_NONZEROS = 1_000_000
# The smoothed dual (lagrangian_bound): L-BFGS-B iterations per smoothing stage, the factor by which
# the smoothing shrinks between stages, and the finest smoothing (times the knapsack's fill ratio).
# Measured at 50k / 800 m (issue 17): 100 / 0.3 gives 2,556,060 in 16.5 s; 200 / 0.3 2,555,689 in
# 31 s; 100 / 0.5 2,555,760 in 24 s; starting at 0.03 instead of 0.1 of the ratio 2,557,038.
SMOOTHING_STAGE = 100
SMOOTHING_SHRINK = 0.3
SMOOTHING_FINEST = 1e-7
# Weight of each evaluation's smoothed knapsack solution in the running average (the fractional plan).
FRACTION_RATE = 0.1


@dataclass(frozen=True)
class LPBound:
    """An upper bound on residents served, with the reduced costs that prove it.

    Attributes
    ----------
    bound : float
        Residents no plan within the budget can exceed (district limits ignored).
    reduced : ndarray of float
        ``r_j`` of every candidate at the ``(λ, μ)`` that gave ``bound``.
    columns : ndarray of int
        Candidates in the last restricted LP (sorted): the LP's support lies among them.
    lp_value : float
        Optimum of the last restricted LP (a lower bound on the full LP).
    rounds : int
        Pricing rounds made.
    converged : bool
        No candidate priced out: ``bound`` is the LP optimum (to solver tolerance).
    support : ndarray of int
        Candidates with ``x_j > 0`` in the last restricted LP (sorted).
    """

    bound: float
    reduced: np.ndarray
    columns: np.ndarray
    lp_value: float
    rounds: int
    converged: bool
    support: np.ndarray

    def kept(self, plan_value: float) -> np.ndarray:
        """Mask of candidates a plan serving more than ``plan_value`` residents may use."""
        return self.bound + np.minimum(self.reduced, 0.0) > plan_value


def _knapsack(value: np.ndarray, cost: np.ndarray, budget: float) -> tuple[np.ndarray, float]:
    """The knapsack LP ``max Σ value_j x_j, Σ c_j x_j ≤ budget, 0 ≤ x ≤ 1``: candidates best ratio
    first, the last one fractional. Returns ``x`` and ``μ`` (the ratio of the candidate that fills
    the budget; 0 when everything with a positive ratio fits)."""
    ratio = value / cost
    fits = int(budget // cost.min()) + 1 if cost.size else 0  # no more candidates than this fit
    if fits < ratio.size // 4:
        # Only the best `fits` ratios matter: partition, then sort those (the sort dominated).
        top = np.argpartition(-ratio, fits)[: fits + 1]
        order = top[np.argsort(-ratio[top], kind="stable")]
    else:
        order = np.argsort(-ratio, kind="stable")
    filled = np.cumsum(cost[order])
    whole = int(np.searchsorted(filled, budget, side="right"))  # candidates that fit entirely
    x = np.zeros(value.size)
    x[order[:whole]] = 1.0
    mu = 0.0
    if whole < order.size:
        mu = max(float(ratio[order[whole]]), 0.0)
        if mu > 0:
            x[order[whole]] = (budget - (filled[whole - 1] if whole else 0.0)) / cost[order[whole]]
    x[ratio <= 0] = 0.0
    return x, mu


def dual_bound(
    cover: sp.csr_array, weight: np.ndarray, cost: np.ndarray, budget: float, lam: np.ndarray
) -> tuple[float, np.ndarray]:
    """``D(λ, μ*)`` and the reduced costs ``r_j`` for ``λ`` clipped to ``[0, w]``; see the module doc."""
    lam = np.clip(lam, 0.0, weight)
    value = cover @ lam
    _, mu = _knapsack(value, cost, budget)
    reduced = value - mu * cost
    bound = float(np.maximum(weight - lam, 0.0).sum() + mu * budget + np.maximum(reduced, 0.0).sum())
    return bound, reduced


@dataclass(frozen=True)
class LagrangianBound:
    """The best ``D(λ)`` :func:`lagrangian_bound` found, and what it learnt on the way.

    Attributes
    ----------
    bound : float
        ``D(λ)`` at ``lam``: residents no plan within the budget can exceed (district limits ignored).
    lam : ndarray of float
        The multipliers (residents per group, ``0 ≤ λ ≤ w``) that gave ``bound``.
    reduced : ndarray of float
        ``r_j`` of every candidate at ``lam`` (for :meth:`kept`).
    fraction : ndarray of float
        A running average of the smoothed knapsack's solutions (``x_j`` in [0, 1], within the
        budget; each evaluation weighs ``FRACTION_RATE``): a primal estimate whose support is where
        the LP's optimum tends to lie.
    at_best : ndarray of float
        The smoothed knapsack's solution at ``lam`` (in [0, 1], within the budget): sharper, fewer
        candidates; rounding it gives other plans than rounding ``fraction``.
    iterations : int
        ``D(λ)`` evaluations made (one sparse product each).
    """

    bound: float
    lam: np.ndarray
    reduced: np.ndarray
    fraction: np.ndarray
    at_best: np.ndarray
    iterations: int

    def kept(self, plan_value: float) -> np.ndarray:
        """Mask of candidates a plan serving more than ``plan_value`` residents may use."""
        return self.bound + np.minimum(self.reduced, 0.0) > plan_value


class _Stop(Exception):
    """Raised inside the objective to end :func:`scipy.optimize.minimize` early (time, count, gap)."""


def _smoothed_knapsack(
    value: np.ndarray, cost: np.ndarray, budget: float, mu: float, threshold: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """The knapsack LP with a quadratic prox term, ``max Σ v_j x_j − (μ/2) Σ c_j x_j²`` over
    ``Σ c_j x_j ≤ budget, 0 ≤ x ≤ 1``: ``x_j = clip((v_j/c_j − τ)/μ, 0, 1)`` with ``τ ≥ 0`` the
    price that spends the budget. ``threshold`` is the plain knapsack's ``μ*`` (its fill ratio):
    ``τ`` lies in ``[μ* − μ, μ*]``, so only candidates with ratio above ``μ* − μ`` can be positive.
    Returns (those candidates, their ``x``, the smoothed value)."""
    ratio = value / cost
    active = np.flatnonzero(ratio > max(threshold - mu, 0.0))
    r, c = ratio[active], cost[active]
    low, high = max(threshold - mu, 0.0), max(threshold, 0.0)
    if c @ np.clip((r - low) / mu, 0.0, 1.0) > budget:
        for _ in range(50):  # bisection on the price: the spend falls as it rises
            middle = 0.5 * (low + high)
            if c @ np.clip((r - middle) / mu, 0.0, 1.0) > budget:
                low = middle
            else:
                high = middle
        price = high
    else:
        price = low
    x = np.clip((r - price) / mu, 0.0, 1.0)
    return active, x, float(value[active] @ x - 0.5 * mu * (c * x * x).sum())


def lagrangian_bound(
    cover: sp.csr_array,
    weight: np.ndarray,
    cost: np.ndarray,
    budget: float,
    target: float,
    deadline: float | None = None,
    max_iterations: int = 100_000,
    stop_gap: float = 0.0,
) -> LagrangianBound:
    """Minimise ``D(λ)`` (module doc) over ``0 ≤ λ ≤ w`` by smoothing: the knapsack part of ``D``
    (a maximum over plans, not differentiable) is replaced by its prox-smoothed value
    (:func:`_smoothed_knapsack`, within ``μ·B/2`` of it), whose gradient is continuous, and the
    smooth function is minimised by L-BFGS-B within the box; ``μ`` starts at a tenth of the
    knapsack's fill ratio and shrinks by ``SMOOTHING_SHRINK`` after every ``SMOOTHING_STAGE``
    iterations (Nesterov 2005; a continuation on ``μ``). The bound reported is the plain ``D(λ)``
    at the best ``λ`` met: every evaluation's ``D`` is a valid bound whatever ``μ`` is.

    Each evaluation is one product ``cover @ λ``, a partial sort and a product over the few
    candidates the smoothed knapsack uses. Measured on the 800 m no-sets cities (issue 17): the
    sample at 0.01 % above the LP optimum in 0.6 s, 10k at the LP in 1.3 s, 50k at 2,556,060
    residents in 16.5 s, where the volume algorithm this replaced stalled 0.1 % and 0.17 % above
    those (1,824,632 and 2,560,330 after 20–40 s).

    It stops at ``deadline`` (``time.perf_counter()`` seconds), after ``max_iterations``
    evaluations, when ``D_best − target ≤ stop_gap · D_best`` (``target``: residents a plan in hand
    serves), or once ``μ`` is below ``SMOOTHING_FINEST`` of the fill ratio (a stage whose ``λ`` no
    longer moves costs a few evaluations).
    """
    cover = sp.csr_array(cover, dtype=float)
    w = np.asarray(weight, dtype=float)
    cost = np.asarray(cost, dtype=float)
    best = {"bound": np.inf, "lam": 0.5 * w, "at_best": np.zeros(cost.size)}
    average = np.zeros(cost.size)
    count = 0

    def plain(lam: np.ndarray) -> tuple[np.ndarray, float, float]:
        """``cover @ λ``, the knapsack's fill ratio and ``D(λ)`` (``λ`` within the box)."""
        value = cover @ lam
        _, fill = _knapsack(value, cost, budget)
        bound = float((w - lam).sum() + fill * budget + np.maximum(value - fill * cost, 0.0).sum())
        return value, fill, bound

    def smoothed(lam: np.ndarray, mu: float) -> tuple[float, np.ndarray]:
        nonlocal count
        if count >= max_iterations or (deadline is not None and time.perf_counter() > deadline):
            raise _Stop
        lam = np.clip(lam, 0.0, w)
        value, fill, bound = plain(lam)
        count += 1
        active, x, knapsack = _smoothed_knapsack(value, cost, budget, mu, fill)
        average[:] *= 1 - FRACTION_RATE
        average[active] += FRACTION_RATE * x
        if bound < best["bound"]:
            at_best = np.zeros(cost.size)
            at_best[active] = x
            best.update(bound=bound, lam=lam, at_best=at_best)
            if bound - target <= stop_gap * bound:
                raise _Stop
        return float((w - lam).sum() + knapsack), cover[active].T @ x - 1.0

    lam = best["lam"]
    _, fill, _ = plain(lam)
    ratio_scale = fill if fill > 0 else float(np.max(cover @ lam / cost, initial=0.0))
    mu = 0.1 * ratio_scale
    box = Bounds(np.zeros_like(w), w)  # built once: minimize converts an array of pairs at every call
    try:
        while mu > SMOOTHING_FINEST * ratio_scale:
            result = minimize(
                smoothed,
                lam,
                args=(mu,),
                jac=True,
                method="L-BFGS-B",
                bounds=box,
                options={"maxiter": SMOOTHING_STAGE, "maxcor": 10},
            )
            lam = result.x
            mu *= SMOOTHING_SHRINK
    except _Stop:
        pass
    bound, reduced = dual_bound(cover, w, cost, budget, best["lam"])
    return LagrangianBound(bound, best["lam"], reduced, average, best["at_best"], count)


def merge_identical(cover: sp.csr_array, weight: np.ndarray) -> tuple[sp.csr_array, np.ndarray]:
    """Merge groups (columns of ``cover``) reached by the same candidates, summing their weights;
    drop groups no candidate reaches or of weight 0. Returns the (candidates × merged) relation
    (bool) and the merged weights. The covering optimum is unchanged: merged groups are always
    served together."""
    weight = np.asarray(weight)
    by_group = sp.csr_array(cover.T)
    by_group.sort_indices()
    indptr, indices = by_group.indptr, by_group.indices
    keys: dict[bytes, int] = {}
    merged = np.full(by_group.shape[0], -1)
    for g in np.flatnonzero((np.diff(indptr) > 0) & (weight != 0)):
        merged[g] = keys.setdefault(indices[indptr[g] : indptr[g + 1]].tobytes(), len(keys))
    live = merged >= 0
    merged_weight = np.bincount(merged[live], weights=weight[live], minlength=len(keys))
    rows, cols = cover.nonzero()
    keep = live[cols]
    relation = sp.csr_array(
        (np.ones(int(keep.sum()), dtype=bool), (rows[keep], merged[cols[keep]])), shape=(cover.shape[0], len(keys))
    )
    relation.sum_duplicates()
    return relation, merged_weight


def _solver(time_limit_s: float | None = None, mip_rel_gap: float | None = None) -> highspy._Highs:
    h = highspy._Highs()
    h.setOptionValue("output_flag", False)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(float(time_limit_s), 0.01))
    if mip_rel_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    return h


def _add_demand_and_budget(h: highspy._Highs, weight: np.ndarray, budget: float, upper_rows=()) -> None:
    """Maximise Σ w_g y_g: a column y_g ∈ [0, 1] and a row y_g − Σ x_j ≤ 0 per group (the x_j
    come later, by :func:`_columns`), the budget row ≤ ``budget``, then empty rows ≤ each of
    ``upper_rows`` (district maximums)."""
    m, inf = weight.size, highspy.kHighsInf
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.addCols(
        m, weight, np.zeros(m), np.ones(m), 0, np.zeros(m, dtype=np.int32), np.array([], dtype=np.int32), np.array([])
    )
    h.addRows(
        m, np.full(m, -inf), np.zeros(m), m, np.arange(m, dtype=np.int32), np.arange(m, dtype=np.int32), np.ones(m)
    )
    uppers = np.array([float(budget), *upper_rows])
    h.addRows(
        uppers.size,
        np.full(uppers.size, -inf),
        uppers,
        0,
        np.zeros(uppers.size, dtype=np.int32),
        np.array([], dtype=np.int32),
        np.array([]),
    )


def _columns(cover: sp.csr_array, rows: np.ndarray, cost: np.ndarray, budget_row: int, extra_rows=()):
    """Column-wise (CSC) entries for candidates ``rows``: −1 in each of its group rows, ``c_j`` in
    the budget row, and 1 in ``extra_rows[k][j]`` for each extra row map (−1: no entry)."""
    sub = cover[rows]
    k = rows.size
    column = [np.repeat(np.arange(k), np.diff(sub.indptr)), np.arange(k)]
    row = [sub.indices, np.full(k, budget_row)]
    value = [np.full(sub.nnz, -1.0), np.asarray(cost, dtype=float)[rows]]
    for extra in extra_rows:
        extra = np.asarray(extra)[rows]
        has = np.flatnonzero(extra >= 0)
        column.append(has)
        row.append(extra[has])
        value.append(np.ones(has.size))
    column = np.concatenate(column)
    order = np.argsort(column, kind="stable")
    starts = np.searchsorted(column[order], np.arange(k)).astype(np.int32)
    return starts, np.concatenate(row)[order].astype(np.int32), np.concatenate(value)[order]


def lp_bound(
    cover: sp.csr_array,
    weight: np.ndarray,
    cost: np.ndarray,
    budget: float,
    first_columns: np.ndarray,
    allowed: np.ndarray | None = None,
    deadline: float | None = None,
    max_new_per_round: int = 200,
) -> LPBound:
    """The LP relaxation's optimum by column generation (see the module doc).

    ``allowed`` masks candidates that may be priced in (default: all); candidates outside it are
    treated as unavailable (their reduced cost is set to ``-inf``). Stops when nothing prices out
    or at ``deadline`` (``time.perf_counter()`` seconds); the bound is valid either way.
    """
    cover = sp.csr_array(cover, dtype=float)
    weight = np.asarray(weight, dtype=float)
    n, m = cover.shape
    allowed = np.ones(n, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool)
    h = _solver()
    _add_demand_and_budget(h, weight, budget)
    in_lp = np.zeros(n, dtype=bool)

    def add(rows: np.ndarray) -> None:
        rows = np.unique(rows[~in_lp[rows]]).astype(int)
        if rows.size:
            starts, index, value = _columns(cover, rows, cost, m)
            h.addCols(
                rows.size,
                np.zeros(rows.size),
                np.zeros(rows.size),
                np.ones(rows.size),
                index.size,
                starts,
                index,
                value,
            )
            order.extend(rows.tolist())
            in_lp[rows] = True

    order: list[int] = []
    add(np.asarray(first_columns, dtype=int)[allowed[np.asarray(first_columns, dtype=int)]])
    best_bound, best_reduced = np.inf, np.zeros(n)
    lp_value, rounds, converged = 0.0, 0, False
    while True:
        rounds += 1
        if deadline is not None:
            # One round of simplex can take tens of seconds on a degenerate LP: cap it too. Its
            # duals still give a valid bound when it stops early. HiGHS's limit counts the time of
            # every run of this object so far (getRunTime), not just the next one.
            h.setOptionValue("time_limit", h.getRunTime() + max(deadline - time.perf_counter(), 0.01))
        h.run()
        stopped = h.getModelStatus() != highspy.HighsModelStatus.kOptimal
        lp_value = float(h.getInfo().objective_function_value)
        solution = h.getSolution()
        row_dual = np.abs(np.asarray(solution.row_dual))
        lam = np.clip(row_dual[:m], 0.0, weight)
        bound, reduced = dual_bound(cover, weight, cost, budget, lam)
        reduced = np.where(allowed, reduced, -np.inf)
        if bound < best_bound:
            best_bound, best_reduced = bound, reduced
        price = np.where(allowed & ~in_lp, cover @ lam - row_dual[m] * cost, 0.0)
        entering = np.flatnonzero(price > 1e-9 * max(row_dual[m] * cost.max(), 1.0))
        if not stopped and (entering.size == 0 or best_bound - lp_value <= 1e-9 * max(best_bound, 1.0)):
            converged = True
            break
        if stopped or (deadline is not None and time.perf_counter() >= deadline):
            break
        add(entering[np.argsort(-price[entering], kind="stable")][:max_new_per_round])
    x = np.asarray(solution.col_value)[m:]
    support = np.sort(np.array(order, dtype=int)[x > 1e-6])
    return LPBound(best_bound, best_reduced, np.sort(np.array(order, dtype=int)), lp_value, rounds, converged, support)


@dataclass(frozen=True)
class RestrictedSolution:
    """A restricted MILP's answer: chosen candidates (global positions), residents served, the
    solver's bound over plans using only the restricted candidates, and whether it is proven."""

    chosen: np.ndarray
    value: float
    bound: float
    optimal: bool
    status: str


def solve_restricted(
    cover: sp.csr_array,
    weight: np.ndarray,
    cost: np.ndarray,
    budget: float,
    columns: np.ndarray,
    district: np.ndarray,
    district_max: dict,
    start_plan: np.ndarray,
    time_limit_s: float,
    mip_rel_gap: float,
    enough: float | None = None,
) -> RestrictedSolution:
    """Maximal covering over candidates ``columns`` only, started from ``start_plan`` (a feasible
    plan within ``columns``), with the budget and district maximums. HiGHS MILP; it stops early
    once a plan serves ``enough`` residents (HiGHS's ``objective_target``), if given."""
    columns = np.asarray(columns, dtype=int)
    # Groups the restricted candidates reach the same way are one row (often a tenth as many).
    sub, w = merge_identical(sp.csr_array(cover)[columns], weight)
    k, m = sub.shape
    limited = sorted(code for code in district_max if np.isfinite(district_max[code]))
    district_row = np.full(columns.size, -1)
    for r, code in enumerate(limited):
        district_row[np.asarray(district)[columns] == code] = m + 1 + r
    h = _solver(time_limit_s, mip_rel_gap)
    if enough is not None:
        h.setOptionValue("objective_target", float(enough))
    if sub.nnz > PRESOLVE_MAX_NONZEROS:
        h.setOptionValue("presolve", "off")  # HiGHS's presolve does not watch the clock
    w = np.asarray(w, dtype=float)
    _add_demand_and_budget(h, w, budget, [float(district_max[code]) for code in limited])
    local = sp.csr_array((np.ones(sub.nnz), sub.indices, sub.indptr), shape=sub.shape)
    starts, index, value = _columns(
        local, np.arange(k), np.asarray(cost, dtype=float)[columns], m, extra_rows=(district_row,) if limited else ()
    )
    h.addCols(k, np.zeros(k), np.zeros(k), np.ones(k), index.size, starts, index, value)
    h.changeColsIntegrality(k, np.arange(m, m + k, dtype=np.int32), np.full(k, highspy.HighsVarType.kInteger))

    x0 = np.isin(columns, np.asarray(start_plan, dtype=int)).astype(float)
    y0 = np.minimum(1.0, local.T @ x0)
    start = highspy.HighsSolution()
    start.col_value = np.concatenate([y0, x0]).tolist()
    start.value_valid = True
    h.setSolution(start)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    values = np.asarray(h.getSolution().col_value)
    start_value = float(w @ y0)
    if values.size == m + k and info.objective_function_value >= start_value:
        chosen, found = columns[values[m:] > 0.5], float(info.objective_function_value)
    else:
        chosen, found = columns[x0 > 0.5], start_value
    optimal = status == highspy.HighsModelStatus.kOptimal
    bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else np.inf
    return RestrictedSolution(np.sort(chosen), found, max(bound, found), optimal, h.modelStatusToString(status))
