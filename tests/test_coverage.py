"""Coverage on hand-made geometries whose answers are obvious on paper."""

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Point, box

from geo.analysis.coverage import city_total, community_coverage, coverage_summary

UTM = "EPSG:32649"  # UTM 49N, fits Liuzhou
X0, Y0 = 338_000.0, 2_690_000.0  # a spot in Liuzhou, in metres


def communities_frame(rows, crs="EPSG:4326"):
    """rows: (community_id, district_code, population, geometry)."""
    ids, codes, pops, geoms = zip(*rows)
    return gpd.GeoDataFrame(
        {"community_id": ids, "district_code": codes, "district_name": [f"D{c}" for c in codes], "population": pops},
        geometry=list(geoms),
        crs=crs,
    )


def paths_frame(points, crs="EPSG:4326"):
    return gpd.GeoDataFrame({"path_id": [f"P{i}" for i in range(len(points))]}, geometry=list(points), crs=crs)


def metric_square(dx, dy, size=100.0):
    """A size × size square whose lower-left corner is (X0 + dx, Y0 + dy) in UTM metres."""
    return box(X0 + dx, Y0 + dy, X0 + dx + size, Y0 + dy + size)


def to_wgs84(frame):
    return frame.to_crs("EPSG:4326")


def test_set_inside_on_edge_and_just_outside():
    # A square drawn directly in WGS84, so a point on its right edge is exactly on it.
    square = box(109.40, 24.30, 109.41, 24.31)
    communities = communities_frame(
        [
            ("inside", "450202", 100, square),
            ("edge", "450202", 100, box(109.50, 24.30, 109.51, 24.31)),
            ("outside", "450202", 100, box(109.60, 24.30, 109.61, 24.31)),
        ]
    )
    paths = paths_frame([Point(109.405, 24.305), Point(109.51, 24.305), Point(109.61 + 1e-6, 24.305)])
    covered = community_coverage(communities, paths, walk_radius_m=500)
    assert covered["n_sets_inside"].tolist() == [1, 1, 0]
    assert covered["served_inside"].tolist() == [True, True, False]
    assert covered.loc[0, "nearest_set_m"] == 0.0
    assert covered.loc[1, "nearest_set_m"] == 0.0  # a set on the boundary counts as inside
    # 1e-6° of longitude at 24.3°N is 0.1015 m.
    assert covered.loc[2, "nearest_set_m"] == pytest.approx(0.1015, abs=0.002)
    assert covered["served_within_radius"].tolist() == [True, True, True]


def test_walk_radius_exactly_and_one_metre_beyond():
    # Two 100 m squares 10 km apart; a set exactly 500 m east of the first, 501 m east of the second.
    communities = to_wgs84(
        communities_frame(
            [("at_radius", "450202", 300, metric_square(0, 0)), ("beyond", "450202", 400, metric_square(10_000, 0))],
            crs=UTM,
        )
    )
    paths = to_wgs84(paths_frame([Point(X0 + 100 + 500, Y0 + 50), Point(X0 + 10_000 + 100 + 501, Y0 + 50)], crs=UTM))
    covered = community_coverage(communities, paths, walk_radius_m=500, metric_crs=UTM)
    assert covered["nearest_set_m"].to_numpy() == pytest.approx([500.0, 501.0], abs=1e-4)
    assert covered["served_within_radius"].tolist() == [True, False]
    assert covered["served_inside"].tolist() == [False, False]


def test_distance_is_to_the_polygon_not_its_centroid():
    communities = to_wgs84(communities_frame([("c", "450202", 1, metric_square(0, 0, size=400))], crs=UTM))
    paths = to_wgs84(paths_frame([Point(X0 + 400 + 300, Y0 + 400 + 400)], crs=UTM))  # off the NE corner
    covered = community_coverage(communities, paths, walk_radius_m=500, metric_crs=UTM)
    assert covered.loc[0, "nearest_set_m"] == pytest.approx(500.0, abs=1e-4)  # 3-4-5 triangle


