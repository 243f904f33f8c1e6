"""Plans for large maximal-covering models without a proof: a swap local search, rounding of a
fractional plan, and a neighbourhood search that re-solves a few picks at a time exactly.

Everything here works on the grouped relation of :func:`geo.optimize.allocate.demand_groups`:
``cover`` (candidates × demand groups, CSR), ``weight`` (residents per group), ``cost`` (CNY per
candidate), ``budget`` (CNY), ``district`` (code per candidate) and ``district_max`` ({code:
maximum picks}). Every function returns a plan that keeps the budget and the district maximums
and serves at least as many residents as the plan it started from; none proves anything (the
bounds are in :mod:`geo.optimize.bound`).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from geo.optimize.bound import solve_restricted


def served(cover: sp.csr_array, weight: np.ndarray, plan: np.ndarray) -> float:
    """Residents (summed group weights) the candidates ``plan`` reach."""
    plan = np.asarray(plan, dtype=int)
    if plan.size == 0:
        return 0.0
    return float(np.asarray(weight, dtype=float)[np.asarray(cover[plan].sum(axis=0)).ravel() > 0].sum())


def _candidates_of(csc: sp.csc_array, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(candidate, group) pairs of every candidate reaching each of ``groups``, from the CSC relation."""
    starts, ends = csc.indptr[groups], csc.indptr[groups + 1]
    lengths = ends - starts
    if lengths.sum() == 0:
        return np.array([], dtype=int), np.array([], dtype=int)
    offsets = np.repeat(starts - np.cumsum(np.r_[0, lengths[:-1]]), lengths)
    return csc.indices[offsets + np.arange(lengths.sum())], np.repeat(groups, lengths)


def _room(district: np.ndarray, district_max: dict, chosen: np.ndarray) -> np.ndarray:
    """Per candidate: whether its district can take one more pick beside ``chosen`` (bool mask)."""
    room = np.ones(district.size, dtype=bool)
    for code, maximum in district_max.items():
        if np.isfinite(maximum):
            members = district == code
            room[members] = int((members & chosen).sum()) < maximum
    return room


def swap_search(
    cover: sp.csr_array,
    weight: np.ndarray,
    cost: np.ndarray,
    budget: float,
    plan: np.ndarray,
    district: np.ndarray,
    district_max: dict | None = None,
    deadline: float | None = None,
) -> np.ndarray:
    """Local search from ``plan``: add what the money left pays for, then swap one pick for one
    candidate while that serves more residents, until no single add or swap does (or ``deadline``,
    ``time.perf_counter()`` seconds). Returns the sorted candidate positions of the plan.

    A swap of pick ``i`` for candidate ``j`` gains ``gain_j + extra_ij − loss_i``: ``gain_j`` the
    residents ``j`` reaches that no pick reaches, ``loss_i`` those only ``i`` reaches, and
    ``extra_ij`` those only ``i`` reaches that ``j`` reaches too. ``gain`` is kept up to date
    through the relation's columns, so a pass costs a few sparse lookups per pick.
    """
    cover = sp.csr_array(cover)
    csc = sp.csc_array(cover)
    n, m = cover.shape
    w = np.asarray(weight, dtype=float)
    cost = np.asarray(cost, dtype=float)
    district = np.asarray(district)
    district_max = {code: v for code, v in (district_max or {}).items() if np.isfinite(v)}
    chosen = np.zeros(n, dtype=bool)
    chosen[np.asarray(plan, dtype=int)] = True
    count = np.bincount(cover[np.flatnonzero(chosen)].indices, minlength=m) if chosen.any() else np.zeros(m, int)
    gain = cover @ np.where(count == 0, w, 0.0)
    money = float(budget) - float(cost[chosen].sum())
    tolerance = 1e-9 * max(float(w.sum()), 1.0)

    def reached_by(j: int) -> np.ndarray:
        return cover.indices[cover.indptr[j] : cover.indptr[j + 1]]

    def drop(i: int) -> None:
        nonlocal money
        groups = reached_by(i)
        chosen[i] = False
        count[groups] -= 1
        rows, freed = _candidates_of(csc, groups[count[groups] == 0])
        np.add.at(gain, rows, w[freed])
        money += cost[i]

    def add(j: int) -> None:
        nonlocal money
        groups = reached_by(j)
        rows, taken = _candidates_of(csc, groups[count[groups] == 0])
        np.subtract.at(gain, rows, w[taken])
        chosen[j] = True
        count[groups] += 1
        money -= cost[j]

    def late() -> bool:
        return deadline is not None and time.perf_counter() > deadline

    while not late():
        improved = False
        while True:  # adds first: money left that buys residents
            allowed = ~chosen & (cost <= money + 1e-9) & (gain > tolerance)
            if district_max:
                allowed &= _room(district, district_max, chosen)
            if not allowed.any():
                break
            add(int(np.argmax(np.where(allowed, gain / cost, -np.inf))))
            improved = True
        for i in np.flatnonzero(chosen):
            if late():
                break
            groups = reached_by(i)
            alone = groups[count[groups] == 1]
            rows, owner = _candidates_of(csc, alone)
            delta = gain + np.bincount(rows, weights=w[owner], minlength=n) - w[alone].sum()
            allowed = ~chosen & (cost <= money + cost[i] + 1e-9)
            if district_max:
                chosen[i] = False
                allowed &= _room(district, district_max, chosen) | (district == district[i])
                chosen[i] = True
            delta = np.where(allowed, delta, -np.inf)
            j = int(np.argmax(delta))
            if delta[j] > tolerance:
                drop(int(i))
                add(j)
                improved = True
        if not improved:
            break
    return np.flatnonzero(chosen)


