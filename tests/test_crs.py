"""Tests for geo.data.crs: WGS84 / GCJ-02 / BD-09 conversion, geometry conversion, CRS names, UTM choice."""

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon

from geo.data.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert_geometries,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    metric_crs_for,
    normalise_crs_name,
    utm_crs_for,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")

# A 1° grid over the mainland part of the GCJ-02 rectangle, and a fine grid over Liuzhou
# (the city and its counties reach 109.2–109.8°E, 24.1–25.9°N).
_CHINA_LON, _CHINA_LAT = np.meshgrid(np.arange(74.0, 135.01, 1.0), np.arange(18.0, 53.01, 1.0))
_LZ_LON, _LZ_LAT = np.meshgrid(np.linspace(109.2, 109.8, 13), np.linspace(24.1, 25.9, 37))
GRID_LON = np.concatenate([_CHINA_LON.ravel(), _LZ_LON.ravel()])
GRID_LAT = np.concatenate([_CHINA_LAT.ravel(), _LZ_LAT.ravel()])

LIUZHOU = (109.4238, 24.3287)  # 城中区, WGS84

ALL_CONVERTERS = [
    wgs84_to_gcj02,
    gcj02_to_wgs84,
    gcj02_to_bd09,
    bd09_to_gcj02,
    wgs84_to_bd09,
    bd09_to_wgs84,
]


def max_error(a, b):
    """Largest coordinate difference in degrees between two (lon, lat) pairs of arrays."""
    return max(np.max(np.abs(np.asarray(a[0]) - b[0])), np.max(np.abs(np.asarray(a[1]) - b[1])))


# --------------------------------------------------------------------------- round trips


def test_wgs84_gcj02_round_trip_over_china_and_liuzhou():
    gcj = wgs84_to_gcj02(GRID_LON, GRID_LAT)
    assert max_error(gcj02_to_wgs84(*gcj), (GRID_LON, GRID_LAT)) < 1e-8
    # and the other way round: the inverse is exact, not the usual one-step approximation
    wgs = gcj02_to_wgs84(GRID_LON, GRID_LAT)
    assert max_error(wgs84_to_gcj02(*wgs), (GRID_LON, GRID_LAT)) < 1e-8


def test_wgs84_bd09_round_trip_over_china_and_liuzhou():
    bd = wgs84_to_bd09(GRID_LON, GRID_LAT)
    assert max_error(bd09_to_wgs84(*bd), (GRID_LON, GRID_LAT)) < 1e-8


def test_gcj02_bd09_round_trip_over_china_and_liuzhou():
    bd = gcj02_to_bd09(GRID_LON, GRID_LAT)
    assert max_error(bd09_to_gcj02(*bd), (GRID_LON, GRID_LAT)) < 1e-8
    gcj = bd09_to_gcj02(GRID_LON, GRID_LAT)
    assert max_error(gcj02_to_bd09(*gcj), (GRID_LON, GRID_LAT)) < 1e-8


def test_composed_conversions_equal_their_steps():
    bd = wgs84_to_bd09(GRID_LON, GRID_LAT)
    assert max_error(bd, gcj02_to_bd09(*wgs84_to_gcj02(GRID_LON, GRID_LAT))) == 0.0
    wgs = bd09_to_wgs84(GRID_LON, GRID_LAT)
    assert max_error(wgs, gcj02_to_wgs84(*bd09_to_gcj02(GRID_LON, GRID_LAT))) == 0.0


# --------------------------------------------------------------------------- outside China


@pytest.mark.parametrize(
    "lon, lat",
    [
        (-0.1276, 51.5072),  # London
        (139.6917, 35.6895),  # Tokyo: east of 137.8347°E, outside the rectangle
        (151.2093, -33.8688),  # Sydney: south of the equator
        (-74.0060, 40.7128),  # New York
        (37.6173, 55.7558),  # Moscow: west of 72.004°E
    ],
)
def test_gcj02_is_identity_outside_the_china_rectangle(lon, lat):
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_rectangle_is_coarse_so_seoul_is_shifted():
    # The standard algorithm tests a rectangle, not China's border: Seoul (126.978°E, 37.566°N)
    # lies inside it and is shifted like a Chinese point, as in every common implementation.
    seoul = (126.978, 37.566)
    _, _, shift_m = GEOD.inv(*seoul, *wgs84_to_gcj02(*seoul))
    assert 100.0 < shift_m < 1000.0


