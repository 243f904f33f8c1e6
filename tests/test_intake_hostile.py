"""The new-city intake holds against hostile input: every row kept or rejected with its reason, never a crash.

Files are tests/othercity.py's Hefei survey (12 communities, CSV rows 2–13, GK zone 39), altered
cell by cell; the right answers are worked in each test.
"""

from __future__ import annotations

import pickle

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.data.headers import _rename_recognised, _to_int
from geo.data.io import read_applications
from geo.errors import DataError, said
from geo.intake.estimate import estimate_population
from geo.intake.newcity import NoCommunityAccepted, build_city, districts_from_communities, with_ids
from tests import othercity


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return othercity.write_files(tmp_path_factory.mktemp("hefei"))


@pytest.fixture
def table(files):
    return pd.read_csv(files["communities"], dtype=str, keep_default_na=False, encoding="utf-8-sig")


def written(table: pd.DataFrame, path) -> str:
    table.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def build(path, **options):
    return build_city(path, crs=othercity.GK_WITH_ZONE, **options)


# --------------------------------------------------------------------------- 1, 6: nothing accepted


def test_rows_with_an_id_but_no_geometry_are_rejected_and_nothing_accepted_carries_the_results(table, tmp_path):
    table["WKT"] = ""
    table["小区编号"] = [f"C{i}" for i in range(12)]
    with pytest.raises(NoCommunityAccepted) as raised:
        build(written(table, tmp_path / "无图形.csv"))
    error = raised.value
    assert isinstance(error, DataError) and error.args[0].key == "no_community_accepted"
    result = error.results["communities"]
    assert result.input_rows == 12 and result.accepted.empty
    assert result.rejects["sheet_row"].tolist() == list(range(2, 14))
    assert set(result.rejects["reason_code"]) == {"empty_geometry"}
    assert result.rejects["小区编号"].tolist() == [f"C{i}" for i in range(12)]  # the user's cells, under their header
    assert "小区编号" in result.rejects["reason_zh"].iloc[0]
    again = pickle.loads(pickle.dumps(error))  # crosses the import's child process whole
    assert again.results["communities"].input_rows == 12 and str(again) == str(error)


@pytest.mark.parametrize("with_districts", [True, False])
def test_a_row_with_an_id_but_no_geometry_is_rejected_among_accepted_ones(files, table, tmp_path, with_districts):
    table["小区编号"] = [f"C{i}" for i in range(12)]
    table.loc[2, "WKT"] = ""  # sheet row 4
    options = {"districts": files["districts"]} if with_districts else {}
    city = build(written(table, tmp_path / "c.csv"), **options)
    result = city.results["communities"]
    assert len(result.accepted) == 11 and result.accepted_rows.tolist() == [2, 3, *range(5, 14)]
    assert result.rejects["sheet_row"].tolist() == [4] and result.rejects["小区编号"].tolist() == ["C2"]
    assert result.rejects["小区名称"].tolist() == ["测试小区2"]
    assert "C2" not in city.city.communities["community_id"].tolist()
    assert not city.city.communities.geometry.isna().any()


def test_the_geometry_column_mapped_to_the_name_rejects_every_row_instead_of_failing(table, tmp_path):
    path = written(table, tmp_path / "c.csv")
    with pytest.raises(NoCommunityAccepted) as raised:
        build(path, column_map={"communities": {"name": "WKT"}})
    rejects = raised.value.results["communities"].rejects
    assert len(rejects) == 12 and set(rejects["reason_code"]) == {"empty_geometry"}


def test_no_community_inside_the_districts_file_is_nothing_accepted(table, tmp_path):
    far = gpd.GeoDataFrame({"区划代码": ["450202"], "行政区名称": ["城中区"]}, geometry=[box(109.3, 24.2, 109.5, 24.4)])
    districts = tmp_path / "区县.geojson"
    far.set_crs(4326).to_file(districts, driver="GeoJSON")
    with pytest.raises(NoCommunityAccepted) as raised:
        build(written(table, tmp_path / "c.csv"), districts=districts)
    rejects = raised.value.results["communities"].rejects
    assert len(rejects) == 12 and rejects["reason_code"].str.startswith("outside_city").all()


# --------------------------------------------------------------------------- 2: implausible values


