"""One service standard, and never money spent on nothing (issue 13).

Under ``inside`` every pick equips a community that had no set; under ``walk`` every pick brings at
least one more community within the walk radius. When money is left and nothing more can be gained
the plan stops and says why. Checked on hand-made cities whose answers are known, on random cities
and on the sample.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from geo.cli import main
from geo.config import DEFAULT_DATA_PATH, Program, load_config
from geo.pipeline import load_city
from geo.plan import run_plan
from tests.helpers import CLUSTER
from tests.helpers import square_city as city

MODES = ("rank", "optimal")
STANDARDS = ("inside", "walk")


def config(standard: str, budget: int, second: int | None = None):
    base = load_config()
    programs = [Program("city", "市本级", "City budget", budget)]
    if second is not None:
        programs.append(Program("region", "自治区补助", "Regional grant", second))
    return replace(base, standard=standard, programs=tuple(programs))


def plan(communities, paths, standard, mode, budget, second=None):
    cfg = config(standard, budget, second)
    return run_plan(communities, paths, cfg, [p.key for p in cfg.programs], mode)


@pytest.mark.parametrize("mode", MODES)
def test_walk_stops_when_one_set_reaches_everyone_and_says_why(mode):
    communities, paths = city(CLUSTER, [1000, 800, 600])
    outcome = plan(communities, paths, "walk", mode, 150_000).outcomes[0]
    summary = outcome.summary("en")
    assert summary["sets"] == 1 and summary["population_newly_served"] == 2400
    assert summary["communities_newly_within_radius"] == 3
    assert summary["unspent_cny"] == 100_000 and summary["stop_reason"] == "nothing_more_to_gain"
    assert any("CNY 100,000 is left unspent" in m for m in summary["messages"])
    left = outcome.left_out()
    assert len(left) == 2 and set(left["left_out_reason"]) == {"no_gain"}
    assert set(left["community_id"]) | set(outcome.selected["community_id"]) == {"C000", "C001", "C002"}


@pytest.mark.parametrize("mode", MODES)
def test_inside_equips_every_community_and_says_the_walk_gain_is_nil(mode):
    communities, paths = city(CLUSTER, [1000, 800, 600])
    outcome = plan(communities, paths, "inside", mode, 150_000).outcomes[0]
    summary = outcome.summary("en")
    assert summary["sets"] == summary["communities_newly_equipped"] == 3
    assert summary["population_newly_served"] == 2400 and summary["communities_newly_within_radius"] == 3
    assert summary["unspent_cny"] == 0 and summary["stop_reason"] == "budget_spent"
    # Two of the three sets bring nobody new within walking distance: said, not hidden.
    assert (outcome.selected["population_newly_served"] == 0).sum() == 2
    assert any(m.startswith("2 of these sets") for m in summary["messages"])


@pytest.mark.parametrize("mode", MODES)
def test_a_city_already_within_reach_spends_nothing_under_walk(mode):
    # A set in the middle community reaches all three; under walk nobody is unserved.
    communities, paths = city(CLUSTER, [1000, 800, 600], paths_xy=[(250, 50)])
    result = plan(communities, paths, "walk", mode, 600_000, second=5_000_000)
    for summary in result.summaries("zh"):
        assert summary["sets"] == 0 and summary["spent_cny"] == 0
        assert summary["unspent_cny"] == summary["budget_cny"] and summary["stop_reason"] == "no_candidates_left"
        assert any("未使用" in m for m in summary["messages"])
    inside = plan(communities, paths, "inside", mode, 600_000, second=5_000_000)
    assert [s["sets"] for s in inside.summaries()] == [2, 0]  # the two without a set of their own
    assert inside.summaries()[0]["population_newly_served"] == 0


def test_walk_rank_skips_a_community_an_earlier_pick_already_reaches():
    # C000 (highest score: most residents) reaches C001; C002 is 2 km away.
    communities, paths = city([(0, 0), (300, 0), (2000, 0)], [5000, 4000, 100])
    outcome = plan(communities, paths, "walk", "rank", 100_000).outcomes[0]
    assert outcome.selected["community_id"].tolist() == ["C000", "C002"]
    left = outcome.left_out()
    assert left.set_index("community_id")["left_out_reason"].to_dict() == {"C001": "no_gain"}


def random_city(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(15, 60))
    xy = rng.uniform(0, 3000, size=(n, 2)).round()
    population = rng.integers(50, 3000, size=n)
    paths = rng.uniform(0, 3000, size=(int(rng.integers(0, 8)), 2)).round()
    return city([tuple(p) for p in xy], population.tolist(), [tuple(p) for p in paths])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("mode", MODES)
def test_no_pick_adds_nothing_on_random_cities(seed, standard, mode):
    communities, paths = random_city(seed)
    budget = int(np.random.default_rng(seed).choice([200_000, 600_000, 2_000_000]))
    result = plan(communities, paths, standard, mode, budget, second=budget)
    assert_every_pick_adds_something(result, standard)


@pytest.fixture(scope="module")
def sample():
    return load_city(DEFAULT_DATA_PATH)


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("mode", MODES)
def test_no_pick_adds_nothing_on_the_sample(sample, standard, mode):
    cfg = replace(load_config(), standard=standard)
    result = run_plan(sample.communities, sample.fitness_paths, cfg, ["city", "region"], mode, sample.applications)
    assert_every_pick_adds_something(result, standard)
    assert sum(s["sets"] for s in result.summaries()) == 112  # the money buys 12 + 100 sets either way


def assert_every_pick_adds_something(result, standard):
    for outcome in result.outcomes:
        summary = outcome.summary()
        picked = outcome.selected
        assert summary["spent_cny"] + summary["unspent_cny"] == pytest.approx(summary["budget_cny"])
        assert summary["stop_reason"] in ("budget_spent", "no_candidates_left", "nothing_more_to_gain")
        if summary["stop_reason"] == "budget_spent":
            assert summary["unspent_cny"] < load_config().set_cost_cny
        # Every pick is a community without a set of its own, each once.
        seen = outcome.scored.set_index("community_id").loc[picked["community_id"].astype(str)]
        assert not seen["served_inside"].any() and picked["community_id"].is_unique
        if standard == "walk":
            assert not seen["served_within_radius"].any()
            newly = picked["served_communities"].fillna("").str.len() > 0
            assert newly.all(), "a set that brings no community within walking distance"
            assert (picked["population_newly_served"] > 0).all()
        # What was left out would add nothing, or the money is spent.
        left = outcome.left_out()
        if summary["stop_reason"] == "nothing_more_to_gain":
            assert set(left["left_out_reason"]) == {"no_gain"}


def test_plan_json_reports_the_standard_unspent_money_and_why(capsys):
    assert main(["plan", "--json", "--lang", "en"]) == 0
    document = json.loads(capsys.readouterr().out)
    for program in document["programs"]:
        assert program["standard"] == "inside"
        assert program["unspent_cny"] == program["budget_cny"] - program["spent_cny"]
        assert program["stop_reason"] == "budget_spent"
        # Under inside every set equips a community, except a set on a public site (it equips none).
        assert program["communities_newly_equipped"] == program["sets"] - program["sets_on_public_sites"]
        assert program["communities_newly_within_radius"] > 0


@pytest.mark.parametrize("standard", STANDARDS)
def test_the_map_counts_what_the_page_counts(standard):
    from geo.analysis.eligibility import eligibility_counts
    from geo.plan import score_communities
    from geo.render.maps import _community_status

    # C000 has a set inside, C001 only within 500 m of it, C002 is far from any.
    communities, paths = city([(0, 0), (300, 0), (3000, 0)], [1000, 800, 600], paths_xy=[(50, 50)])
    scored = score_communities(communities, paths, config(standard, 100_000))
    status = _community_status(scored).tolist()
    counts = eligibility_counts(scored)
    if standard == "inside":
        assert status == ["served_inside", "unserved_eligible", "unserved_eligible"]
    else:
        assert status == ["served_inside", "served_within_radius", "unserved_eligible"]
    assert status.count("unserved_eligible") == counts["unserved_eligible"] == counts["eligible"]
    assert sum(s.startswith("served") for s in status) == counts["served"]


def test_communities_waiting_for_a_survey_are_the_stop_reason_not_a_served_city():
    communities, paths = city(CLUSTER, [1000, 800, 600])
    communities["open_space_m2"] = np.nan  # a city without open-space data: survey first (the default)
    summary = plan(communities, paths, "inside", "rank", 150_000).outcomes[0].summary("zh")
    assert summary["sets"] == 0 and summary["unspent_cny"] == 150_000
    assert summary["stop_reason"] == "awaiting_survey"
    assert any("其余 3 个没有健身路径的小区可用空地待现场核查" in m for m in summary["messages"])


def test_the_notice_says_why_a_set_brings_no_new_residents_and_why_money_is_left():
    from geo.render.notice import publish_html

    sample = load_city(DEFAULT_DATA_PATH)
    communities, paths = city(CLUSTER, [1000, 800, 600])
    inside = plan(communities, paths, "inside", "rank", 150_000)
    page = publish_html(inside, sample.districts, paths, synthetic_notice=False)
    assert "其中 2 套建在步行 500 米内已有健身路径的小区" in page
    walk = plan(communities, paths, "walk", "rank", 150_000)
    page = publish_html(walk, sample.districts, paths, lang="en", synthetic_notice=False)
    assert "City budget: under the service standard in force, no other candidate would add coverage" in page
    assert "CNY 100,000 is left unspent." in page
