"""Budget allocation: which eligible communities get a set, by priority rank or by optimal coverage.

Two modes, both on a :class:`CoverageProblem` built once from the scored communities:

* ``rank`` — walk down the priority list; take each eligible community whose cost still fits
  the money left (skip what does not fit and keep going), respecting district limits.
* ``optimal`` — maximal covering with existing sets fixed: choose the eligible communities that
  maximise the residents *newly* served within the walk radius, subject to the money budget and
  the district limits. A mixed-integer programme solved exactly by HiGHS
  (``scipy.optimize.milp``) on a sparse coverage relation::

      maximise   Σ_g w_g · y_g
      subject to y_g ≤ Σ_{j ∈ C(g)} x_j        for every demand group g
                 Σ_j c_j · x_j ≤ B
                 min_d ≤ Σ_{j ∈ d} x_j ≤ max_d  for every limited district d
                 x_j ∈ {0, 1},  0 ≤ y_g ≤ 1

  Demand is every community not yet served within the walk radius (weight: residents);
  communities whose sets of covering candidates are identical are merged into one group ``g``
  (weights summed), and demand no candidate can reach is left out. ``y`` may be continuous:
  for integral ``x`` the optimum sets ``y_g = min(1, Σ x_j)``, which is integral. Money the
  optimum leaves (no affordable candidate adds anyone) is then spent down the priority list,
  which cannot lower the objective.

  Small relations (a city's planning problem: only unserved demand) go to the MILP whole
  (``direct``). Large ones — a city with few sets yet, tens of thousands of communities — are
  decomposed (``decompose``, :mod:`geo.optimize.bound`, :mod:`geo.optimize.search`): a Lagrangian
  bound by a smoothed dual (L-BFGS-B), then (where candidates reach at most
  ``COLUMN_GENERATION_MAX_REACH`` groups on average) the LP bound by column generation from its
  columns; a plan from the greedy start by swap search, rounding of the dual's fractional plan
  and a MILP over the LP's support; reduced-cost fixing
  of every candidate that cannot beat that plan, then the MILP over the candidates left (by SCIP
  where ``pyscipopt`` is installed, :mod:`geo.optimize.scip`, and then without the MILP over the
  support first), or, when too many are left for a MILP to prove anything in time, a search for
  the plan (a neighbourhood search over the LP's support, else an iterated swap search).
  Every reported gap is against a valid bound. Tests check both give the same optimum.

Both modes buy a set only if it adds something under the service standard in force
(``coverage.standard``): under ``inside`` every candidate lacks a set of its own, so each pick
equips one more community; under ``walk`` a pick must bring at least one more community within
the walk radius. When money is left and nothing more can be gained, the allocation stops and says
why (:data:`STOP_REASONS`); every candidate left out gets its reason (:data:`LEFT_OUT_REASONS`).

A new set in community ``j`` stands at ``point_on_surface`` of its polygon and serves every
community whose polygon lies within the walk radius of that point (its own included); distances
in metres in the data's UTM CRS.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from geo.analysis.coverage import CoverageRelation, candidate_sites, coverage_pairs
from geo.analysis.priority import landless, priority_order
from geo.analysis.sites import SiteReach, site_points
from geo.data.crs import metric_crs_for
from geo.errors import Message, data_error
from geo.optimize import scip
from geo.optimize.bound import RestrictedSolution, lagrangian_bound, lp_bound, solve_restricted
from geo.optimize.search import iterated_swap_search, neighbourhood_search, round_fractional, served, swap_search

MODES = ("rank", "optimal")
# Why a programme stopped with the money it had left (``Allocation.stop_reason``).
STOP_REASONS = ("budget_spent", "no_candidates_left", "nothing_more_to_gain", "district_limits")
# Why an eligible candidate is not in the plan (``Allocation.left_out``): the money left could not
# pay for it, a set there would add nothing under the standard after the picks, or its district
# reached its maximum.
# ``reaches_no_one``: a public site with no unserved community within the walk radius at all.
LEFT_OUT_REASONS = ("budget", "no_gain", "district_limit", "reaches_no_one")
PRESOLVE_MAX_NONZEROS = 1_000_000
DECOMPOSE_MIN_NONZEROS = 20_000
# Column generation's restricted LPs grow degenerate as candidates overlap: where candidates reach
# more groups than this on average, a round takes tens of seconds and the Lagrangian bound stands
# alone (50k communities at 800 m reach 190 on average: a first round of 1,758 columns did not end in
# 68 s; at 500 m they reach 79 and it converges in 6 rounds, 1.7 s).
COLUMN_GENERATION_MAX_REACH = 100
# Where column generation follows, the smoothed dual only seeds it (its iterations cost time the
# easy instances do not need).
SEEDING_ITERATIONS = 500
# Above this many pairs left after fixing, a MILP cannot prove anything in a minute: the time goes to
# a search for the plan instead.
FINAL_MILP_MAX_NONZEROS = 200_000
# The iterated swap search beside SCIP's whole MILP stops after this many seconds: on 2 cores it slows
# SCIP's tree (sample at 60 s: 0.086-0.143 % with the search throughout, 0.092 % without it).
SEARCH_BESIDE_SCIP_S = 10.0
# Candidates the Lagrangian's fractional plan uses at least this much are where good plans lie.
FRACTION_SUPPORT = 0.05
FRACTION_POOL = 0.01


@dataclass(frozen=True)
class CoverageProblem:
    """Candidates, demand and the sparse relation between them, in priority order.

    Attributes
    ----------
    candidates : ndarray of int
        Row positions (in the scored frame) of eligible communities, best priority first.
    cost_cny : ndarray of float
        Cost of a set in each candidate (CNY).
    district : ndarray of str
        District code of each candidate.
    demand : ndarray of int
        Row positions of communities not served within the walk radius.
    weight : ndarray of int
        Residents of each demand community.
    cover : scipy.sparse.csr_array (candidates × demand, bool)
        ``cover[j, i]`` when a set in candidate ``j`` serves demand ``i``.
    standard : {"inside", "walk"}
        The service standard: what a pick must add (see the module doc).
    is_site : ndarray of bool, optional
        Which candidates are public sites (:func:`geo.analysis.sites.score_sites`): for those,
        ``candidates`` holds a row position in the sites frame, not in the communities. None: none is.
    """

    candidates: np.ndarray
    cost_cny: np.ndarray
    district: np.ndarray
    demand: np.ndarray
    weight: np.ndarray
    cover: sp.csr_array
    standard: str = "inside"
    is_site: np.ndarray | None = None

    @property
    def site_mask(self) -> np.ndarray:
        """Which candidates are public sites (``candidates`` then holds a row of the sites frame), bool."""
        if self.is_site is None:
            return np.zeros(self.candidates.size, dtype=bool)
        return np.asarray(self.is_site, dtype=bool)

    @classmethod
    def from_scored(
        cls,
        scored: gpd.GeoDataFrame,
        walk_radius_m: float,
        set_cost_cny: float,
        metric_crs=None,
        *,
        max_pairs: int | None = None,
        relation: CoverageRelation | None = None,
        standard: str = "inside",
        sites: gpd.GeoDataFrame | None = None,
        site_reach: SiteReach | None = None,
        network=None,
    ) -> CoverageProblem:
        """Build the problem from :func:`geo.analysis.priority.priority_scores` output (EPSG:4326).

        A ``cost_cny`` column, where present and not missing, overrides ``set_cost_cny``.
        ``max_pairs`` bounds the coverage relation (``Config.max_pairs``; None for no limit):
        above it :class:`geo.analysis.coverage.PairLimitError`, a ValueError, is raised.
        ``relation``: the run's shared :class:`geo.analysis.coverage.CoverageRelation` of
        ``scored`` at this walk radius, sliced to the candidates and the demand instead of
        projecting and querying again (the same problem).
        ``network``: a :class:`geo.analysis.network.WalkNetwork` in ``metric_crs``: the radius is walked along
        it (``relation``, when given, must be measured the same way).
        """
        candidates = priority_order(scored)
        cost = np.full(len(scored), float(set_cost_cny))
        if "cost_cny" in scored.columns:
            own = pd.to_numeric(scored["cost_cny"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            bad = np.flatnonzero(own[candidates] <= 0)
            if bad.size:
                row = candidates[bad[0]]
                raise data_error(
                    "cost_not_positive", community=str(scored["community_id"].iloc[row]), cost=f"{own[row]:g}"
                )
            cost = np.where(np.isnan(own), cost, own)
        demand = np.flatnonzero(~scored["served_within_radius"].to_numpy(dtype=bool))
        weight = scored["population"].fillna(0).to_numpy(dtype=np.int64)[demand]
        metric_crs = relation.geometry.metric_crs if relation is not None else metric_crs or metric_crs_for(scored)
        if relation is not None:
            distance = "straight" if network is None else "network"
            relation.check(scored, walk_radius_m, "scored communities", metric_crs, distance)
            cover = relation.matrix(candidates, demand, max_pairs=max_pairs)
            polygons_m = relation.geometry.polygons_m
        else:
            polygons_m = scored.geometry.to_crs(metric_crs).values
            points = candidate_sites(polygons_m[candidates])
            cover = _cover(points, polygons_m[demand], walk_radius_m, max_pairs, network)
        district = scored["district_code"].astype(str).to_numpy()[candidates]
        cost = cost[candidates]
        if sites is None or not len(sites) or not sites["eligible"].to_numpy(dtype=bool).any():
            return cls(candidates, cost, district, demand, weight, cover, standard)
        # Public sites join the candidates, merged into the priority order by score (ties: id).
        rows = np.flatnonzero(sites["eligible"].to_numpy(dtype=bool))
        if site_reach is not None:
            # Its communities are the unserved ones, which are the demand: map rows to positions.
            keep = np.isin(site_reach.site, rows)
            site_cover = sp.csr_array(
                (
                    np.ones(int(keep.sum()), dtype=bool),
                    (np.searchsorted(rows, site_reach.site[keep]), np.searchsorted(demand, site_reach.community[keep])),
                ),
                shape=(rows.size, demand.size),
            )
        else:
            points = site_points(np.asarray(sites.geometry.iloc[rows].to_crs(metric_crs).values))
            site_cover = _cover(points, polygons_m[demand], walk_radius_m, max_pairs, network)
        score = np.concatenate(
            [
                scored["priority_score"].to_numpy(dtype=float)[candidates],
                sites["priority_score"].to_numpy(dtype=float)[rows],
            ]
        )
        ids = np.concatenate(
            [
                scored["community_id"].astype(str).to_numpy()[candidates],
                sites["site_id"].astype(str).to_numpy()[rows],
            ]
        )
        order = np.lexsort((ids, -score))
        return cls(
            candidates=np.concatenate([candidates, rows])[order],
            cost_cny=np.concatenate([cost, sites["cost_cny"].to_numpy(dtype=float)[rows]])[order],
            district=np.concatenate([district, sites["district_code"].astype(str).to_numpy()[rows]])[order],
            demand=demand,
            weight=weight,
            cover=sp.csr_array(sp.vstack([cover, site_cover], format="csr")[order]),
            standard=standard,
            is_site=np.concatenate([np.zeros(candidates.size, bool), np.ones(rows.size, bool)])[order],
        )

    def served_by(self, j: int) -> np.ndarray:
        """Demand positions a set in candidate ``j`` serves."""
        return self.cover.indices[self.cover.indptr[j] : self.cover.indptr[j + 1]]

    def newly_served(self, chosen: np.ndarray) -> int:
        """Residents newly served by the candidates at local positions ``chosen``."""
        if len(chosen) == 0 or self.demand.size == 0:
            return 0
        return int(self.weight[self.reached_by(chosen)].sum())

    def reached_by(self, chosen: np.ndarray) -> np.ndarray:
        """Mask of the demand the candidates at local positions ``chosen`` bring within the walk radius."""
        if len(chosen) == 0 or self.demand.size == 0:
            return np.zeros(self.demand.size, dtype=bool)
        return np.asarray(self.cover[np.asarray(chosen)].sum(axis=0)).ravel() > 0

    def adds_something(self, j: int, reached: np.ndarray) -> bool:
        """Whether a set in candidate ``j`` adds anything under the standard, given the demand ``reached``.

        Under ``inside`` a community always does (it has no set of its own); under ``walk``, and on a
        public site under either standard (a site has no residents of its own), it must bring at
        least one community not yet ``reached`` within the walk radius.
        """
        if self.standard != "walk" and not (self.is_site is not None and self.is_site[j]):
            return True
        return _new_demand(self, j, reached).size > 0


@dataclass
class Allocation:
    """The result of one programme: chosen candidates (local positions, in plan order) and figures."""

    mode: str
    budget_cny: float
    chosen: np.ndarray
    population_newly_served: int
    optimality_gap: float | None = None
    solve_seconds: float = 0.0
    status: str = "ok"
    messages: list[str] = field(default_factory=list)
    unspent_cny: float = 0.0
    stop_reason: str = "budget_spent"
    # Local positions of the candidates not chosen, and the reason each was left out (LEFT_OUT_REASONS).
    left_out: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))
    left_out_reason: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))


def _cover(points_m, polygons_m, walk_radius_m: float, max_pairs: int | None, network=None) -> sp.csr_array:
    """(points × polygons) bool relation: a set at each point serves the polygons within the walk radius
    (walked along ``network`` when given)."""
    site_idx, demand_idx = coverage_pairs(points_m, polygons_m, walk_radius_m, max_pairs=max_pairs, network=network)
    return sp.csr_array(
        (np.ones(site_idx.size, dtype=bool), (site_idx, demand_idx)), shape=(len(points_m), len(polygons_m))
    )


def _limits_check(problem: CoverageProblem, district_min: dict, district_max: dict) -> list[str]:
    """Messages for limits that cannot be met (too few candidates, min above max)."""
    messages = []
    for code, minimum in sorted(district_min.items()):
        available = int((problem.district == code).sum())
        if minimum > available:
            messages.append(Message("district_min_unavailable", district=code, minimum=minimum, available=available))
        if code in district_max and district_max[code] < minimum:
            messages.append(
                Message("district_min_above_max", district=code, minimum=minimum, maximum=district_max[code])
            )
    return messages


def allocate_rank(
    problem: CoverageProblem, budget_cny: float, district_min: dict | None = None, district_max: dict | None = None
) -> Allocation:
    """Walk down the priority list taking whatever still fits the money left.

    District minimums are served first (each district's best candidates), then the walk goes on
    from the top; a district at its maximum is skipped. Plan order is priority order.
    """
    start = time.perf_counter()
    district_min, district_max = district_min or {}, district_max or {}
    messages = _limits_check(problem, district_min, district_max)
    cost = problem.cost_cny
    taken = np.zeros(problem.candidates.size, dtype=bool)
    count: dict[str, int] = {}
    money = float(budget_cny)

    reached = np.zeros(problem.demand.size, dtype=bool)

    def take(j: int) -> bool:
        nonlocal money
        code = problem.district[j]
        if taken[j] or cost[j] > money or count.get(code, 0) >= district_max.get(code, np.inf):
            return False
        if not problem.adds_something(j, reached):
            return False  # under the walk standard: already brought within reach by a pick above it
        taken[j] = True
        money -= cost[j]
        count[code] = count.get(code, 0) + 1
        reached[problem.served_by(j)] = True
        return True

    for code, minimum in sorted(district_min.items()):
        for j in np.flatnonzero(problem.district == code):
            if count.get(code, 0) >= minimum:
                break
            take(int(j))
        if count.get(code, 0) < minimum:
            messages.append(
                Message("district_min_not_met", district=code, minimum=minimum, affordable=count.get(code, 0))
            )
    # Suffix minimum of costs: stop once nothing further down the list can fit.
    cheapest_after = np.minimum.accumulate(cost[::-1])[::-1] if cost.size else cost
    for j in range(problem.candidates.size):
        if cheapest_after[j] > money:
            break
        take(j)
    chosen = np.flatnonzero(taken)
    return _with_stop(
        problem,
        Allocation(
            mode="rank",
            budget_cny=budget_cny,
            chosen=chosen,
            population_newly_served=problem.newly_served(chosen),
            optimality_gap=None,
            solve_seconds=time.perf_counter() - start,
            status="ok" if not messages else "limits not met",
            messages=messages,
        ),
        district_max,
    )


def _with_stop(problem: CoverageProblem, allocation: Allocation, district_max: dict) -> Allocation:
    """``allocation`` with the money left, why it stopped, and why each candidate not chosen was left out.

    Left-out reasons are judged against the final plan: ``reaches_no_one`` for a public site with no
    unserved community within the walk radius at all, ``no_gain`` when a set there would add
    nothing under the standard, else ``district_limit`` when its district is at its maximum, else
    ``budget`` (the money left cannot pay for it). The stop reason: ``budget_spent`` when some
    candidate could still add something but the money left does not pay for it (or nothing is left),
    ``no_candidates_left`` when every candidate was chosen, ``nothing_more_to_gain`` when no
    candidate left would add anything, ``district_limits`` when the only useful ones are in
    districts at their maximum.
    """
    chosen = allocation.chosen
    unspent = (
        float(allocation.budget_cny) - float(problem.cost_cny[chosen].sum())
        if len(chosen)
        else float(allocation.budget_cny)
    )
    unspent = max(0.0, unspent)
    left = np.setdiff1d(np.arange(problem.candidates.size), chosen)
    reached = problem.reached_by(chosen)
    count = pd.Series(problem.district[chosen], dtype=object).value_counts().to_dict()
    reasons = np.empty(left.size, dtype=object)
    is_site = problem.site_mask
    for k, j in enumerate(left):
        code = problem.district[j]
        if is_site[j] and problem.served_by(int(j)).size == 0:
            reasons[k] = "reaches_no_one"
        elif not problem.adds_something(int(j), reached):
            reasons[k] = "no_gain"
        elif count.get(code, 0) >= district_max.get(code, np.inf):
            reasons[k] = "district_limit"
        else:
            reasons[k] = "budget"
    if unspent <= 0 or (reasons == "budget").any():
        stop = "budget_spent"
    elif left.size == 0:
        stop = "no_candidates_left"
    elif (reasons == "district_limit").any():
        stop = "district_limits"
    else:
        stop = "nothing_more_to_gain"
    allocation.unspent_cny = unspent
    allocation.stop_reason = stop
    allocation.left_out = left
    allocation.left_out_reason = reasons
    return allocation


def demand_groups(cover: sp.csr_array, weight: np.ndarray) -> tuple[sp.csr_array, np.ndarray]:
    """Merge demand with identical covering candidates; drop demand no candidate reaches.

    Returns the (candidates × groups) relation and each group's summed weight.
    """
    by_demand = sp.csr_array(cover.T)
    by_demand.sort_indices()
    indptr, indices = by_demand.indptr, by_demand.indices
    groups: dict[bytes, int] = {}
    group_of = np.full(by_demand.shape[0], -1)
    for i in range(by_demand.shape[0]):
        if indptr[i] == indptr[i + 1]:
            continue  # nothing can serve it
        key = indices[indptr[i] : indptr[i + 1]].tobytes()
        group_of[i] = groups.setdefault(key, len(groups))
    reached = group_of >= 0
    group_weight = np.bincount(group_of[reached], weights=weight[reached], minlength=len(groups))
    rows, cols = cover.nonzero()
    keep = reached[cols]
    grouped = sp.csr_array(
        (np.ones(int(keep.sum()), dtype=bool), (rows[keep], group_of[cols[keep]])), shape=(cover.shape[0], len(groups))
    )
    grouped.sum_duplicates()
    return grouped, group_weight


def allocate_optimal(
    problem: CoverageProblem,
    budget_cny: float,
    district_min: dict | None = None,
    district_max: dict | None = None,
    time_limit_s: float | None = 60.0,
    mip_rel_gap: float = 1e-6,
    method: str = "auto",
) -> Allocation:
    """Maximise residents newly served within the walk radius (MILP, HiGHS); see the module doc.

    ``method``: ``direct`` solves the whole MILP at once; ``decompose`` bounds it by column
    generation, keeps only the candidates reduced-cost fixing cannot rule out, and solves the
    MILP over those, started from the greedy plan (:mod:`geo.optimize.bound`); ``auto`` (default)
    takes ``decompose`` for relations above ``DECOMPOSE_MIN_NONZEROS`` pairs when no district has
    a minimum. Both return a plan within ``mip_rel_gap`` of the optimum unless the time runs out.
    """
    start = time.perf_counter()
    district_min, district_max = district_min or {}, district_max or {}
    messages = _limits_check(problem, district_min, district_max)
    n = problem.candidates.size
    if n == 0:
        return _with_stop(
            problem,
            Allocation(
                "optimal",
                budget_cny,
                np.array([], dtype=int),
                0,
                0.0,
                time.perf_counter() - start,
                "no eligible community",
                messages,
            ),
            district_max,
        )
    grouped, group_weight = demand_groups(problem.cover, problem.weight)
    if method == "auto":
        method = "decompose" if grouped.nnz > DECOMPOSE_MIN_NONZEROS and not district_min else "direct"
    if method == "decompose":
        if district_min:
            raise ValueError("the decompose method does not take district minimums; use direct")
        chosen, status, bound, notes = _solve_decomposed(
            problem, grouped, group_weight, budget_cny, district_max, start, time_limit_s, mip_rel_gap
        )
    elif method == "direct":
        chosen, status, bound, notes = _solve_direct(
            problem, grouped, group_weight, budget_cny, district_min, district_max, time_limit_s, mip_rel_gap
        )
    else:
        raise ValueError(f"unknown method {method!r}; expected auto, direct or decompose")
    messages = messages + notes
    solve_seconds = time.perf_counter() - start
    if status == "infeasible":
        return _with_stop(
            problem,
            Allocation("optimal", budget_cny, np.array([], dtype=int), 0, None, solve_seconds, status, messages),
            district_max,
        )
    objective_value = problem.newly_served(chosen)
    if bound is None or not np.isfinite(bound):
        gap = 0.0 if status == "optimal" else None
    else:
        gap = max(0.0, (bound - objective_value) / bound) if bound > 0 else 0.0
    chosen = _spend_leftover(problem, _useful(problem, _plan_order(problem, chosen)), budget_cny, district_max)
    filled = problem.newly_served(chosen)
    allocation = Allocation(
        "optimal", budget_cny, _plan_order(problem, chosen), filled, gap, solve_seconds, status, messages
    )
    return _with_stop(problem, allocation, district_max)


def _solve_direct(problem, grouped, group_weight, budget_cny, district_min, district_max, time_limit_s, mip_rel_gap):
    """The whole MILP in one ``scipy.optimize.milp`` call. Returns (chosen, status, bound, messages)."""
    n, m = problem.candidates.size, group_weight.size
    # Variables: x (n binaries), then y (m continuous in [0, 1]). milp minimises, so negate.
    objective = np.concatenate([np.zeros(n), -group_weight.astype(float)])
    integrality = np.concatenate([np.ones(n), np.zeros(m)])
    rows = [sp.hstack([-sp.csr_array(grouped.T, dtype=float), sp.eye_array(m, format="csr")])]  # y - Σx ≤ 0
    lower = [np.full(m, -np.inf)]
    upper = [np.zeros(m)]
    rows.append(sp.csr_array(np.concatenate([problem.cost_cny, np.zeros(m)])[None, :]))
    lower.append(np.array([-np.inf]))
    upper.append(np.array([float(budget_cny)]))
    for code in sorted(set(district_min) | set(district_max)):
        members = (problem.district == code).astype(float)
        rows.append(sp.csr_array(np.concatenate([members, np.zeros(m)])[None, :]))
        lower.append(np.array([float(district_min.get(code, 0))]))
        upper.append(np.array([float(district_max.get(code, np.inf))]))
    constraint = LinearConstraint(sp.vstack(rows, format="csr"), np.concatenate(lower), np.concatenate(upper))
    options = {"mip_rel_gap": mip_rel_gap, "disp": False}
    if time_limit_s is not None:
        options["time_limit"] = float(time_limit_s)
    if constraint.A.nnz > PRESOLVE_MAX_NONZEROS:
        # HiGHS's presolve is not interrupted by the time limit: on a 50k-community city with no
        # sets (4 M nonzeros) it ran 300 s against a 60 s limit. Without it the limit holds.
        options["presolve"] = False
    result = milp(objective, integrality=integrality, bounds=Bounds(0, 1), constraints=[constraint], options=options)
    bound = -float(result.mip_dual_bound) if getattr(result, "mip_dual_bound", None) is not None else None
    messages = []
    if result.x is None:
        if result.status == 2:
            return None, "infeasible", None, ["no plan meets the budget and the district limits together"]
        # Time limit before HiGHS found any solution: fall back to the greedy plan, gap vs HiGHS's bound.
        chosen = greedy_cover(problem, budget_cny, district_max)
        return (
            chosen,
            "time limit: greedy plan",
            bound,
            [f"solver stopped before finding a solution ({result.message}); greedy plan used"],
        )
    chosen = np.flatnonzero(result.x[:n] > 0.5)
    status = "optimal" if result.status == 0 else "time limit: best found"
    if status != "optimal" and not district_min:
        greedy = greedy_cover(problem, budget_cny, district_max)
        if problem.newly_served(greedy) > problem.newly_served(chosen):
            chosen, status = greedy, "time limit: greedy plan"
            messages.append(Message("greedy_better"))
    return chosen, status, bound, messages


def _solve_decomposed(problem, grouped, group_weight, budget_cny, district_max, start, time_limit_s, mip_rel_gap):
    """Lagrangian and column-generation bounds, a plan by local search, rounding and restricted
    MILPs, reduced-cost fixing, then the MILP over what is left or a search for the plan (see
    :mod:`geo.optimize.bound` and :mod:`geo.optimize.search`). Returns (chosen, status, bound,
    messages); the bound is valid for the whole problem at every exit."""
    deadline = start + (time_limit_s if time_limit_s is not None else np.inf)
    limited = np.isfinite(deadline)

    def share(part: float) -> float | None:
        """The clock time when ``part`` of what is left of the time limit has passed (None: no limit)."""
        return time.perf_counter() + part * max(deadline - time.perf_counter(), 0.0) if limited else None

    budget = float(budget_cny)
    cost = problem.cost_cny.astype(float)
    cover = sp.csr_array(grouped, dtype=float)
    weight = group_weight.astype(float)
    affordable = np.flatnonzero(cost <= budget)
    best = greedy_cover(problem, budget_cny, district_max)
    if affordable.size == 0 or weight.size == 0:
        return best, "optimal", float(problem.newly_served(best)), []
    best = swap_search(cover, weight, cost, budget, best, problem.district, district_max, share(0.05))
    best_value = served(cover, weight, best)

    def done(bound: float) -> bool:
        # Residents are whole numbers: a bound less than one above the plan proves it optimal.
        return bound - best_value < 1.0 - 1e-6 or bound - best_value <= mip_rel_gap * bound

    def enough(bound: float) -> float:
        """Residents a plan must serve for ``done(bound)``."""
        return min(bound * (1 - mip_rel_gap), bound - 1 + 1e-6) if np.isfinite(bound) else np.inf

    def better(plan: np.ndarray) -> None:
        nonlocal best, best_value
        value = served(cover, weight, plan)
        if value > best_value:
            best, best_value = np.asarray(plan, dtype=int), value

    # 1. A bound from the Lagrangian dual: cheap iterations, every one valid (on affordable candidates).
    column_generation = cover.nnz <= COLUMN_GENERATION_MAX_REACH * affordable.size
    lagrange = lagrangian_bound(
        cover[affordable],
        weight,
        cost[affordable],
        budget,
        best_value,
        share(0.4),
        max_iterations=SEEDING_ITERATIONS if column_generation else 100_000,
        stop_gap=mip_rel_gap,
    )
    bound = lagrange.bound
    fraction = np.zeros(cost.size)
    fraction[affordable] = lagrange.fraction
    if done(bound):
        return best, "optimal", bound, []
    # Rounded from both of the dual's fractional plans: the running average gave the better plan at 10k / 500 m
    # (1,293,693 against 1,292,943: SCIP then kept 550 candidates, not 1,960), the one at the best λ at
    # 50k / 800 m (1 % in 23 s against 54 s).
    at_best = np.zeros(cost.size)
    at_best[affordable] = lagrange.at_best
    for start in (at_best, fraction):
        better(round_fractional(cover, weight, cost, budget, start, problem.district, district_max, 5, share(0.05)))
    # 2. Column generation from the Lagrangian's columns, where its restricted LPs stay quick.
    support = np.flatnonzero(fraction > FRACTION_SUPPORT)
    lp = None
    if column_generation:
        sets_affordable = int(budget // cost[affordable].min())
        by_ratio = affordable[np.argsort(-(cover[affordable] @ weight) / cost[affordable], kind="stable")]
        first = np.union1d(
            np.union1d(best, np.flatnonzero(fraction > FRACTION_SUPPORT)), by_ratio[: 5 * max(sets_affordable, 1)]
        )
        allowed = np.zeros(cost.size, dtype=bool)
        allowed[affordable] = True
        lp = lp_bound(cover, weight, cost, budget, first, allowed, share(0.3))
        bound = min(bound, lp.bound)
        support = lp.support
        if done(bound):
            return best, "optimal", bound, []
    # 3. The MILP over the LP's support improves the plan in hand; a local search polishes it. Where
    # SCIP will solve the MILP over every candidate next, its own heuristics do this better.
    columns = np.union1d(np.union1d(support, np.flatnonzero(fraction > FRACTION_POOL)), best)
    whole_milp = scip.AVAILABLE and int(np.diff(cover.indptr)[affordable].sum()) <= FINAL_MILP_MAX_NONZEROS
    if whole_milp:
        columns = best
        first_try = RestrictedSolution(best, best_value, np.inf, False, "skipped")
    else:
        first_try = solve_restricted(
            cover,
            weight,
            cost,
            budget,
            columns,
            problem.district,
            district_max,
            best,
            _seconds(share(1 / 3)),
            mip_rel_gap,
            enough=enough(bound),
        )
    better(first_try.chosen)
    better(swap_search(cover, weight, cost, budget, best, problem.district, district_max, share(0.2)))
    # 4. Reduced-cost fixing: a candidate that cannot be in a plan better than this one is left out.
    fixed_at = best_value
    kept = np.zeros(cost.size, dtype=bool)
    kept[affordable] = lagrange.kept(fixed_at)
    if lp is not None:
        kept &= lp.kept(fixed_at)
    keep = np.union1d(np.flatnonzero(kept), best)
    proven = False
    if np.isin(keep, columns).all():
        # Every plan better than `fixed_at` lies within the columns just searched.
        bound = min(bound, max(first_try.bound, fixed_at))
        proven = first_try.optimal
    if proven or done(bound) or not time.perf_counter() < deadline:
        pass
    elif int(np.diff(cover.indptr)[keep].sum()) <= FINAL_MILP_MAX_NONZEROS:
        # 5a. The MILP over every candidate left: its bound is the whole problem's. SCIP, where
        # installed, beside the iterated swap search (its plans come late on a loaded machine).
        args = (cover, weight, cost, budget, keep, problem.district, district_max, best)
        if whole_milp:
            final, found = _scip_beside_search(*args, deadline, mip_rel_gap)
            better(found)
        else:
            final = solve_restricted(*args, deadline - time.perf_counter(), mip_rel_gap)
        better(final.chosen)
        bound = min(bound, max(final.bound, fixed_at))
        proven = final.optimal and best_value >= final.value
    elif limited:
        # 5b. Too many left for a MILP to prove anything in time: spend it on the plan instead. With
        # the LP's support (column generation), the neighbourhood search's small MILPs over it (10k at
        # 60 s: 2,575,766 against 2,575,598 by the iterated swap search); without it the iterated swap
        # search (50k: +9,300 residents in 87 s where the neighbourhood search gained 6,000).
        if lp is not None:
            pool = np.union1d(np.flatnonzero(fraction > FRACTION_POOL), support)
            args = (cover, weight, cost, budget, best, problem.district, district_max, pool)
            better(neighbourhood_search(*args, deadline - 0.5, enough=enough(bound)))
        else:
            args = (cover, weight, cost, budget, best, problem.district, district_max)
            better(iterated_swap_search(*args, deadline - 0.5, enough=enough(bound)))
    status = "optimal" if proven or done(bound) else "time limit: best found"
    return best, status, bound, []


def _scip_beside_search(cover, weight, cost, budget, columns, district, district_max, start_plan, deadline, gap):
    """SCIP's MILP over ``columns`` (:func:`geo.optimize.scip.solve_restricted_scip`, from ``start_plan``,
    until ``deadline``, ``time.perf_counter()`` seconds) in a thread of its own — it releases the GIL —
    while the iterated swap search looks for a plan in this one, until SCIP stops or for
    ``SEARCH_BESIDE_SCIP_S`` seconds (then SCIP has both cores to itself). Returns SCIP's
    answer and the search's plan (either may serve more)."""
    answer = {}

    def solve() -> None:
        try:
            left = deadline - time.perf_counter()
            answer["final"] = scip.solve_restricted_scip(
                cover, weight, cost, budget, columns, district, district_max, start_plan, left, gap
            )
        except BaseException as error:  # re-raised below, in the caller's thread
            answer["error"] = error

    thread = threading.Thread(target=solve, name="scip", daemon=True)
    thread.start()
    plan, seed = np.asarray(start_plan, dtype=int), 0
    search_until = min(deadline, time.perf_counter() + SEARCH_BESIDE_SCIP_S)
    while thread.is_alive() and time.perf_counter() < search_until:
        moment = min(search_until, time.perf_counter() + 0.5)  # look at the thread twice a second
        plan = iterated_swap_search(cover, weight, cost, budget, plan, district, district_max, moment, seed=seed)
        seed += 1
    thread.join()
    if "error" in answer:
        raise answer["error"]
    return answer["final"], plan


