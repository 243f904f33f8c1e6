"""A plan run projects the city and builds the (site, community) relation once (issue 11).

Priority, allocation and the next programme's coverage update slice the shared
:class:`geo.analysis.coverage.CoverageRelation`; these tests count the builds during a run of
two programmes and check that every slice equals what the unshared code computes.
"""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest

from geo.analysis import coverage, priority
from geo.analysis.coverage import (
    CityGeometry,
    CoverageRelation,
    PairLimitError,
    add_fitness_paths,
    community_coverage,
    coverage_pairs,
)
from geo.analysis.priority import neighbours_unserved_population, priority_scores
from geo.config import DEFAULT_DATA_PATH, load_config
from geo.data.crs import metric_crs_for
from geo.optimize.allocate import CoverageProblem
from geo.pipeline import load_city
from geo.plan import planned_sets, run_plan, score_covered

PROGRAMS = ["city", "region"]


@pytest.fixture(scope="module")
def city():
    return load_city(DEFAULT_DATA_PATH)


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def covered(city, config):
    return community_coverage(city.communities, city.fitness_paths, config.walk_radius_m)


@pytest.fixture(scope="module")
def geometry(city):
    return CityGeometry.of(city.communities)


@pytest.fixture(scope="module")
def relation(geometry, covered, config):
    unserved = np.flatnonzero(~covered["served_within_radius"].to_numpy(bool))
    return CoverageRelation.build(geometry, unserved, config.walk_radius_m)


class Counter:
    """Counts the builds of the relation and the projections of community polygons."""

    def __init__(self, monkeypatch):
        self.relations = 0  # relation queries started (coverage_pair_batches), anywhere
        self.projections = 0  # polygon layers projected to metres
        batches = coverage.coverage_pair_batches

        def counted_batches(*args, **kwargs):
            self.relations += 1
            return batches(*args, **kwargs)

        monkeypatch.setattr(coverage, "coverage_pair_batches", counted_batches)
        monkeypatch.setattr(priority, "coverage_pair_batches", counted_batches)
        to_crs = gpd.GeoSeries.to_crs

        def counted_to_crs(series, *args, **kwargs):
            if len(series) and series.geom_type.isin(["Polygon", "MultiPolygon"]).all():
                self.projections += 1
            return to_crs(series, *args, **kwargs)

        monkeypatch.setattr(gpd.GeoSeries, "to_crs", counted_to_crs)


@pytest.mark.parametrize("mode", ["rank", "optimal"])
def test_one_run_of_two_programmes_projects_and_builds_once(city, config, monkeypatch, mode):
    counter = Counter(monkeypatch)
    plan = run_plan(city.communities, city.fitness_paths, config, PROGRAMS, mode, city.applications)
    assert len(plan.outcomes) == 2 and len(plan.outcomes[0].selected) > 0  # the second saw the first's sets
    assert counter.relations == 1
    assert counter.projections == 1


def test_a_given_coverage_adds_no_build(city, config, covered, monkeypatch):
    counter = Counter(monkeypatch)
    run_plan(city.communities, city.fitness_paths, config, PROGRAMS, "rank", city.applications, covered=covered)
    assert (counter.relations, counter.projections) == (1, 1)


def test_the_counter_sees_the_unshared_builds(city, config, covered, monkeypatch):
    # Without the shared relation, priority and allocation each project and query again.
    counter = Counter(monkeypatch)
    scored = score_covered(covered, config, city.applications)
    CoverageProblem.from_scored(scored, config.walk_radius_m, config.set_cost_cny)
    assert (counter.relations, counter.projections) == (2, 2)


def test_geometry_is_the_projection_and_the_sites(city, geometry):
    polygons_m = city.communities.geometry.to_crs(metric_crs_for(city.communities)).values
    assert geometry.metric_crs == metric_crs_for(city.communities)
    assert np.array_equal(shapely_wkb(geometry.polygons_m), shapely_wkb(np.asarray(polygons_m)))
    assert np.array_equal(shapely_wkb(geometry.sites_m), shapely_wkb(coverage.candidate_sites(polygons_m)))


