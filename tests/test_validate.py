"""Validation rules one by one, on small frames whose right answer is obvious on paper."""

from __future__ import annotations

import datetime
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from geo.config import BOUNDARIES_PATH
from geo.data.io import read_districts, read_raw_layer
from geo.intake import validate as v

TODAY = datetime.date(2024, 6, 1)


@pytest.fixture(scope="module")
def districts():
    return read_districts(BOUNDARIES_PATH)


def codes(issues: pd.DataFrame) -> dict[int, list[str]]:
    return issues.groupby("position")["code"].apply(list).to_dict()


# --------------------------------------------------------------------------- geometry


def test_swapped_coordinates_are_exchanged_only_when_that_lands_in_the_city(districts):
    geometry = np.array([Point(109.45, 24.37), Point(24.37, 109.45), Point(108.32, 22.82), None], dtype=object)
    fixed, swapped = v.swapped_coordinates(geometry, np.array([True, True, True, False]), districts.total_bounds)
    assert swapped.tolist() == [False, True, False, False]
    assert fixed[1].equals(Point(109.45, 24.37)) and fixed[2].equals(Point(108.32, 22.82))


def test_swapped_polygon_is_exchanged_vertex_by_vertex(districts):
    square = shapely.box(109.45, 24.37, 109.46, 24.38)
    flipped = shapely.transform(square, lambda c: c[:, ::-1])
    fixed, swapped = v.swapped_coordinates(np.array([flipped], dtype=object), np.array([True]), districts.total_bounds)
    assert swapped.tolist() == [True] and fixed[0].normalize().equals(square.normalize())


def test_repair_keeps_a_spike_free_polygon_and_rejects_a_bowtie():
    spike = Polygon([(0, 0), (10, 0), (10, 10), (5, 10), (5, 15), (5, 10), (0, 10)])
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    valid = shapely.box(0, 0, 1, 1)
    geometry = np.array([spike, bowtie, valid, Point(0, 0)], dtype=object)
    fixed, issues, repaired = v.repair_polygons(geometry, np.ones(4, dtype=bool), 0.05)
    assert repaired.tolist() == [True, False, False, False]
    assert fixed[0].is_valid and fixed[0].area == 100 and fixed[2] is valid
    assert codes(issues) == {1: ["invalid_geometry"]}
    assert "over 100%" in issues["en"].iloc[0]
    # GEOS's reason is said in each language, with the place it names.
    assert "Self-intersection[0.5 0.5]" in issues["en"].iloc[0]
    assert issues["zh"].iloc[0] == (
        "图形无效且无法修复：多边形无效（边界自相交[0.5 0.5]），修复后面积变化 超过 100%（允许 5%），请修正边界"
    )


def test_a_rejected_rows_chinese_reason_has_no_english_phrase_of_ours():
    """Every detail comes from the catalogues: the Chinese reason holds no phrase of the English one
    (only the file's own words: headers, values, geometry type names)."""
    geometry = np.array([LineString([(0, 0), (1, 1)]), Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])], dtype=object)
    _fixed, wrong_type, _ = v.geometry_types(geometry, "fitness_paths", np.ones(2, dtype=bool))
    _fixed, invalid, _ = v.repair_polygons(geometry, np.ones(2, dtype=bool), 0.05)
    for issues in (wrong_type, invalid):
        for zh in issues["zh"]:
            assert not re.search(r"\b(but|must|invalid|polygon|repair|area|allowed|or)\b", zh), zh
    assert wrong_type["zh"].iloc[0] == "图形类型不符：图形为 LineString，健身路径图层只接受 Point"


@pytest.mark.parametrize("limit, kept", [(0.05, True), (0.005, False)])
def test_repair_is_kept_only_within_the_area_tolerance(limit, kept):
    hole_outside = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(20, 20), (21, 20), (21, 21)]])  # 99.5 → 100.5: 1 %
    _fixed, issues, repaired = v.repair_polygons(np.array([hole_outside], dtype=object), np.array([True]), limit)
    assert repaired.tolist() == [kept]
    assert len(issues) == (0 if kept else 1)
    if not kept:
        assert "changes its area by 1%" in issues["en"].iloc[0]