def _seconds(moment: float | None) -> float | None:
    """Seconds from now until ``moment`` (``time.perf_counter()``), None for no limit."""
    return None if moment is None else max(moment - time.perf_counter(), 0.01)


def greedy_cover(problem: CoverageProblem, budget_cny: float, district_max: dict | None = None) -> np.ndarray:
    """Greedy maximal covering: repeatedly add the affordable candidate with the most residents
    newly served per yuan (ties: priority order), until nothing affordable adds anyone.

    Returns local candidate positions. A fast approximation (used when the solver stops early
    and as a reference in benchmarks); :func:`allocate_optimal` is the exact answer.
    """
    district_max = district_max or {}
    cover = problem.cover.tocsc() if problem.demand.size else None
    gains = (
        np.asarray(problem.cover.astype(np.int64) @ problem.weight).ravel()
        if problem.demand.size
        else np.zeros(problem.candidates.size)
    )
    gains = gains.astype(float)
    taken = np.zeros(problem.candidates.size, dtype=bool)
    reached = np.zeros(problem.demand.size, dtype=bool)
    count: dict[str, int] = {}
    money = float(budget_cny)
    while True:
        allowed = ~taken & (problem.cost_cny <= money) & (gains > 0)
        if district_max:
            full = np.array([count.get(d, 0) >= district_max.get(d, np.inf) for d in problem.district])
            allowed &= ~full
        if not allowed.any():
            break
        ratio = np.where(allowed, gains / problem.cost_cny, -np.inf)
        j = int(np.argmax(ratio))
        taken[j] = True
        money -= problem.cost_cny[j]
        count[problem.district[j]] = count.get(problem.district[j], 0) + 1
        newly = _new_demand(problem, j, reached)
        reached[newly] = True
        # Lower the gains of every candidate that also reaches the newly served demand.
        for i in newly:
            rows = cover.indices[cover.indptr[i] : cover.indptr[i + 1]]
            gains[rows] -= problem.weight[i]
    return np.flatnonzero(taken)