def shapely_wkb(values):
    import shapely

    return shapely.to_wkb(np.asarray(values))


def test_relation_slices_equal_fresh_queries(geometry, relation, config):
    rng = np.random.default_rng(11)
    n = len(geometry.sites_m)
    assert relation.n_pairs > 0
    for _ in range(5):
        sites = rng.permutation(n)[: n // 3]  # any order, like candidates in priority order
        demand = np.sort(rng.choice(relation.demand, size=relation.demand.size // 2, replace=False))
        expected = coverage_pairs(geometry.sites_m[sites], geometry.polygons_m[demand], config.walk_radius_m)
        got = relation.pairs(sites, demand)
        assert all(np.array_equal(a, b) for a, b in zip(got, expected))
    whole = coverage_pairs(geometry.sites_m, geometry.polygons_m[relation.demand], config.walk_radius_m)
    assert all(np.array_equal(a, b) for a, b in zip(relation.pairs(np.arange(n), relation.demand), whole))


def test_relation_batches_concatenate_to_the_pairs(relation, monkeypatch):
    whole = relation.pairs(np.arange(len(relation.geometry.sites_m)), relation.demand)
    monkeypatch.setattr(coverage, "SLICE_PAIRS_PER_BATCH", 7)
    batches = list(relation.pair_batches(np.arange(len(relation.geometry.sites_m)), relation.demand))
    assert len(batches) > 1
    assert all(np.array_equal(np.concatenate(part), full) for part, full in zip(zip(*batches), whole))


def test_relation_refuses_demand_it_was_not_built_for(relation, covered):
    served = np.flatnonzero(covered["served_within_radius"].to_numpy(bool))
    with pytest.raises(ValueError, match="outside the shared coverage relation"):
        relation.pairs(np.arange(3), served[:1])


def test_relation_refuses_other_rows_or_radius(relation, covered, config):
    with pytest.raises(ValueError, match="not the communities"):
        neighbours_unserved_population(covered.iloc[1:], config.walk_radius_m, relation=relation)
    with pytest.raises(ValueError, match="shared coverage relation is for"):
        neighbours_unserved_population(covered, config.walk_radius_m + 1, relation=relation)


def test_relation_keeps_the_limit(geometry, relation, covered, config):
    with pytest.raises(PairLimitError):
        CoverageRelation.build(geometry, relation.demand, config.walk_radius_m, max_pairs=relation.n_pairs - 1)
    at_limit = CoverageRelation.build(geometry, relation.demand, config.walk_radius_m, max_pairs=relation.n_pairs)
    assert np.array_equal(at_limit.indices, relation.indices)
    with pytest.raises(PairLimitError):
        neighbours_unserved_population(covered, config.walk_radius_m, relation=relation, max_pairs=relation.n_pairs - 1)


def test_priority_and_problem_from_the_relation_equal_the_unshared(city, config, covered, geometry, relation):
    scored = score_covered(covered, config, city.applications)
    shared = score_covered(covered, config, city.applications, relation=relation)
    assert shared.drop(columns="geometry").equals(scored.drop(columns="geometry"))
    for served_first in (0, 25):  # the second programme's demand: a subset of the first's
        frame = scored.copy()
        demand = np.flatnonzero(~frame["served_within_radius"].to_numpy(bool))
        frame.iloc[demand[:served_first], frame.columns.get_loc("served_within_radius")] = True
        fresh = CoverageProblem.from_scored(frame, config.walk_radius_m, config.set_cost_cny)
        sliced = CoverageProblem.from_scored(frame, config.walk_radius_m, config.set_cost_cny, relation=relation)
        assert fresh.cover.nnz > 0 and (fresh.cover != sliced.cover).nnz == 0
        assert np.array_equal(fresh.cover.indptr, sliced.cover.indptr)
        assert np.array_equal(fresh.cover.indices, sliced.cover.indices)
        assert np.array_equal(fresh.demand, sliced.demand) and np.array_equal(fresh.candidates, sliced.candidates)
        assert np.array_equal(
            neighbours_unserved_population(frame, config.walk_radius_m),
            neighbours_unserved_population(frame, config.walk_radius_m, relation=relation),
        )


def test_coverage_update_from_the_geometry_equals_the_unshared(city, config, covered, geometry):
    program = config.program(PROGRAMS[0])
    picked = covered.iloc[::17]
    sites_m = geometry.sites_m[np.arange(len(covered))[::17]]
    new = planned_sets(picked, program, geometry.metric_crs)
    assert new.geometry.equals(planned_sets(picked, program, geometry.metric_crs, sites_m).geometry)
    fresh = add_fitness_paths(covered, new, config.walk_radius_m)
    shared = add_fitness_paths(covered, new, config.walk_radius_m, geometry=geometry)
    assert shared.drop(columns="geometry").equals(fresh.drop(columns="geometry"))
    again = community_coverage(city.communities, city.fitness_paths, config.walk_radius_m, geometry=geometry)
    assert again.equals(covered)


def test_run_plan_equals_the_unshared_run(city, config, monkeypatch):
    """The whole run against one with every step computing its own relation (the code before issue 11)."""
    shared = run_plan(city.communities, city.fitness_paths, config, PROGRAMS, "rank", city.applications)

    class Unshared:
        @staticmethod
        def build(geometry, demand, walk_radius_m, *, max_pairs=None, network=None):
            return None

    monkeypatch.setattr("geo.plan.CoverageRelation", Unshared)
    alone = run_plan(city.communities, city.fitness_paths, config, PROGRAMS, "rank", city.applications)

    def figures(plan):
        return [{k: v for k, v in s.items() if k != "solve_seconds"} for s in plan.summaries()]

    assert figures(shared) == figures(alone)
    for a, b in zip(shared.outcomes, alone.outcomes):
        assert a.selected.drop(columns="geometry").equals(b.selected.drop(columns="geometry"))
        assert a.scored.drop(columns="geometry").equals(b.scored.drop(columns="geometry"))


def test_priority_scores_takes_the_relation(covered, config, relation, city):
    from geo.analysis.eligibility import assess_eligibility, mark_applications

    assessed = assess_eligibility(mark_applications(covered, city.applications), config)
    other = replace(config, walk_radius_m=config.walk_radius_m * 2)
    with pytest.raises(ValueError):
        priority_scores(assessed, other, relation=relation)


def test_a_given_coverage_with_its_own_index_is_planned_as_before(city, config, covered):
    # run_plan reads the rows of the coverage it is given, whatever their index.
    renumbered = covered.reset_index(drop=True)
    renumbered.index = renumbered.index + 1000
    plan = run_plan(
        city.communities, city.fitness_paths, config, PROGRAMS, "rank", city.applications, covered=renumbered
    )
    same = run_plan(city.communities, city.fitness_paths, config, PROGRAMS, "rank", city.applications, covered=covered)
    for a, b in zip(plan.outcomes, same.outcomes):
        assert a.selected.drop(columns="geometry").equals(b.selected.drop(columns="geometry"))


def test_relation_matrix_is_the_pairs_in_csr(geometry, relation):
    import scipy.sparse as sp

    rng = np.random.default_rng(7)
    sites = rng.permutation(len(geometry.sites_m))[:200]
    demand = np.sort(rng.choice(relation.demand, size=relation.demand.size // 3, replace=False))
    site_idx, demand_idx = relation.pairs(sites, demand)
    expected = sp.csr_array((np.ones(site_idx.size, dtype=bool), (site_idx, demand_idx)), shape=(200, demand.size))
    got = relation.matrix(sites, demand)
    assert got.shape == expected.shape and got.dtype == expected.dtype == bool and got.nnz == site_idx.size > 0
    assert np.array_equal(got.indptr, expected.indptr) and np.array_equal(got.indices, expected.indices)
    with pytest.raises(PairLimitError):
        relation.matrix(sites, demand, max_pairs=got.nnz - 1)
