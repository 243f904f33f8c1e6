"""Budget allocation: optimal against brute force, rank against a hand sort, invariants on the sample."""

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from shapely.geometry import box

from geo.config import DEFAULT_DATA_PATH, load_config, with_overrides
from geo.optimize.allocate import CoverageProblem, allocate_optimal, allocate_rank, demand_groups
from geo.pipeline import load_city
from geo.plan import run_plan
from tests.helpers import brute_force_best, random_problem

UTM = "EPSG:32649"
X0, Y0 = 338_000.0, 2_690_000.0


@pytest.mark.parametrize("seed", range(8))
def test_optimal_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 15))  # ≤ 14 candidates: 2^14 subsets
    problem = random_problem(rng, n, unit_cost=seed % 2 == 0)
    budget = float(rng.choice([100_000, 160_000, 250_000, 400_000]))
    result = allocate_optimal(problem, budget, mip_rel_gap=0.0)
    assert result.status == "optimal" and result.optimality_gap == pytest.approx(0.0, abs=1e-9)
    assert result.population_newly_served == brute_force_best(problem, budget)
    assert problem.cost_cny[result.chosen].sum() <= budget


@pytest.mark.parametrize("seed", range(4))
def test_optimal_equals_brute_force_with_district_limits(seed):
    rng = np.random.default_rng(100 + seed)
    problem = random_problem(rng, 12, n_demand=25, density=0.2)
    minimum, maximum = {"A": 1}, {"B": 1, "C": 2}
    if (problem.district == "A").sum() == 0:
        minimum = {}
    result = allocate_optimal(problem, 250_000, minimum, maximum, mip_rel_gap=0.0)
    assert result.population_newly_served == brute_force_best(problem, 250_000, minimum, maximum)
    counts = pd.Series(problem.district[result.chosen]).value_counts()
    assert counts.get("B", 0) <= 1 and counts.get("C", 0) <= 2 and counts.get("A", 0) >= len(minimum)


def test_rank_mode_walks_the_priority_list_and_skips_what_does_not_fit():
    # Candidates are in priority order already; costs chosen so that #2 does not fit after #1.
    problem = CoverageProblem(
        candidates=np.arange(5),
        cost_cny=np.array([60_000.0, 50_000.0, 30_000.0, 10_000.0, 5_000.0]),
        district=np.array(["A", "A", "B", "B", "A"]),
        demand=np.arange(0),
        weight=np.zeros(0, dtype=np.int64),
        cover=sp.csr_array((5, 0), dtype=bool),
    )
    # By hand: 100k budget → take #0 (60k, 40k left), skip #1 (50k), take #2 (10k left), take #3 (0 left), skip #4.
    result = allocate_rank(problem, 100_000)
    assert result.chosen.tolist() == [0, 2, 3]
    # A maximum of one set in district B: #3 is skipped, #4 fits.
    assert allocate_rank(problem, 100_000, district_max={"B": 1}).chosen.tolist() == [0, 2, 4]
    # A minimum of 2 in B is served first: #2 and #3, then #0 (60k fits 60k left), nothing else.
    assert allocate_rank(problem, 100_000, district_min={"B": 2}).chosen.tolist() == [0, 2, 3]
    assert allocate_rank(problem, 45_000, district_min={"B": 2}).chosen.tolist() == [2, 3, 4]


def test_demand_groups_merge_identical_columns_and_drop_unreachable():
    cover = sp.csr_array(np.array([[1, 1, 0, 0], [0, 0, 1, 0]], dtype=bool))
    grouped, weight = demand_groups(cover, np.array([10, 20, 5, 7]))
    assert grouped.shape == (2, 2)
    assert sorted(weight.tolist()) == [5, 30]  # demand 0 and 1 merged; demand 3 unreachable


