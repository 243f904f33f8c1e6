"""The faster paths for cities with no sets yet, each against the exact one: the Lagrangian bound
lies above the optimum at every iteration, the plans keep the budget and the district maximums
and never lose residents, and the whole decomposition still proves the optimum when it may run
to the end (and reports only real bounds when it may not)."""

import itertools
import time

import numpy as np
import pytest
import scipy.sparse as sp

import geo.optimize.allocate as allocate
from geo.optimize.allocate import allocate_optimal, demand_groups, greedy_cover
from geo.optimize.bound import dual_bound, lagrangian_bound, merge_identical, solve_restricted
from geo.optimize.search import (
    iterated_swap_search,
    neighbourhood_search,
    round_fractional,
    served,
    swap_search,
)
from tests.helpers import brute_force_best, feasible, grouped_of, lp_optimum, random_problem, spatial_problem


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("iterations", [1, 2, 5, 30, 300])
def test_lagrangian_bound_is_above_the_optimum_at_every_iteration(seed, iterations):
    rng = np.random.default_rng(800 + seed)
    problem = random_problem(rng, 11, n_demand=25, density=0.2, unit_cost=seed % 2 == 0)
    budget = float(rng.choice([100_000, 160_000, 250_000]))
    optimum = brute_force_best(problem, budget)
    cover = sp.csr_array(problem.cover, dtype=float)
    weight = problem.weight.astype(float)
    # target: a plan in hand, below the optimum (greedy), as the decomposition passes it
    target = float(problem.newly_served(greedy_cover(problem, budget)))
    result = lagrangian_bound(cover, weight, problem.cost_cny, budget, target, max_iterations=iterations)
    assert result.iterations <= iterations
    assert result.bound >= optimum - 1e-6
    assert np.all((result.lam >= 0) & (result.lam <= weight))
    again, reduced = dual_bound(cover, weight, problem.cost_cny, budget, result.lam)
    assert result.bound == pytest.approx(again) and np.allclose(result.reduced, reduced)
    # both fractional plans (the running average of the smoothed knapsack's solutions, and the solution
    # at the best λ) lie within [0, 1] and within the budget
    for fraction in (result.fraction, result.at_best):
        assert np.all((fraction >= -1e-12) & (fraction <= 1 + 1e-12))
        assert problem.cost_cny @ fraction <= budget + 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_lagrangian_bound_closes_on_the_lp_optimum_from_above(seed):
    rng = np.random.default_rng(900 + seed)
    problem = spatial_problem(rng, 300, radius=900, unit_cost=seed % 2 == 0)
    grouped, weight = grouped_of(problem)
    budget = 15 * 50_000.0
    lp = lp_optimum(grouped, weight, problem.cost_cny, budget)
    target = served(grouped, weight, greedy_cover(problem, budget))
    result = lagrangian_bound(grouped, weight, problem.cost_cny, budget, target)
    # weak duality below; above, the smoothed dual's L-BFGS-B ends at the LP optimum (to 5e-7 on these)
    assert lp - 1e-6 <= result.bound <= (1 + 1e-5) * lp


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("mu", [1e-3, 1e-2, 0.1])
def test_smoothed_knapsack_solves_the_prox_knapsack(seed, mu):
    """The smoothed knapsack's x is the maximiser of Σ v x − (μ/2) Σ c x² within the budget (its value
    equals the minimum of the programme's dual over the price τ, found on a fine grid) and its value
    lies within μ·B/2 below the plain knapsack LP's: what makes every smoothed stage's gradient a
    plan's and the continuation sound."""
    from geo.optimize.bound import _knapsack, _smoothed_knapsack

    rng = np.random.default_rng(seed)
    n = 9
    cost = rng.choice([30_000.0, 50_000.0, 80_000.0], n) if seed % 2 else np.full(n, 50_000.0)
    value = rng.integers(0, 40_000, n).astype(float)
    budget = float(rng.choice([100_000, 170_000, 260_000]))
    x_plain, fill = _knapsack(value, cost, budget)
    smoothing = mu * fill
    active, x_active, smoothed_value = _smoothed_knapsack(value, cost, budget, smoothing, fill)
    x = np.zeros(n)
    x[active] = x_active
    assert np.all((x >= 0) & (x <= 1)) and cost @ x <= budget * (1 + 1e-9)
    assert smoothed_value == pytest.approx(value @ x - 0.5 * smoothing * (cost * x * x).sum())
    plain_value = float(value @ x_plain)
    assert plain_value - smoothing * budget / 2 - 1e-6 <= smoothed_value <= plain_value + 1e-6
    # Dual of the separable programme: g(τ) = τB + Σ_j max_{0≤z≤1} (v_j − τc_j) z − (μ/2) c_j z²,
    # each g(τ) above the optimum, their minimum equal to it.
    prices = np.linspace(0.0, (value / cost).max(), 200_001)[:, None]
    z = np.clip((value / cost - prices) / smoothing, 0.0, 1.0)
    dual = prices[:, 0] * budget + ((value - prices * cost) * z - 0.5 * smoothing * cost * z * z).sum(axis=1)
    assert smoothed_value <= dual.min() + 1e-6
    assert smoothed_value == pytest.approx(dual.min(), rel=1e-6)