def _spend_leftover(problem: CoverageProblem, chosen: np.ndarray, budget_cny: float, district_max: dict) -> np.ndarray:
    """Add candidates down the priority list while money is left and they add something (never lowers coverage)."""
    taken = np.zeros(problem.candidates.size, dtype=bool)
    taken[chosen] = True
    reached = problem.reached_by(chosen)
    money = float(budget_cny) - float(problem.cost_cny[chosen].sum())
    count = pd.Series(problem.district[chosen], dtype=object).value_counts().to_dict()
    for j in np.flatnonzero(~taken):
        if (
            problem.cost_cny[j] <= money
            and count.get(problem.district[j], 0) < district_max.get(problem.district[j], np.inf)
            and problem.adds_something(int(j), reached)
        ):
            taken[j] = True
            money -= problem.cost_cny[j]
            count[problem.district[j]] = count.get(problem.district[j], 0) + 1
            reached[problem.served_by(j)] = True
    return np.flatnonzero(taken)


def _useful(problem: CoverageProblem, ordered: np.ndarray) -> np.ndarray:
    """The candidates of ``ordered`` (plan order) that add something after the ones before them.

    A solver may set a candidate that adds nothing when the budget has room for it (it changes no
    objective); under the walk standard such a set would serve nobody new and is dropped.
    """
    reached = np.zeros(problem.demand.size, dtype=bool)
    kept = []
    for j in ordered:
        if problem.adds_something(int(j), reached):
            kept.append(int(j))
            reached[problem.served_by(j)] = True
    return np.array(kept, dtype=int)


