"""Tests for geo.i18n: one catalogue per language, complete in both, and no page or renderer with words of its own."""

import ast
import re
import string
import tomllib
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from geo import i18n
from geo.config import Program, load_config

ROOT = Path(__file__).resolve().parents[1]
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Pages and renderers: every word they show comes from the catalogues.
WORDLESS = sorted([ROOT / "app.py", *(ROOT / "views").glob("*.py"), *(ROOT / "geo" / "render").glob("*.py")])


def raw(lang):
    with open(ROOT / "geo" / "i18n" / f"{lang}.toml", "rb") as file:
        return tomllib.load(file)


def phrases(section):
    """(key, phrase) of a catalogue table; a paragraph list gives one entry per paragraph."""
    for key, value in section.items():
        if isinstance(value, list):
            yield from ((f"{key}[{i}]", item) for i, item in enumerate(value))
        else:
            yield key, value


def placeholders(phrase):
    """The ``{name:spec}`` fields of a phrase (raises on an unbalanced brace)."""
    return sorted((name, spec) for _, name, spec, _ in string.Formatter().parse(phrase) if name is not None)


def test_both_catalogues_have_the_same_sections_and_keys():
    zh, en = raw("zh"), raw("en")
    assert set(zh) == set(en) == set(i18n.SECTIONS)
    for section in i18n.SECTIONS:
        assert set(zh[section]) == set(en[section]), (section, sorted(set(zh[section]) ^ set(en[section])))


def test_file_messages_are_a_table_of_the_catalogues_checked_like_the_others():
    """The notes, warnings and errors of reading a file (geo.errors.Message) are the [message] table:
    the checks below (same keys, same placeholders, English is English) run on it too."""
    assert "message" in i18n.SECTIONS
    assert len(raw("zh")["message"]) == len(raw("en")["message"]) > 80
    assert i18n.label("message", "kind_communities", "zh") == "小区"


@pytest.mark.parametrize("section", i18n.SECTIONS)
def test_every_phrase_has_the_same_placeholders_in_both_languages(section):
    zh, en = dict(phrases(raw("zh")[section])), dict(phrases(raw("en")[section]))
    assert set(zh) == set(en), sorted(set(zh) ^ set(en))  # paragraph lists as long in both
    for key in zh:
        assert isinstance(zh[key], str) and zh[key].strip() and en[key].strip(), (section, key)
        assert placeholders(zh[key]) == placeholders(en[key]), (section, key)


def test_english_catalogue_is_english_and_chinese_catalogue_is_chinese():
    """A phrase copied untranslated shows: English words only where a name is quoted with its Chinese."""
    en, zh = raw("en"), raw("zh")
    untranslated = [
        (section, key)
        for section in i18n.SECTIONS
        for key, phrase in phrases(en[section])
        if CHINESE.search(phrase)
        and not re.search(r"\w[^\u4e00-\u9fff]*[(（][^)）]*[\u4e00-\u9fff]", phrase)
        and key not in ("browser_title", "language")
    ]
    assert untranslated == []
    assert sum(bool(CHINESE.search(p)) for section in zh.values() for _, p in phrases(section)) > 300


def test_no_city_or_bureau_name_in_the_catalogues():
    for lang in i18n.LANGS:
        text = (ROOT / "geo" / "i18n" / f"{lang}.toml").read_text(encoding="utf-8")
        assert "柳州" not in text and "liuzhou" not in text.lower()


def string_literals(path):
    """Every string constant written in a module's source, except docstrings (which are never shown).

    A constant counts by its source text: ``"\\u4e00-\\u9fff"`` in a character class is no word.
    """
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and CHINESE.search(ast.get_source_segment(source, node) or node.value)
    ]


