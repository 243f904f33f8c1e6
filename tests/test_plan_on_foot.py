"""Plans on foot (issue 16): with ``[coverage] distance = "network"`` the coverage relation that ranks, optimises
and credits a plan is walked along the streets.

Geometry (tests/helpers.py ``square_city``): 100 m squares at metre offsets from a point in Liuzhou (UTM 49N).
The river city: the Liu River runs between y = 0 and y = 300, a street on each bank, one bridge far east.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.analysis.coverage import CoverageRelation, community_coverage
from geo.analysis.network import WalkNetwork
from geo.data.crs import metric_crs_for
from geo.errors import DataError
from geo.optimize.allocate import CoverageProblem
from geo.plan import planned_sets, run_plan, score_communities
from tests.helpers import square_city
from tests.network_helpers import river_city, streets
from tests.site_helpers import SET_CNY, config, sites_at


def network_of(roads: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> WalkNetwork:
    """The walk graph in the communities' UTM zone, as geo.pipeline.walk_network builds it."""
    return WalkNetwork.from_roads(roads, metric_crs_for(communities))


def on_foot(cfg):
    return dataclasses.replace(cfg, distance="network")


@pytest.mark.parametrize("mode", ["rank", "optimal"])
def test_across_the_river_a_set_serves_its_own_bank_only_on_foot(mode):
    communities, paths, roads = river_city()
    network = network_of(roads, communities)
    straight = run_plan(communities, paths, config(SET_CNY), ["city"], mode).outcomes[0]
    walked = run_plan(communities, paths, on_foot(config(SET_CNY)), ["city"], mode, network=network).outcomes[0]
    # In a straight line the set in S1 also serves N across the water: 2,500 residents.
    assert straight.selected["community_id"].tolist() == ["C001"]
    assert straight.summary("en")["population_newly_served"] == 2500
    # On foot S1 serves only itself (500): S2 (700) is the better pick, and N stays unserved.
    assert walked.selected["community_id"].tolist() == ["C002"]
    assert walked.summary("en")["population_newly_served"] == 700
    assert walked.scored.set_index("community_id").loc["C001", "neighbours_unserved_population"] == 0
    assert straight.scored.set_index("community_id").loc["C001", "neighbours_unserved_population"] == 2000


@pytest.mark.parametrize("mode", ["rank", "optimal"])
def test_a_public_site_on_the_north_bank_serves_the_landless_community_on_foot(mode):
    communities, paths, roads = river_city()
    network = network_of(roads, communities)
    # 120 m north of N: a straight 520 m from S1's edge (not within 500 m), 220 m from N on foot by the street.
    sites = sites_at(("S1", 50, 520, "pocket_park", 800.0, "yes"))
    plan = run_plan(
        communities, paths, on_foot(config(SET_CNY)), ["city"], mode, public_sites=sites, network=network
    ).outcomes[0]
    assert plan.selected["community_id"].tolist() == ["S1"]
    assert plan.summary("en")["population_newly_served"] == 2000
    assert plan.sites.set_index("site_id").loc["S1", "landless_reached_population"] == 2000
    # The site's distance to the nearest set is walked too: no set yet, so none.
    assert np.isnan(plan.sites.set_index("site_id").loc["S1", "nearest_set_m"])


def test_the_relation_on_foot_holds_the_walked_pairs_and_says_so():
    communities, paths, roads = river_city()
    network = network_of(roads, communities)
    from geo.analysis.coverage import CityGeometry

    geometry = CityGeometry.of(communities, network.metric_crs)
    everyone = np.arange(len(communities))
    walked = CoverageRelation.build(geometry, everyone, 500.0, network=network)
    straight = CoverageRelation.build(geometry, everyone, 500.0)
    assert (walked.distance, straight.distance) == ("network", "straight")
    # Pairs (site of row, community row): on foot each serves itself only; straight S1 and N serve each other.
    assert set(zip(*walked.pairs(everyone, everyone))) == {(0, 0), (1, 1), (2, 2)}
    assert set(zip(*straight.pairs(everyone, everyone))) == {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2)}
    # A relation measured one way is refused where the other is meant.
    scored = score_communities(communities, paths, config(SET_CNY))
    with pytest.raises(ValueError, match="straight"):
        CoverageProblem.from_scored(scored, 500.0, SET_CNY, network.metric_crs, relation=straight, network=network)