def _plan_order(problem: CoverageProblem, chosen: np.ndarray) -> np.ndarray:
    """Order chosen candidates greedily by the residents each newly adds (ties: priority order)."""
    remaining = list(np.sort(chosen))
    reached = np.zeros(problem.demand.size, dtype=bool)
    order = []
    while remaining:
        gains = [int(problem.weight[_new_demand(problem, j, reached)].sum()) for j in remaining]
        best = int(np.argmax(gains))  # first maximum = best priority among equals
        j = remaining.pop(best)
        order.append(j)
        reached[problem.served_by(j)] = True
    return np.array(order, dtype=int)


def _new_demand(problem: CoverageProblem, j: int, reached: np.ndarray) -> np.ndarray:
    """Demand positions candidate ``j`` serves that are not ``reached`` yet."""
    served = problem.served_by(j)
    return served[~reached[served]]


def plan_rows(
    scored: gpd.GeoDataFrame,
    problem: CoverageProblem,
    allocation: Allocation,
    program,
    sites: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """One row per pick, in plan order, with the programme's money and coverage columns.

    Columns: ``program``, ``program_name``, ``mode``, ``rank`` (1…), the community's own columns and
    priority components (a public site's: ``community_id`` holds its ``site_id``, and its own
    columns come with it — see :func:`candidate_rows`), ``candidate_kind`` (``community`` or
    ``site``), ``cost_cny``, ``cumulative_cost_cny``, ``money_left_cny``,
    ``population_newly_served`` (residents this pick adds after the ones above it),
    ``served_communities`` (``;``-joined ids of the communities it newly serves) and, of those, the
    land-less ones (:func:`geo.analysis.priority.landless`): ``landless_served`` (ids) and
    ``landless_population_newly_served`` (residents).
    """
    chosen = allocation.chosen
    reached = np.zeros(problem.demand.size, dtype=bool)
    is_landless = landless(scored)[problem.demand]
    gains, served_ids, landless_ids, landless_gains = [], [], [], []
    ids = scored["community_id"].astype(str).to_numpy()
    for j in chosen:
        new = np.sort(_new_demand(problem, j, reached))
        reached[new] = True
        gains.append(int(problem.weight[new].sum()))
        served_ids.append(";".join(ids[problem.demand[new]]))
        own_land = new[is_landless[new]]
        landless_ids.append(";".join(ids[problem.demand[own_land]]))
        landless_gains.append(int(problem.weight[own_land].sum()))
    rows = candidate_rows(scored, problem.candidates, problem.site_mask, chosen, sites)
    cost = problem.cost_cny[chosen]
    rows.insert(0, "program", program.key)
    rows.insert(1, "program_name", program.name_zh)
    rows.insert(2, "mode", allocation.mode)
    rows.insert(3, "rank", np.arange(1, chosen.size + 1))
    rows["cost_cny"] = cost
    rows["cumulative_cost_cny"] = np.cumsum(cost)
    rows["money_left_cny"] = float(allocation.budget_cny) - np.cumsum(cost)
    rows["population_newly_served"] = np.array(gains, dtype=np.int64)
    rows["served_communities"] = pd.array(served_ids, dtype="string")
    rows["landless_served"] = pd.array(landless_ids, dtype="string")
    rows["landless_population_newly_served"] = np.array(landless_gains, dtype=np.int64)
    return rows


# The columns of a public site that a pick or a left-out candidate carries, under the communities' names.
SITE_ROW_COLUMNS = {"site_id": "community_id", "kind": "site_kind", "consent_unknown": "site_consent_unknown"}


def candidate_rows(
    scored: gpd.GeoDataFrame,
    candidates: np.ndarray,
    is_site: np.ndarray,
    positions: np.ndarray,
    sites: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The rows of the candidates at local ``positions`` (in that order), communities and sites alike.

    ``candidates`` and ``is_site`` are a :class:`CoverageProblem`'s (row positions; which are sites).

    A community's row is its row of ``scored``; a public site's is its row of ``sites`` with
    ``site_id`` as ``community_id``, ``kind`` as ``site_kind`` and ``consent_unknown`` as
    ``site_consent_unknown`` (the columns a community lacks stay missing). ``candidate_kind`` says
    which. Geometry: the community's polygon, or the site's point or polygon (EPSG:4326).
    """
    positions = np.asarray(positions, dtype=int)
    is_site = np.asarray(is_site, dtype=bool)[positions]
    if not is_site.any():
        rows = scored.iloc[candidates[positions]].copy()
        rows["candidate_kind"] = pd.array(["community"] * len(rows), dtype="string")
        return rows.reset_index(drop=True)
    if sites is None:
        raise ValueError("the problem has public sites among its candidates: give their frame")
    communities = scored.iloc[candidates[positions[~is_site]]].assign(
        candidate_kind="community", _order=np.flatnonzero(~is_site)
    )
    chosen_sites = sites.iloc[candidates[positions[is_site]]].rename(columns=SITE_ROW_COLUMNS)
    chosen_sites = chosen_sites.drop(columns=[c for c in ("eligible", "reasons") if c in chosen_sites.columns])
    chosen_sites = chosen_sites.assign(candidate_kind="site", _order=np.flatnonzero(is_site))
    rows = pd.concat([communities, chosen_sites], ignore_index=True).sort_values("_order", kind="stable")
    rows = rows.drop(columns="_order").reset_index(drop=True)
    rows["candidate_kind"] = rows["candidate_kind"].astype("string")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