def test_multipolygon_community_and_two_sets():
    parts = MultiPolygon([metric_square(0, 0), metric_square(300, 0)])
    communities = to_wgs84(
        communities_frame(
            [("split", "450202", 500, parts), ("double", "450203", 200, metric_square(5_000, 0))], crs=UTM
        )
    )
    paths = to_wgs84(
        paths_frame([Point(X0 + 350, Y0 + 50), Point(X0 + 5_020, Y0 + 20), Point(X0 + 5_080, Y0 + 80)], crs=UTM)
    )
    covered = community_coverage(communities, paths, walk_radius_m=500)
    assert covered["n_sets_inside"].tolist() == [1, 2]
    assert covered["served_inside"].all()
    # The gap between the two parts is not part of the community.
    gap_only = to_wgs84(paths_frame([Point(X0 + 200, Y0 + 50)], crs=UTM))
    covered_gap = community_coverage(communities.iloc[[0]], gap_only, walk_radius_m=500, metric_crs=UTM)
    assert covered_gap.loc[0, "n_sets_inside"] == 0
    assert covered_gap.loc[0, "nearest_set_m"] == pytest.approx(100.0, abs=1e-4)


def test_no_fitness_paths_at_all():
    communities = to_wgs84(communities_frame([("a", "450202", 10, metric_square(0, 0))], crs=UTM))
    covered = community_coverage(communities, paths_frame([]), walk_radius_m=500)
    assert covered.loc[0, "n_sets_inside"] == 0
    assert math.isnan(covered.loc[0, "nearest_set_m"])
    assert not covered.loc[0, "served_within_radius"]


def test_inputs_must_be_wgs84():
    communities = communities_frame([("a", "450202", 10, metric_square(0, 0))], crs=UTM)
    with pytest.raises(ValueError, match="EPSG:4326"):
        community_coverage(communities, paths_frame([], crs=UTM), walk_radius_m=500)


def test_district_and_city_totals():
    communities = to_wgs84(
        communities_frame(
            [
                ("a1", "450202", 100, metric_square(0, 0)),  # set inside
                ("a2", "450202", 200, metric_square(0, 300)),  # 200 m from that set: within radius
                ("b1", "450203", 400, metric_square(20_000, 0)),  # far from everything
                ("b2", "450203", 800, metric_square(20_000, 3_000)),  # set inside
            ],
            crs=UTM,
        )
    )
    paths = to_wgs84(paths_frame([Point(X0 + 50, Y0 + 50), Point(X0 + 20_050, Y0 + 3_050)], crs=UTM))
    covered = community_coverage(communities, paths, walk_radius_m=500)
    districts = pd.DataFrame(
        {"district_code": ["450202", "450203", "450204"], "district_name": ["城中区", "鱼峰区", "柳南区"]}
    )
    summary = coverage_summary(covered, districts)
    assert summary["district_code"].tolist() == ["450202", "450203", "450204"]
    assert summary["district_name"].tolist() == ["城中区", "鱼峰区", "柳南区"]
    assert summary["communities"].tolist() == [2, 2, 0]
    assert summary["served_inside"].tolist() == [1, 1, 0]
    assert summary["served_within_radius"].tolist() == [2, 1, 0]
    assert summary["population"].tolist() == [300, 1200, 0]
    assert summary["population_served_inside"].tolist() == [100, 800, 0]
    assert summary["population_served_within_radius"].tolist() == [300, 800, 0]
    assert summary["share_served_inside"].tolist()[:2] == [0.5, 0.5]
    assert np.isnan(summary.loc[2, "share_served_inside"])  # no communities: no share, not 0 %
    total = city_total(summary)
    assert total == {
        "communities": 4,
        "served_inside": 2,
        "served_within_radius": 3,
        "population": 1500,
        "population_served_inside": 900,
        "population_served_within_radius": 1100,
        "share_served_inside": 0.5,
        "share_served_within_radius": 0.75,
    }


def test_adding_sets_incrementally_equals_recomputing():
    from geopandas.testing import assert_geodataframe_equal

    from geo.analysis.coverage import add_fitness_paths
    from geo.config import DEFAULT_DATA_PATH
    from geo.pipeline import load_city

    city = load_city(DEFAULT_DATA_PATH)
    paths = city.fitness_paths
    first, later = paths.iloc[:700], paths.iloc[700:]
    incremental = add_fitness_paths(community_coverage(city.communities, first, 500), later, 500)
    assert_geodataframe_equal(incremental, community_coverage(city.communities, paths, 500))