def test_on_foot_without_a_network_is_a_clear_error_and_straight_ignores_one():
    communities, paths, roads = river_city()
    with pytest.raises(DataError) as raised:
        run_plan(communities, paths, on_foot(config(SET_CNY)), ["city"], "rank")
    assert raised.value.args[0].key == "network_needs_roads"
    with pytest.raises(DataError):
        score_communities(communities, paths, on_foot(config(SET_CNY)))
    # Straight lines: a network given changes nothing.
    network = network_of(roads, communities)
    with_network = run_plan(communities, paths, config(SET_CNY), ["city"], "optimal", network=network)
    without = run_plan(communities, paths, config(SET_CNY), ["city"], "optimal")
    assert (
        with_network.outcomes[0].selected["community_id"].tolist()
        == without.outcomes[0].selected["community_id"].tolist()
    )


# --------------------------------------------------------------------------- invariants on random cities


def random_city_with_streets(seed: int, n: int = 45):
    """A 3 km square: a street lattice every 250 m, the river between y = 1,400 and 1,600 crossed by two
    bridges, an island street nobody can reach, communities at random (a quarter without land), three sets."""
    rng = np.random.default_rng(seed)
    xy = [tuple(p) for p in rng.uniform(0, 2900, (n, 2)).round()]
    communities, paths = square_city(
        xy, rng.integers(100, 3000, n).tolist(), [tuple(p) for p in rng.uniform(0, 3000, (3, 2))]
    )
    communities["district_code"] = rng.choice(["450202", "450203"], n)
    communities.loc[rng.random(n) < 0.25, "open_space_m2"] = 0.0
    ticks = np.arange(0, 3001, 250)
    lines = []
    for t in ticks:
        lines.append([(0, t), (3000, t)]) if not 1400 < t < 1600 else None
        lines.append([(t, 0), (t, 1400)])
        lines.append([(t, 1600), (t, 3000)])
    lines.extend([[(x, 1400), (x, 1600)] for x in rng.choice(ticks, 2, replace=False)])  # the bridges
    lines.append([(3300, 3300), (3400, 3300)])  # an island
    return communities, paths, streets(*lines)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("standard", ["inside", "walk"])
def test_plan_invariants_hold_on_foot(seed, standard):
    communities, paths, roads = random_city_with_streets(seed)
    network = network_of(roads, communities)
    budget = 5 * SET_CNY
    cfg = on_foot(config(budget, standard))
    cfg = dataclasses.replace(
        cfg, programs=tuple(dataclasses.replace(p, district_max_sets={"450203": 2}) for p in cfg.programs)
    )
    radius = cfg.walk_radius_m
    metric = network.metric_crs
    before = community_coverage(communities, paths, radius, network=network)
    straight_before = community_coverage(communities, paths, radius)
    # A walk is never shorter than the straight line.
    assert not (before["served_within_radius"] & ~straight_before["served_within_radius"]).any()
    values = {}
    for mode in ("rank", "optimal"):
        plan = run_plan(communities, paths, cfg, ["city", "region"], mode, network=network)
        first, second = plan.outcomes
        picked = first.selected
        assert picked["cost_cny"].sum() <= budget
        assert (picked["district_code"].astype(str) == "450203").sum() <= 2
        assert set(picked["community_id"]) <= set(first.scored.loc[first.scored["eligible"], "community_id"])
        # What the plan claims is what walking measures once its sets stand: the second programme starts from
        # the coverage on foot with the first programme's sets, and the residents newly served add up.
        planned = planned_sets(picked, cfg.program("city"), metric)
        after = community_coverage(communities, pd.concat([paths, planned], ignore_index=True), radius, network=network)
        pd.testing.assert_series_equal(
            second.scored["served_within_radius"].reset_index(drop=True),
            after["served_within_radius"].reset_index(drop=True),
        )
        newly = after["served_within_radius"].to_numpy() & ~before["served_within_radius"].to_numpy()
        population = communities["population"].to_numpy(dtype=int)
        assert first.summary("en")["population_newly_served"] == int(population[newly].sum())
        if standard == "walk":
            assert (picked["population_newly_served"] > 0).all()
        values[mode] = first.summary("en")["population_newly_served"]
    assert values["optimal"] >= values["rank"]


