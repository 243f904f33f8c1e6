"""Straight line against on foot (issue 16): who is served in a straight line but not on foot, per district, and
the walk each community takes to its nearest set. Hand-made networks with answers worked on paper.

Geometry in metres east/north of a point in Liuzhou (UTM 49N), stored in WGS84 as the data is; distances come
back through two projections, so they are compared to within a few centimetres.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from geo.analysis.coverage import community_coverage
from geo.analysis.network import WalkNetwork, walking_distance_to_nearest_set
from geo.analysis.walk_compare import (
    COMPARE_COLUMNS,
    DISTRICT_COLUMNS,
    by_district,
    compare_total,
    straight_vs_foot,
    walking_routes,
)

UTM, X0, Y0 = "EPSG:32649", 338_000.0, 2_690_000.0
CM = 0.05
# The Liu River runs between y = 0 and y = 300; a street on each bank, one bridge at x = 800.
BANKS = [[(-1000, 0), (1000, 0)], [(-1000, 300), (1000, 300)], [(800, 0), (800, 300)]]
BRIDGE = LineString([(X0 + 800, Y0), (X0 + 800, Y0 + 300)])


def roads(*lines) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"road_id": [f"R{k}" for k in range(len(lines))]},
        geometry=[LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines],
        crs=UTM,
    ).to_crs("EPSG:4326")


def communities(*rows) -> gpd.GeoDataFrame:
    """Rows of (id, district code, population, polygon in metre offsets), EPSG:4326."""
    ids, codes, population, shapes = zip(*rows)
    return gpd.GeoDataFrame(
        {
            "community_id": list(ids),
            "name": [f"小区{i}" for i in ids],
            "district_code": list(codes),
            "district_name": [{"A": "城中区", "B": "鱼峰区"}[c] for c in codes],
            "population": pd.array(population, dtype="Int64"),
        },
        geometry=[shapely.affinity.translate(s, X0, Y0) for s in shapes],
        crs=UTM,
    ).to_crs("EPSG:4326")


def sets(*xy) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"path_id": [f"P{k}" for k in range(len(xy))], "name": [f"点{k}" for k in range(len(xy))]},
        geometry=[Point(X0 + x, Y0 + y) for x, y in xy],
        crs=UTM,
    ).to_crs("EPSG:4326")


def river_city():
    """North across the river from the set (300 m straight, 1,900 m on foot); South beside it on its bank (10 m);
    Island on a path of its own north of the river, 435 m from the set in a straight line and no way on foot;
    Inside holds a second set; Far, 3 km east, is served neither way."""
    network = WalkNetwork.from_roads(roads(*BANKS, [(-300, 400), (-100, 400)]), UTM)
    frame = communities(
        ("N", "A", 1200, box(-40, 300, 40, 350)),
        ("S", "A", 800, box(-40, -60, 40, -10)),
        ("I", "B", 300, box(-300, 405, -200, 440)),  # its path at y = 400 meets no street
        ("IN", "B", 50, box(500, -1200, 600, -1100)),  # far south: its set is nobody else's nearest
        ("F", "B", 70, box(3000, -60, 3100, -10)),
    )
    return network, frame, sets((-40, 0), (550, -1150))


def test_across_the_river_a_community_served_in_a_straight_line_is_lost_on_foot():
    network, frame, paths = river_city()
    table = straight_vs_foot(frame, paths, network, 500)
    assert list(table.columns[-len(COMPARE_COLUMNS) :]) == list(COMPARE_COLUMNS)
    assert table.crs == frame.crs and table.index.equals(frame.index)
    row = table.set_index("community_id")
    assert row.loc["N", "straight_m"] == pytest.approx(300, abs=CM)
    assert row.loc["N", "on_foot_m"] == pytest.approx(840 + 300 + 760, abs=CM)
    assert row.loc["N", ["served_straight", "served_on_foot", "lost_on_foot"]].tolist() == [True, False, True]
    # Served both ways: the set on its own bank, 10 m from the edge and 10 m on foot.
    assert row.loc["S", "straight_m"] == pytest.approx(10, abs=CM)
    assert row.loc["S", "on_foot_m"] == pytest.approx(10, abs=CM)
    assert row.loc["S", ["served_straight", "served_on_foot", "lost_on_foot"]].tolist() == [True, True, False]
    # The island: within 500 m in a straight line, no way on foot; not counted as served on foot.
    assert row.loc["I", "straight_m"] < 500 and np.isnan(row.loc["I", "on_foot_m"])
    assert row.loc["I", ["served_straight", "served_on_foot", "lost_on_foot"]].tolist() == [True, False, True]
    # A set inside: 0 by either measure.
    assert row.loc["IN", ["straight_m", "on_foot_m"]].tolist() == [0.0, 0.0]
    assert row.loc["IN", ["served_straight", "served_on_foot", "lost_on_foot"]].tolist() == [True, True, False]
    # Far: served neither way, so not lost.
    assert row.loc["F", ["served_straight", "served_on_foot", "lost_on_foot"]].tolist() == [False, False, False]


def test_at_two_kilometres_the_walk_across_the_bridge_serves():
    network, frame, paths = river_city()
    row = straight_vs_foot(frame, paths, network, 2000).set_index("community_id")
    assert row.loc["N", ["served_straight", "served_on_foot", "lost_on_foot"]].tolist() == [True, True, False]
    assert bool(row.loc["I", "lost_on_foot"])  # no radius brings the island within reach on foot


def test_the_distances_are_those_of_coverage_in_a_straight_line_and_on_foot():
    network, frame, paths = river_city()
    table = straight_vs_foot(frame, paths, network, 500)
    straight = community_coverage(frame, paths, 500)
    on_foot = community_coverage(frame, paths, 500, network=network)
    np.testing.assert_array_equal(table["straight_m"], straight["nearest_set_m"])
    np.testing.assert_array_equal(table["served_straight"], straight["served_within_radius"])
    np.testing.assert_allclose(table["on_foot_m"], on_foot["nearest_set_m"], atol=1e-9)
    np.testing.assert_array_equal(table["served_on_foot"], on_foot["served_within_radius"])


def test_without_sets_nothing_is_served_or_lost():
    network, frame, paths = river_city()
    table = straight_vs_foot(frame, paths.iloc[0:0], network, 500)
    assert table["straight_m"].isna().all() and table["on_foot_m"].isna().all()
    assert not table[["served_straight", "served_on_foot", "lost_on_foot"]].to_numpy().any()


def test_per_district_counts_and_residents_lost():
    network, frame, paths = river_city()
    summary = by_district(straight_vs_foot(frame, paths, network, 500))
    assert list(summary.columns) == list(DISTRICT_COLUMNS)
    assert summary.to_dict(orient="records") == [
        {
            "district_code": "A",
            "district_name": "城中区",
            "communities": 2,
            "served_straight": 2,
            "served_on_foot": 1,
            "lost_on_foot": 1,
            "population": 2000,
            "population_lost_on_foot": 1200,
        },
        {
            "district_code": "B",
            "district_name": "鱼峰区",
            "communities": 3,
            "served_straight": 2,
            "served_on_foot": 1,
            "lost_on_foot": 1,
            "population": 420,
            "population_lost_on_foot": 300,
        },
    ]
    assert compare_total(summary) == {
        "communities": 5,
        "served_straight": 4,
        "served_on_foot": 2,
        "lost_on_foot": 2,
        "population": 2420,
        "population_lost_on_foot": 1500,
    }


def test_every_district_gets_a_row_in_the_districts_order():
    network, frame, paths = river_city()
    districts = pd.DataFrame({"district_code": ["C", "B", "A"], "district_name": ["柳南区", "鱼峰区", "城中区"]})
    summary = by_district(straight_vs_foot(frame, paths, network, 500), districts)
    assert summary["district_code"].tolist() == ["C", "B", "A"]
    assert summary.iloc[0, 2:].tolist() == [0] * 6


def test_the_route_across_the_river_passes_the_bridge():
    network, frame, paths = river_city()
    routes = walking_routes(frame, paths, network)
    assert routes.crs == "EPSG:4326" and routes.index.equals(frame.index)
    route = routes.set_index("community_id")
    assert route.loc["N", "path_id"] == "P0"
    assert route.loc["N", "length_m"] == pytest.approx(1900, abs=CM)
    line = route.to_crs(UTM).geometry.loc["N"]
    assert line.length == pytest.approx(1900, abs=CM)  # the walk, legs included (here 0: set and edge on streets)
    assert line.distance(Point(X0 - 40, Y0)) < CM  # from the set
    assert line.distance(Point(X0 + 40, Y0 + 300)) < CM  # to the community's corner nearer the bridge
    assert line.intersection(BRIDGE.buffer(0.01)).length == pytest.approx(300, abs=CM)  # across the whole bridge
    assert shapely.get_coordinates(line)[:, 1].min() >= Y0 - CM  # never off the banks into the river's south


def test_a_route_carries_both_legs():
    # The set stands 30 m south of the street, the community's edge 25 m north of it. Access within 30 m of the
    # edge: only the nodes straight below it (a node 20 m further along would be 32 m away).
    network = WalkNetwork.from_roads(roads([(0, 0), (400, 0)]), UTM)
    frame = communities(("C", "A", 10, box(300, 25, 360, 80)))
    routes = walking_routes(frame, sets((0, -30)), network, access_m=30)
    expected = 30 + 300 + 25
    assert routes["length_m"].iloc[0] == pytest.approx(expected, abs=CM)
    line = routes.to_crs(UTM).geometry.iloc[0]
    assert line.length == pytest.approx(expected, abs=CM)
    start, end = shapely.get_coordinates(line)[[0, -1]]
    assert tuple(start - (X0, Y0)) == pytest.approx((0, -30), abs=CM)
    assert tuple(end - (X0, Y0)) == pytest.approx((300, 25), abs=CM)
    assert routes["length_m"].iloc[0] == pytest.approx(
        walking_distance_to_nearest_set(frame, sets((0, -30)), network, access_m=30)[0], abs=1e-6
    )


def test_the_island_has_no_route_and_a_set_inside_needs_none():
    network, frame, paths = river_city()
    route = walking_routes(frame, paths, network).set_index("community_id")
    assert pd.isna(route.loc["I", "path_id"]) and np.isnan(route.loc["I", "length_m"])
    assert route.geometry.loc["I"] is None
    assert route.loc["IN", "path_id"] == "P1" and route.loc["IN", "length_m"] == 0.0
    assert route.geometry.loc["IN"] is None


def test_each_community_walks_to_its_own_nearest_set_in_one_search():
    # Sets at both ends of one street; communities 10 m from it go to the nearer end. Access within 15 m of the
    # edge (the network's own, used by default): the nodes straight below each community (the next node along is
    # 22 m from its corner).
    network = WalkNetwork.from_roads(roads([(0, 0), (1000, 0)]), UTM, access_m=15)
    frame = communities(
        ("W", "A", 1, box(100, 10, 140, 50)), ("E", "A", 1, box(800, 10, 840, 50)), ("M", "A", 1, box(440, 10, 480, 50))
    )
    routes = walking_routes(frame, sets((0, -10), (1000, -20)), network).set_index("community_id")
    assert routes["path_id"].to_dict() == {"W": "P0", "E": "P1", "M": "P0"}
    # W: 10 + 100 + 10; E: 20 + (1000 - 840) + 10; M: 10 + 440 + 10 (the west set is 460 m, the east 550 m).
    assert routes["length_m"].tolist() == pytest.approx([120, 190, 460], abs=CM)


def test_routes_agree_with_the_walk_on_a_random_network():
    rng = np.random.default_rng(7)
    points = rng.uniform(0, 2000, (60, 2)).round(1)
    pairs = {tuple(sorted(p)) for p in rng.integers(0, 60, (150, 2)) if p[0] != p[1]}
    network = WalkNetwork.from_roads(roads(*[[tuple(points[a]), tuple(points[b])] for a, b in pairs]), UTM, snap_m=0.01)
    corners = rng.uniform(0, 1900, (25, 2))
    frame = communities(*[(f"C{k}", "A", 1, box(x, y, x + 60, y + 60)) for k, (x, y) in enumerate(corners)])
    paths = sets(*rng.uniform(0, 2000, (4, 2)))
    routes = walking_routes(frame, paths, network)
    walked = walking_distance_to_nearest_set(frame, paths, network)
    reached = np.isfinite(walked)
    np.testing.assert_allclose(routes["length_m"].to_numpy()[reached], walked[reached], atol=1e-6)
    assert routes["length_m"][~reached].isna().all() and routes.geometry[~reached].isna().all()
    drawn = routes.geometry.notna().to_numpy()
    lengths = routes[drawn].to_crs(UTM).length.to_numpy()
    np.testing.assert_allclose(lengths, routes["length_m"].to_numpy()[drawn], atol=0.05)


def test_no_sets_or_no_communities_give_no_routes():
    network, frame, paths = river_city()
    none = walking_routes(frame, paths.iloc[0:0], network)
    assert len(none) == len(frame) and none["length_m"].isna().all() and none.geometry.isna().all()
    assert len(walking_routes(frame.iloc[0:0], paths, network)) == 0
