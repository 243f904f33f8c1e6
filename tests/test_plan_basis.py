"""A plan's weight-free basis (issue 17): what the first programme computes before its weights, kept across
weight changes, gives the plan run_plan computes without it (same ranking, picks and figures), on the
sample with its public sites, in both modes; it is never changed by a run, and a basis of other frames or
another configuration is refused."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from geo.analysis.coverage import community_coverage
from geo.analysis.eligibility import assess_eligibility, mark_applications
from geo.analysis.priority import priority_components, priority_scores, weighted_priority, weighted_score
from geo.analysis.sites import assess_sites, score_sites
from geo.config import DEFAULT_DATA_PATH, load_config, with_overrides
from geo.pipeline import load_city
from geo.plan import plan_basis, plan_relation, run_plan

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
def relation(covered, config):
    return plan_relation(covered, config)


@pytest.fixture(scope="module")
def basis(city, config, covered, relation):
    return plan_basis(
        city.communities,
        city.fitness_paths,
        config,
        city.applications,
        covered=covered,
        public_sites=city.public_sites,
        relation=relation,
    )


def plain(frame) -> pd.DataFrame:
    return pd.DataFrame(frame)


def assert_same_plan(fast, slow) -> None:
    pd.testing.assert_frame_equal(plain(fast.selected), plain(slow.selected))
    for a, b in zip(fast.outcomes, slow.outcomes, strict=True):
        pd.testing.assert_frame_equal(plain(a.scored), plain(b.scored))  # the same ranking, every column
        pd.testing.assert_frame_equal(plain(a.sites), plain(b.sites))
        pd.testing.assert_frame_equal(plain(a.left_out()), plain(b.left_out()))
        assert (a.candidates == b.candidates).all() and (a.is_site == b.is_site).all()
    for a, b in zip(fast.summaries(), slow.summaries(), strict=True):
        assert {k: v for k, v in a.items() if k != "solve_seconds"} == {
            k: v for k, v in b.items() if k != "solve_seconds"
        }


def test_components_weighed_are_the_priority_scores(city, config, covered):
    assessed = assess_eligibility(mark_applications(covered, city.applications), config)
    components = priority_components(assessed, config)
    assert "priority_score" not in components.columns
    for weights in (config.priority_weights, dict(config.priority_weights, population=0.0), {"old_community": 1.0}):
        weighted = with_overrides(config, weights=weights)
        pd.testing.assert_frame_equal(
            plain(weighted_priority(components, weights)), plain(priority_scores(assessed, weighted))
        )


def test_sites_reweighed_are_the_sites_scored_with_those_weights(city, config, basis):
    weights = dict(config.priority_weights, population=0.0, landless_reached=40.0)
    assessed = assess_sites(city.public_sites, city.fitness_paths, config)
    scored_again = score_sites(assessed, basis.components, with_overrides(config, weights=weights), city.fitness_paths)
    assert weighted_score(basis.sites, weights).tolist() == pytest.approx(
        scored_again["priority_score"].tolist(), nan_ok=True, abs=0, rel=0
    )


@pytest.mark.parametrize("population_weight", [0.0, 25.0, 50.0, 44.0])
def test_a_plan_on_the_basis_is_the_plan_without_it(city, config, covered, relation, basis, population_weight):
    weighted = with_overrides(config, weights=dict(config.priority_weights, population=population_weight))
    arguments = (city.communities, city.fitness_paths, weighted, PROGRAMS, "rank", city.applications)
    options = {"covered": covered, "public_sites": city.public_sites, "relation": relation}
    fast = run_plan(*arguments, basis=basis, **options)
    assert_same_plan(fast, run_plan(*arguments, **options))
    assert_same_plan(fast, run_plan(*arguments, public_sites=city.public_sites))  # nothing given at all


def test_optimal_and_custom_budget_on_the_basis(city, config, covered, basis):
    weights = dict(config.priority_weights, application_received=0.0)
    weighted = with_overrides(config, weights=weights, budgets={"city": 450_000})
    arguments = (city.communities, city.fitness_paths, weighted, ["city"], "optimal", city.applications)
    options = {"covered": covered, "public_sites": city.public_sites}
    assert_same_plan(run_plan(*arguments, basis=basis, **options), run_plan(*arguments, **options))


def test_a_basis_without_sites(city, config, covered, relation):
    basis = plan_basis(city.communities, city.fitness_paths, config, city.applications, covered, relation=relation)
    assert basis.sites is None and basis.reach is None
    arguments = (city.communities, city.fitness_paths, config, PROGRAMS, "rank", city.applications)
    assert_same_plan(run_plan(*arguments, covered=covered, basis=basis), run_plan(*arguments, covered=covered))


def test_runs_leave_the_basis_as_it_was(city, config, covered, basis):
    components, sites = basis.components.copy(), basis.sites.copy()
    for weight in (1.0, 30.0):
        weighted = with_overrides(config, weights=dict(config.priority_weights, population=weight))
        run_plan(
            city.communities,
            city.fitness_paths,
            weighted,
            PROGRAMS,
            "rank",
            city.applications,
            public_sites=city.public_sites,
            basis=basis,
        )
    pd.testing.assert_frame_equal(plain(basis.components), plain(components))
    pd.testing.assert_frame_equal(plain(basis.sites), plain(sites))


def test_a_basis_of_other_frames_or_rules_is_refused(city, config, covered, basis):
    arguments = (city.communities, city.fitness_paths.iloc[:-1], config, PROGRAMS, "rank", city.applications)
    with pytest.raises(ValueError, match="other frames"):
        run_plan(*arguments, public_sites=city.public_sites, basis=basis)
    with pytest.raises(ValueError, match="other frames"):  # sites left out of the run, not of the basis
        run_plan(city.communities, city.fitness_paths, config, PROGRAMS, "rank", city.applications, basis=basis)
    with pytest.raises(ValueError, match="other frames"):
        run_plan(
            city.communities,
            city.fitness_paths,
            config,
            PROGRAMS,
            "rank",
            city.applications,
            covered=covered.copy(),
            public_sites=city.public_sites,
            basis=basis,
        )
    for other in (with_overrides(config, walk_radius_m=600), replace(config, unknown_open_space="assume_room")):
        with pytest.raises(ValueError, match="another configuration"):
            run_plan(
                city.communities,
                city.fitness_paths,
                other,
                PROGRAMS,
                "rank",
                city.applications,
                public_sites=city.public_sites,
                basis=basis,
            )
