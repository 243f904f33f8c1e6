"""Plans for large maximal-covering models without a proof: a swap local search, the same iterated
(a few nearby picks dropped and refilled, kept when not worse), rounding of a fractional plan, and
a neighbourhood search that re-solves a few picks at a time exactly.

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


class _Swaps:
    """A plan and what :func:`swap_search` keeps up to date for it: how many picks reach each group
    (``count``), the residents each candidate would add (``gain``) and the money left."""

    def __init__(self, cover, weight, cost, budget, plan, district, district_max):
        self.cover = sp.csr_array(cover)
        self.csc = sp.csc_array(self.cover)
        self.n, self.m = self.cover.shape
        self.w = np.asarray(weight, dtype=float)
        self.cost = np.asarray(cost, dtype=float)
        self.district = np.asarray(district)
        self.district_max = {code: v for code, v in (district_max or {}).items() if np.isfinite(v)}
        self.chosen = np.zeros(self.n, dtype=bool)
        self.chosen[np.asarray(plan, dtype=int)] = True
        chosen_rows = self.cover[np.flatnonzero(self.chosen)]
        self.count = np.bincount(chosen_rows.indices, minlength=self.m) if self.chosen.any() else np.zeros(self.m, int)
        self.gain = self.cover @ np.where(self.count == 0, self.w, 0.0)
        self.money = float(budget) - float(self.cost[self.chosen].sum())
        self.tolerance = 1e-9 * max(float(self.w.sum()), 1.0)

    def reached_by(self, j: int) -> np.ndarray:
        return self.cover.indices[self.cover.indptr[j] : self.cover.indptr[j + 1]]

    def value(self) -> float:
        return float(self.w[self.count > 0].sum())

    def drop(self, i: int) -> None:
        groups = self.reached_by(i)
        self.chosen[i] = False
        self.count[groups] -= 1
        rows, freed = _candidates_of(self.csc, groups[self.count[groups] == 0])
        np.add.at(self.gain, rows, self.w[freed])
        self.money += self.cost[i]

    def add(self, j: int) -> None:
        groups = self.reached_by(j)
        rows, taken = _candidates_of(self.csc, groups[self.count[groups] == 0])
        np.subtract.at(self.gain, rows, self.w[taken])
        self.chosen[j] = True
        self.count[groups] += 1
        self.money -= self.cost[j]

    def improve(self, deadline: float | None = None, barred: np.ndarray | None = None) -> None:
        """Adds, then swaps, until no single add or swap serves more (or ``deadline``). ``barred``
        candidates are not added in the first round of adds."""
        chosen, n, w = self.chosen, self.n, self.w

        def late() -> bool:
            return deadline is not None and time.perf_counter() > deadline

        while not late():
            improved = False
            while True:  # adds first: money left that buys residents
                allowed = ~chosen & (self.cost <= self.money + 1e-9) & (self.gain > self.tolerance)
                if barred is not None:
                    allowed[barred] = False
                if self.district_max:
                    allowed &= _room(self.district, self.district_max, chosen)
                if not allowed.any():
                    break
                self.add(int(np.argmax(np.where(allowed, self.gain / self.cost, -np.inf))))
                improved = True
            barred = None
            # Equal costs and no district maximums: any candidate outside the plan may replace any
            # pick, so fewer passes over every candidate per pick (the same choice).
            uniform = not self.district_max and bool(np.all(self.cost == self.cost[0]))
            for i in np.flatnonzero(chosen):
                if late():
                    break
                groups = self.reached_by(i)
                alone = groups[self.count[groups] == 1]
                rows, owner = _candidates_of(self.csc, alone)
                if uniform:
                    delta = self.gain + np.bincount(rows, weights=w[owner], minlength=n)
                    delta[chosen] = -np.inf
                    j = int(np.argmax(delta))
                    change = delta[j] - w[alone].sum()
                else:
                    delta = self.gain + np.bincount(rows, weights=w[owner], minlength=n) - w[alone].sum()
                    allowed = ~chosen & (self.cost <= self.money + self.cost[i] + 1e-9)
                    if self.district_max:
                        chosen[i] = False
                        allowed &= _room(self.district, self.district_max, chosen) | (self.district == self.district[i])
                        chosen[i] = True
                    delta = np.where(allowed, delta, -np.inf)
                    j = int(np.argmax(delta))
                    change = delta[j]
                if change > self.tolerance:
                    self.drop(int(i))
                    self.add(j)
                    improved = True
            if not improved:
                break

    def become(self, plan: np.ndarray) -> None:
        """Move to ``plan`` (sorted positions) by drops and adds."""
        target = np.zeros(self.n, dtype=bool)
        target[plan] = True
        for i in np.flatnonzero(self.chosen & ~target):
            self.drop(int(i))
        for j in np.flatnonzero(target & ~self.chosen):
            self.add(int(j))


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
    state = _Swaps(cover, weight, cost, budget, plan, district, district_max)
    state.improve(deadline)
    return np.flatnonzero(state.chosen)


def iterated_swap_search(
    cover: sp.csr_array,
    weight: np.ndarray,
    cost: np.ndarray,
    budget: float,
    plan: np.ndarray,
    district: np.ndarray,
    district_max: dict | None,
    deadline: float,
    picks_freed: int = 6,
    seed: int = 0,
    enough: float = np.inf,
    slack: float = 0.0,
) -> np.ndarray:
    """Iterated local search: from the :func:`swap_search` optimum of ``plan``, drop up to
    ``picks_freed`` picks near a random pick (picks reaching a group that a candidate sharing a
    group with it reaches), refill without them and search again; keep the result when it serves
    at least as many residents (less ``slack`` times the best plan's, to move on from a plan no
    small change improves), else go back. Until ``deadline`` (``time.perf_counter()``) or a plan
    serving ``enough``. Returns the best plan seen (sorted positions); deterministic for a ``seed``
    apart from the clock.
    """
    state = _Swaps(cover, weight, cost, budget, plan, district, district_max)
    state.improve(deadline)
    best, best_value = np.flatnonzero(state.chosen), state.value()
    current, current_value = best, best_value
    rng = np.random.default_rng(seed)
    near = np.zeros(state.m)
    while best.size and best_value < enough and time.perf_counter() < deadline:
        centre = int(rng.choice(current))
        around, _ = _candidates_of(state.csc, state.reached_by(centre))
        reached = np.unique(state.cover[np.unique(around)].indices)
        near[reached] = 1.0
        close = current[(state.cover[current] @ near) > 0]
        near[reached] = 0.0
        freed = close if close.size <= picks_freed else rng.choice(close, picks_freed, replace=False)
        for i in freed:
            state.drop(int(i))
        state.improve(deadline, barred=freed)
        value = state.value()
        if value >= current_value - slack * best_value:
            current, current_value = np.flatnonzero(state.chosen), value
            if value > best_value:
                best, best_value = current, value
        else:
            state.become(current)
    return best


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
