"""Chinese official coordinate systems end to end: the guess from coordinate ranges, and imports in every zone.

The numbers are worked from PROJ itself: every EPSG code the guess offers is checked against its
name and central meridian in PROJ's database, and an import in a declared code must place each
point where PROJ's own transformation of the file's coordinates does, within 1 cm measured in the
data's UTM zone.
"""

from __future__ import annotations

import csv
import functools
import re
import warnings

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from pyproj.database import query_crs_info
from pyproj.enums import PJType

from geo.config import load_config
from geo.data.crs import utm_crs_for
from geo.data.crs_guess import (
    OFFICIAL_CODES,
    THREE_DEGREE_ZONES,
    CrsGuess,
    first_coordinates,
    guess_crs,
    six_degree_cm_code,
    six_degree_zone_code,
    three_degree_cm_code,
    three_degree_zone_code,
)
from geo.errors import DataError, Message, said
from geo.intake.importer import import_file

TOLERANCE_M = 0.01
LIUZHOU = (109.4, 24.3)  # WGS84 lon/lat, in 3° zone 36 (CM 108°E)


@pytest.fixture(scope="module")
def config():
    return load_config()


@functools.cache
def _epsg_names() -> dict[str, list[str]]:
    """Name -> EPSG codes of PROJ's projected and 2-D geographic CRSs that are not deprecated (read once)."""
    names: dict[str, list[str]] = {}
    for info in query_crs_info(auth_name="EPSG", pj_types=[PJType.PROJECTED_CRS, PJType.GEOGRAPHIC_2D_CRS]):
        if not info.deprecated:
            names.setdefault(info.name, []).append(info.code)
    return names


def epsg_by_name(name: str) -> str:
    """The EPSG code PROJ's database gives ``name`` (exactly one, not deprecated)."""
    found = _epsg_names().get(name, [])
    assert len(found) == 1, (name, found)
    return f"EPSG:{found[0]}"


def parameter(crs: pyproj.CRS, name: str) -> float:
    return next(p.value for p in crs.coordinate_operation.params if p.name == name)


# --------------------------------------------------------------------------- the codes are PROJ's


@pytest.mark.parametrize("code", sorted(OFFICIAL_CODES, key=lambda c: int(c.split(":")[1])))
def test_every_offered_code_is_the_cgcs2000_zone_proj_names(code):
    width, meridian, zone = OFFICIAL_CODES[code]
    crs = pyproj.CRS.from_user_input(code)
    family = "CGCS2000 / 3-degree Gauss-Kruger" if width == 3 else "CGCS2000 / Gauss-Kruger"
    assert crs.name == (f"{family} zone {zone}" if zone else f"{family} CM {meridian}E")
    assert parameter(crs, "Longitude of natural origin") == meridian
    assert parameter(crs, "False easting") == (zone or 0) * 1_000_000 + 500_000
    assert parameter(crs, "Scale factor at natural origin") == 1.0
    assert crs.geodetic_crs.name == "China Geodetic Coordinate System 2000"


def test_the_code_families_cover_china_from_75_to_135_degrees():
    assert three_degree_zone_code(25) == "EPSG:4513" and three_degree_zone_code(45) == "EPSG:4533"
    assert three_degree_zone_code(36) == "EPSG:4524"  # Liuzhou, zone number before the easting
    assert three_degree_cm_code(75) == "EPSG:4534" and three_degree_cm_code(135) == "EPSG:4554"
    assert three_degree_cm_code(108) == "EPSG:4545"  # Liuzhou, bare easting
    assert six_degree_zone_code(13) == "EPSG:4491" and six_degree_zone_code(23) == "EPSG:4501"
    assert six_degree_cm_code(75) == "EPSG:4502" and six_degree_cm_code(135) == "EPSG:4512"
    assert len(OFFICIAL_CODES) == 21 + 21 + 11 + 11


# --------------------------------------------------------------------------- the guess, table-driven

NAN = float("nan")
BARE_CM = tuple(three_degree_cm_code(c) for c in range(75, 136, 3)) + tuple(
    six_degree_cm_code(c) for c in range(75, 136, 6)
)

