"""The survey template's 公共场地 / Public sites sheet (issue 15): offices propose sites; the filled sheet imports."""

from __future__ import annotations

import io

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from geo.config import BOUNDARIES_PATH
from geo.data.io import read_districts
from geo.intake.importer import import_file
from geo.intake.template import (
    INSTRUCTIONS_SHEET,
    SITE_COLUMNS,
    SITES_SHEET,
    SURVEY_SHEET,
    site_consent_words,
    site_headers,
    site_kind_words,
    survey_template_bytes,
)
from tests.helpers import workbook_cells


@pytest.fixture(scope="module")
def districts():
    return read_districts(BOUNDARIES_PATH)


def book(districts, lang):
    return openpyxl.load_workbook(io.BytesIO(survey_template_bytes(districts, lang=lang)))


def checks(sheet) -> dict[str, object]:
    """Column name → its data validation on the sites sheet."""
    by_letter = {str(v.sqref).split(":")[0].rstrip("0123456789"): v for v in sheet.data_validations.dataValidation}
    return {c.name: by_letter.get(get_column_letter(i)) for i, c in enumerate(SITE_COLUMNS, start=1)}


def test_the_sites_sheet_has_chinese_headers_and_the_kind_and_consent_lists(districts):
    workbook = book(districts, "zh")
    sheet = workbook[SITES_SHEET["zh"]]
    assert SITES_SHEET["zh"] == "公共场地" and sheet.sheet_state == "visible"
    headers = [c.value for c in sheet[1]]
    assert (
        headers
        == site_headers("zh")
        == [
            "场地编号",
            "场地名称",
            "场地类型",
            "经度",
            "纬度",
            "坐标系",
            "可用面积（平方米）",
            "产权或管理单位",
            "产权方是否同意",
            "备注",
        ]
    )
    assert sheet.max_row == 1  # no example row an office could send back
    found = checks(sheet)
    assert found["site_kind"].formula1 == '"口袋公园,公园,广场,绿道,学校操场（对外开放）,街角空地,其他"'
    assert found["consent"].formula1 == '"是,否,未知"'
    assert found["usable_area_m2"].operator == "greaterThanOrEqual" and found["longitude"].type == "decimal"
    assert all(found[name] is None for name in ("site_id", "site_name", "owner", "site_notes"))


def test_the_instructions_list_the_words_and_a_worked_example(districts):
    for lang in ("zh", "en"):
        content = survey_template_bytes(districts, lang=lang)
        rows = workbook_cells(content)[INSTRUCTIONS_SHEET[lang]]  # no formula or error cell anywhere
        text = "\n".join(str(cell) for row in rows for cell in row if cell is not None)
        for word in site_kind_words(lang) + site_consent_words(lang):
            assert word in text, word
        example = rows[next(i for i, row in enumerate(rows) if list(row[:3]) == site_headers(lang)[:3]) + 1]
        assert example[0] == "城中区-01" and example[2] == site_kind_words(lang)[0] and example[5] == "WGS84"
        assert example[8] == site_consent_words(lang)[0]


def test_english_sheet():
    districts = read_districts(BOUNDARIES_PATH)
    workbook = book(districts, "en")
    sheet = workbook["Public sites"]
    assert [c.value for c in sheet[1]][:3] == ["Site ID", "Site name", "Site type"]
    assert checks(sheet)["consent"].formula1 == '"Yes,No,Unknown"'


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_filled_sites_sheet_imports_every_offered_word(districts, lang, tmp_path):
    workbook = book(districts, lang)
    sheet = workbook[SITES_SHEET[lang]]
    kinds, consents = site_kind_words(lang), site_consent_words(lang)
    for i, kind in enumerate(kinds):
        consent = consents[i % len(consents)]
        area = 100 * (i + 2)
        sheet.append(
            [f"S-{i + 1:02d}", f"场地{i + 1}", kind, 109.40 + i / 1000, 24.31, "WGS84", area, "街道办事处", consent]
        )
    sheet.append(["S-99", "坐标缺失", kinds[0], None, None, None, 300, "街道办事处", consents[0]])
    # A community row on the survey sheet is not read as a site.
    workbook[SURVEY_SHEET[lang]].append(["", "某小区", "城中区", 109.41, 24.32, "WGS84"])
    path = tmp_path / "filled.xlsx"
    workbook.save(path)
    result = import_file(path, "public_sites")
    assert result.input_rows == 8 and len(result.accepted) == 7
    assert result.accepted["kind"].tolist() == [
        "pocket_park",
        "park",
        "square",
        "greenway",
        "school_ground",
        "street_corner",
        "other",
    ]
    assert result.accepted["consent"].tolist() == ["yes", "no", "unknown", "yes", "no", "unknown", "yes"]
    assert result.accepted["usable_area_m2"].tolist() == [200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0]
    assert result.rejects["sheet_row"].tolist() == [9] and result.rejects["reason_code"].tolist() == ["empty_geometry"]
    assert import_file(path, "communities").accepted["name"].tolist() == ["某小区"]
