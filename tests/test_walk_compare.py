"""Straight line against on foot (issue 16): who is served in a straight line but not on foot, per district, and
the walk each community takes to its nearest set. Hand-made networks with answers worked on paper.

Geometry in metres east/north of a point in Liuzhou (UTM 49N), stored in WGS84 as the data is; distances come
back through two projections, so they are compared to within a few centimetres.
"""

from __future__ import annotations

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
from tests.walk_helpers import BANKS, UTM, X0, Y0, communities, river_city, roads, sets

CM = 0.05
BRIDGE = LineString([(X0 + 800, Y0), (X0 + 800, Y0 + 300)])


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


# --------------------------------------------------------------------------- geo coverage --compare


def river_city_file(path, with_roads: bool = True):
    """A city file: North (C000) across the river from the set, South (C001) beside it on its bank, the banks'
    streets and one bridge (when ``with_roads``); one district around it all."""
    from geo.data.gpkg import write_layers
    from tests.helpers import square_city
    from tests.network_helpers import one_district

    frame, paths = square_city([(-50, 300), (-50, -110)], [800, 600], paths_xy=[(-40, 0)])
    districts = one_district(bounds=(-2000, -2000, 2000, 2000))
    layers = {"districts": districts, "communities": frame, "fitness_paths": paths}
    if with_roads:
        layers["roads"] = roads(*BANKS).assign(name=["南岸路", "北岸路", "柳江桥"], kind="residential", walkable=True)
    write_layers(path, layers)
    return path


def test_geo_coverage_compare_prints_the_districts_in_words(tmp_path, capsys):
    from geo.cli import main
    from geo.i18n import column_label

    city = river_city_file(tmp_path / "river.gpkg")
    assert main(["coverage", "--data", str(city), "--compare", "--lang", "zh"]) == 0
    said = capsys.readouterr().out
    assert "直线距离 500 米内有健身路径的小区 2 个，步行 500 米内 1 个" in said
    assert "步行未覆盖的小区 1 个，居民 800 人" in said
    assert column_label("lost_on_foot", "zh") in said and "城中区" in said and "全市合计" in said
    assert main(["coverage", "--data", str(city), "--compare", "--lang", "en"]) == 0
    said = capsys.readouterr().out
    assert "served in a straight line but not on foot: 1 (residents: 800)" in said
    assert "1 communities" not in said  # no plural for one
    assert "Chengzhong" in said and "City total" in said


def test_geo_coverage_compare_json_lists_the_lost_communities(tmp_path, capsys):
    import json

    from geo.cli import main

    city = river_city_file(tmp_path / "river.gpkg")
    assert main(["coverage", "--data", str(city), "--compare", "--json", "--radius", "500"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["total"] == {
        "communities": 2,
        "served_straight": 2,
        "served_on_foot": 1,
        "lost_on_foot": 1,
        "population": 1400,
        "population_lost_on_foot": 800,
    }
    (lost,) = report["lost_on_foot"]
    # Its corner nearer the bridge is at x = 50: 840 + 300 + 750 m on foot.
    assert (lost["community_id"], lost["straight_m"], lost["on_foot_m"]) == ("C000", 300.0, 1890.0)
    assert main(["coverage", "--data", str(city), "--compare", "--json", "--radius", "2000"]) == 0
    assert json.loads(capsys.readouterr().out)["total"]["lost_on_foot"] == 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_geo_coverage_compare_writes_a_csv_and_a_workbook_in_the_language(tmp_path, capsys, lang):
    from geo.cli import main, say
    from geo.i18n import column_label
    from tests.helpers import csv_rows, workbook_cells

    city = river_city_file(tmp_path / "river.gpkg")
    out = tmp_path / "compare.csv"
    assert main(["coverage", "--data", str(city), "--compare", "--lang", lang, "--out", str(out)]) == 0
    rows = csv_rows(out.read_bytes())  # UTF-8 with BOM, CRLF, no formula
    assert rows[0] == [column_label(c, lang) for c in DISTRICT_COLUMNS]
    assert rows[1] == ["450202", "城中区" if lang == "zh" else "Chengzhong", 2, 2, 1, 1, 1400, 800]
    assert rows[2][2:] == [2, 2, 1, 1, 1400, 800]
    book = tmp_path / "compare.xlsx"
    assert main(["coverage", "--data", str(city), "--compare", "--lang", lang, "--out", str(book)]) == 0
    sheets = workbook_cells(book.read_bytes())
    lost = sheets[say("compare_sheet_lost", lang)]
    assert lost[0][:2] == [column_label("community_id", lang), column_label("name", lang)]
    assert lost[1][:2] == ["C000", "小区0"] and lost[1][-2:] == [300, 1890]
    assert sheets[say("compare_sheet_districts", lang)][1][2:] == [2, 2, 1, 1, 1400, 800]
    assert str(book) in capsys.readouterr().out


def test_geo_coverage_compare_without_roads_is_the_network_needs_roads_error(tmp_path, capsys):
    from geo.cli import main

    city = river_city_file(tmp_path / "river.gpkg", with_roads=False)
    assert main(["coverage", "--data", str(city), "--compare", "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "has no roads layer" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--out", "x.csv"], "--out goes with --compare"),
        (["--compare", "--out", "x.geojson"], "the comparison is written as .csv or .xlsx only"),
    ],
)
def test_geo_coverage_out_is_for_the_comparison_as_csv_or_xlsx(tmp_path, capsys, argv, said):
    from geo.cli import main

    city = river_city_file(tmp_path / "river.gpkg")
    argv = [a if not a.startswith("x.") else str(tmp_path / a) for a in argv]
    assert main(["coverage", "--data", str(city), "--lang", "en", *argv]) == 2
    assert said in capsys.readouterr().err
    assert not list(tmp_path.glob("x.*"))