# (id, x, y, near_lon, crs, certain, swapped, message key, candidates or None to skip)
GUESSES = [
    ("degrees", [109.4, 109.5], [24.3, 24.4], None, "wgs84", False, False, "crs_guess_wgs84", ()),
    ("degrees_swapped", [24.3, 24.4], [109.4, 109.5], None, "wgs84", False, True, "crs_guess_swapped_degrees", ()),
    ("degrees_outside_china", [10.0], [50.0], None, None, False, False, "crs_guess_unknown", ()),
    (
        "zone_36",
        [36_640_000.0, 36_641_000.0],
        [2_690_000.0, 2_691_000.0],
        None,
        "EPSG:4524",
        True,
        False,
        "crs_guess_zone",
        ("EPSG:4524",),
    ),
    (
        "zone_36_swapped",
        [2_690_000.0],
        [36_640_000.0],
        None,
        "EPSG:4524",
        True,
        True,
        "crs_guess_swapped",
        ("EPSG:4524",),
    ),
    ("zone_25_west", [25_500_000.0], [4_000_000.0], None, "EPSG:4513", True, False, "crs_guess_zone", ("EPSG:4513",)),
    ("zone_45_east", [45_400_000.0], [5_000_000.0], None, "EPSG:4533", True, False, "crs_guess_zone", ("EPSG:4533",)),
    (
        "six_degree_zone_19",
        [19_340_000.0],
        [2_690_000.0],
        None,
        "EPSG:4497",
        True,
        False,
        "crs_guess_zone",
        ("EPSG:4497",),
    ),
    (
        "six_degree_zone_13",
        [13_500_000.0],
        [4_000_000.0],
        None,
        "EPSG:4491",
        True,
        False,
        "crs_guess_zone",
        ("EPSG:4491",),
    ),
    ("bare", [640_000.0, 641_000.0], [2_690_000.0, 2_691_000.0], None, None, False, False, "crs_guess_bare", BARE_CM),
    ("bare_swapped", [2_690_000.0], [640_000.0], None, None, False, True, "crs_guess_swapped", BARE_CM),
    (
        "mixed_zones",
        [36_640_000.0, 37_340_000.0],
        [2_690_000.0] * 2,
        None,
        None,
        False,
        False,
        "crs_guess_mixed_zones",
        ("EPSG:4524", "EPSG:4525"),
    ),
    (
        "zone_and_bare",
        [36_640_000.0, 640_000.0],
        [2_690_000.0] * 2,
        None,
        None,
        False,
        False,
        "crs_guess_mixed_zones",
        ("EPSG:4524",),
    ),
    (
        "three_and_six_degree_zones",
        [36_640_000.0, 19_340_000.0],
        [2_690_000.0] * 2,
        None,
        None,
        False,
        False,
        "crs_guess_mixed_zones",
        ("EPSG:4497", "EPSG:4524"),
    ),
    ("prefix_24_is_no_zone", [24_500_000.0], [2_690_000.0], None, None, False, False, "crs_guess_unknown", ()),
    ("prefix_46_is_no_zone", [46_500_000.0], [2_690_000.0], None, None, False, False, "crs_guess_unknown", ()),
    ("prefix_12_is_no_zone", [12_500_000.0], [2_690_000.0], None, None, False, False, "crs_guess_unknown", ()),
    ("easting_beyond_a_zone", [36_900_000.0], [2_690_000.0], None, None, False, False, "crs_guess_unknown", ()),
    ("northing_south_of_china", [640_000.0], [900_000.0], None, None, False, False, "crs_guess_unknown", ()),
    ("degrees_and_metres", [109.4, 640_000.0], [24.3, 2_690_000.0], None, None, False, False, "crs_guess_unknown", ()),
    ("small_numbers", [1.0, 2.0], [3.0, 4.0], None, None, False, False, "crs_guess_unknown", ()),
    (
        "nan_rows_ignored",
        [NAN, 36_640_000.0, 36_650_000.0],
        [2_690_000.0, NAN, 2_695_000.0],
        None,
        "EPSG:4524",
        True,
        False,
        "crs_guess_zone",
        ("EPSG:4524",),
    ),
    ("all_nan", [NAN, NAN], [NAN, 1.0], None, None, False, False, "crs_guess_empty", ()),
    ("no_rows", [], [], None, None, False, False, "crs_guess_empty", ()),
    (
        "zone_ignores_near_lon",
        [36_640_000.0],
        [2_690_000.0],
        120.0,
        "EPSG:4524",
        True,
        False,
        "crs_guess_zone",
        ("EPSG:4524",),
    ),
]