def test_bd09_offset_applies_everywhere():
    # Common implementations apply the Baidu step without a China test, so London moves
    # (~0.0065° lon, ~0.006° lat) under wgs84_to_bd09 though not under wgs84_to_gcj02.
    london = (-0.1276, 51.5072)
    bd = wgs84_to_bd09(*london)
    assert bd == gcj02_to_bd09(*london)
    assert 0.004 < bd[0] - london[0] < 0.008
    assert 0.004 < bd[1] - london[1] < 0.008
    assert max_error(bd09_to_wgs84(*bd), london) < 1e-9


# --------------------------------------------------------------------------- published values


# wandergis/coordtransform, test/app.js: input (116.404, 39.915) and the printed results.
# Its gcj02towgs84 and bd09togcj02 are one-step approximations, so for the inverses we check that
# ours agrees to ~1e-6° yet is the more exact inverse.
COORDTRANSFORM_IN = (116.404, 39.915)
COORDTRANSFORM_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
COORDTRANSFORM_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
COORDTRANSFORM_GCJ02_TO_WGS84 = (116.39775550083061, 39.91359571849836)
COORDTRANSFORM_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)


def test_coordtransform_forward_values():
    assert max_error(wgs84_to_gcj02(*COORDTRANSFORM_IN), COORDTRANSFORM_WGS84_TO_GCJ02) < 1e-9
    assert max_error(gcj02_to_bd09(*COORDTRANSFORM_IN), COORDTRANSFORM_GCJ02_TO_BD09) < 1e-9


@pytest.mark.parametrize(
    "inverse, forward, published",
    [
        (gcj02_to_wgs84, wgs84_to_gcj02, COORDTRANSFORM_GCJ02_TO_WGS84),
        (bd09_to_gcj02, gcj02_to_bd09, COORDTRANSFORM_BD09_TO_GCJ02),
    ],
)
def test_coordtransform_inverse_values_are_refined(inverse, forward, published):
    ours = inverse(*COORDTRANSFORM_IN)
    assert max_error(ours, published) < 1e-6
    assert max_error(forward(*ours), COORDTRANSFORM_IN) < 1e-9
    assert max_error(forward(*published), COORDTRANSFORM_IN) > 1e-7  # the one-step value is not


# googollee/eviltransform, python/test.py, TESTS: (wgsLat, wgsLng, gcjLat, gcjLng), note lat first.
EVILTRANSFORM_PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize("wgs_lat, wgs_lon, gcj_lat, gcj_lon", EVILTRANSFORM_PAIRS)
def test_eviltransform_pairs(wgs_lat, wgs_lon, gcj_lat, gcj_lon):
    assert max_error(wgs84_to_gcj02(wgs_lon, wgs_lat), (gcj_lon, gcj_lat)) < 1e-9
    assert max_error(gcj02_to_wgs84(gcj_lon, gcj_lat), (wgs_lon, wgs_lat)) < 1e-9


# hujiulong/gcoord, test/fixtures/china-cities.json: city centres in WGS84, GCJ02 and BD09, 7
# decimals. Its GCJ02/BD09 columns follow the formula to rounding; its WGS84 column is ~5e-6° (0.5 m)
# from the exact inverse, and gcoord's own tests compare WGS84 at 4 decimals, so we use 1e-5° there.
GCOORD_CITIES = {
    "柳州市 城中区": ((109.4238094, 24.3287347), (109.4284177, 24.3260422), (109.4348386, 24.3323077)),
    "桂林市 临桂区": ((110.1753219, 25.2372568), (110.1799599, 25.2344843), (110.1864408, 25.2406545)),
    "南宁市 兴宁区": ((108.3160258, 22.8267915), (108.3200117, 22.8240243), (108.3265645, 22.8298659)),
    "北京市 东城区": ((116.4011517, 39.9028057), (116.4074002, 39.9042136), (116.4137852, 39.9105355)),
}


