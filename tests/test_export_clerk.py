"""Exports a clerk can hand on (issue 13): names, numbers and parameters in the chosen language."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from geo.config import DEFAULT_DATA_PATH, STANDARDS, load_config
from geo.optimize.allocate import STOP_REASONS
from geo.render import export
from geo.render.export import download_stem, flattened, parameter_label, parameter_rows
from geo.render.provenance import file_sha256, plan_parameters
from tests.helpers import csv_rows, workbook_cells

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
LOWER_ASCII = re.compile(r"[a-z]")


@pytest.fixture(scope="module")
def sample():
    from geo.pipeline import load_city
    from geo.plan import run_plan

    city, config = load_city(DEFAULT_DATA_PATH), load_config()
    plan = run_plan(city.communities, city.fitness_paths, config, ["city", "region"], "rank", city.applications)
    return city, config, plan


@pytest.fixture(scope="module")
def workbooks(sample, tmp_path_factory):
    """The sample plan written to .xlsx in each language, as the CLI and the app write it."""
    from geo.plan import plan_sheets

    city, _, plan = sample
    folder = tmp_path_factory.mktemp("clerk")
    parameters = plan_parameters(plan, data_path=DEFAULT_DATA_PATH)
    return {
        lang: workbook_cells(
            export.export(
                plan_sheets(plan, lang, city.districts), folder / f"{lang}.xlsx", lang=lang, parameters=parameters
            ).read_bytes()
        )
        for lang in ("zh", "en")
    }


# --------------------------------------------------------------------------- download names


def test_download_stem_names_programmes_mode_and_district():
    zh = download_stem("plan", "zh", programs=["市本级", "自治区补助"], mode="rank", district="柳南区")
    assert zh == "健身路径规划_市本级+自治区补助_排序_柳南区"
    en = download_stem("plan", "en", programs=["City budget", "Regional grant"], mode="rank")
    assert en == "plan_city-budget+regional-grant_rank_whole-city"
    assert download_stem("plan", "zh", programs=["市本级"], mode="optimal") == "健身路径规划_市本级_最优_全市"
    assert download_stem("eligibility", "zh", district="柳南区") == "资格核查_柳南区"
    assert download_stem("eligibility", "en", district="Liunan District") == "eligibility_liunan-district"
    with pytest.raises(ValueError, match="unknown mode"):
        download_stem("plan", "zh", mode="best")
    notice = download_stem("notice", "zh", programs=["市本级", "自治区补助"], mode="rank")
    assert notice == "健身路径建设计划公示_市本级+自治区补助_排序_全市"  # the publish page's download
    with pytest.raises(ValueError, match="unknown kind"):
        download_stem("report", "zh")


HOSTILE_NAMES = [
    "../../etc/passwd",
    "a\\b:c*?<>|",
    "\x00",
    "x" * 300,
    "区" * 300,
    "CON",
    "nul.txt",
    ".hidden",
    " trailing dot. ",
    "line\nbreak\ttab",
    "zero\u200bwidth\u202eright-to-left",
    '"quoted"',
]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_download_stem_is_a_safe_file_name_whatever_the_names(name, lang):
    stem = download_stem("plan", lang, programs=[name, "市本级"], mode="rank", district=name)
    assert stem and len(stem.encode("utf-8")) <= 150
    assert not re.search(r'[\\/:*?"<>|]', stem)
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zs", "Zl", "Zp") for c in stem)
    assert not stem.startswith(".") and not stem.endswith((".", " "))
    assert stem.split("_")[0] == {"zh": "健身路径规划", "en": "plan"}[lang]  # never a device name (CON …)
    path = Path("downloads") / f"{stem}.xlsx"
    assert path.parent == Path("downloads") and path.name == f"{stem}.xlsx"
    assert ".." not in Path(stem).parts


def test_download_stem_keeps_what_is_safe_and_bounds_each_name():
    assert download_stem("eligibility", "zh", district="../../etc/passwd") == "资格核查_etc-passwd"
    assert download_stem("eligibility", "en", district="a\\b:c*?<>|") == "eligibility_a-b-c"
    assert download_stem("eligibility", "zh", district="\x00") == "资格核查"  # nothing left: no part
    assert download_stem("eligibility", "en", district="CON") == "eligibility_con"
    long = download_stem("eligibility", "zh", district="区" * 300)
    assert long == "资格核查_" + "区" * 40


# --------------------------------------------------------------------------- sheet names


def test_long_sheet_names_are_shortened_to_whole_words_and_stay_unique(tmp_path):
    frame = pd.DataFrame({"rank": [1]})
    names = [
        "Regional sports facilities improvement grant",
        "Regional sports facilities improvement loan",
        "广西壮族自治区全民健身设施补短板工程中央预算内投资专项资金（第二批）",
        "City budget",
    ]
    path = export.to_xlsx(dict.fromkeys(names, frame), tmp_path / "n.xlsx", {}, lang="en")
    titles = openpyxl.load_workbook(path).sheetnames
    assert titles[0] == "Regional sports facilities…"  # whole words, and a sign that it was shortened
    assert titles[1] == "Regional sports facilities… (2)"
    assert titles[2] == "广西壮族自治区全民健身设施补短板工程中央预算内投资专项资金…"  # cut before the bracket
    assert titles[3] == "City budget" and titles[-1] == "Parameters"
    assert all(len(title) <= 31 for title in titles)


def test_plan_sheets_are_named_in_the_language(workbooks):
    assert list(workbooks["zh"]) == ["市本级", "自治区补助", "参数"]
    assert list(workbooks["en"]) == ["City budget", "Regional grant", "Parameters"]


# --------------------------------------------------------------------------- numbers


def numbers_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "nearest_set_m": [423.846, 1234.5, None],
            "share_60plus": [0.25649, 0.1, 0.0],
            "cost_cny": [50000.4, 1234567.6, 0.3],
            "priority_score": [52.948, 7.0, 0.04],
            "c_population": [0.32569, 1.0, 0.0],
            "population": [952, 12345, 0],
            "open_space_m2": [676.4, 1011.0, 0.0],
            "built_year": [1980, 2001, 2020],
            "unknown_measure": [0.123456, 2.5, 3.0],
        }
    )


def test_csv_numbers_are_rounded_plain_numbers(tmp_path):
    rows = csv_rows(export.to_csv(numbers_frame(), tmp_path / "n.csv").read_bytes())
    # metres, yuan, people and m² whole; shares and components to 3 decimals; the score to 1; others as given
    assert rows[1] == [424, 0.256, 50000, 52.9, 0.326, 952, 676, 1980, 0.123456]
    assert rows[2] == [1234, 0.1, 1234568, 7, 1, 12345, 1011, 2001, 2.5]
    assert rows[3][0] == "" and rows[3][2] == 0  # a missing distance stays empty
    text = (tmp_path / "n.csv").read_bytes().decode("utf-8-sig")
    assert "423.8" not in text and "50000.4" not in text and "1011.0" not in text


def test_xlsx_numbers_stay_numbers_with_a_number_format(tmp_path):
    path = export.to_xlsx({"n": numbers_frame()}, tmp_path / "n.xlsx", {})
    sheet = openpyxl.load_workbook(path)["n"]
    cells = {sheet.cell(row=1, column=i).value: sheet.cell(row=2, column=i) for i in range(1, sheet.max_column + 1)}
    expected = {
        "距最近健身路径（米）": (424, "#,##0"),
        "60岁以上占比": (0.256, "0.0%"),  # shown 25.6 %: shares to 0.1 %
        "造价（元）": (50000, "#,##0"),
        "优先得分": (52.9, "#,##0.0"),
        "人口分项": (0.326, "0.000"),
        "人口": (952, "#,##0"),
        "可用空地（平方米）": (676, "#,##0"),
        "建成年份": (1980, "0"),
        "unknown_measure": (0.123456, "General"),
    }
    assert {header: (cell.value, cell.number_format) for header, cell in cells.items()} == expected
    assert all(cell.data_type == "n" for cell in cells.values())
    assert sheet.cell(row=4, column=1).value is None


def test_sample_plan_cells_are_rounded(workbooks):
    rows = workbooks["zh"]["市本级"]
    header = rows[0]
    for row in rows[1:]:
        cell = dict(zip(header, row))
        assert isinstance(cell["距最近健身路径（米）"], int) and isinstance(cell["造价（元）"], int)
        assert cell["优先得分"] == round(cell["优先得分"], 1) and cell["60岁以上占比"] == round(cell["60岁以上占比"], 3)


def test_missing_fields_are_said_in_the_language(tmp_path):
    frame = pd.DataFrame({"missing_fields": ["population;open_space_m2", "", None]})
    zh = csv_rows(export.to_csv(frame, tmp_path / "zh.csv").read_bytes())
    en = csv_rows(export.to_csv(frame, tmp_path / "en.csv", lang="en").read_bytes())
    assert zh[1] == ["人口、可用空地（平方米）"] and zh[2] == [""] and zh[3] == [""]
    assert en[1] == ["Population, Open space (m²)"]


# --------------------------------------------------------------------------- the parameters sheet


def test_parameters_sheet_is_labelled_with_human_values(workbooks, sample):
    _, config, _ = sample
    zh = {row[0]: row[1] for row in workbooks["zh"]["参数"][1:]}
    en = {row[0]: row[1] for row in workbooks["en"]["Parameters"][1:]}
    assert zh["步行服务半径（米）"] == config.walk_radius_m and en["Walk radius (m)"] == config.walk_radius_m
    assert zh["分配方式"] == "按优先级排序" and en["Allocation mode"] == "by priority rank"
    assert zh["服务标准"] == "每个小区配建一套" and en["Service standard"] == "A set in every community"
    assert zh["执行的资金项目"] == "市本级、自治区补助" and en["Programmes run"] == "City budget, Regional grant"
    assert zh["自治区补助 · 预算（元）"] == 5_000_000 and en["Regional grant · Budget (CNY)"] == 5_000_000
    assert zh["市本级 · 状态"] == "完成" and zh["市本级 · 停止原因"] == "资金已用完"
    assert zh["优先得分权重 · 人口分项"] == config.priority_weights["population"]
    assert zh["数据文件"] == en["Data file"] == "liuzhou_sample.gpkg"
    assert zh["数据文件 SHA-256"] == file_sha256(DEFAULT_DATA_PATH)
    assert zh["市本级 · 各区县最少套数"] == "—"  # nothing set, said so


def test_parameter_numbers_have_formats_money_with_its_unit(sample, tmp_path):
    _, _, plan = sample
    for lang, unit in (("zh", '#,##0" 元"'), ("en", '"CNY "#,##0')):
        path = export.to_xlsx({"p": pd.DataFrame({"a": [1]})}, tmp_path / f"{lang}.xlsx", plan_parameters(plan), lang)
        sheet = openpyxl.load_workbook(path).worksheets[-1]
        formats = {row[0].value: (row[1].value, row[1].number_format) for row in sheet.iter_rows(min_row=2)}
        budget = [value for label, value in formats.items() if label.endswith(("· 预算（元）", "· Budget (CNY)"))]
        assert budget and all(number_format == unit for _, number_format in budget)
        radius = next(v for label, v in formats.items() if label in ("步行服务半径（米）", "Walk radius (m)"))
        year = next(
            v for label, v in formats.items() if label in ("老旧小区：建成年份早于", "Old community: built before")
        )
        assert radius == (500, "#,##0") and year == (2000, "0")  # a year without a separator
        gap = next(v for label, v in formats.items() if label in ("最优模式相对差距", "Optimal mode relative gap"))
        assert gap[1] == "0.0000%" and "e-" not in gap[1]


@pytest.mark.parametrize(
    "path",
    ["/srv/app/uploads/秘密/柳州.gpkg", "C:\\Users\\planner\\Desktop\\柳州.gpkg", "柳州.gpkg", "data/柳州.gpkg/"],
)
def test_the_data_file_is_named_never_its_folder(path):
    for lang in ("zh", "en"):
        ((label, value, _),) = parameter_rows({"data_file": path}, lang)
        assert value == "柳州.gpkg" and label in ("数据文件", "Data file")


def test_plan_parameters_record_the_file_name_and_its_hash(sample):
    _, _, plan = sample
    recorded = plan_parameters(plan, data_path=DEFAULT_DATA_PATH)
    assert recorded["data_file"] == "liuzhou_sample.gpkg" and "/" not in recorded["data_file"]
    assert recorded["data_sha256"] == file_sha256(DEFAULT_DATA_PATH)
    assert plan_parameters(plan, data_path=DEFAULT_DATA_PATH, data_name="我的城市.gpkg")["data_file"] == "我的城市.gpkg"
    outcome = recorded["program.city"]
    assert {"unspent_cny", "stop_reason", "communities_newly_equipped"} <= set(outcome)


def every_parameter_key(plan) -> list[str]:
    """Every key a plan's, an eligibility list's or a Shapefile's parameters can hold."""
    keys = [key for key, _ in flattened(plan_parameters(plan, data_path=DEFAULT_DATA_PATH))]
    keys += [f"program.city.{field}.450202" for field in ("district_min_sets", "district_max_sets")]
    summary = ("unspent_cny", "stop_reason", "communities_newly_equipped", "candidates_left_out")
    keys += [f"program.city.{field}" for field in summary]
    # views/eligibility.py and the CLI's eligibility export; a zipped Shapefile's own two
    keys += ["district", "filter", "reasons", "applicants_only", "site_check_only", "walk_radius_m", "data_file"]
    keys += ["data_sha256", "service_standard", "output_crs", "encoding"]
    return keys