def test_geometry_types_reject_a_line_and_take_a_one_point_multipoint():
    geometry = np.array(
        [Point(1, 1), MultiPoint([(2, 2)]), LineString([(0, 0), (1, 1)]), MultiPoint([(0, 0), (1, 1)])], dtype=object
    )
    fixed, issues, wrong = v.geometry_types(geometry, "fitness_paths", np.ones(4, dtype=bool))
    assert wrong.tolist() == [False, False, True, True]
    assert fixed[1].equals(Point(2, 2))
    assert issues["en"].tolist()[0].endswith("a LineString, but fitness_paths must be Point")


def test_empty_geometry_is_not_reported_twice_for_an_unreadable_coordinate():
    geometry = np.array([None, Polygon(), Point(1, 1), None], dtype=object)
    issues, absent = v.empty_geometry(geometry, np.array([False, False, False, True]), "fitness_paths", from_table=True)
    assert absent.tolist() == [True, True, False, True]
    assert codes(issues) == {0: ["empty_geometry"], 1: ["empty_geometry"]}
    assert issues["en"].iloc[0] == "empty geometry: longitude/latitude (经度/纬度) are empty"


def test_outside_city_allows_two_kilometres(districts):
    utm = districts.to_crs("EPSG:32649")
    city = shapely.union_all(utm.geometry.to_numpy())
    coords = shapely.get_coordinates(city)
    west = coords[np.argmin(coords[:, 0])]  # nothing of the city lies west of this vertex
    offsets = [0.0, 1000.0, 1900.0, 2100.0, 3000.0]
    points = gpd.GeoSeries([Point(west[0] - d, west[1]) for d in offsets], crs="EPSG:32649").to_crs("EPSG:4326")
    issues = v.outside_city(points.to_numpy(), np.ones(5, dtype=bool), districts)
    assert sorted(codes(issues)) == [3, 4]
    assert "more than 2 km outside" in issues["en"].iloc[0]


def test_to_wgs84_rejects_what_is_not_degrees_and_projects_epsg_rows():
    utm = gpd.GeoSeries([Point(109.45, 24.37)], crs="EPSG:4326").to_crs("EPSG:32649").iloc[0]
    geometry = np.array([Point(109.45, 24.37), Point(500000, 2690000), utm], dtype=object)
    row_crs = pd.Series(["wgs84", "gcj02", "EPSG:32649"], dtype=object)
    converted_geometry, issues, converted = v.to_wgs84(geometry, row_crs, np.ones(3, dtype=bool), None)
    assert converted.tolist() == [True, False, True]
    assert codes(issues) == {1: ["outside_city"]}
    assert "(500000.000000, 2690000.000000) are not longitude/latitude degrees" in issues["en"].iloc[0]
    assert converted_geometry[2].distance(Point(109.45, 24.37)) < 1e-9


# --------------------------------------------------------------------------- coordinate systems


def test_row_crs_column_overrides_the_declaration_and_unknown_names_are_rejected():
    frame = pd.DataFrame({"crs": pd.array(["WGS-84", None, "百度", "北京54"], dtype="string")})
    row_crs, issues, warnings = v.coordinate_systems(frame, {"crs": "坐标系"}, "GCJ-02", None, "f")
    assert row_crs.tolist() == ["wgs84", "gcj02", "bd09", None]
    assert codes(issues) == {3: ["unknown_crs"]} and warnings == []
    assert issues["zh"].iloc[0].startswith("坐标系无法识别：坐标系：“北京54”")