def test_reduced_cost_fixing_with_the_lagrangian_keeps_every_better_plan():
    rng = np.random.default_rng(5)
    problem = random_problem(rng, 12, n_demand=25, density=0.18, unit_cost=False)
    budget = 150_000.0
    cover = sp.csr_array(problem.cover, dtype=float)
    weight = problem.weight.astype(float)
    in_hand = problem.newly_served(greedy_cover(problem, budget))
    kept = lagrangian_bound(cover, weight, problem.cost_cny, budget, in_hand, max_iterations=50).kept(in_hand)
    for size in range(1, 5):
        for subset in itertools.combinations(range(12), size):
            subset = list(subset)
            if problem.cost_cny[subset].sum() <= budget and problem.newly_served(np.array(subset)) > in_hand:
                assert kept[subset].all(), subset


def test_dual_bound_by_partial_sort_equals_the_full_sort():
    """Few candidates fit the budget: the knapsack sorts only the best ratios; same bound, same μ."""
    rng = np.random.default_rng(2)
    n, m = 400, 300
    cover = sp.csr_array((rng.random((n, m)) < 0.05).astype(float))
    weight = rng.integers(100, 3000, m).astype(float)
    cost = rng.choice([40_000.0, 50_000.0, 70_000.0], n)
    budget = 600_000.0  # at most 15 of 400 fit
    for lam in (0.5 * weight, rng.random(m) * weight):
        bound, reduced = dual_bound(cover, weight, cost, budget, lam)
        value = cover @ lam
        ratio = value / cost
        order = np.argsort(-ratio, kind="stable")
        whole = int(np.searchsorted(np.cumsum(cost[order]), budget, side="right"))
        mu = ratio[order[whole]]
        expected = (weight - lam).sum() + mu * budget + np.maximum(value - mu * cost, 0).sum()
        assert bound == pytest.approx(expected)
        assert np.allclose(reduced, value - mu * cost)


@pytest.mark.parametrize("seed", range(8))
def test_merging_groups_reached_alike_keeps_the_optimum(seed):
    rng = np.random.default_rng(1000 + seed)
    problem = random_problem(rng, 10, n_demand=40, density=0.12, unit_cost=seed % 2 == 0)
    weight = problem.weight.copy()
    weight[::7] = 0  # groups of no weight go
    merged, merged_weight = merge_identical(problem.cover, weight)
    assert merged_weight.sum() == weight[np.asarray(problem.cover.sum(axis=0)).ravel() > 0].sum()
    assert len(set(map(tuple, merged.T.toarray().astype(int)))) == merged.shape[1]  # no two alike
    budget = 150_000.0
    same = allocate.CoverageProblem(
        problem.candidates, problem.cost_cny, problem.district, np.arange(merged.shape[1]), merged_weight, merged
    )
    original = allocate.CoverageProblem(
        problem.candidates, problem.cost_cny, problem.district, problem.demand, weight, problem.cover
    )
    assert brute_force_best(same, budget) == brute_force_best(original, budget)