def small_city():
    """A row of 100 m squares 300 m apart (gaps of 200 m); squares 0 and 6 have a set inside."""
    squares = [box(X0 + 300 * k, Y0, X0 + 300 * k + 100, Y0 + 100) for k in range(8)]
    communities = gpd.GeoDataFrame(
        {
            "community_id": [f"C{k}" for k in range(8)],
            "name": [f"小区{k}" for k in range(8)],
            "district_code": ["450202"] * 4 + ["450203"] * 4,
            "district_name": ["城中区"] * 4 + ["鱼峰区"] * 4,
            "built_year": [1990, 1995, 2005, 1985, 2010, 1992, 2001, 1980],
            "households": [100] * 8,
            "population": [300, 500, 200, 900, 400, 600, 250, 700],
            "share_60plus": [0.2] * 8,
            "share_under14": [0.1] * 8,
            "open_space_m2": [500, 500, 100, 500, 500, 500, 500, 500],
            "public_space_used_for_parking": [False, False, True, False, False, False, False, False],
            "sports_land_planned": [False] * 8,
        },
        geometry=squares,
        crs=UTM,
    ).to_crs("EPSG:4326")
    paths = gpd.GeoDataFrame(
        {"path_id": ["P0", "P6"]}, geometry=gpd.points_from_xy([X0 + 50, X0 + 1850], [Y0 + 50, Y0 + 50]), crs=UTM
    ).to_crs("EPSG:4326")
    return communities, paths


def test_small_city_plan_by_hand():
    communities, paths = small_city()
    config = with_overrides(load_config(), walk_radius_m=250, budgets={"city": 100_000})
    plan = run_plan(communities, paths, config, ["city"], mode="optimal")
    scored = plan.outcomes[0].scored
    # Served within 250 m: C0 (inside), C6 (inside); neighbours are 200 m apart edge to edge,
    # so C1 and C5, C7 are served within radius; unserved: C2, C3, C4.
    assert scored["served_within_radius"].tolist() == [True, True, False, False, False, True, True, True]
    # C2 has too little open space and parking: not eligible.
    assert scored.set_index("community_id").loc["C2", "reasons"] == "no_open_space;parking_no_space"
    # A set in C3 stands at its centre (x = 950): C2's edge (700) and C4's edge (1200) are both
    # exactly 250 m away, so that one set reaches all three unserved communities.
    selected = plan.selected
    assert len(selected) == 2 and selected["cost_cny"].sum() == 100_000
    assert plan.outcomes[0].allocation.population_newly_served == 200 + 900 + 400
    first = selected.iloc[0]
    assert first["community_id"] == "C3" and first["population_newly_served"] == 1500
    assert first["served_communities"] == "C2;C3;C4"
    # The money left after the optimum goes down the priority list: the second set adds no one.
    assert selected.iloc[1]["population_newly_served"] == 0
    assert selected["money_left_cny"].tolist() == [50_000, 0]


@pytest.fixture(scope="module")
def sample_city():
    return load_city(DEFAULT_DATA_PATH)


@pytest.fixture(scope="module")
def sample_plans(sample_city):
    config = load_config()
    return {
        mode: run_plan(
            sample_city.communities,
            sample_city.fitness_paths,
            config,
            ["city", "region"],
            mode,
            applications=sample_city.applications,
        )
        for mode in ("rank", "optimal")
    }


@pytest.mark.parametrize("mode", ["rank", "optimal"])
def test_seed_numbers_12_and_100_sets(sample_plans, mode):
    city, region = sample_plans[mode].summaries()
    assert (city["sets"], city["spent_cny"], city["budget_cny"]) == (12, 600_000, 600_000)
    assert (region["sets"], region["spent_cny"], region["budget_cny"]) == (100, 5_000_000, 5_000_000)


@pytest.mark.parametrize("mode", ["rank", "optimal"])
def test_invariants_on_the_sample(sample_plans, mode):
    plan = sample_plans[mode]
    picked = set()
    for outcome in plan.outcomes:
        rows, scored = outcome.selected, outcome.scored.set_index("community_id")
        assert rows["cost_cny"].sum() <= outcome.program.budget_cny  # money never exceeded
        assert (rows["money_left_cny"] >= 0).all()
        assert rows["money_left_cny"].iloc[-1] == outcome.program.budget_cny - rows["cost_cny"].sum()
        ids = rows["community_id"].tolist()
        assert scored.loc[ids, "eligible"].all() and not scored.loc[ids, "served_inside"].any()
        assert not picked & set(ids)  # the second programme treats the first's picks as existing
        picked |= set(ids)
        assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
        assert rows["population_newly_served"].sum() == outcome.allocation.population_newly_served
    optimal_first = sample_plans["optimal"].outcomes[0].allocation
    if mode == "optimal":
        assert optimal_first.status == "optimal" and optimal_first.optimality_gap <= 1e-6


