"""The large-model path: its bound is a bound, its fixing loses nothing, and it gives the same
answers as the plain MILP (and as brute force where that is possible)."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from geo.optimize.allocate import allocate_optimal, demand_groups, greedy_cover
from geo.optimize.bound import dual_bound, lp_bound, solve_restricted
from tests.helpers import brute_force_best, lp_optimum, random_problem, spatial_problem


@pytest.mark.parametrize("seed", range(6))
def test_dual_bound_is_above_every_plan_for_any_multipliers(seed):
    rng = np.random.default_rng(400 + seed)
    problem = random_problem(rng, 10, n_demand=20, density=0.2, unit_cost=seed % 2 == 0)
    budget = 160_000.0
    best = brute_force_best(problem, budget)
    cover = sp.csr_array(problem.cover, dtype=float)
    weight = problem.weight.astype(float)
    for lam in (np.zeros(20), weight, rng.random(20) * weight, rng.random(20) * weight * 3 - weight):
        bound, reduced = dual_bound(cover, weight, problem.cost_cny, budget, lam)
        assert bound >= best - 1e-6
        assert reduced.shape == (10,)


@pytest.mark.parametrize("seed", range(6))
def test_column_generation_reaches_the_lp_optimum(seed):
    rng = np.random.default_rng(500 + seed)
    problem = spatial_problem(rng, 300, radius=900, unit_cost=seed % 2 == 0)
    grouped, weight = demand_groups(problem.cover, problem.weight)
    budget = float(rng.choice([6, 15, 40])) * 50_000
    reference = lp_optimum(grouped, weight, problem.cost_cny, budget)
    result = lp_bound(grouped, weight, problem.cost_cny, budget, first_columns=np.arange(5))
    assert result.converged
    assert result.bound == pytest.approx(reference, rel=1e-7)
    assert result.lp_value == pytest.approx(reference, rel=1e-7)
    assert result.columns.size < 300  # it did not need every candidate
    assert np.isin(result.support, result.columns).all()


def test_an_unfinished_column_generation_still_bounds_the_optimum():
    rng = np.random.default_rng(9)
    problem = spatial_problem(rng, 300, radius=900)
    grouped, weight = demand_groups(problem.cover, problem.weight)
    stopped = lp_bound(grouped, weight, problem.cost_cny, 500_000.0, first_columns=np.arange(3), deadline=0.0)
    assert stopped.rounds == 1 and not stopped.converged
    assert stopped.bound >= lp_optimum(grouped, weight, problem.cost_cny, 500_000.0) - 1e-6


@pytest.mark.parametrize("seed", range(5))
def test_reduced_cost_fixing_keeps_every_candidate_of_a_better_plan(seed):
    rng = np.random.default_rng(600 + seed)
    problem = random_problem(rng, 12, n_demand=25, density=0.18, unit_cost=seed % 2 == 0)
    budget = 150_000.0
    grouped, weight = demand_groups(problem.cover, problem.weight)
    bound = lp_bound(grouped, weight, problem.cost_cny, budget, first_columns=np.arange(2))
    in_hand = problem.newly_served(greedy_cover(problem, budget))
    kept = bound.kept(in_hand)
    for size in range(1, 5):
        for subset in itertools.combinations(range(12), size):
            subset = list(subset)
            if problem.cost_cny[subset].sum() <= budget and problem.newly_served(np.array(subset)) > in_hand:
                assert kept[subset].all(), subset


def test_restricted_solve_never_returns_less_than_its_start():
    rng = np.random.default_rng(11)
    problem = spatial_problem(rng, 400, radius=800)
    grouped, weight = demand_groups(problem.cover, problem.weight)
    start = greedy_cover(problem, 30 * 50_000.0)
    result = solve_restricted(
        grouped,
        weight,
        problem.cost_cny,
        30 * 50_000.0,
        np.arange(400),
        problem.district,
        {},
        start,
        time_limit_s=0.0,
        mip_rel_gap=0.0,
    )
    assert result.value >= problem.newly_served(start)
    assert result.value == problem.newly_served(result.chosen)
    assert result.bound >= result.value


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(8))
def test_decompose_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 15))
    problem = random_problem(rng, n, unit_cost=seed % 2 == 0)
    budget = float(rng.choice([100_000, 160_000, 250_000, 400_000]))
    maximum = {"B": 1} if seed % 3 == 0 else {}
    result = allocate_optimal(problem, budget, district_max=maximum, mip_rel_gap=0.0, method="decompose")
    assert result.status == "optimal"
    assert result.population_newly_served == brute_force_best(problem, budget, district_max=maximum)
    assert problem.cost_cny[result.chosen].sum() <= budget
    assert (problem.district[result.chosen] == "B").sum() <= maximum.get("B", n)


@pytest.mark.parametrize(
    "seed,radius,sets,unit_cost",
    [
        (0, 600, 10, True),
        (1, 900, 25, True),
        (2, 900, 60, False),
        (3, 1200, 40, True),
        (4, 700, 80, False),
    ],
)
def test_decompose_equals_direct_on_no_sets_cities(seed, radius, sets, unit_cost):
    rng = np.random.default_rng(700 + seed)
    problem = spatial_problem(rng, 500, radius, unit_cost)
    budget = sets * 50_000.0
    direct = allocate_optimal(problem, budget, mip_rel_gap=0.0, method="direct")
    decomposed = allocate_optimal(problem, budget, mip_rel_gap=0.0, method="decompose")
    assert direct.status == decomposed.status == "optimal"
    # Spending leftover money can add residents; compare the optimised coverage before that.
    assert decomposed.population_newly_served == direct.population_newly_served
    assert problem.cost_cny[decomposed.chosen].sum() <= budget


def test_decompose_with_district_maximums_matches_direct():
    rng = np.random.default_rng(42)
    problem = spatial_problem(rng, 400, radius=900)
    maximum = {"A": 3, "B": 10}
    direct = allocate_optimal(problem, 20 * 50_000.0, district_max=maximum, mip_rel_gap=0.0, method="direct")
    decomposed = allocate_optimal(problem, 20 * 50_000.0, district_max=maximum, mip_rel_gap=0.0, method="decompose")
    assert decomposed.population_newly_served == direct.population_newly_served
    counts = {code: int((problem.district[decomposed.chosen] == code).sum()) for code in maximum}
    assert counts["A"] <= 3 and counts["B"] <= 10


def test_decompose_refuses_district_minimums_and_auto_falls_back():
    rng = np.random.default_rng(3)
    problem = spatial_problem(rng, 300, radius=3000)
    assert problem.cover.nnz > 20_000  # large enough that auto would decompose
    with pytest.raises(ValueError, match="minimum"):
        allocate_optimal(problem, 500_000.0, district_min={"A": 2}, method="decompose")
    auto = allocate_optimal(problem, 500_000.0, district_min={"A": 2}, mip_rel_gap=0.0)
    assert (problem.district[auto.chosen] == "A").sum() >= 2


@pytest.mark.parametrize("budget", [0.0, 10_000.0, 50_000.0])
def test_decompose_with_a_budget_for_one_set_or_none(budget):
    problem = spatial_problem(np.random.default_rng(1), 200, radius=900)
    decomposed = allocate_optimal(problem, budget, mip_rel_gap=0.0, method="decompose")
    direct = allocate_optimal(problem, budget, mip_rel_gap=0.0, method="direct")
    assert decomposed.status == "optimal"
    assert decomposed.population_newly_served == direct.population_newly_served
    assert len(decomposed.chosen) == (1 if budget >= 50_000 else 0)
    if budget >= 50_000:  # one set: the candidate serving the most residents
        assert decomposed.population_newly_served == max(problem.newly_served(np.array([j])) for j in range(200))