@pytest.mark.parametrize(
    "x, y, near_lon, crs, certain, swapped, key, candidates",
    [case[1:] for case in GUESSES],
    ids=[c[0] for c in GUESSES],
)
def test_guess(x, y, near_lon, crs, certain, swapped, key, candidates):
    guess = guess_crs(np.array(x, dtype=float), np.array(y, dtype=float), near_lon=near_lon)
    assert isinstance(guess, CrsGuess)
    assert (guess.crs, guess.certain, guess.swapped) == (crs, certain, swapped)
    assert isinstance(guess.message, Message) and guess.message.key == key
    assert guess.candidates == candidates
    # Said in both languages, every placeholder filled.
    for lang in ("zh", "en"):
        assert guess.message.in_language(lang) and "{" not in guess.message.in_language(lang)


def test_the_guess_is_frozen():
    guess = guess_crs([109.4], [24.3])
    with pytest.raises(AttributeError):
        guess.crs = "gcj02"


def test_degrees_are_not_certain_and_say_gcj02_and_bd09_share_their_ranges():
    guess = guess_crs([109.4], [24.3])
    assert "GCJ-02" in guess.message and "BD-09" in guess.message
    assert "高德" in guess.message.in_language("zh") and "百度" in guess.message.in_language("zh")


def test_a_zone_guess_names_the_zone_its_central_meridian_and_the_other_datums():
    guess = guess_crs([36_640_000.0], [2_690_000.0])
    assert "zone 36" in guess.message and "108°E" in guess.message and "Xi'an 1980" in guess.message
    assert "第 36 带" in guess.message.in_language("zh") and "西安 1980" in guess.message.in_language("zh")


@pytest.mark.parametrize(
    "near_lon, east, first",
    [
        (108.9, 640_000.0, "EPSG:4545"),  # Liuzhou's data in CM 108°E: 109.4°E
        (109.4, 340_000.0, "EPSG:4546"),  # the same city in CM 111°E (e.g. UTM-like eastings west of the CM)
        (108.0, 500_000.0, "EPSG:4545"),
        (111.0, 500_000.0, "EPSG:4546"),  # 3° and 6° both have CM 111°E: the 3° one first
        (75.0, 500_000.0, "EPSG:4534"),
        (135.0, 500_000.0, "EPSG:4554"),
    ],
)
def test_bare_eastings_rank_the_central_meridian_that_puts_the_data_nearest_the_city(near_lon, east, first):
    guess = guess_crs([east], [2_690_000.0], near_lon=near_lon)
    assert guess.crs is None and not guess.certain
    assert guess.candidates[0] == first
    assert sorted(guess.candidates) == sorted(BARE_CM)  # every candidate still offered


def test_nearest_candidates_follow_the_distance_of_the_implied_longitude():
    # 640 km easting at 24.3°N is about 1.38° east of the CM: data at ≈109.4°E under CM 108.
    guess = guess_crs([640_000.0], [2_690_000.0], near_lon=108.9)
    assert guess.candidates[:4] == ("EPSG:4545", "EPSG:4544", "EPSG:4507", "EPSG:4546")