def fine_mesh(side_m: float, step_m: float = 20.0) -> gpd.GeoDataFrame:
    """A complete fine mesh: nodes every ``step_m``, each joined to its neighbours in 16 directions, so that a
    path is at most 2.8 % longer than the straight line (and a place is within 14.2 m of a node)."""
    ticks = np.arange(0.0, side_m + step_m / 2, step_m)
    lines = []
    for i, x in enumerate(ticks):
        for j, y in enumerate(ticks):
            for dx, dy in [(1, 0), (0, 1), (1, 1), (1, -1), (2, 1), (1, 2), (2, -1), (1, -2)]:
                if 0 <= i + dx < ticks.size and 0 <= j + dy < ticks.size:
                    lines.append([(x, y), (ticks[i + dx], ticks[j + dy])])
    return streets(*lines)


@pytest.mark.parametrize("mode", ["rank", "optimal"])
@pytest.mark.parametrize("seed", range(2))
def test_on_a_complete_fine_mesh_plans_on_foot_and_in_a_straight_line_agree(mode, seed):
    # Nine communities 400 m apart (their edges 300 m): a set in one is 350 m from the next one's edge (388 m on
    # foot at most) and 495 m from a diagonal neighbour's corner (more than the 450 m radius either way), so
    # no pair is near the radius and both measures must make the same plan.
    rng = np.random.default_rng(seed)
    xy = [(100 + 400 * i, 100 + 400 * j) for i in range(3) for j in range(3)]
    communities, paths = square_city(xy, rng.integers(200, 3000, 9).tolist())
    network = WalkNetwork.from_roads(fine_mesh(1200.0), metric_crs_for(communities), snap_m=0.5)
    assert network.pieces == 1
    cfg = dataclasses.replace(config(2 * SET_CNY, "walk"), walk_radius_m=450.0)
    straight = run_plan(communities, paths, cfg, ["city"], mode).outcomes[0]
    walked = run_plan(communities, paths, on_foot(cfg), ["city"], mode, network=network).outcomes[0]
    assert walked.selected["community_id"].tolist() == straight.selected["community_id"].tolist()
    assert walked.summary("en")["population_newly_served"] == straight.summary("en")["population_newly_served"]
    pd.testing.assert_series_equal(
        walked.scored["neighbours_unserved_population"], straight.scored["neighbours_unserved_population"]
    )


def test_the_landless_list_gives_the_nearest_sites_on_foot_when_the_radius_is_walked():
    from geo.analysis.sites import assess_sites, landless_access

    communities, paths, roads = river_city()
    network = network_of(roads, communities)
    # A: on the south bank, 386 m across the water from N (3,930 m on foot by the bridge); B: 600 m east of N on
    # the north bank, 30 m off its street (630 m on foot).
    sites = sites_at(("A", 300, -30, "square", 800.0, "yes"), ("B", 700, 330, "square", 800.0, "yes"))
    cfg = config(SET_CNY)
    assessed = assess_sites(sites, paths, cfg, network.metric_crs)
    straight = landless_access(score_communities(communities, paths, cfg), assessed).iloc[0]
    walked = landless_access(
        score_communities(communities, paths, on_foot(cfg), network=network), assessed, network=network
    ).iloc[0]
    assert straight["community_id"] == walked["community_id"] == "C000"
    assert (straight["site_1_id"], straight["site_2_id"]) == ("A", "B")
    assert straight["site_1_m"] == pytest.approx(np.hypot(200, 330), abs=0.1)
    assert (walked["site_1_id"], walked["site_2_id"]) == ("B", "A")
    assert walked["site_1_m"] == pytest.approx(30 + 600, abs=0.1)
    assert walked["site_2_m"] == pytest.approx(30 + 1700 + 300 + 1900, abs=0.1)
    # Beyond the search's 5 km on foot a site is not listed.
    far = sites_at(("F", 300, -2900, "square", 800.0, "yes"))
    listed = landless_access(
        score_communities(communities, paths, on_foot(cfg), network=network),
        assess_sites(far, paths, cfg, network.metric_crs),
        network=network,
    ).iloc[0]
    assert pd.isna(listed["site_1_id"])