@pytest.mark.parametrize("city", list(GCOORD_CITIES))
def test_gcoord_city_coordinates(city):
    wgs, gcj, bd = GCOORD_CITIES[city]
    assert max_error(gcj02_to_bd09(*gcj), bd) < 1e-7
    assert max_error(bd09_to_gcj02(*bd), gcj) < 1e-7
    assert max_error(wgs84_to_gcj02(*wgs), gcj) < 1e-5
    assert max_error(gcj02_to_wgs84(*gcj), wgs) < 1e-5
    assert max_error(bd09_to_wgs84(*bd), wgs) < 1e-5


def test_gcoord_unit_test_values():
    # hujiulong/gcoord, test/unit/crs/GCJ02.spec.js: GCJ02 (123, 45), published to 8 decimals.
    assert max_error(gcj02_to_wgs84(123.0, 45.0), (122.99395597, 44.99804071)) < 1e-6
    assert max_error(gcj02_to_bd09(123.0, 45.0), (123.00636499, 45.00636899)) < 1e-8


def test_offset_in_liuzhou_is_a_few_hundred_metres():
    lon, lat = _LZ_LON.ravel(), _LZ_LAT.ravel()
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    _, _, gcj_shift_m = GEOD.inv(lon, lat, gcj_lon, gcj_lat)
    assert np.all((gcj_shift_m > 300.0) & (gcj_shift_m < 800.0))
    # GCJ-02 moves east and south here
    assert np.all(gcj_lon > lon) and np.all(gcj_lat < lat)
    _, _, bd_shift_m = GEOD.inv(gcj_lon, gcj_lat, *gcj02_to_bd09(gcj_lon, gcj_lat))
    assert np.all((bd_shift_m > 500.0) & (bd_shift_m < 1200.0))


# --------------------------------------------------------------------------- arrays and input


@pytest.mark.parametrize("convert", ALL_CONVERTERS)
def test_vectorised_matches_scalar_calls(convert):
    lon = np.array([109.4, 109.5, 116.4, -0.1])
    lat = np.array([24.3, 24.4, 39.9, 51.5])
    out_lon, out_lat = convert(lon, lat)
    assert out_lon.shape == (4,) and out_lat.shape == (4,)
    assert out_lon.dtype == np.float64
    for i in range(4):
        one_lon, one_lat = convert(lon[i], lat[i])
        assert isinstance(one_lon, np.float64) and isinstance(one_lat, float)
        # inverses iterate to 1e-9°, so an array may take one more step than a lone point
        assert abs(one_lon - out_lon[i]) < 1e-10 and abs(one_lat - out_lat[i]) < 1e-10


@pytest.mark.parametrize("convert", ALL_CONVERTERS)
def test_broadcasting(convert):
    lon = np.linspace(109.2, 109.8, 5)
    out_lon, out_lat = convert(lon, 24.3)
    assert out_lon.shape == out_lat.shape == (5,)
    grid_lon, grid_lat = convert(lon[np.newaxis, :], np.linspace(24.1, 25.9, 3)[:, np.newaxis])
    assert grid_lon.shape == grid_lat.shape == (3, 5)
    assert max_error((grid_lon[0], grid_lat[0]), convert(lon, 24.1)) < 1e-10