def test_first_coordinates_of_mixed_geometries():
    geometry = np.array(
        [
            shapely.Point(1, 2),
            shapely.box(10, 20, 11, 21),
            None,
            shapely.Polygon(),
            shapely.MultiPoint([(5, 6), (7, 8)]),
        ],
        dtype=object,
    )
    x, y = first_coordinates(geometry)
    np.testing.assert_array_equal(x, [1, 11, np.nan, np.nan, 5])  # box starts at its (maxx, miny)
    np.testing.assert_array_equal(y, [2, 20, np.nan, np.nan, 6])


# --------------------------------------------------------------------------- imports across the zones


def _codes(family: str, numbers) -> list[str]:
    return [epsg_by_name(f"{family} {n}") for n in numbers]


# (code, central meridian °E or None for degrees): every zone of every family the bureaus use.
IMPORT_CODES = [
    *[
        (c, 3 * z)
        for c, z in zip(_codes("CGCS2000 / 3-degree Gauss-Kruger zone", THREE_DEGREE_ZONES), THREE_DEGREE_ZONES)
    ],
    *[
        (c, m)
        for c, m in zip(
            _codes("CGCS2000 / 3-degree Gauss-Kruger CM", [f"{m}E" for m in range(75, 136, 3)]), range(75, 136, 3)
        )
    ],
    *[(c, 6 * z - 3) for c, z in zip(_codes("CGCS2000 / Gauss-Kruger zone", range(13, 24)), range(13, 24))],
    *[
        (c, m)
        for c, m in zip(_codes("CGCS2000 / Gauss-Kruger CM", [f"{m}E" for m in range(75, 136, 6)]), range(75, 136, 6))
    ],
    *[
        (c, 3 * z)
        for c, z in zip(_codes("Xian 1980 / 3-degree Gauss-Kruger zone", THREE_DEGREE_ZONES), THREE_DEGREE_ZONES)
    ],
    *[
        (c, 3 * z)
        for c, z in zip(_codes("Beijing 1954 / 3-degree Gauss-Kruger zone", THREE_DEGREE_ZONES), THREE_DEGREE_ZONES)
    ],
    (epsg_by_name("China Geodetic Coordinate System 2000"), 108),
]
LATITUDE = 30.0


def test_the_import_codes_are_the_ones_the_brief_names():
    codes = [code for code, _ in IMPORT_CODES]
    assert codes[:21] == [f"EPSG:{n}" for n in range(4513, 4534)]
    assert codes[21:42] == [f"EPSG:{n}" for n in range(4534, 4555)]
    assert codes[42:53] == [f"EPSG:{n}" for n in range(4491, 4502)]
    assert codes[53:64] == [f"EPSG:{n}" for n in range(4502, 4513)]
    assert codes[64:85] == [f"EPSG:{n}" for n in range(2349, 2370)]  # Xi'an 1980 3° zones 25–45
    assert codes[85:106] == [f"EPSG:{n}" for n in range(2401, 2422)]  # Beijing 1954 3° zones 25–45
    assert codes[106] == "EPSG:4490"


def districts_around(lon: float, lat: float, half_deg: float = 2.0) -> gpd.GeoDataFrame:
    """One district, a box of ``half_deg`` around (lon, lat), WGS84."""
    return gpd.GeoDataFrame(
        {"district_code": ["999001"], "district_name": ["测试区"], "district_name_en": ["Test"]},
        geometry=[shapely.box(lon - half_deg, lat - half_deg, lon + half_deg, lat + half_deg)],
        crs="EPSG:4326",
    )


def write_points_csv(path, x, y, x_header="x", y_header="y", row_crs=None):
    """Fitness paths at (x, y) under the given headers; ``row_crs`` fills a 坐标系 column, one cell per row."""
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["健身路径编号", "名称", x_header, y_header] + (["坐标系"] if row_crs else []))
        for i, (a, b) in enumerate(zip(x, y), start=1):
            cells = [f"FP{i:05d}", f"路径{i}", repr(float(a)), repr(float(b))]
            writer.writerow(cells + ([row_crs[i - 1]] if row_crs else []))
    return path