def test_optimal_serves_at_least_as_many_as_rank(sample_city):
    config = load_config()
    for key in ("city", "region"):
        rank = run_plan(sample_city.communities, sample_city.fitness_paths, config, [key], "rank")
        optimal = run_plan(sample_city.communities, sample_city.fitness_paths, config, [key], "optimal")
        assert optimal.summaries()[0]["population_newly_served"] >= rank.summaries()[0]["population_newly_served"]


def test_district_limits_respected_on_the_sample(sample_city):
    base = load_config()
    city = replace(base.program("city"), district_min_sets={"450226": 3}, district_max_sets={"450203": 1})
    config = replace(base, programs=(city,))
    for mode in ("rank", "optimal"):
        rows = run_plan(sample_city.communities, sample_city.fitness_paths, config, ["city"], mode).selected
        counts = rows["district_code"].value_counts()
        assert counts.get("450226", 0) >= 3 and counts.get("450203", 0) <= 1 and len(rows) == 12


def test_same_inputs_same_plan(sample_city, sample_plans):
    again = run_plan(
        sample_city.communities,
        sample_city.fitness_paths,
        load_config(),
        ["city", "region"],
        "optimal",
        applications=sample_city.applications,
    )
    pd.testing.assert_frame_equal(
        pd.DataFrame(again.selected.drop(columns="geometry")),
        pd.DataFrame(sample_plans["optimal"].selected.drop(columns="geometry")),
    )


@pytest.mark.parametrize("seed", range(5))
def test_invariants_on_random_instances(seed):
    rng = np.random.default_rng(200 + seed)
    problem = random_problem(rng, 40, n_demand=120, density=0.05, unit_cost=False)
    budget = float(rng.integers(2, 12)) * 50_000
    rank = allocate_rank(problem, budget, district_max={"A": 2})
    optimal = allocate_optimal(problem, budget, district_max={"A": 2}, mip_rel_gap=0.0)
    for result in (rank, optimal):
        assert problem.cost_cny[result.chosen].sum() <= budget
        assert (problem.district[result.chosen] == "A").sum() <= 2
        assert len(set(result.chosen.tolist())) == len(result.chosen)
    assert optimal.population_newly_served >= rank.population_newly_served


def test_greedy_is_feasible_and_close_on_random_instances():
    from geo.optimize.allocate import greedy_cover

    for seed in range(3):
        rng = np.random.default_rng(300 + seed)
        problem = random_problem(rng, 60, n_demand=200, density=0.04)
        greedy = greedy_cover(problem, 400_000)
        assert problem.cost_cny[greedy].sum() <= 400_000
        optimal = allocate_optimal(problem, 400_000, mip_rel_gap=0.0)
        assert problem.newly_served(greedy) <= optimal.population_newly_served
        assert problem.newly_served(greedy) >= 0.63 * optimal.population_newly_served  # (1 - 1/e) guarantee


@pytest.mark.parametrize("method", ["direct", "decompose"])
def test_time_limit_returns_a_plan_with_its_gap(method):
    rng = np.random.default_rng(7)
    problem = random_problem(rng, 3000, n_demand=6000, density=0.002)
    result = allocate_optimal(problem, 100 * 50_000, time_limit_s=0.05, mip_rel_gap=0.0, method=method)
    assert result.status.startswith("time limit")
    assert 0 < len(result.chosen) <= 100 and problem.cost_cny[result.chosen].sum() <= 5_000_000
    assert result.population_newly_served > 0
    assert result.optimality_gap is None or result.optimality_gap >= 0
    # Whatever the solver had when it stopped, the plan is never worse than greedy's.
    from geo.optimize.allocate import greedy_cover

    assert result.population_newly_served >= problem.newly_served(greedy_cover(problem, 100 * 50_000))
