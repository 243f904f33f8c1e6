"""Walking distance on the street network (issue 16): hand-made networks with known answers.

Geometry in metres east/north of a point in Liuzhou (UTM 49N), stored in WGS84 as the data is. Distances
come back through two projections, so they are compared to within a few centimetres.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, Point, box

from geo.analysis.network import WalkNetwork, walking_distance_to_nearest_set

UTM, X0, Y0 = "EPSG:32649", 338_000.0, 2_690_000.0
CM = 0.05


def roads(*lines, walkable=None) -> gpd.GeoDataFrame:
    """Road lines from lists of (x, y) metre offsets, EPSG:4326."""
    n = len(lines)
    return gpd.GeoDataFrame(
        {
            "road_id": [f"R{k}" for k in range(n)],
            "walkable": [True] * n if walkable is None else walkable,
        },
        geometry=[LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines],
        crs=UTM,
    ).to_crs("EPSG:4326")


def places(*geometries) -> gpd.GeoDataFrame:
    """Polygons or points given in metre offsets (shapely geometries), EPSG:4326."""
    moved = [shapely.affinity.translate(g, X0, Y0) for g in geometries]
    return gpd.GeoDataFrame({"id": range(len(moved))}, geometry=moved, crs=UTM).to_crs("EPSG:4326")


def straight_m(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> float:
    return float(a.to_crs(UTM).geometry.iloc[0].distance(b.to_crs(UTM).geometry.iloc[0]))


# The Liu River runs between y = 0 and y = 300; a street on each bank, one bridge at x = 800. Streets are cut
# into 20 m pieces (geo.analysis.network.SEGMENT_M): places on the 20 m grid stand on a node.
BANKS = [[(-1000, 0), (1000, 0)], [(-1000, 300), (1000, 300)], [(800, 0), (800, 300)]]


def test_across_the_river_a_set_300_m_away_is_1900_m_on_foot():
    network = WalkNetwork.from_roads(roads(*BANKS), UTM)
    community = places(box(-40, 300, 40, 350))  # on the north bank, its edge on the street
    fitness_path = places(Point(-40, 0))  # on the south bank's street, straight across from its corner
    assert straight_m(community, fitness_path) == pytest.approx(300, abs=CM)
    distance = walking_distance_to_nearest_set(community, fitness_path, network)
    # 840 m east to the bridge, 300 m across, 760 m back west to the community's nearest corner.
    assert distance[0] == pytest.approx(840 + 300 + 760, abs=CM)
    # Within 500 m in a straight line, not on foot; within 2 km on foot.
    assert walking_distance_to_nearest_set(community, fitness_path, network, limit_m=500)[0] == np.inf


def test_a_second_bridge_shortens_the_walk():
    network = WalkNetwork.from_roads(roads(*BANKS, [(0, 0), (0, 300)]), UTM)
    distance = walking_distance_to_nearest_set(places(box(-50, 300, 50, 350)), places(Point(0, 0)), network)
    assert distance[0] == pytest.approx(300, abs=CM)


def test_a_community_with_two_gates_is_reached_by_the_nearer_one():
    # Streets pass the community on its south (y = -5) and north (y = 105) sides; they meet only at x = 600.
    streets = roads([(-500, -5), (600, -5)], [(-500, 105), (600, 105)], [(600, -5), (600, 105)])
    network = WalkNetwork.from_roads(streets, UTM)
    community = places(box(0, 0, 100, 100))
    north, south = places(Point(0, 110)), places(Point(0, -10))
    # Each set is 5 m from its street, whose node at x = 0 is 5 m from the community's edge.
    assert walking_distance_to_nearest_set(community, north, network)[0] == pytest.approx(10, abs=CM)
    assert walking_distance_to_nearest_set(community, south, network)[0] == pytest.approx(10, abs=CM)
    access = network.access(np.asarray(community.to_crs(UTM).geometry.values))
    assert access.without_street.size == 0
    assert set(np.round(network.nodes_m[access.node][:, 1] - Y0)) == {-5.0, 105.0}  # both streets are gates


def test_a_set_on_an_island_of_the_network_serves_nobody_on_the_mainland():
    # The island's paths (around x = 0, y = 200) meet no mainland street.
    network = WalkNetwork.from_roads(roads([(-500, 0), (500, 0)], [(-100, 200), (100, 200)]), UTM)
    assert network.pieces == 2
    community = places(box(-50, -60, 50, -10))
    island_set = places(Point(0, 205))
    assert straight_m(community, island_set) == pytest.approx(215, abs=CM)
    assert walking_distance_to_nearest_set(community, island_set, network)[0] == np.inf
    nodes, _ = network.nearest_nodes(np.asarray(island_set.to_crs(UTM).geometry.values))
    assert network.piece[nodes[0]] == 1  # the smaller piece


def test_a_community_far_from_any_street_reaches_the_nearest_node_and_is_listed():
    network = WalkNetwork.from_roads(roads([(0, 0), (400, 0)]), UTM)
    far = box(0, 300, 100, 400)  # 300 m from the street
    access = network.access(np.asarray(places(far).to_crs(UTM).geometry.values), access_m=50)
    assert access.without_street.tolist() == [0]
    assert access.leg[0] == pytest.approx(300, abs=CM)
    assert walking_distance_to_nearest_set(places(far), places(Point(0, 0)), network)[0] == pytest.approx(300, abs=CM)


def test_a_set_inside_its_community_is_at_zero():
    network = WalkNetwork.from_roads(roads([(0, -100), (0, 100)]), UTM)
    distance = walking_distance_to_nearest_set(places(box(100, 0, 200, 100)), places(Point(150, 50)), network)
    assert distance[0] == 0.0


def test_lines_a_little_apart_at_a_junction_are_snapped_and_what_was_wrong_is_counted():
    # The side street ends 0.4 m short of the main street's vertex; one edge is drawn twice; one has no length.
    streets = roads(
        [(0, 0), (200, 0), (400, 0)],
        [(200, 0.4), (200, 300)],
        [(0, 0), (200, 0)],
        [(400, 0), (400, 0.000001)],
    )
    network = WalkNetwork.from_roads(streets, UTM, snap_m=1.0)
    assert network.pieces == 1
    assert network.found["snapped_vertices"] >= 1
    assert network.found["duplicate_edges"] >= 1
    assert network.found["zero_length_edges"] >= 1
    distance = walking_distance_to_nearest_set(places(box(150, 280, 250, 380)), places(Point(0, 0)), network)
    assert distance[0] == pytest.approx(200 + 280, abs=0.5)  # the 0.4 m snap is within half a metre
    # Without snapping the side street is an island.
    assert WalkNetwork.from_roads(streets, UTM, snap_m=0.1).pieces == 2


def test_a_road_that_is_not_walkable_is_no_way():
    streets = roads(*BANKS, [(0, 0), (0, 300)], walkable=[True, True, True, False])  # the motorway bridge
    network = WalkNetwork.from_roads(streets, UTM)
    distance = walking_distance_to_nearest_set(places(box(-40, 300, 40, 350)), places(Point(-40, 0)), network)
    assert distance[0] == pytest.approx(1900, abs=CM)


@pytest.mark.parametrize("seed", range(5))
def test_shortest_paths_equal_networkx_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 2000, (40, 2)).round(1)
    pairs = {tuple(sorted(p)) for p in rng.integers(0, 40, (90, 2)) if p[0] != p[1]}
    network = WalkNetwork.from_roads(roads(*[[tuple(points[a]), tuple(points[b])] for a, b in pairs]), UTM, snap_m=0.01)
    reference = nx.Graph()
    for a, b in pairs:
        reference.add_edge(a, b, weight=float(np.hypot(*(points[a] - points[b]))))
    ours_of = {
        k: int(network.nearest_nodes(np.asarray([Point(X0 + x, Y0 + y)]))[0][0]) for k, (x, y) in enumerate(points)
    }
    source = next(iter(reference.nodes))
    expected = nx.single_source_dijkstra_path_length(reference, source)
    found = dijkstra(network.graph, indices=ours_of[source])
    for node, metres in expected.items():
        assert found[ours_of[node]] == pytest.approx(metres, abs=0.05)
    unreachable = set(range(40)) - set(expected) - {k for k in range(40) if k not in reference.nodes}
    assert all(found[ours_of[k]] == np.inf for k in unreachable)
    # Many sources at once: the least distance from any of them, legs included.
    sets = rng.choice(sorted(reference.nodes), 3, replace=False)
    legs = rng.uniform(0, 30, 3)
    many = network.distances_from(np.array([ours_of[k] for k in sets]), legs)
    for node in reference.nodes:
        best = min(
            nx.shortest_path_length(reference, int(s), node, weight="weight") + leg
            if nx.has_path(reference, int(s), node)
            else np.inf
            for s, leg in zip(sets, legs)
        )
        assert many[ours_of[node]] == pytest.approx(best, abs=0.05)


def test_empty_inputs_give_no_distance():
    network = WalkNetwork.from_roads(roads([(0, 0), (100, 0)]), UTM)
    community = places(box(0, 10, 50, 60))
    empty = places(Point(0, 0)).iloc[0:0]
    assert walking_distance_to_nearest_set(community, empty, network).tolist() == [np.inf]


def fine_mesh(side_m: float = 400.0, step_m: float = 20.0) -> gpd.GeoDataFrame:
    """A complete fine mesh: nodes every ``step_m``, each joined to its neighbours in 16 directions (up to two
    steps away), so that a path bends at most 13.3° from the straight line: no more than 2.8 % longer."""
    ticks = np.arange(0.0, side_m + step_m / 2, step_m)
    offsets = [(1, 0), (0, 1), (1, 1), (1, -1), (2, 1), (1, 2), (2, -1), (1, -2)]
    lines = []
    for i, x in enumerate(ticks):
        for j, y in enumerate(ticks):
            for dx, dy in offsets:
                if 0 <= i + dx < ticks.size and 0 <= j + dy < ticks.size:
                    lines.append([(x, y), (ticks[i + dx], ticks[j + dy])])
    return roads(*lines)


def test_on_a_complete_fine_mesh_on_foot_is_straight_to_the_mesh_tolerance():
    from geo.analysis.coverage import coverage_pairs
    from geo.analysis.network import coverage_pairs_on_foot

    network = WalkNetwork.from_roads(fine_mesh(), UTM, snap_m=0.5)
    assert network.pieces == 1
    rng = np.random.default_rng(3)
    corners = rng.uniform(20, 340, (30, 2))
    communities = places(*[box(x, y, x + 30, y + 30) for x, y in corners])
    sets = places(*[Point(x, y) for x, y in rng.uniform(0, 400, (12, 2))])
    polygons = np.asarray(communities.to_crs(UTM).geometry.values)
    points = np.asarray(sets.to_crs(UTM).geometry.values)
    straight = np.array([[p.distance(q) for q in polygons] for p in points])
    radius = 150.0
    on_foot = set(zip(*coverage_pairs_on_foot(network, points, polygons, radius, access_m=15)))
    in_line = set(zip(*coverage_pairs(points, polygons, radius)))
    # Every pair within the radius on foot is within it in a straight line; every pair comfortably within it
    # in a straight line (the mesh's 2.8 % and a node's 14 m on each side) is within it on foot.
    assert on_foot <= in_line
    sure = {(p, c) for p, c in zip(*np.nonzero(straight * 1.028 + 2 * 14.2 <= radius))}
    assert sure <= on_foot and len(sure) > 20
    # And the distance to the nearest set agrees within the same tolerance.
    nearest_on_foot = walking_distance_to_nearest_set(communities, sets, network, access_m=15)
    nearest = straight.min(axis=0)
    assert (nearest_on_foot >= nearest - 1e-6).all()
    assert (nearest_on_foot <= nearest * 1.028 + 2 * 14.2).all()


def test_coverage_on_foot_pairs_the_river_case_as_walking_does():
    from geo.analysis.network import coverage_pairs_on_foot

    network = WalkNetwork.from_roads(roads(*BANKS), UTM)
    communities = places(box(-40, 300, 40, 350), box(-40, -60, 40, -10), box(760, 300, 840, 350))
    polygons = np.asarray(communities.to_crs(UTM).geometry.values)
    point = np.asarray(places(Point(-40, 0)).to_crs(UTM).geometry.values)
    # Across the river (1,900 m): no; the same bank (10 m): yes; by the bridge (840 + 300 = 1,140 m): only at 1,200 m.
    assert coverage_pairs_on_foot(network, point, polygons, 500)[1].tolist() == [1]
    assert coverage_pairs_on_foot(network, point, polygons, 1200)[1].tolist() == [1, 2]
    assert coverage_pairs_on_foot(network, point, polygons, 2000)[1].tolist() == [0, 1, 2]


def river_city(path):
    """A city file: a community on each bank (N across the river, S beside the set), a set on the south bank's
    street, the banks' streets and one bridge; one district around it all."""
    from geo.data.gpkg import write_layers
    from tests.helpers import square_city

    communities, paths = square_city([(-50, 300), (-50, -110)], [800, 600], paths_xy=[(-40, 0)])
    paths["path_id"] = ["P0"]
    outline = gpd.GeoSeries([box(X0 - 2000, Y0 - 2000, X0 + 2000, Y0 + 2000)], crs=UTM).to_crs("EPSG:4326")
    districts = gpd.GeoDataFrame(
        {
            "district_code": ["450202"],
            "district_name": ["城中区"],
            "district_name_en": ["Chengzhong"],
            "kind": ["district"],
        },
        geometry=outline.values,
        crs="EPSG:4326",
    )
    streets = roads(*BANKS).assign(name=["南岸路", "北岸路", "柳江桥"], kind="residential", bridge=[False, False, True])
    write_layers(path, {"districts": districts, "communities": communities, "fitness_paths": paths, "roads": streets})
    return path