def test_implausible_counts_and_areas_are_rejected_per_row(table, tmp_path):
    table["population"] = ""
    table.loc[0, "population"] = "10000001"  # sheet row 2: above 10,000,000
    table.loc[1, "population"] = "10000000"  # sheet row 3: the limit itself is kept
    table["land_area_m2"] = ""
    table.loc[2, "land_area_m2"] = "100000001"  # sheet row 4: above 100 km²
    table["open_space_m2"] = ""
    table.loc[3, "open_space_m2"] = "1e9"  # sheet row 5
    table.loc[4, "户数（户）"] = "1e20"  # sheet row 6: beyond int64, a bad cell
    table["existing_sets"] = ""
    table.loc[5, "existing_sets"] = "1000000000"  # sheet row 7: a billion points would be made of it
    table.loc[7, "existing_sets"] = "2"  # sheet row 9: kept
    table.loc[6, "户数（户）"] = "9223372036854775808"  # sheet row 8: 2**63, a bad cell
    result = build(written(table, tmp_path / "c.csv")).results["communities"]
    rejects = result.rejects.set_index("sheet_row")["reason_code"].to_dict()
    assert rejects == {
        2: "implausible_value",
        4: "implausible_value",
        5: "implausible_value",
        6: "wrong_type",
        7: "implausible_value",
        8: "wrong_type",
    }
    assert "above 10,000,000" in result.rejects["reason_en"].iloc[0]
    assert "超过 100,000,000" in result.rejects["reason_zh"].iloc[1]
    kept = result.accepted.set_index("name")
    assert kept.loc["测试小区1", "population"] == 10_000_000


def test_a_whole_number_beyond_int64_is_a_bad_cell_not_a_crash():
    values, bad = _to_int(pd.Series(["9223372036854775808", "1e20", "12", "", "-1e19"], dtype=object))
    assert bad.tolist() == [True, True, False, False, True]
    assert values.isna().tolist() == [True, True, False, True, True] and values.iloc[2] == 12


def test_the_estimate_never_gives_a_negative_or_overflowing_population():
    frame = gpd.GeoDataFrame(
        {
            "population": pd.array([pd.NA, pd.NA, pd.NA], dtype="Int64"),
            "households": pd.array([1000, 4_000_000_000_000_000_000, -5], dtype="Int64"),
        },
        geometry=[None, None, None],
        crs=4326,
    )
    out = estimate_population(frame, persons_per_household=2.62, residents_per_hectare=400)
    assert out["population"].tolist()[0] == 2620  # 1,000 × 2.62
    assert out["population"].isna().tolist() == [False, True, True]
    assert out["population_source"].tolist()[0] == "households" and out["population_source"].isna().tolist()[1:] == [
        True,
        True,
    ]


# --------------------------------------------------------------------------- 3: made IDs


def test_a_made_id_never_repeats_a_given_one():
    frame = gpd.GeoDataFrame(
        {"community_id": pd.array(["R00003", None, None], dtype="string")}, geometry=[None] * 3, crs=4326
    )
    out = with_ids(frame, np.array([2, 3, 4]))
    assert out["community_id"].tolist() == ["R00003", "R00003-2", "R00004"]


# --------------------------------------------------------------------------- 4: applications


