"""SCIP's restricted MILP (geo/optimize/scip.py) against the exact answers: brute force on small
relations, HiGHS's restricted MILP on spatial ones; its bound lies above the optimum when it stops
early, its plans keep the budget and district maximums and never lose the start's residents, and
the decomposition that hands it the whole MILP still proves the optimum."""

import time

import numpy as np
import pytest
import scipy.sparse as sp

import geo.optimize.allocate as allocate
from geo.optimize.allocate import allocate_optimal, demand_groups, greedy_cover
from geo.optimize.bound import solve_restricted
from geo.optimize.scip import solve_restricted_scip
from tests.helpers import brute_force_best, feasible, grouped_of, random_problem, spatial_problem


def restricted_to(problem, columns):
    """The same problem on candidates ``columns`` only (for brute force)."""
    return allocate.CoverageProblem(
        np.arange(columns.size),
        problem.cost_cny[columns],
        problem.district[columns],
        problem.demand,
        problem.weight,
        sp.csr_array(problem.cover[columns]),
    )


@pytest.mark.parametrize("seed", range(8))
def test_scip_restricted_milp_equals_brute_force(seed):
    rng = np.random.default_rng(1700 + seed)
    problem = random_problem(rng, 12, n_demand=25, density=0.2, unit_cost=seed % 2 == 0)
    cover, weight = grouped_of(problem)
    budget = float(rng.choice([100_000.0, 150_000.0, 200_000.0]))
    maximum = {"A": 1} if seed % 3 == 0 else {}
    columns = np.sort(rng.choice(12, 9, replace=False)) if seed % 4 == 1 else np.arange(12)
    start = np.array([], dtype=int)
    result = solve_restricted_scip(
        cover, weight, problem.cost_cny, budget, columns, problem.district, maximum, start, 60, 0.0
    )
    best = brute_force_best(restricted_to(problem, columns), budget, district_max=maximum)
    assert result.optimal
    assert np.isin(result.chosen, columns).all()
    assert feasible(problem, result.chosen, budget, maximum)
    assert problem.newly_served(result.chosen) == result.value == best
    assert result.bound >= best - 1e-6


@pytest.mark.parametrize("seed,maximum,unit_cost", [(0, {}, True), (1, {"A": 5, "C": 3}, True), (2, {}, False)])
def test_scip_and_highs_restricted_milps_give_the_same_optimum(seed, maximum, unit_cost):
    rng = np.random.default_rng(1710 + seed)
    problem = spatial_problem(rng, 300, 900, unit_cost)
    cover, weight = grouped_of(problem)
    budget = 18 * 50_000.0
    start = greedy_cover(problem, budget, maximum)
    args = (cover, weight, problem.cost_cny, budget, np.arange(300), problem.district, maximum, start, 120, 0.0)
    ours, highs = solve_restricted_scip(*args), solve_restricted(*args)
    assert ours.optimal and highs.optimal
    assert ours.value == highs.value >= problem.newly_served(start)
    assert feasible(problem, ours.chosen, budget, maximum)


def test_scip_stopped_early_keeps_the_start_and_a_bound_above_the_optimum():
    rng = np.random.default_rng(1720)
    problem = spatial_problem(rng, 500, 1000)
    cover, weight = grouped_of(problem)
    budget = 30 * 50_000.0
    start = greedy_cover(problem, budget)
    exact = allocate_optimal(problem, budget, mip_rel_gap=0.0, method="direct")
    assert exact.status == "optimal"
    begun = time.perf_counter()
    result = solve_restricted_scip(
        cover, weight, problem.cost_cny, budget, np.arange(500), problem.district, {}, start, 0.2, 0.0
    )
    assert time.perf_counter() - begun < 0.2 + 2.0
    assert result.value >= problem.newly_served(start)
    assert result.value <= exact.population_newly_served <= result.bound + 1e-6
    # A plan serving `enough` residents stops it at once.
    value = problem.newly_served(start)
    enough = solve_restricted_scip(
        cover, weight, problem.cost_cny, budget, np.arange(500), problem.district, {}, start, 60, 0.0, value
    )
    assert not enough.optimal and enough.value >= value and enough.bound >= enough.value


@pytest.mark.parametrize(
    "seed,radius,sets,maximum,limit", [(0, 900, 20, {}, 60.0), (1, 1200, 40, {"A": 9, "B": 12}, None)]
)
def test_decompose_handing_scip_the_whole_milp_proves_the_optimum(seed, radius, sets, maximum, limit, monkeypatch):
    """A relation small enough for the whole MILP: SCIP gets it straight after the bounds (no MILP
    over the LP's support first), in a thread beside the iterated swap search, with or without a
    time limit, and proves the direct MILP's optimum."""
    rng = np.random.default_rng(1730 + seed)
    problem = spatial_problem(rng, 400, radius)
    budget = sets * 50_000.0
    exact = allocate_optimal(problem, budget, district_max=maximum, mip_rel_gap=0.0, method="direct")
    assert exact.status == "optimal"
    called = []
    monkeypatch.setattr(allocate, "solve_restricted", lambda *a, **k: called.append(a) or None)
    result = allocate_optimal(
        problem, budget, district_max=maximum, time_limit_s=limit, mip_rel_gap=0.0, method="decompose"
    )
    assert not called  # HiGHS's restricted MILPs were not used
    assert result.status == "optimal"
    assert result.population_newly_served == exact.population_newly_served


def test_scip_beside_the_search_reports_a_real_bound_when_stopped_early():
    """SCIP stopped by the clock while the search runs beside it: the plan is feasible and the bound
    lies above the direct MILP's optimum."""
    rng = np.random.default_rng(1740)
    problem = spatial_problem(rng, 500, 1100)
    budget = 30 * 50_000.0
    exact = allocate_optimal(problem, budget, mip_rel_gap=0.0, method="direct")
    assert exact.status == "optimal"
    grouped, weight = demand_groups(problem.cover, problem.weight)
    begun = time.perf_counter()
    chosen, status, bound, _ = allocate._solve_decomposed(problem, grouped, weight, budget, {}, begun, 0.5, 0.0)
    assert time.perf_counter() - begun < 0.5 + 2.0
    assert feasible(problem, chosen, budget)
    assert problem.newly_served(chosen) <= exact.population_newly_served <= bound + 1e-6
    if status == "optimal":
        assert problem.newly_served(chosen) == exact.population_newly_served