@pytest.mark.parametrize(("distance", "served"), [("straight", 2), ("network", 1)])
def test_geo_coverage_measures_on_foot_when_the_config_says_network(tmp_path, capsys, distance, served):
    import json

    from geo.cli import main
    from geo.config import DEFAULT_CONFIG_PATH

    city = river_city(tmp_path / "river.gpkg")
    config = tmp_path / "config.toml"
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    config.write_text(text.replace('distance = "straight"', f'distance = "{distance}"'), encoding="utf-8")
    assert main(["--config", str(config), "coverage", "--data", str(city), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["distance"] == distance
    assert report["total"]["served_within_radius"] == served
    assert main(["--config", str(config), "coverage", "--data", str(city), "--lang", "zh"]) == 0
    said = capsys.readouterr().out
    assert ("距离：沿道路步行的距离" if distance == "network" else "距离：直线距离") in said


def test_network_distance_without_a_roads_layer_is_a_clear_error(tmp_path, capsys):
    from geo.cli import main
    from geo.config import DEFAULT_CONFIG_PATH
    from geo.pipeline import load_city

    config = tmp_path / "config.toml"
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    config.write_text(text.replace('distance = "straight"', 'distance = "network"'), encoding="utf-8")
    assert load_city(river_city(tmp_path / "river.gpkg")).roads is not None
    city = roadless(tmp_path)
    assert main(["--config", str(config), "coverage", "--data", str(city), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "has no roads layer" in err and err.count("\n") == 1


def roadless(tmp_path):
    """The river city's file without its roads layer."""
    from geo.data.gpkg import write_layers
    from geo.pipeline import load_city

    city = load_city(river_city(tmp_path / "with_roads.gpkg"))
    path = tmp_path / "roadless.gpkg"
    write_layers(
        path, {"districts": city.districts, "communities": city.communities, "fitness_paths": city.fitness_paths}
    )
    return path


def test_the_store_export_keeps_the_roads(tmp_path):
    from geo.pipeline import load_city
    from geo.store.db import open_store
    from geo.store.export import export_city

    city = load_city(river_city(tmp_path / "river.gpkg"))
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    export_city(city, store, tmp_path / "export.gpkg")
    exported = load_city(tmp_path / "export.gpkg")
    assert exported.roads["road_id"].tolist() == ["R0", "R1", "R2"]
    assert exported.roads["bridge"].tolist() == [False, False, True]


# ---------------------------------------------------------------- [network] tolerances from config.toml


def tolerances(segment_m: float = 20.0, snap_m: float = 1.0, access_m: float = 50.0):
    """The default configuration with ``[network]`` tolerances replaced."""
    from dataclasses import replace

    from geo.config import load_config

    return replace(load_config(), network_segment_m=segment_m, network_snap_m=snap_m, network_access_m=access_m)


def city_of(streets: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, sets: gpd.GeoDataFrame):
    from geo.data.city import CityData

    return CityData(districts=None, communities=communities, fitness_paths=sets, source="hand-made", roads=streets)


def test_the_snap_tolerance_from_the_config_joins_two_lines_drawn_1_m_apart():
    from geo.pipeline import walk_network

    # The second street starts 1 m north of the first one's end: drawn to meet, a metre apart.
    streets = roads([(0, 0), (200, 0)], [(200, 1), (400, 1)])
    community, fitness_path = places(box(380, 10, 420, 50)), places(Point(0, 0))
    city = city_of(streets, community, fitness_path)
    apart, joined = walk_network(city, tolerances(snap_m=0.5)), walk_network(city, tolerances(snap_m=2))
    assert (apart.pieces, joined.pieces) == (2, 1)
    assert walking_distance_to_nearest_set(community, fitness_path, apart)[0] == np.inf
    # 200 m to the snapped junction, 140 m to x = 340 (the first piece 2.5 cm longer, from the junction's node),
    # then the straight access leg to the community's corner (380, 10): the least over its nodes within 50 m.
    assert walking_distance_to_nearest_set(community, fitness_path, joined)[0] == pytest.approx(
        200 + 140 + np.hypot(40, 9), abs=CM
    )


def test_the_access_distance_from_the_config_decides_which_streets_are_a_community_s_gates():
    from geo.analysis.network import coverage_pairs_on_foot
    from geo.pipeline import walk_network

    # A street 60 m south of the community (its near gate only at 80 m) and one 10 m north, which meet far east.
    streets = roads([(-200, -60), (1000, -60)], [(-200, 110), (1000, 110)], [(1000, -60), (1000, 110)])
    community, fitness_path = places(box(0, 0, 100, 100)), places(Point(0, -60))
    city = city_of(streets, community, fitness_path)
    near, far = walk_network(city, tolerances(access_m=30)), walk_network(city, tolerances(access_m=80))
    assert (near.access_m, far.access_m) == (30.0, 80.0)
    # Access 30 m: only the north street is a gate, so the walk goes round by x = 1,000: 1,000 + 170 + 880 m back
    # west to the node at x = 120, and its straight leg to the community's corner (100, 100).
    round_by_the_east = 1000 + 170 + 880 + np.hypot(20, 10)
    assert walking_distance_to_nearest_set(community, fitness_path, near)[0] == pytest.approx(round_by_the_east, abs=CM)
    # Access 80 m: the south street is a gate too, 60 m from the set's node.
    assert walking_distance_to_nearest_set(community, fitness_path, far)[0] == pytest.approx(60, abs=CM)
    polygons = np.asarray(community.to_crs(UTM).geometry.values)
    point = np.asarray(fitness_path.to_crs(UTM).geometry.values)
    assert coverage_pairs_on_foot(near, point, polygons, 500)[1].tolist() == []
    assert coverage_pairs_on_foot(far, point, polygons, 500)[1].tolist() == [0]
    # An explicit access distance still wins over the network's own.
    assert coverage_pairs_on_foot(near, point, polygons, 500, access_m=80)[1].tolist() == [0]
    assert walking_distance_to_nearest_set(community, fitness_path, far, access_m=30)[0] == pytest.approx(
        round_by_the_east, abs=CM
    )


def test_the_segment_length_from_the_config_cuts_the_streets():
    from geo.pipeline import walk_network

    city = city_of(roads([(0, 0), (1000, 0)]), places(box(0, 10, 50, 60)), places(Point(0, 0)))
    assert len(walk_network(city, tolerances(segment_m=20)).nodes_m) == 51
    assert len(walk_network(city, tolerances(segment_m=100)).nodes_m) == 11
    assert len(walk_network(city).nodes_m) == 51  # without a config: the module's defaults


def test_a_config_without_a_network_section_loads_the_defaults_and_a_snap_wider_than_half_a_piece_is_refused():
    import tomllib

    from geo.config import DEFAULT_CONFIG_PATH, ConfigError, parse_config

    raw = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    assert raw["network"] == {"segment_m": 20, "snap_m": 1, "access_m": 50}
    del raw["network"]
    config = parse_config(raw)
    assert (config.network_segment_m, config.network_snap_m, config.network_access_m) == (20.0, 1.0, 50.0)
    with pytest.raises(ConfigError, match=r"'network.snap_m' \(6.0\) must be at most half of 'network.segment_m'"):
        parse_config({**raw, "network": {"segment_m": 10, "snap_m": 6}})
    assert parse_config({**raw, "network": {"segment_m": 10, "snap_m": 5}}).network_snap_m == 5.0


# ---------------------------------------------------------------- plan pairs on foot: tiled searches


def slow_pairs_on_foot(network, points_m, polygons_m, walk_radius_m, access_m=None):
    """The first implementation of coverage_pairs_on_foot, kept as the reference: one search per point's node on
    the whole network, a dense row as long as the network each."""
    point, polygon = shapely.STRtree(polygons_m).query(points_m, predicate="covered_by")
    found = set(zip(point.tolist(), polygon.tolist()))
    nodes, legs = network.nearest_nodes(points_m)
    access = network.access(polygons_m, access_m)
    starts = np.flatnonzero(np.r_[True, access.polygon[1:] != access.polygon[:-1]])
    group_polygon = access.polygon[starts]
    limit = walk_radius_m + 1e-3
    reached = dijkstra(network.graph, directed=False, indices=nodes, limit=limit)
    via = np.minimum.reduceat(reached[:, access.node] + access.leg, starts, axis=1)
    for p in range(len(points_m)):
        found |= {(p, int(c)) for c in group_polygon[via[p] + legs[p] <= limit]}
    return found


def random_city(seed: int):
    """A random street network of 60 nodes and ~110 straight lines over 2 km (islands come by chance; one is
    drawn for sure), 40 small communities and 25 set places, some inside communities, some off the streets."""
    rng = np.random.default_rng(seed)
    ends = rng.uniform(0, 2000, (60, 2)).round(1)
    pairs = {tuple(sorted(p)) for p in rng.integers(0, 60, (110, 2)) if p[0] != p[1]}
    lines = [[tuple(ends[a]), tuple(ends[b])] for a, b in sorted(pairs)]
    lines.append([(2600, 2600), (2700, 2650), (2650, 2800)])  # an island beyond the city
    corners = rng.uniform(-100, 2700, (40, 2))
    sides = rng.uniform(10, 120, (40, 2))
    communities = places(*[box(x, y, x + w, y + h) for (x, y), (w, h) in zip(corners, sides)])
    spots = np.concatenate([rng.uniform(-100, 2700, (20, 2)), corners[:5] + 5])  # the last 5 inside a community
    sets = places(*[Point(x, y) for x, y in spots])
    return roads(*lines), communities, sets


@pytest.mark.parametrize("seed", range(6))
def test_tiled_pairs_on_foot_equal_the_whole_network_searches_on_random_networks(seed):
    from geo.analysis.network import coverage_pairs_on_foot

    streets, communities, sets = random_city(seed)
    network = WalkNetwork.from_roads(streets, UTM, segment_m=50, snap_m=0.5, access_m=80)
    assert network.pieces >= 2
    polygons = np.asarray(communities.to_crs(UTM).geometry.values)
    points = np.asarray(sets.to_crs(UTM).geometry.values)
    for radius in (150.0, 500.0, 1200.0):
        expected = slow_pairs_on_foot(network, points, polygons, radius)
        assert len(expected) > 0
        # Tiles smaller and larger than the radius, and batches of one row each.
        for tile_m, batch_bytes in ((None, 1 << 26), (37.0, 1), (3000.0, 1 << 26)):
            found = coverage_pairs_on_foot(network, points, polygons, radius, tile_m=tile_m, batch_bytes=batch_bytes)
            assert set(zip(*(a.tolist() for a in found))) == expected, (radius, tile_m)
            assert list(zip(*found)) == sorted(expected)


@pytest.mark.parametrize("tile_m", [None, 37.0, 101.0, 499.0, 500.0])
def test_tiled_pairs_on_foot_reach_exactly_to_the_radius_along_straight_streets(tile_m):
    # Along a straight street the walk is as long as the straight line, so the searches use nodes right at the
    # radius from their start: a tile's neighbourhood one cell too small would lose pairs here.
    from geo.analysis.network import coverage_pairs_on_foot

    rng = np.random.default_rng(7)
    network = WalkNetwork.from_roads(roads([(0, 0), (3000, 0)], [(0, 0), (0, 3000)]), UTM, segment_m=5, snap_m=0.5)
    xs, ys = rng.uniform(0, 3000, 60), rng.uniform(0, 3000, 60)
    communities = [box(x, 2, x + 4, 6) for x in xs] + [box(2, y, 6, y + 4) for y in ys]
    polygons = np.asarray(places(*communities).to_crs(UTM).geometry.values)
    spots = [Point(x, -1) for x in rng.uniform(0, 3000, 30)] + [Point(-1, y) for y in rng.uniform(0, 3000, 30)]
    points = np.asarray(places(*spots).to_crs(UTM).geometry.values)
    expected = slow_pairs_on_foot(network, points, polygons, 500.0, access_m=10)
    found = coverage_pairs_on_foot(network, points, polygons, 500.0, access_m=10, tile_m=tile_m)
    assert set(zip(*(a.tolist() for a in found))) == expected and len(expected) > 100


def test_a_path_through_a_snapped_junction_is_never_shorter_than_the_straight_line():
    # The second street starts 0.9 m past the first one's end and is snapped onto it: its pieces are measured from
    # the junction's node, so the walk to x = 500.9 is 500.9 m (not the 500 m drawn), and a tile's neighbourhood
    # (the radius around its box) holds every node a search reaches.
    from geo.analysis.network import coverage_pairs_on_foot

    network = WalkNetwork.from_roads(roads([(0, 0), (300, 0)], [(300.9, 0), (500.9, 0)]), UTM, snap_m=1)
    assert network.pieces == 1
    community = places(box(500.9, 0, 530, 30))
    fitness_path = places(Point(0, 0))
    distance = walking_distance_to_nearest_set(community, fitness_path, network, access_m=5)
    assert distance[0] == pytest.approx(500.9, abs=CM)
    polygons = np.asarray(community.to_crs(UTM).geometry.values)
    point = np.asarray(fitness_path.to_crs(UTM).geometry.values)
    for radius in (500.0, 501.0):
        expected = slow_pairs_on_foot(network, point, polygons, radius, access_m=5)
        found = coverage_pairs_on_foot(network, point, polygons, radius, access_m=5, tile_m=37)
        assert set(zip(*(a.tolist() for a in found))) == expected == ({(0, 0)} if radius > 500.9 else set())


def test_tiled_pairs_on_foot_with_points_sharing_a_node_keep_each_point_s_own_leg():
    from geo.analysis.network import coverage_pairs_on_foot

    network = WalkNetwork.from_roads(roads([(0, 0), (1000, 0)]), UTM)
    community = np.asarray(places(box(480, 10, 520, 50)).to_crs(UTM).geometry.values)
    # Three places at the node (0, 0): 0, 30 and 60 m south of it. The community is 480 + 10 m from that node.
    points = np.asarray(places(Point(0, 0), Point(0, -30), Point(0, -60)).to_crs(UTM).geometry.values)
    assert coverage_pairs_on_foot(network, points, community, 520)[0].tolist() == [0, 1]
    assert coverage_pairs_on_foot(network, points, community, 550)[0].tolist() == [0, 1, 2]


# ---------------------------------------------------------------- the network problems report


def problem_city():
    """A main street (0–1,000 m) with its first 20 m piece drawn twice and a zero-length stub at its east end,
    an island path (100 m, at y = 500), and three communities: A by the main street, B by the island path
    only, C 200 m from any street."""
    streets = roads(
        [(0, 0), (1000, 0)],
        [(0, 0), (20, 0)],  # the main street's first piece again: a duplicate edge (ending on its middle: a T)
        [(1000, 0), (1000, 0.000001)],  # a micrometre long: one node, an edge of no length
        [(0, 500), (100, 500)],  # the island
    )
    communities = places(box(0, 10, 50, 60), box(0, 510, 50, 560), box(400, 200, 450, 250))
    return streets, communities.assign(community_id=["A", "B", "C"])


def test_the_network_problems_report_finds_the_island_the_far_community_and_the_bad_edges():
    from geo.analysis.network import network_problems

    streets, communities = problem_city()
    network = WalkNetwork.from_roads(streets, UTM)
    polygons = np.asarray(communities.to_crs(UTM).geometry.values)
    problems = network_problems(network, polygons, communities["community_id"])
    assert problems.pieces.to_dict(orient="list") == {
        "piece": [1, 2],
        "nodes": [51, 6],
        "length_km": [1.0, 0.1],
        "communities": [2, 1],
    }
    assert problems.cut_off.to_dict(orient="records") == [{"community_id": "B", "piece": 2}]
    assert problems.without_street["community_id"].tolist() == ["C"]
    assert problems.without_street["nearest_street_m"].tolist() == pytest.approx([200.0], abs=0.1)
    assert problems.counts() == {
        "islands": 1,
        "cut_off": 1,
        "without_street": 1,
        "duplicate_edges": 1,
        "zero_length_edges": 1,
        "snapped_vertices": 0,  # a micrometre is no gap to mend
        "t_junctions": 1,
    }
    english = problems.table("en")
    assert english.columns.tolist() == ["network_problem", "network_count", "network_detail"]
    assert english["network_count"].tolist() == [1, 1, 1, 1, 1, 0, 1]
    assert english["network_detail"].iloc[1] == "B (piece 2)"
    assert english["network_detail"].iloc[2].endswith(": C (200 m)")
    assert "the main network (piece 1) has 51 nodes and 1 km" in english["network_detail"].iloc[0]
    assert english["network_problem"].iloc[2] == "Communities with no street within 50 m"
    chinese = problems.table("zh")
    assert chinese["network_detail"].iloc[1] == "B（第 2 部分）"
    assert chinese["network_detail"].iloc[2].endswith("：C（200 米）")
    assert problems.to_dict()["without_street"] == [{"community_id": "C", "nearest_street_m": 200.0}]


def test_a_sound_network_reports_nothing_and_many_names_are_cut_short():
    from geo.analysis.network import NAMED_IN_WORDS, network_problems

    network = WalkNetwork.from_roads(roads([(0, 0), (2000, 0)]), UTM)
    far = [box(x, 300, x + 50, 350) for x in range(0, 1800, 100)]  # 18 communities 300 m north of the street
    communities = places(box(0, 10, 50, 60), *far)
    polygons = np.asarray(communities.to_crs(UTM).geometry.values)
    ids = [f"K{k}" for k in range(len(polygons))]
    problems = network_problems(network, polygons, ids)
    assert problems.counts()["islands"] == 0 and problems.counts()["cut_off"] == 0
    assert problems.counts()["without_street"] == 18
    detail = problems.table("en")["network_detail"].iloc[2]
    assert detail.count(" m)") == NAMED_IN_WORDS and detail.endswith("and 8 more")
    assert problems.table("en")["network_detail"].iloc[1] == "none"
    sound = network_problems(network, polygons[:1], ids[:1])
    assert sum(sound.counts().values()) == 0
    assert sound.table("en")["network_detail"].tolist()[:3] == [
        "one piece, all connected: 101 nodes, 2 km",
        "none",
        "none",
    ]


def test_geo_network_says_the_problems_of_a_city_file_in_words_and_json(tmp_path, capsys):
    import json

    from geo.cli import main
    from geo.data.gpkg import write_layers
    from geo.pipeline import load_city

    city = load_city(river_city(tmp_path / "river.gpkg"))
    streets, _ = problem_city()
    # The river city's streets with the problem city's island path: a second piece and no community on it.
    layers = {
        "districts": city.districts,
        "communities": city.communities,
        "fitness_paths": city.fitness_paths,
        "roads": pd.concat([city.roads, streets.iloc[[3]].assign(road_id="I", name="岛上小路", kind="path")]),
    }
    path = tmp_path / "island.gpkg"
    write_layers(path, layers)
    assert main(["network", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["islands"] == 1 and report["pieces"][1]["nodes"] == 6
    assert report["access_m"] == 50.0 and report["cut_off"] == []
    assert main(["network", str(path), "--lang", "zh"]) == 0
    said = capsys.readouterr().out
    assert "路网问题报告：island.gpkg" in said and "互不相连的部分（孤岛）" in said and "路网各部分" in said
    assert main(["network", str(path), "--lang", "en"]) == 0
    assert "Disconnected pieces (islands)" in capsys.readouterr().out


def test_geo_network_without_a_roads_layer_is_a_clear_error(tmp_path, capsys):
    from geo.cli import main

    assert main(["network", str(roadless(tmp_path)), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "has no roads layer" in err and err.count("\n") == 1


def test_a_roads_layer_with_no_walkable_line_reports_every_community_without_a_street():
    from geo.analysis.network import network_problems

    network = WalkNetwork.from_roads(roads([(0, 0), (1000, 0)], walkable=[False]), UTM)
    assert len(network.nodes_m) == 0 and network.pieces == 0
    polygons = np.asarray(places(box(0, 10, 50, 60)).to_crs(UTM).geometry.values)
    problems = network_problems(network, polygons, ["A"])
    assert problems.counts()["without_street"] == 1 and problems.pieces.empty
    assert problems.table("en")["network_detail"].tolist()[:3] == [
        "the roads layer has no walkable line",
        "none",
        "they reach the nearest street instead (the fallback; see config.toml [network] access_m): A (— m)",
    ]
    assert problems.to_dict()["without_street"] == [{"community_id": "A", "nearest_street_m": None}]


def test_geo_network_builds_with_the_config_s_tolerances(tmp_path, capsys):
    import json

    from geo.cli import main
    from geo.config import DEFAULT_CONFIG_PATH

    city = river_city(tmp_path / "river.gpkg")
    config = tmp_path / "config.toml"
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    # The north community touches its bank's street, the south one is 10 m from its own: within 50 m both reach a
    # street, within 1 m only the north one does. Pieces of 100 m leave fewer nodes on the same streets.
    assert main(["network", str(city), "--json"]) == 0
    default = json.loads(capsys.readouterr().out)
    config.write_text(text.replace("segment_m = 20", "segment_m = 100").replace("access_m = 50", "access_m = 1"))
    assert main(["--config", str(config), "network", str(city), "--json"]) == 0
    tuned = json.loads(capsys.readouterr().out)
    assert (default["access_m"], tuned["access_m"]) == (50.0, 1.0)
    assert default["without_street"] == []
    assert tuned["without_street"] == [{"community_id": "C001", "nearest_street_m": 10.0}]
    assert tuned["pieces"][0]["nodes"] < default["pieces"][0]["nodes"]
    assert tuned["pieces"][0]["length_km"] == default["pieces"][0]["length_km"]