def write_polygons_gpkg(path, polygons):
    frame = gpd.GeoDataFrame(
        {
            "community_id": [f"999001-{i:04d}" for i in range(1, len(polygons) + 1)],
            "name": [f"小区{i}" for i in range(1, len(polygons) + 1)],
            "district_code": ["999001"] * len(polygons),
            "households": [100] * len(polygons),
            "population": [300] * len(polygons),
        },
        geometry=list(polygons),
        crs=None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyogrio warns that no CRS is written: that is the point
        frame.to_file(path, layer="communities", driver="GPKG", engine="pyogrio")
    return path


def gap_m(result_geometry, reference_geometry, lon, lat) -> float:
    """Largest distance in metres between corresponding vertices, measured in the UTM zone of (lon, lat)."""
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", utm_crs_for(lon, lat), always_xy=True)
    a = shapely.get_coordinates(np.asarray(result_geometry, dtype=object))
    b = shapely.get_coordinates(np.asarray(reference_geometry, dtype=object))
    assert a.shape == b.shape and len(a)
    ax, ay = to_utm.transform(a[:, 0], a[:, 1])
    bx, by = to_utm.transform(b[:, 0], b[:, 1])
    return float(np.max(np.hypot(ax - bx, ay - by)))


@pytest.mark.parametrize("code, meridian", IMPORT_CODES, ids=[code for code, _ in IMPORT_CODES])
def test_import_in_a_declared_official_crs_matches_proj(tmp_path, config, code, meridian):
    lons = np.array([meridian - 1.0, meridian, meridian + 1.0])
    lats = np.full(3, LATITUDE)
    to_file = pyproj.Transformer.from_crs("EPSG:4326", code, always_xy=True)
    from_file = pyproj.Transformer.from_crs(code, "EPSG:4326", always_xy=True)
    x, y = to_file.transform(lons, lats)
    districts = districts_around(meridian, LATITUDE)

    # Points in a CSV.
    result = import_file(write_points_csv(tmp_path / "points.csv", x, y), "fitness_paths", code, config, districts)
    assert (result.summary()["accepted"], result.summary()["rejected"]) == (3, 0), result.rejects
    assert result.crs == code and result.crs_assumed is False
    reference = shapely.points(*from_file.transform(x, y))
    assert gap_m(result.accepted.geometry.to_numpy(), reference, meridian, LATITUDE) < TOLERANCE_M

    # Polygons (≈200 m squares in the file's units) in a GeoPackage that has no CRS of its own.
    half = 0.001 if pyproj.CRS.from_user_input(code).is_geographic else 100.0
    squares = shapely.box(x - half, y - half, x + half, y + half)
    result = import_file(
        write_polygons_gpkg(tmp_path / "polygons.gpkg", squares), "communities", code, config, districts
    )
    assert (result.summary()["accepted"], result.summary()["rejected"]) == (3, 0), result.rejects
    assert result.summary()["crs"] == {"used": code, "assumed": False}
    reference = shapely.transform(squares, lambda xy: np.column_stack(from_file.transform(xy[:, 0], xy[:, 1])))
    assert gap_m(result.accepted.geometry.to_numpy(), reference, meridian, LATITUDE) < TOLERANCE_M


# --------------------------------------------------------------------------- imports that guess


def liuzhou_in(code: str, n: int = 3):
    """``n`` points around Liuzhou's centre in ``code``: (wgs84 lon, lat, x, y)."""
    lons = LIUZHOU[0] + np.linspace(-0.05, 0.05, n)
    lats = LIUZHOU[1] + np.linspace(-0.03, 0.03, n)
    x, y = pyproj.Transformer.from_crs("EPSG:4326", code, always_xy=True).transform(lons, lats)
    return lons, lats, x, y


def test_zone_prefixed_csv_without_crs_is_read_in_that_zone_with_a_warning(tmp_path, config):
    lons, lats, x, y = liuzhou_in("EPSG:4524")
    assert np.all((x > 36_000_000) & (x < 37_000_000))
    path = write_points_csv(tmp_path / "gk36.csv", x, y)
    result = import_file(path, "fitness_paths", None, config, districts_around(108.9, 24.3))
    assert result.summary()["accepted"] == 3
    assert result.summary()["crs"] == {"used": "EPSG:4524", "assumed": True}
    assert gap_m(result.accepted.geometry.to_numpy(), shapely.points(lons, lats), *LIUZHOU) < TOLERANCE_M
    guessed = [w for w in result.warnings if isinstance(w, Message) and w.key == "crs_guessed"]
    assert len(guessed) == 1 and "EPSG:4524" in guessed[0] and "gk36.csv" in guessed[0]
    assert "EPSG:4524" in said(guessed[0], "zh") and "未声明坐标系" in said(guessed[0], "zh")


def test_zone_prefixed_polygons_in_a_gpkg_without_crs_are_guessed_too(tmp_path, config):
    _, _, x, y = liuzhou_in("EPSG:4524")
    squares = shapely.box(x - 100, y - 100, x + 100, y + 100)
    result = import_file(
        write_polygons_gpkg(tmp_path / "gk.gpkg", squares), "communities", None, config, districts_around(108.9, 24.3)
    )
    assert result.summary()["accepted"] == 3 and result.crs == "EPSG:4524" and result.crs_assumed
    back = pyproj.Transformer.from_crs("EPSG:4524", "EPSG:4326", always_xy=True)
    reference = shapely.transform(squares, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))
    assert gap_m(result.accepted.geometry.to_numpy(), reference, *LIUZHOU) < TOLERANCE_M