@pytest.mark.parametrize("seed", range(10))
def test_swap_search_never_loses_residents_and_stays_feasible(seed):
    rng = np.random.default_rng(1100 + seed)
    problem = random_problem(rng, 12, n_demand=30, density=0.15, unit_cost=seed % 2 == 0)
    cover, weight = sp.csr_array(problem.cover, dtype=float), problem.weight.astype(float)
    budget = float(rng.choice([100_000, 160_000, 250_000]))
    maximum = {"A": 1, "C": 2} if seed % 3 == 0 else {}
    greedy = greedy_cover(problem, budget, maximum)
    starts = [greedy, np.array([], dtype=int)]
    order = rng.permutation(12)
    random_start = [j for j in order if problem.cost_cny[j] <= budget / 3][:2]
    if feasible(problem, random_start, budget, maximum):
        starts.append(np.array(random_start, dtype=int))
    for start in starts:
        plan = swap_search(cover, weight, problem.cost_cny, budget, start, problem.district, maximum)
        assert feasible(problem, plan, budget, maximum)
        assert problem.newly_served(plan) >= problem.newly_served(start)
        # a local optimum: no single add or swap serves more
        value = problem.newly_served(plan)
        outside = np.setdiff1d(np.arange(12), plan)
        for j in outside:
            if feasible(problem, np.append(plan, j), budget, maximum):
                assert problem.newly_served(np.append(plan, j)) <= value
            for i in plan:
                swapped = np.append(plan[plan != i], j)
                if feasible(problem, swapped, budget, maximum):
                    assert problem.newly_served(swapped) <= value


@pytest.mark.parametrize("seed", range(6))
def test_rounding_and_neighbourhood_search_give_feasible_plans_never_worse(seed):
    rng = np.random.default_rng(1200 + seed)
    problem = spatial_problem(rng, 250, radius=900, unit_cost=seed % 2 == 0)
    cover, weight = grouped_of(problem)
    budget = 12 * 50_000.0
    maximum = {"A": 3} if seed % 2 else {}
    lagrange = lagrangian_bound(cover, weight, problem.cost_cny, budget, 0.0, max_iterations=300)
    rounded = round_fractional(
        cover, weight, problem.cost_cny, budget, lagrange.fraction, problem.district, maximum, tries=4
    )
    assert feasible(problem, rounded, budget, maximum)
    assert served(cover, weight, rounded) == problem.newly_served(rounded)
    start = greedy_cover(problem, budget, maximum)
    better = neighbourhood_search(
        cover,
        weight,
        problem.cost_cny,
        budget,
        start,
        problem.district,
        maximum,
        np.flatnonzero(lagrange.fraction > 0.01),
        deadline=time.perf_counter() + 1.0,
        picks_freed=4,
    )
    assert feasible(problem, better, budget, maximum)
    assert problem.newly_served(better) >= problem.newly_served(start)


def test_restricted_solve_stops_at_enough_residents():
    rng = np.random.default_rng(11)
    problem = spatial_problem(rng, 400, radius=800)
    cover, weight = grouped_of(problem)
    start = greedy_cover(problem, 30 * 50_000.0)
    value = problem.newly_served(start)
    result = solve_restricted(
        cover, weight, problem.cost_cny, 30 * 50_000.0, np.arange(400), problem.district, {}, start, 60, 0.0, value
    )
    assert not result.optimal  # the start already serves enough: HiGHS stops at its target
    assert result.value >= value and result.bound >= result.value