def test_every_parameter_key_has_a_label_in_both_languages(sample):
    _, config, plan = sample
    keys = every_parameter_key(plan)
    for lang in ("zh", "en"):
        assert [key for key in keys if not parameter_label(key, lang)] == [], lang
        names = {p.key: p.name(lang) for p in config.programs}
        labels = [parameter_label(key, lang, names) for key in keys]
        assert not any(re.search(r"[a-z]+_[a-z]+", label) for label in labels)  # no raw key within a label
        if lang == "zh":
            assert not [label for label in labels if LOWER_ASCII.search(label)]
        else:
            assert not [label for label in labels if CJK.search(label)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_coded_values_are_said_in_words(lang):
    parameters = {
        "service_standard": "walk",
        "program.city": {"name_zh": "市本级", "name_en": "City budget", "stop_reason": "district_limits"},
        "filter": "eligible",
        "reasons": "has_set,no_space",
        "district": "all",
        "unknown_open_space": "assume_room",
        "output_crs": "EPSG:4490",
        "applicants_only": True,
    }
    values = [value for _, value, _ in parameter_rows(parameters, lang)]
    expected = {
        "zh": ["步行半径内有健身路径", "市本级", "City budget", "受区县套数上限限制", "符合条件"],
        "en": ["A set within walking distance", "市本级", "City budget", "District limits reached", "Eligible"],
    }[lang]
    assert values[:5] == expected
    assert values[6] == {"zh": "全市", "en": "Whole city"}[lang]
    assert "EPSG:4490" in values[8] and values[9] is True
    for code in [*STANDARDS, *STOP_REASONS]:
        key = "service_standard" if code in STANDARDS else "stop_reason"
        ((_, said, _),) = parameter_rows({key: code}, lang)
        assert said != code and "_" not in said


# --------------------------------------------------------------------------- one language per workbook


def test_no_english_in_the_chinese_workbook(workbooks):
    sheets = workbooks["zh"]
    code_rows = ("· 代码", "· 英文名称", "数据文件", "数据文件 SHA-256")  # the data's own names and codes
    for title, rows in sheets.items():
        assert not LOWER_ASCII.search(title)
        assert not any(LOWER_ASCII.search(str(header)) for header in rows[0])
    for label, value in sheets["参数"][1:]:
        assert not LOWER_ASCII.search(label)
        if isinstance(value, str) and not label.endswith(code_rows):
            assert not LOWER_ASCII.search(value), (label, value)
    for title in ("市本级", "自治区补助"):
        header, *body = sheets[title]
        mode = header.index("方式")
        assert {row[mode] for row in body} == {"按优先级排序"}


def test_no_chinese_in_the_english_workbook(workbooks):
    sheets = workbooks["en"]
    for title, rows in sheets.items():
        assert not CJK.search(title)
        assert not any(CJK.search(str(header)) for header in rows[0])
    for label, value in sheets["Parameters"][1:]:
        assert not CJK.search(label)
        if isinstance(value, str) and CJK.search(value):
            assert label.endswith("· Chinese name"), (label, value)


def test_cli_eligibility_export_names_its_data_by_name_and_hash(tmp_path):
    from geo.cli import main

    out = tmp_path / "e.xlsx"
    assert main(["eligibility", "--district", "450204", "--lang", "en", "--out", str(out)]) == 0
    parameters = {row[0]: row[1] for row in workbook_cells(out.read_bytes())["Parameters"][1:]}
    assert parameters["District"] == "Liunan District"
    assert parameters["Data file"] == DEFAULT_DATA_PATH.name
    assert parameters["Data file SHA-256"] == file_sha256(DEFAULT_DATA_PATH)
    assert not any(str(DEFAULT_DATA_PATH.parent) in str(value) for value in parameters.values())