def test_file_crs_wins_with_a_warning():
    frame = pd.DataFrame({"x": [1, 2]})
    row_crs, issues, warnings = v.coordinate_systems(frame, {}, "gcj02", "EPSG:32649", "f.zip")
    assert row_crs.tolist() == ["file", "file"] and len(issues) == 0
    assert warnings == [
        "f.zip: the file's own coordinate system (EPSG:32649, from its .prj or header) is used; "
        "the declared gcj02 is ignored"
    ]
    row_crs, _, warnings = v.coordinate_systems(frame, {}, "EPSG:32649", "EPSG:4326", "f.geojson")
    assert row_crs.tolist() == ["wgs84", "wgs84"] and "declared EPSG:32649 is ignored" in warnings[0]
    row_crs, _, warnings = v.coordinate_systems(frame, {}, "gcj02", "EPSG:4326", "f.geojson")
    assert row_crs.tolist() == ["gcj02", "gcj02"] and warnings == []  # GeoJSON cannot say GCJ-02
    _, _, warnings = v.coordinate_systems(frame, {}, "EPSG:32649", "EPSG:32649", "f.gpkg")
    assert warnings == []  # a declaration that agrees is no news


# --------------------------------------------------------------------------- attributes


def test_district_name_fills_code_and_code_fills_name(districts):
    frame = pd.DataFrame(
        {
            "district_code": pd.array([None, "450203", "450204", None, "450299", None], dtype="string"),
            "district_name": pd.array(["城中区", None, "Liunan District", "城中", None, None], dtype="string"),
        }
    )
    filled, issues, handled = v.district_fields(frame, districts, {})
    assert filled["district_code"].tolist()[:3] == ["450202", "450203", "450204"]
    assert filled["district_name"].tolist()[:3] == ["城中区", "鱼峰区", "柳南区"]
    assert codes(issues) == {3: ["unknown_district"], 4: ["unknown_district"]}
    assert "did you mean 城中区?" in issues["en"].iloc[1]
    assert handled.tolist() == [False, False, False, True, True, False]  # row 6 is left to missing_required


def test_district_name_and_code_that_disagree(districts):
    frame = pd.DataFrame(
        {"district_code": pd.array(["450203"], dtype="string"), "district_name": pd.array(["城中区"], dtype="string")}
    )
    _, issues, _ = v.district_fields(frame, districts, {"district_name": "区县"})
    assert issues["en"].tolist() == [
        "district name and code disagree: 区县 (district_name) '城中区' has code 450202, not 450203"
    ]


def test_coded_values_accept_chinese_words_and_reject_others():
    frame = pd.DataFrame(
        {
            "condition": pd.array(["好", " Good ", "损坏", "一般", "很好", None], dtype="string"),
            "funding_source": pd.array(["体彩公益金", "市本级", "自治区", "开发商", "lottery", None], dtype="string"),
        }
    )
    coded, issues = v.coded_values(frame, {"condition": "状况"})
    assert coded["condition"].tolist() == ["good", "good", "poor", "fair", pd.NA, pd.NA]
    assert coded["funding_source"].tolist() == ["lottery", "city", "region", "developer", "lottery", pd.NA]
    assert codes(issues) == {4: ["invalid_value"]}


def test_implausible_values_and_their_boundaries():
    frame = pd.DataFrame(
        {
            "population": pd.array([0, -1, 10, 10, 10], dtype="Int64"),
            "share_60plus": [0.0, 1.0, 1.01, 0.5, None],
            "share_under14": [1.0, 0.0, 0.0, 0.6, 0.1],
            "built_year": pd.array([1900, TODAY.year, 1899, TODAY.year + 1, None], dtype="Int64"),
        }
    )
    issues = v.implausible_values(frame, {}, TODAY)
    assert codes(issues) == {
        1: ["implausible_value"],
        2: ["implausible_value", "implausible_value"],
        3: ["implausible_value", "implausible_value"],
    }
    text = " | ".join(issues["en"])
    assert "人口 (population) = -1: cannot be negative" in text
    assert "share_60plus + share_under14 exceed 1" in text
    assert f"between 1900 and {TODAY.year}" in text