@pytest.mark.parametrize("mode", ["rank", "optimal"])
def test_the_shared_relation_on_foot_gives_the_plan_each_step_would_walk_alone(mode, monkeypatch):
    """Priority, the problem and the sites' reach each walk their own pairs when no shared relation is given: the
    plan must be the same as with the run's one relation."""
    communities, paths, roads = random_city_with_streets(7)
    network = network_of(roads, communities)
    sites = sites_at(*[(f"S{k}", 250 * k + 20, 1380, "square", 500.0, "yes") for k in range(1, 11)])
    cfg = on_foot(config(4 * SET_CNY, "walk"))
    shared = run_plan(communities, paths, cfg, ["city", "region"], mode, public_sites=sites, network=network)

    class Unshared:
        @staticmethod
        def build(geometry, demand, walk_radius_m, *, max_pairs=None, network=None):
            return None

    monkeypatch.setattr("geo.plan.CoverageRelation", Unshared)
    alone = run_plan(communities, paths, cfg, ["city", "region"], mode, public_sites=sites, network=network)
    for a, b in zip(shared.outcomes, alone.outcomes):
        assert a.selected["community_id"].tolist() == b.selected["community_id"].tolist()
        assert a.summary("en")["population_newly_served"] == b.summary("en")["population_newly_served"]
        pd.testing.assert_series_equal(
            a.scored["neighbours_unserved_population"], b.scored["neighbours_unserved_population"]
        )


# --------------------------------------------------------------------------- the command line


def river_city_file(tmp_path):
    from tests.network_helpers import city_file

    communities, paths, roads = river_city()
    sites = sites_at(("A", 300, -30, "square", 800.0, "yes"), ("B", 700, 330, "square", 800.0, "yes"))
    layers = {"communities": communities, "fitness_paths": paths, "roads": roads, "public_sites": sites}
    return city_file(tmp_path / "river.gpkg", layers)