@pytest.mark.parametrize("path", WORDLESS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_or_renderer_carries_a_chinese_string_literal(path):
    found = [(line, value) for line, value in string_literals(path) if CHINESE.search(value)]
    assert found == [], f"{path.relative_to(ROOT)}: move these words to geo/i18n/*.toml: {found}"


def test_the_literal_check_sees_literals_and_skips_docstrings(tmp_path):
    module = tmp_path / "page.py"
    module.write_text(
        '"""覆盖地图 · a docstring."""\nx = f"共 {1} 个"\ndef f():\n    """说明."""\n    return "是"\n'
        'y = "[\\u4e00-\\u9fff]"\n',
        encoding="utf-8",
    )
    assert sorted(v for _, v in string_literals(module) if CHINESE.search(v)) == [" 个", "共 ", "是"]


def test_catalogues_are_read_once():
    assert i18n.catalogue("zh") is i18n.catalogue("zh")
    before = i18n.catalogue.cache_info().misses
    for _ in range(100):
        i18n.text("app_title", "en")
    assert i18n.catalogue.cache_info().misses == before


def test_old_api_keeps_working():
    assert i18n.text("app_title") == "健身路径覆盖分析"
    assert i18n.text("app_title", "en") == "Fitness-path coverage"
    assert i18n.TEXT["app_title"] == ("健身路径覆盖分析", "Fitness-path coverage")
    assert i18n.COLUMN_LABELS["population"] == ("人口", "Population")
    assert i18n.column_label("no_such_column", "en") == "no_such_column"
    assert i18n.reason_label("no_open_space", "en") == "Open space smaller than one set's footprint"
    assert i18n.reason_label("unknown_code") == "unknown_code"
    assert i18n.text("rows_shown", "en", shown=3, total=7) == "Showing 3 of 7 communities"
    with pytest.raises(ValueError, match="unsupported language 'fr'"):
        i18n.text("app_title", "fr")
    frame = pd.DataFrame({"eligible": [True, False], "population": [1, 2]})
    assert list(i18n.humanised(frame, "en").columns) == ["Eligible", "Population"]
    assert list(i18n.humanised(frame, "zh")["符合建设条件"]) == ["是", "否"]


@pytest.fixture(scope="module")
def config():
    return load_config()


def test_city_and_bureau_names_come_from_the_config(config):
    other = replace(
        config,
        city_name_zh="桂林市",
        city_name_en="Guilin",
        bureau_name_zh="桂林市体育局",
        bureau_name_en="Guilin Sports Bureau",
    )
    assert i18n.place_names(other, "en") == {"city": "Guilin", "bureau": "Guilin Sports Bureau"}
    assert i18n.text("publish_default_title", "zh", **i18n.place_names(other, "zh")) == "桂林市健身路径建设计划（公示）"
    caption = i18n.text("app_caption", "en", **i18n.place_names(other, "en"))
    assert caption.startswith("Guilin Sports Bureau · ")
    notice = i18n.text("synthetic_notice", "en", **i18n.place_names(config, "en"))
    assert config.city_name("en") in notice


def test_program_choices_follow_the_configured_programmes(config):
    assert i18n.program_choices(config) == ("city", "region", "city,region", "custom")
    three = replace(
        config,
        programs=(
            Program("a", "甲项目", "Fund A", 300_000),
            Program("b", "乙项目", "Fund B", 100_000),
            Program("c", "丙项目", "Fund C", 50_000),
        ),
    )
    assert i18n.program_choices(three) == ("a", "b", "c", "a,b,c", "custom")
    assert i18n.program_choices(replace(config, programs=three.programs[:1])) == ("a", "custom")
    sets = 300_000 // config.set_cost_cny
    assert i18n.program_choice_label("a", three, "zh") == f"甲项目（300,000元，{sets}套）"
    assert i18n.program_choice_label("a", three, "en") == f"Fund A (CNY 300,000, {sets} sets)"
    assert i18n.program_choice_label("a,b,c", three, "zh") == "先甲项目、后乙项目、后丙项目"
    assert i18n.program_choice_label("a,b,c", three, "en") == "Fund A, then Fund B, then Fund C"
    assert i18n.program_choice_label("custom", three, "en") == "Custom budget"
    assert i18n.program_choice_label("city,region", config, "zh") == "先市本级、后自治区补助"


def test_programme_names_follow_the_language(config):
    selected = pd.DataFrame(
        {"program": ["city", "region", "custom"], "program_name": ["市本级", "自治区补助", "自定义"]}
    )
    shown = i18n.with_program_names(selected, config.programs, "en")
    assert list(shown["program_name"]) == ["City budget", "Regional grant", "自定义"]
    assert list(selected["program_name"]) == ["市本级", "自治区补助", "自定义"]  # not changed in place


def test_community_labels_name_the_district_in_the_language():
    frame = pd.DataFrame(
        {
            "community_id": ["a", "b"],
            "name": ["阳光花园", "河东小区"],
            "district_code": ["450202", "450299"],
            "district_name": ["城中区", "某区"],
        }
    )
    assert i18n.community_labels(frame, {"450202": "Chengzhong District"}, "en") == {
        "a": "阳光花园 (Chengzhong District)",
        "b": "河东小区 (某区)",
    }
    assert i18n.community_labels(frame, {"450202": "城中区"}, "zh")["a"] == "阳光花园（城中区）"


def test_district_names_in_the_language():
    frame = pd.DataFrame({"district_code": ["450202", "450299"], "district_name": ["城中区", "某区"]})
    shown = i18n.with_district_names(frame, {"450202": "Chengzhong District"})
    assert list(shown["district_name"]) == ["Chengzhong District", "某区"]


def test_rejects_for_reading_keep_the_languages_reason_and_the_users_cells():
    rejects = pd.DataFrame(
        {
            "sheet_row": [3],
            "reason_code": ["missing_name"],
            "reason_zh": ["缺少名称"],
            "reason_en": ["Name is missing"],
            "人口": [120],
        }
    )
    assert i18n.rejects_for_reading(rejects, "en").to_dict("list") == {
        "Row": [3],
        "Why it was rejected": ["Name is missing"],
        "人口": [120],
    }
    assert list(i18n.rejects_for_reading(rejects, "zh").columns) == ["行号", "未通过原因", "人口"]
    unplaced = i18n.reasons_in_language(rejects, "en")
    assert list(unplaced.columns) == ["sheet_row", "reason_code", "reason_en", "人口"]


def test_district_names_from_the_layer_fall_back_to_chinese_without_an_english_name():
    districts = pd.DataFrame(
        {
            "district_code": ["450202", "450203", "450204"],
            "district_name": ["城中区", "鱼峰区", "柳南区"],
            "district_name_en": ["Chengzhong District", None, "  "],
        }
    )
    assert i18n.district_names(districts, "zh") == {"450202": "城中区", "450203": "鱼峰区", "450204": "柳南区"}
    assert i18n.district_names(districts, "en") == {
        "450202": "Chengzhong District",
        "450203": "鱼峰区",
        "450204": "柳南区",
    }
    chinese_only = districts.drop(columns="district_name_en")
    assert i18n.district_names(chinese_only, "en") == i18n.district_names(districts, "zh")
    with pytest.raises(ValueError, match="unsupported language"):
        i18n.district_names(districts, "fr")


def test_humanised_shows_dates_without_midnight_and_leaves_the_frame_alone():
    frame = pd.DataFrame(
        {
            "application_date": pd.to_datetime(["2019-12-29", None]),
            "stamp": pd.to_datetime(["2019-12-29 10:30", None]),
            "applied": [True, False],
        }
    )
    shown = i18n.humanised(frame, "en")
    assert shown["Application date"].tolist()[0] == "2019-12-29" and pd.isna(shown["Application date"].iloc[1])
    assert shown["stamp"].iloc[0] == pd.Timestamp("2019-12-29 10:30")  # a time of day is kept
    assert shown["Applied"].tolist() == ["Yes", "No"]
    assert frame["application_date"].dtype.kind == "M" and pd.isna(frame["application_date"].iloc[1])