@pytest.mark.parametrize("convert", ALL_CONVERTERS)
def test_nan_in_nan_out(convert):
    lon = np.array([np.nan, 109.4, 109.5, np.nan])
    lat = np.array([24.3, np.nan, 24.4, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out_lon, out_lat = convert(lon, lat)
    assert np.isnan(out_lon[[0, 1, 3]]).all() and np.isnan(out_lat[[0, 1, 3]]).all()
    assert np.isfinite([out_lon[2], out_lat[2]]).all()
    assert max_error((out_lon[2], out_lat[2]), convert(109.5, 24.4)) < 1e-10


def test_accepts_lists_and_pandas_series_with_none_as_missing():
    frame = pd.DataFrame({"lon": [109.4, 109.5], "lat": [24.3, 24.4]})
    from_series = wgs84_to_gcj02(frame["lon"], frame["lat"])
    from_lists = wgs84_to_gcj02([109.4, 109.5], [24.3, 24.4])
    assert max_error(from_series, from_lists) == 0.0
    with_none = wgs84_to_gcj02([109.4, None], [24.3, 24.4])
    assert with_none[0][0] == from_lists[0][0] and np.isnan(with_none[0][1])
    nullable = wgs84_to_gcj02(pd.Series([109.4, pd.NA], dtype="Float64"), frame["lat"])
    assert nullable[0][0] == from_lists[0][0] and np.isnan(nullable[0][1])


def test_swapped_latitude_and_longitude_are_caught():
    with pytest.raises(ValueError, match="longitude before latitude"):
        wgs84_to_gcj02(LIUZHOU[1], LIUZHOU[0])
    assert wgs84_to_gcj02([], [])[0].shape == (0,)


@pytest.mark.parametrize("convert", ALL_CONVERTERS)
def test_bad_input_raises_value_error(convert):
    with pytest.raises(ValueError, match="must be numbers"):
        convert(["109.4", "abc"], [24.3, 24.4])
    with pytest.raises(ValueError, match="must be numbers"):
        convert(109.4, "24.3")
    with pytest.raises(ValueError, match="must be numbers"):
        convert([109.4, {"lon": 1}], [24.3, 24.4])
    with pytest.raises(ValueError, match="must be numbers"):
        convert(True, 24.3)
    with pytest.raises(ValueError, match="do not broadcast"):
        convert([109.4, 109.5, 109.6], [24.3, 24.4])
    with pytest.raises(ValueError, match="not projected metres"):
        convert(12181002.7, 2793517.3)  # Liuzhou in Web Mercator metres


# --------------------------------------------------------------------------- geometries


def _liuzhou_polygon_with_hole():
    shell = [(109.40, 24.30), (109.46, 24.30), (109.46, 24.35), (109.40, 24.35)]
    hole = [(109.42, 24.32), (109.44, 24.32), (109.44, 24.33), (109.42, 24.33)]
    return Polygon(shell, [hole])


def _liuzhou_multipolygon():
    part_a = _liuzhou_polygon_with_hole()
    part_b = Polygon([(109.50, 24.40), (109.55, 24.40), (109.52, 24.45)])
    return MultiPolygon([part_a, part_b])


def _structure(geom):
    """Type, part count, interior rings per part and coordinate count of a geometry."""
    parts = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    rings = [len(part.interiors) if hasattr(part, "interiors") else 0 for part in parts]
    return geom.geom_type, len(parts), rings, shapely.get_num_coordinates(geom)


def test_convert_geometries_round_trip_keeps_structure():
    original = gpd.GeoSeries(
        [_liuzhou_polygon_with_hole(), _liuzhou_multipolygon(), Point(LIUZHOU), None],
        index=["a", "b", "c", "d"],
        crs="EPSG:4326",
        name="geometry",
    )
    wgs = convert_geometries(original, "gcj02")
    back = convert_geometries(wgs, "wgs84", "gcj02")
    assert isinstance(wgs, gpd.GeoSeries) and list(wgs.index) == ["a", "b", "c", "d"]
    assert wgs.crs == "EPSG:4326" and wgs.name == "geometry"
    assert wgs.iloc[3] is None and back.iloc[3] is None
    for before, moved, after in zip(original.iloc[:3], wgs.iloc[:3], back.iloc[:3]):
        assert _structure(before) == _structure(moved) == _structure(after)
        start = shapely.get_coordinates(before)
        assert np.abs(shapely.get_coordinates(moved) - start).max() > 1e-3  # really converted
        assert np.abs(shapely.get_coordinates(after) - start).max() < 1e-9


def test_convert_geometries_matches_point_functions():
    polygon = _liuzhou_polygon_with_hole()
    coords = shapely.get_coordinates(polygon)
    expected = np.column_stack(bd09_to_wgs84(coords[:, 0], coords[:, 1]))
    converted = convert_geometries(np.array([polygon]), "BD-09", "WGS84")
    assert isinstance(converted, np.ndarray) and converted.shape == (1,)
    assert np.abs(shapely.get_coordinates(converted[0]) - expected).max() < 1e-12


def test_convert_geometries_keeps_z_and_same_datum_is_a_copy():
    point_3d = Point(109.4, 24.3, 85.0)
    converted = convert_geometries(np.array([point_3d]), "gcj02")[0]
    assert converted.has_z and converted.z == 85.0
    assert converted.x != 109.4
    same = convert_geometries(np.array([point_3d]), "wgs84", "wgs84")
    assert same[0].equals(point_3d)


def test_convert_geometries_rejects_unknown_names_and_projected_data():
    geoms = np.array([Point(LIUZHOU)])
    with pytest.raises(ValueError, match="wgs84, gcj02, bd09"):
        convert_geometries(geoms, "mercator")
    with pytest.raises(ValueError, match="wgs84, gcj02, bd09"):
        convert_geometries(geoms, "EPSG:3857")
    with pytest.raises(ValueError, match="target"):
        convert_geometries(geoms, "gcj02", "tencent-mercator")
    projected = gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs("EPSG:32649")
    with pytest.raises(ValueError, match="projected CRS"):
        convert_geometries(projected, "gcj02")


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "text, expected",
    [
        ("WGS84", "wgs84"),
        ("wgs-84", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("epsg:4326", "wgs84"),
        ("gcj02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("火星坐标", "gcj02"),
        ("高德", "gcj02"),
        ("bd09", "bd09"),
        ("BD-09", "bd09"),
        ("百度", "bd09"),
        (" Baidu ", "bd09"),
        ("EPSG:3857", "EPSG:3857"),
        ("epsg:4490", "EPSG:4490"),  # CGCS2000, China's national datum, passes through
    ],
)
def test_normalise_crs_name(text, expected):
    assert normalise_crs_name(text) == expected


@pytest.mark.parametrize("text", ["mercator", "", "gcj03", "EPSG:99999999", None, 4326])
def test_normalise_crs_name_rejects_nonsense(text):
    with pytest.raises(ValueError, match=r"coordinate system|EPSG code"):
        normalise_crs_name(text)


def test_normalise_crs_name_message_lists_the_accepted_names():
    with pytest.raises(ValueError, match="wgs84, gcj02, bd09"):
        normalise_crs_name("mars-grid")


# --------------------------------------------------------------------------- metric CRS


def test_utm_crs_for_known_places():
    assert utm_crs_for(*LIUZHOU) == "EPSG:32649"
    assert utm_crs_for(117.0, 31.8) == "EPSG:32650"  # 117°E is in zone 50 (114–120°E)
    assert utm_crs_for(108.0, 24.0) == "EPSG:32649"  # zone 49 starts at 108°E
    assert utm_crs_for(151.2093, -33.8688) == "EPSG:32756"  # Sydney, southern hemisphere
    assert utm_crs_for(-0.1276, 51.5072) == "EPSG:32630"  # London
    assert utm_crs_for(_LZ_LON.ravel(), _LZ_LAT.ravel()) == "EPSG:32649"
    assert utm_crs_for([109.4, np.nan], [24.3, np.nan]) == "EPSG:32649"


def test_utm_crs_for_rejects_no_data_and_the_antimeridian():
    with pytest.raises(ValueError, match="no finite"):
        utm_crs_for([], [])
    with pytest.raises(ValueError, match="no finite"):
        utm_crs_for([np.nan], [np.nan])
    with pytest.raises(ValueError, match="antimeridian"):
        utm_crs_for([179.5, -179.5], [-17.0, -17.0])  # Fiji
    with pytest.raises(ValueError, match="not projected metres"):
        utm_crs_for(12181002.7, 2793517.3)


def test_metric_crs_for_measures_metres_in_liuzhou():
    points = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[Point(109.40, 24.30), Point(109.41, 24.30)],
        crs="EPSG:4326",
    )
    crs = metric_crs_for(points)
    assert crs == "EPSG:32649"
    projected = points.to_crs(crs)
    _, _, geodesic_m = GEOD.inv(109.40, 24.30, 109.41, 24.30)
    assert projected.geometry.iloc[0].distance(projected.geometry.iloc[1]) == pytest.approx(geodesic_m, rel=1e-3)
    # data already in another CRS give the same answer
    assert metric_crs_for(points.to_crs("EPSG:3857")) == "EPSG:32649"
    assert metric_crs_for(points.geometry) == "EPSG:32649"


def test_metric_crs_for_rejects_missing_crs_and_empty_data():
    with pytest.raises(ValueError, match="no CRS"):
        metric_crs_for(gpd.GeoSeries([Point(LIUZHOU)]))
    with pytest.raises(ValueError, match="no non-empty geometry"):
        metric_crs_for(gpd.GeoSeries([], crs="EPSG:4326"))