@pytest.mark.parametrize(("distance", "pick", "served"), [("straight", "C001", 2500), ("network", "C002", 700)])
def test_geo_plan_plans_on_foot_when_the_config_says_network(tmp_path, capsys, distance, pick, served):
    import json

    from geo.cli import main
    from tests.network_helpers import config_file

    city, config = river_city_file(tmp_path), config_file(tmp_path / "config.toml", distance=distance)
    args = ["--config", str(config), "plan", "--data", str(city), "--program", "city", "--no-sites"]
    assert main([*args, "--budget", "city=50000", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["distance"] == distance
    assert report["programs"][0]["population_newly_served"] == served
    out = tmp_path / "plan.csv"
    assert main([*args, "--budget", "city=50000", "--out", str(out)]) == 0
    assert pick in out.read_text(encoding="utf-8-sig")


def test_geo_eligibility_lists_the_landless_communitys_sites_on_foot(tmp_path, capsys):
    from geo.cli import main
    from tests.helpers import csv_rows
    from tests.network_helpers import config_file

    city, config = river_city_file(tmp_path), config_file(tmp_path / "config.toml", distance="network")
    out = tmp_path / "landless.csv"
    assert main(["--config", str(config), "eligibility", "--data", str(city), "--landless", "--out", str(out)]) == 0
    header, row = csv_rows(out.read_bytes())[:2]
    cells = dict(zip(header, row))
    distances = [cells[h] for h in header if h.startswith("距离") and h != "距离计算方式"]
    assert distances[:2] == [630.0, 3930.0], cells
    # The file says how its metres were measured, just before the first site.
    assert cells["距离计算方式"] == "步行距离（沿道路）"
    assert header[header.index("距离计算方式") + 1] == "最近公共场地 1"


@pytest.mark.parametrize(("distance", "words"), [("straight", "直线距离"), ("network", "步行距离（沿道路）")])
def test_geo_eligibility_says_its_distance_before_the_nearest_set(tmp_path, distance, words):
    from geo.cli import main
    from tests.helpers import csv_rows
    from tests.network_helpers import config_file

    city, config = river_city_file(tmp_path), config_file(tmp_path / "config.toml", distance=distance)
    out = tmp_path / "eligibility.csv"
    assert main(["--config", str(config), "eligibility", "--data", str(city), "--out", str(out)]) == 0
    header, *rows = csv_rows(out.read_bytes())
    at = header.index("距离计算方式")
    assert header[at + 1] == "距最近健身路径（米）"
    assert {row[at] for row in rows} == {words} and len(rows) == 3


@pytest.mark.parametrize(("snap_m", "served"), [(1, 1), (2, 2)])
def test_geo_coverage_builds_the_network_with_the_configs_tolerances(tmp_path, capsys, snap_m, served):
    """The bridge is drawn 1.5 m short of the north bank's street: with [network] snap_m = 1 the river cannot be
    crossed and N stays unserved on foot even at 5 km; with 2 m the two are joined."""
    import json

    from geo.cli import main
    from tests.network_helpers import RIVER, city_file, config_file

    communities, _, _ = river_city()
    paths = sites_at(("P0", 50, -10, "square", 100.0, "yes"))[["site_id", "geometry"]].rename(
        columns={"site_id": "path_id"}
    )
    roads = streets(*RIVER[:2], [(2000, 0), (2000, 298.5)])
    city = city_file(tmp_path / "river.gpkg", {"communities": communities, "fitness_paths": paths, "roads": roads})
    config = config_file(tmp_path / "config.toml", distance="network", snap_m=snap_m, walk_radius_m=5000)
    assert main(["--config", str(config), "coverage", "--data", str(city), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # S1 holds the set; S2 is 900 m along the south street; N is across the river.
    assert report["total"]["served_within_radius"] == served + 1


# --------------------------------------------------------------------------- the relation kept across weight changes


@pytest.mark.parametrize("distance", ["straight", "network"])
def test_a_kept_relation_gives_the_plan_run_plan_builds_and_a_wrong_one_is_refused(distance):
    from geo.plan import plan_relation

    communities, paths, roads = random_city_with_streets(3)
    network = network_of(roads, communities)
    cfg = dataclasses.replace(config(4 * SET_CNY, "walk"), distance=distance)
    covered = community_coverage(
        communities, paths, cfg.walk_radius_m, network=network if distance == "network" else None
    )
    relation = plan_relation(covered, cfg, network)
    assert relation.distance == distance
    for mode in ("rank", "optimal"):
        built = run_plan(communities, paths, cfg, ["city", "region"], mode, covered=covered, network=network)
        kept = run_plan(
            communities, paths, cfg, ["city", "region"], mode, covered=covered, network=network, relation=relation
        )
        for a, b in zip(built.outcomes, kept.outcomes):
            assert a.selected["community_id"].tolist() == b.selected["community_id"].tolist()
            assert a.summary("en")["population_newly_served"] == b.summary("en")["population_newly_served"]
    # Another radius, another distance, another coverage, or no coverage at all: refused.
    with pytest.raises(ValueError):
        run_plan(
            communities,
            paths,
            dataclasses.replace(cfg, walk_radius_m=600.0),
            ["city"],
            covered=covered,
            network=network,
            relation=relation,
        )
    other = "straight" if distance == "network" else "network"
    with pytest.raises(ValueError):
        run_plan(
            communities,
            paths,
            dataclasses.replace(cfg, distance=other),
            ["city"],
            covered=covered,
            network=network,
            relation=relation,
        )
    more_sets = community_coverage(
        communities, paths.iloc[:1], cfg.walk_radius_m, network=network if distance == "network" else None
    )
    with pytest.raises(ValueError, match="another coverage"):
        run_plan(communities, paths, cfg, ["city"], covered=more_sets, network=network, relation=relation)
    with pytest.raises(ValueError, match="covered="):
        run_plan(communities, paths, cfg, ["city"], network=network, relation=relation)