def test_bare_eastings_without_crs_ask_for_it_naming_the_nearest_zone_first(tmp_path, config):
    _, _, x, y = liuzhou_in("EPSG:4545")
    path = write_points_csv(tmp_path / "bare.csv", x, y)
    with pytest.raises(DataError) as raised:
        import_file(path, "fitness_paths", None, config, districts_around(108.9, 24.3))
    message = raised.value.args[0]
    assert isinstance(message, Message) and message.key == "crs_guess_needed"
    english, chinese = str(raised.value), said(raised.value, "zh")
    assert re.search(r"most likely EPSG:4545 \(CGCS2000 3° zones, central meridian 108°E\)", english)
    assert "--crs" in english and "bare.csv" in english
    assert "最可能是 EPSG:4545" in chinese and "中央经线 108°E" in chinese
    # Declared, the same file imports.
    result = import_file(path, "fitness_paths", "EPSG:4545", config, districts_around(108.9, 24.3))
    assert result.summary()["accepted"] == 3 and result.summary()["crs"] == {"used": "EPSG:4545", "assumed": False}


def test_mixed_zone_numbers_ask_for_the_crs_listing_both_zones(tmp_path, config):
    _, _, x, y = liuzhou_in("EPSG:4524")
    x[1] += 1_000_000  # one row says zone 37
    path = write_points_csv(tmp_path / "mixed.csv", x, y)
    with pytest.raises(DataError, match=r"different zone numbers \(36, 37\).*most likely EPSG:4524.*EPSG:4525"):
        import_file(path, "fitness_paths", None, config, districts_around(108.9, 24.3))


def test_surveyors_northing_first_columns_are_exchanged_with_a_warning(tmp_path, config):
    lons, lats, x, y = liuzhou_in("EPSG:4524")
    # Chinese surveys call the northing X: the file's "X" column holds northings, "Y" eastings.
    path = write_points_csv(tmp_path / "xy.csv", y, x, x_header="X", y_header="Y")
    result = import_file(path, "fitness_paths", None, config, districts_around(108.9, 24.3))
    assert result.summary()["accepted"] == 3 and result.crs == "EPSG:4524"
    assert gap_m(result.accepted.geometry.to_numpy(), shapely.points(lons, lats), *LIUZHOU) < TOLERANCE_M
    (guessed,) = [w for w in result.warnings if getattr(w, "key", "") == "crs_guessed"]
    assert "northing (X) first" in guessed and "先北坐标（X）" in said(guessed, "zh")