def round_fractional(
    cover: sp.csr_array,
    weight: np.ndarray,
    cost: np.ndarray,
    budget: float,
    fraction: np.ndarray,
    district: np.ndarray,
    district_max: dict | None = None,
    tries: int = 10,
    deadline: float | None = None,
    seed: int = 0,
) -> np.ndarray:
    """The best of ``tries`` plans made from a fractional plan ``fraction`` (x in [0, 1] per
    candidate): take candidates by ``fraction`` times a random factor while the money and the
    districts allow, then :func:`swap_search`. The first try has no random factor. Deterministic
    for a given ``seed``.
    """
    rng = np.random.default_rng(seed)
    cost = np.asarray(cost, dtype=float)
    district = np.asarray(district)
    district_max = district_max or {}
    support = np.flatnonzero(np.asarray(fraction) > 0)
    best, best_value = np.array([], dtype=int), -1.0
    for attempt in range(tries):
        if deadline is not None and attempt and time.perf_counter() > deadline:
            break
        noise = np.ones(support.size) if attempt == 0 else np.sqrt(rng.random(support.size))
        order = support[np.argsort(-(fraction[support] * noise), kind="stable")]
        money, count, plan = float(budget), {}, []
        for j in order:
            code = district[j]
            if cost[j] <= money and count.get(code, 0) < district_max.get(code, np.inf):
                plan.append(int(j))
                money -= cost[j]
                count[code] = count.get(code, 0) + 1
        plan = swap_search(cover, weight, cost, budget, np.array(plan, dtype=int), district, district_max, deadline)
        value = served(cover, weight, plan)
        if value > best_value:
            best, best_value = plan, value
    return best


def neighbourhood_search(
    cover: sp.csr_array,
    weight: np.ndarray,
    cost: np.ndarray,
    budget: float,
    plan: np.ndarray,
    district: np.ndarray,
    district_max: dict | None,
    pool: np.ndarray,
    deadline: float,
    picks_freed: int = 10,
    step_s: float = 2.0,
    seed: int = 0,
    enough: float = np.inf,
) -> np.ndarray:
    """Large-neighbourhood search: free a pick and the ``picks_freed − 1`` picks nearest it (most
    candidates in common within reach), keep the others, and solve exactly which candidates of
    ``pool`` near the freed picks serve most of what the kept picks leave (a small MILP, at most
    ``step_s`` seconds); keep the answer when it serves more. Until ``deadline`` or a plan serving
    ``enough`` residents (e.g. within the wanted gap of a bound). Deterministic
    for a given ``seed`` apart from where the clock stops it.
    """
    cover = sp.csr_array(cover, dtype=float)
    by_group = sp.csr_array(cover.T)
    w = np.asarray(weight, dtype=float)
    cost = np.asarray(cost, dtype=float)
    district = np.asarray(district)
    district_max = district_max or {}
    n, m = cover.shape
    in_pool = np.zeros(n, dtype=bool)
    in_pool[np.asarray(pool, dtype=int)] = True
    plan = np.sort(np.asarray(plan, dtype=int))
    best = served(cover, w, plan)
    rng = np.random.default_rng(seed)
    queue: list[int] = []
    while plan.size and best < enough and time.perf_counter() < deadline - 0.05:
        near = sp.csr_array(cover[plan] @ by_group)  # picks × candidates sharing a group with them
        if not queue:
            queue = list(rng.permutation(plan.size))
        seed_pick = queue.pop()
        closeness = (near @ near[[seed_pick]].T).toarray().ravel()
        freed_at = np.argsort(-closeness, kind="stable")[:picks_freed]
        freed, kept = plan[freed_at], np.delete(plan, freed_at)
        columns = np.union1d(np.flatnonzero((np.asarray(near[freed_at].sum(axis=0)).ravel() > 0) & in_pool), freed)
        left = np.ones(m, dtype=bool)
        if kept.size:
            left[np.asarray(cover[kept].sum(axis=0)).ravel() > 0] = False
        limits = {code: v - int((district[kept] == code).sum()) for code, v in district_max.items()}
        answer = solve_restricted(
            cover,
            np.where(left, w, 0.0),
            cost,
            float(budget) - float(cost[kept].sum()),
            columns,
            district,
            limits,
            freed,
            max(0.01, min(step_s, deadline - time.perf_counter())),
            0.0,
        )
        candidate = np.sort(np.concatenate([kept, answer.chosen]))
        value = served(cover, w, candidate)
        if value > best + 1e-9 * max(best, 1.0):
            plan, best, queue = candidate, value, []
    return plan