def test_duplicates_name_the_first_row():
    frame = pd.DataFrame({"path_id": pd.array(["A", "B", " A", "A", None, None], dtype="string")})
    issues = v.duplicate_ids(frame, "path_id", {"path_id": "编号"}, np.arange(2, 8), ("第 ", "row", " 行"))
    assert sorted(codes(issues)) == [2, 3]
    assert issues["en"].tolist()[0] == "duplicate ID: 编号 (path_id) 'A' was already given on row 2 (the first is kept)"
    assert issues["zh"].tolist()[0] == "编号重复：编号“A”与第 2 行重复（保留首次出现的一行）"


def test_missing_required_skips_cells_already_reported():
    frame = pd.DataFrame({"path_id": pd.array([None, " ", None, "P"], dtype="string")})
    issues = v.missing_required(
        frame, "fitness_paths", {"path_id": "健身路径编号"}, {"path_id": np.array([False, False, True, False])}
    )
    assert codes(issues) == {0: ["missing_required"], 1: ["missing_required"]}
    assert issues["en"].iloc[0] == "missing required field: 健身路径编号 (path_id)"


# --------------------------------------------------------------------------- the whole check


def test_validate_layer_accounts_for_every_row(tmp_path, districts):
    (tmp_path / "p.csv").write_text(
        "健身路径编号,状况,经度,纬度\n"
        "P1,好,109.41,24.33\n"
        "P1,差,109.42,24.34\n"  # duplicate
        "P3,很好,24.35,109.43\n"  # unknown condition; swapped (fixed, but rejected anyway)
        "P4,一般,,\n"  # no coordinates
        "P5,一般,109.44,24.36\n",
        encoding="utf-8",
    )
    raw = read_raw_layer(tmp_path / "p.csv", "fitness_paths")
    accepted, rejects, report = v.validate_layer(raw, "fitness_paths", districts, today=TODAY)
    assert report["input_rows"] == 5 and report["accepted"] + report["rejected"] == 5
    assert accepted.index.tolist() == [2, 6] and accepted.crs == "EPSG:4326"
    assert accepted["condition"].tolist() == ["good", "fair"]
    assert rejects["sheet_row"].tolist() == [3, 4, 5]
    assert rejects["reason_code"].tolist() == ["duplicate_id", "invalid_value", "empty_geometry"]
    assert rejects["健身路径编号"].tolist() == ["P1", "P3", "P4"]  # original cells kept
    assert report["warnings"] == [
        "row 4: longitude and latitude were swapped; exchanged back (check the columns 经度/纬度)"
    ]


def test_reason_codes_have_both_languages():
    for code, (zh, en) in v.REASONS.items():
        assert zh and en and code.isidentifier()


def test_a_community_is_located_by_coordinates_or_by_its_id(tmp_path, districts):
    (tmp_path / "c.csv").write_text(
        "小区编号,名称,区县,人口,经度,纬度\n"
        "C1,甲,城中区,100,109.458,24.3704\n"
        ",乙,城中区,,109.459,24.3705\n"  # new community, population unknown: accepted
        "C3,丙,鱼峰区,300,,\n"  # known community, no coordinates: accepted
        ",丁,鱼峰区,400,,\n",  # neither: nowhere to put it
        encoding="utf-8",
    )
    raw = read_raw_layer(tmp_path / "c.csv", "communities")
    accepted, rejects, report = v.validate_layer(raw, "communities", districts, today=TODAY)
    assert accepted.index.tolist() == [2, 3, 4] and accepted.geometry.isna().tolist() == [False, False, True]
    assert rejects["reason_code"].tolist() == ["empty_geometry"]
    assert report["warnings"] == [
        "row 3: no community ID (小区编号): taken as new communities, to be given an ID by the merge",
        "row 4: no coordinates: located by their community ID (the city's outline is kept)",
        "row 3: no population given: estimated from households or land area and marked as an estimate "
        "(population_source; rules in config.toml [intake])",
    ]