def test_declared_projected_crs_with_northing_first_columns_is_exchanged_with_a_warning(tmp_path, config):
    lons, lats, x, y = liuzhou_in("EPSG:4545")
    path = write_points_csv(tmp_path / "xy.csv", y, x)
    result = import_file(path, "fitness_paths", "EPSG:4545", config, districts_around(108.9, 24.3))
    assert result.summary()["accepted"] == 3 and result.summary()["crs"] == {"used": "EPSG:4545", "assumed": False}
    assert gap_m(result.accepted.geometry.to_numpy(), shapely.points(lons, lats), *LIUZHOU) < TOLERANCE_M
    assert [getattr(w, "key", "") for w in result.warnings].count("crs_columns_swapped") == 1


def test_degrees_without_crs_are_wgs84_assumed_and_not_warned_about(tmp_path, config):
    lons, lats, _, _ = liuzhou_in("EPSG:4545")
    result = import_file(
        write_points_csv(tmp_path / "deg.csv", lons, lats), "fitness_paths", None, config, districts_around(108.9, 24.3)
    )
    assert result.summary()["accepted"] == 3 and result.summary()["crs"] == {"used": "wgs84", "assumed": True}
    assert not [w for w in result.warnings if getattr(w, "key", "").startswith("crs_")]


def test_a_file_with_its_own_crs_is_not_guessed(tmp_path, config):
    _, _, x, y = liuzhou_in("EPSG:4545")  # bare eastings: a guess would refuse them
    frame = gpd.read_file(write_polygons_gpkg(tmp_path / "a.gpkg", shapely.box(x - 100, y - 100, x + 100, y + 100)))
    frame.set_crs("EPSG:4545").to_file(tmp_path / "own.gpkg", layer="communities", driver="GPKG", engine="pyogrio")
    result = import_file(tmp_path / "own.gpkg", "communities", None, config, districts_around(108.9, 24.3))
    assert result.summary()["accepted"] == 3 and result.summary()["crs"] == {"used": "EPSG:4545", "assumed": False}
    assert not [w for w in result.warnings if getattr(w, "key", "").startswith("crs_guess")]


def test_coordinates_that_look_like_nothing_are_left_to_the_row_checks(tmp_path, config):
    path = write_points_csv(tmp_path / "odd.csv", [109.4, 640_000.0, 109.41], [24.3, 2_690_000.0, 24.31])
    result = import_file(path, "fitness_paths", None, config, districts_around(108.9, 24.3))
    assert (result.summary()["accepted"], result.summary()["rejected"]) == (2, 1)
    assert set(result.rejects["reason_code"]) == {"outside_city"}


def test_a_crs_column_naming_one_system_for_every_row_is_used_not_guessed(tmp_path, config):
    lons, lats, x, y = liuzhou_in("EPSG:4524")
    path = write_points_csv(tmp_path / "col.csv", x, y, row_crs=["EPSG:4524"] * 3)
    result = import_file(path, "fitness_paths", None, config, districts_around(108.9, 24.3))
    assert result.summary()["accepted"] == 3 and result.summary()["crs"] == {"used": "EPSG:4524", "assumed": False}
    assert not [w for w in result.warnings if getattr(w, "key", "").startswith("crs_guess")]
    assert gap_m(result.accepted.geometry.to_numpy(), shapely.points(lons, lats), *LIUZHOU) < TOLERANCE_M


def test_a_crs_column_mixing_systems_reports_the_default_as_assumed(tmp_path, config):
    lons, lats, x, y = liuzhou_in("EPSG:4524")
    path = write_points_csv(
        tmp_path / "mixed_col.csv", [lons[0], x[1], x[2]], [lats[0], y[1], y[2]], row_crs=["", "EPSG:4524", "EPSG:4524"]
    )
    result = import_file(path, "fitness_paths", None, config, districts_around(108.9, 24.3))
    assert result.summary()["accepted"] == 3 and result.summary()["crs"] == {"used": "wgs84", "assumed": True}
    assert gap_m(result.accepted.geometry.to_numpy(), shapely.points(lons, lats), *LIUZHOU) < TOLERANCE_M