@pytest.mark.parametrize(
    "seed,radius,sets,unit_cost,maximum",
    [(0, 900, 20, True, {}), (1, 1200, 40, False, {}), (2, 900, 25, True, {"A": 4, "B": 9})],
)
@pytest.mark.parametrize("reach", [0, 10_000])
def test_decompose_without_column_generation_or_final_milp_reports_a_real_bound(
    seed, radius, sets, unit_cost, maximum, reach, monkeypatch
):
    """The large-city path (no final MILP: the iterated swap search after the Lagrangian bound alone,
    the neighbourhood search after column generation), forced on a city small enough to solve exactly."""
    rng = np.random.default_rng(1300 + seed)
    problem = spatial_problem(rng, 400, radius, unit_cost)
    budget = sets * 50_000.0
    exact = allocate_optimal(problem, budget, district_max=maximum, mip_rel_gap=0.0, method="direct")
    assert exact.status == "optimal"
    monkeypatch.setattr(allocate, "COLUMN_GENERATION_MAX_REACH", reach)
    monkeypatch.setattr(allocate, "FINAL_MILP_MAX_NONZEROS", 0)
    grouped, weight = demand_groups(problem.cover, problem.weight)
    start = time.perf_counter()
    chosen, status, bound, _ = allocate._solve_decomposed(problem, grouped, weight, budget, maximum, start, 3.0, 0.0)
    assert time.perf_counter() - start < 3.0 + 1.0
    assert feasible(problem, chosen, budget, maximum)
    assert problem.newly_served(chosen) <= exact.population_newly_served <= bound + 1e-6
    assert status in ("optimal", "time limit: best found")
    if status == "optimal":
        assert problem.newly_served(chosen) == exact.population_newly_served


@pytest.mark.parametrize("slack", [0.0, 1e-3])
@pytest.mark.parametrize("seed", range(6))
def test_iterated_swap_search_is_feasible_never_worse_and_finds_small_optima(seed, slack):
    """From the greedy plan: feasible (budget, unequal costs, district maximums), never below the
    plain swap search's local optimum (it returns the best plan it saw, also when it may move on to
    worse ones: ``slack``), and on relations small enough to enumerate it reaches the optimum within
    a second (brute force)."""
    rng = np.random.default_rng(1400 + seed)
    problem = random_problem(rng, 12, n_demand=30, density=0.15, unit_cost=seed % 2 == 0)
    cover, weight = sp.csr_array(problem.cover, dtype=float), problem.weight.astype(float)
    budget = float(rng.choice([100_000, 160_000, 250_000]))
    maximum = {"A": 1, "C": 2} if seed % 3 == 0 else {}
    start = greedy_cover(problem, budget, maximum)
    local = swap_search(cover, weight, problem.cost_cny, budget, start, problem.district, maximum)
    plan = iterated_swap_search(
        cover,
        weight,
        problem.cost_cny,
        budget,
        start,
        problem.district,
        maximum,
        time.perf_counter() + 1.0,
        2,
        seed,
        slack=slack,
    )
    assert feasible(problem, plan, budget, maximum)
    assert problem.newly_served(plan) >= problem.newly_served(local)
    assert problem.newly_served(plan) == brute_force_best(problem, budget, district_max=maximum)


def test_iterated_swap_search_on_a_spatial_city_stops_at_enough_and_beats_the_swap_search():
    rng = np.random.default_rng(1410)
    problem = spatial_problem(rng, 600, radius=900)
    cover, weight = grouped_of(problem)
    budget = 40 * 50_000.0
    maximum = {"B": 10}
    start = greedy_cover(problem, budget, maximum)
    local = problem.newly_served(swap_search(cover, weight, problem.cost_cny, budget, start, problem.district, maximum))
    args = (cover, weight, problem.cost_cny, budget, start, problem.district, maximum)
    plan = iterated_swap_search(*args, time.perf_counter() + 2.0)
    assert feasible(problem, plan, budget, maximum)
    assert problem.newly_served(plan) > local
    begun = time.perf_counter()
    iterated_swap_search(*args, time.perf_counter() + 30.0, enough=local)
    assert time.perf_counter() - begun < 5.0  # the first local optimum is enough
