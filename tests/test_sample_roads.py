"""The sample's streets (issue 16): deterministic, the river crossed only at bridges, connected, near communities."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pandas.testing import assert_frame_equal
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import box

from geo.config import BOUNDARIES_PATH
from geo.data.io import read_districts
from geo.data.sample import OLD_CENTRE, _split_at, generate_sample
from geo.data.schema import ROAD_COLUMNS

UTM = "EPSG:32649"
SEED = 20180801


@pytest.fixture(scope="module")
def districts():
    return read_districts(BOUNDARIES_PATH)


@pytest.fixture(scope="module")
def sample(districts):
    return generate_sample(districts, 2500, SEED, roads=True)


@pytest.fixture(scope="module")
def roads_m(sample):
    return sample["roads"].to_crs(UTM)


def river(districts):
    """The course the generator approximates the Liu River by: 城中区's borders with its neighbours (metres)."""
    by_code = dict(zip(districts["district_code"], districts.to_crs(UTM).geometry))
    inner = by_code["450202"].boundary
    return shapely.union_all([shapely.intersection(inner, g.boundary) for c, g in by_code.items() if c != "450202"])


def pieces(roads):
    """Number of connected pieces of ``roads`` joined at shared end points (rounded to 1e-7°)."""
    lines = roads.geometry.to_numpy()
    ends = np.concatenate([shapely.get_coordinates(shapely.get_point(lines, k)) for k in (0, -1)])
    _, node = np.unique(np.round(ends, 7), axis=0, return_inverse=True)
    node, m = node.ravel(), len(lines)
    graph = coo_matrix((np.ones(m), (node[:m], node[m:])), shape=(node.max() + 1,) * 2)
    return connected_components(graph, directed=False)[0]


def test_roads_only_on_request_and_every_other_layer_unchanged(districts, sample):
    plain = generate_sample(districts, 2500, SEED)
    assert "roads" not in plain
    for layer in ("communities", "fitness_paths", "public_sites"):
        assert_geodataframe_equal(sample[layer], plain[layer])
    assert_frame_equal(sample["applications"], plain["applications"])


def test_same_seed_same_roads(districts, sample):
    again = generate_sample(districts, 2500, SEED, roads=True)
    assert_geodataframe_equal(again["roads"], sample["roads"])


def test_columns_kinds_and_walkability(sample):
    roads = sample["roads"]
    assert list(roads.columns) == [*ROAD_COLUMNS, "geometry"]
    assert roads.crs.to_epsg() == 4326 and set(roads.geom_type) == {"LineString"} and roads.is_valid.all()
    assert roads["road_id"].is_unique and roads["name"].notna().all()
    assert set(roads["kind"]) == {"primary", "secondary", "tertiary", "residential", "footway", "motorway"}
    assert (roads["walkable"] == (roads["kind"] != "motorway")).all()
    # Five county seats, each linked by a motorway and a walkable road.
    assert (roads["kind"] == "motorway").sum() == 5 and roads["name"].str.endswith("公路").sum() == 5


def test_the_river_is_crossed_only_at_6_to_10_bridges(districts, sample, roads_m):
    course = river(districts)
    wet = shapely.intersects(roads_m.geometry.to_numpy(), course)
    bridge = sample["roads"]["bridge"].to_numpy()
    assert 6 <= bridge.sum() <= 10
    assert (wet == bridge).all()  # every bridge crosses, nothing else does
    assert sample["roads"]["name"][bridge].str.endswith("大桥").all()


def test_one_connected_walkable_piece(sample):
    roads = sample["roads"]
    assert pieces(roads[roads["walkable"]]) == 1


def test_lines_meet_at_end_points_and_never_cross_a_community(sample, roads_m):
    walkable = roads_m.geometry.to_numpy()[sample["roads"]["walkable"].to_numpy()]
    left, _ = shapely.STRtree(walkable).query(walkable, predicate="crosses")
    assert left.size == 0  # no two walkable lines cross without a shared end point
    assert shapely.length(roads_m.geometry.to_numpy()).min() >= 1.0
    assert not roads_m.geometry.normalize().to_wkb().duplicated().any()
    communities = sample["communities"].to_crs(UTM).geometry.to_numpy()
    crossing, _ = shapely.STRtree(communities).query(roads_m.geometry.to_numpy(), predicate="crosses")
    assert crossing.size == 0


def test_every_community_has_a_street_within_50_m(sample, roads_m):
    communities = sample["communities"].to_crs(UTM).geometry.to_numpy()
    roads = sample["roads"]
    walkable = roads_m.geometry.to_numpy()[roads["walkable"].to_numpy()]
    (rows, _), distance = shapely.STRtree(walkable).query_nearest(communities, return_distance=True)
    assert pd.Series(distance).groupby(rows).min().max() <= 50.0
    # Without the footways to their gates, about a third have a street that near (measured: 31.6 %).
    streets = roads_m.geometry.to_numpy()[(roads["walkable"] & (roads["kind"] != "footway")).to_numpy()]
    (rows, _), distance = shapely.STRtree(streets).query_nearest(communities, return_distance=True)
    assert 0.25 <= (pd.Series(distance).groupby(rows).min() <= 50.0).mean() <= 0.40


def test_denser_in_the_old_centre(sample, roads_m):
    centre = gpd.GeoSeries(shapely.points([OLD_CENTRE]), crs="EPSG:4326").to_crs(UTM).iloc[0]
    streets = roads_m[(sample["roads"]["kind"] != "footway").to_numpy() & sample["roads"]["walkable"].to_numpy()]
    inner = streets.clip(centre.buffer(2000)).length.sum() / (np.pi * 2.0**2)
    ring = centre.buffer(7000).difference(centre.buffer(5000))
    outer = streets.clip(ring).length.sum() / (ring.area / 1e6)
    assert inner > 1.4 * outer  # metres of street per km²


def test_split_at_merges_feet_within_a_metre():
    segments = np.array([[[0.0, 0.0], [100.0, 0.0]], [[0.0, 0.0], [0.0, 100.0]]])
    feet = np.array([[30.0, 0.0], [30.5, 0.0], [99.6, 0.0]])
    parts, source, merged = _split_at(segments, feet, np.array([0, 0, 0]))
    assert parts.tolist() == [[[0.0, 0.0], [0.0, 100.0]], [[0.0, 0.0], [30.0, 0.0]], [[30.0, 0.0], [100.0, 0.0]]]
    assert source.tolist() == [1, 0, 0]
    assert merged.tolist() == [[30.0, 0.0], [30.0, 0.0], [100.0, 0.0]]


def test_another_city_has_streets_and_no_bridges():
    west, south, side = 117.20, 31.80, 0.03
    districts = gpd.GeoDataFrame(
        {
            "district_code": ["340104", "340111"],
            "district_name": ["蜀山区", "包河区"],
            "district_name_en": ["Shushan", "Baohe"],
            "kind": ["district", "district"],
        },
        geometry=[box(west, south, west + side, south + side), box(west + side, south, west + 2 * side, south + side)],
        crs="EPSG:4326",
    )
    roads = generate_sample(districts, 60, 3, roads=True)["roads"]
    assert len(roads) > 0 and not roads["bridge"].any() and roads["walkable"].all()
    assert pieces(roads) == 1