def test_mapped_applications_go_through_the_same_checks(tmp_path):
    path = tmp_path / "申请.csv"
    path.write_bytes("编号,日期,community_id\nC1,2018/9/1,旧\nC9,2019/1/15,旧\n".encode("gbk"))
    frame = read_applications(path, column_map={"community_id": "编号", "application_date": "日期"})
    assert frame["community_id"].tolist() == ["C1", "C9"]
    assert frame["application_date"].tolist() == [pd.Timestamp("2018-09-01"), pd.Timestamp("2019-01-15")]
    assert frame["community_id (file)"].tolist() == ["旧", "旧"]  # the file's own column stepped aside
    path.write_text("编号,日期\nC1,2018-09-01\nC2,soon\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"row 2.*'soon'"):
        read_applications(path, column_map={"community_id": "编号", "application_date": "日期"})
    with pytest.raises(DataError, match=r"no column '申请日'.*'编号', '日期'"):
        read_applications(path, column_map={"community_id": "编号", "application_date": "申请日"})
    with pytest.raises(DataError, match=r"'application_date' is missing; its columns are '编号', '日期'"):
        read_applications(path, column_map={"community_id": "编号"})


def test_applications_naming_unknown_communities_are_said(table, tmp_path):
    table["小区编号"] = [f"C{i}" for i in range(12)]
    applications = tmp_path / "申请.csv"
    applications.write_text("编号,日期\nC1,2018-09-01\nX7,2019-01-15\nX8,2019-02-01\n", encoding="utf-8")
    city = build(
        written(table, tmp_path / "c.csv"),
        applications=applications,
        column_map={"applications": {"community_id": "编号", "application_date": "日期"}},
    )
    [warning] = [w for w in city.warnings if w.key == "applications_unknown_ids"]
    assert warning.values == {"count": 2, "ids": "X7, X8"}
    assert "X7, X8" in said(warning, "zh")


# --------------------------------------------------------------------------- 5: columns renamed aside


def test_a_column_renamed_aside_never_takes_an_existing_name():
    frame = pd.DataFrame({"小区名称": ["甲"], "name": ["乙"], "name (file)": ["丙"]})
    renamed, headers = _rename_recognised(frame, "communities", column_map={"name": "小区名称"}, label="f")
    assert list(renamed.columns) == ["name", "name (file 2)", "name (file)"]
    assert renamed.iloc[0].tolist() == ["甲", "乙", "丙"] and headers["name"] == "小区名称"


# --------------------------------------------------------------------------- 7, 8: districts drawn


def _points(codes, names, xs_km):
    """Communities at ``xs_km`` km east of 117.2° E, 31.8° N (EPSG:4326), with their district cells."""
    utm = gpd.GeoSeries([Point(x * 1000, 0) for x in xs_km], crs=32650)
    origin = gpd.GeoSeries([Point(117.2, 31.8)], crs=4326).to_crs(32650).iloc[0]
    shifted = utm.translate(origin.x, origin.y).buffer(50, cap_style="square").to_crs(4326)
    return gpd.GeoDataFrame(
        {"district_code": pd.array(codes, dtype="string"), "district_name": pd.array(names, dtype="string")},
        geometry=shifted.to_numpy(),
        crs=4326,
    )


def test_a_name_given_with_and_without_its_code_is_one_district():
    communities = _points(["340104", None, "340111", None], ["蜀山区", "蜀山区", "包河区", "包河区"], [0, 1, 3, 4])
    out, districts, source, warnings = districts_from_communities(communities)
    assert source == "column" and sorted(districts["district_code"]) == ["340104", "340111"]
    assert out["district_code"].tolist() == ["340104", "340104", "340111", "340111"]
    assert warnings == []


def test_a_code_with_two_names_is_said_naming_both():
    communities = _points(["340104", "340104"], ["蜀山区", "蜀山"], [0, 1])
    out, districts, _, warnings = districts_from_communities(communities)
    assert len(districts) == 1 and out["district_name"].tolist() == ["蜀山区", "蜀山区"]
    [warning] = warnings
    assert warning.key == "district_code_two_names"
    assert warning.values == {"code": "340104", "names": "蜀山区, 蜀山", "kept": "蜀山区"}


def test_rows_without_a_district_are_said_with_where_they_went(files):
    city = build(files["communities"])
    [warning] = [w for w in city.warnings if w.key == "rows_district_nearest"]
    # Community 5 (sheet row 7) names no district; it lies 250 m from 蜀山区's others.
    assert warning.values == {"count": 1, "placed": "7 → 蜀山区"}
    assert "第" not in str(warning) and "7 → 蜀山区" in said(warning, "zh")


def test_a_community_far_from_the_others_is_outside_the_city(table, tmp_path):
    wkt = table.loc[3, "WKT"]  # easting 39xxxxxx: 100 km east moves it by 100,000 m
    ring = [pair.split() for pair in wkt[wkt.index("((") + 2 : wkt.index("))")].split(",")]
    moved = ", ".join(f"{float(x) + 100_000:.3f} {y}" for x, y in ring)
    table.loc[3, "WKT"] = f"POLYGON (({moved}))"
    city = build(written(table, tmp_path / "c.csv"))
    result = city.results["communities"]
    assert result.rejects["sheet_row"].tolist() == [5] and result.rejects["reason_code"].tolist() == ["outside_city"]
    assert "more than 50 km" in result.rejects["reason_en"].iloc[0]
    # The median easting of the 12 is between communities 6 and 7 (2,250 and 2,550 m from the west edge,
    # + 75 to the middle): 2,400; community 3 now lies at 1,150 + 100,000 + 75: 98.8 km from it.
    assert "is 99 km from the middle" in result.rejects["reason_en"].iloc[0]
    minx, _, maxx, _ = city.city.districts.to_crs(32650).total_bounds
    assert maxx - minx < 5_000  # the outlines stay around the city (4 km of communities)


# --------------------------------------------------------------------------- 9: the file's population_source


@pytest.mark.parametrize("with_population", [True, False])
def test_the_files_own_population_source_is_kept_aside(table, tmp_path, with_population):
    table["population_source"] = "2020年人口普查"
    if with_population:
        table["population"] = "1500"
    city = build(written(table, tmp_path / "c.csv"))
    communities = city.city.communities
    assert communities["population_source (file)"].tolist() == ["2020年人口普查"] * 12
    expected = ["surveyed"] * 12 if with_population else ["area" if i % 3 == 2 else "households" for i in range(12)]
    assert communities["population_source"].tolist() == expected
