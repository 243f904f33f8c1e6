"""Tests for the public notice's shape (issue 13): plan / results / period and feedback, signature, appendix.

Worked dates: issued 30 November 2026 with the shipped 7-day period runs to 7 December 2026; a
10-day period from 25 December 2026 runs into the next year, to 4 January 2027.
"""

import html
import json
import re
from dataclasses import replace
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from geo.config import DEFAULT_DATA_PATH, load_config
from geo.errors import DataError, said
from geo.pipeline import load_city
from geo.plan import run_plan
from geo.render.export import flattened
from geo.render.notice import date_text, notice_period, publish_html
from geo.render.provenance import plan_parameters

ISSUED = date(2026, 11, 30)
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
MAP = re.compile(r"<iframe\b.*?</iframe>", re.DOTALL)


@pytest.fixture(scope="module")
def sample():
    city = load_city(DEFAULT_DATA_PATH)
    config = load_config()
    plan = run_plan(city.communities, city.fitness_paths, config, ["city", "region"])
    return city, config, plan


@pytest.fixture(scope="module")
def chinese(sample):
    city, _config, plan = sample
    return publish_html(plan, city.districts, city.fitness_paths, issued=ISSUED)


@pytest.fixture(scope="module")
def english(sample):
    city, _config, plan = sample
    return publish_html(plan, city.districts, city.fitness_paths, lang="en", issued=ISSUED)


def visible_text(fragment: str) -> str:
    """The text a reader sees in ``fragment`` (the map's frame left out): tags dropped, entities read."""
    without_map = MAP.sub(" ", fragment)
    without_style = re.sub(r"<(style|script)\b.*?</\1>", " ", without_map, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", without_style))


def strings_in(value):
    """Every string inside a parsed JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def split_at_appendix(page: str) -> tuple[str, str]:
    at = page.index('<section class="appendix">')
    return page[:at], page[at:]


# --------------------------------------------------------------------------- period, signature


def test_the_default_period_runs_period_days_from_the_issue_date():
    assert notice_period(ISSUED, 7) == (date(2026, 11, 30), date(2026, 12, 7))
    assert notice_period(date(2026, 12, 25), 10) == (date(2026, 12, 25), date(2027, 1, 4))
    assert date_text(date(2027, 1, 4), "zh") == "2027年1月4日"
    assert date_text(date(2027, 1, 4), "en") == "4 January 2027"


def test_chinese_notice_states_the_period_and_ends_with_the_issuer_and_date(chinese):
    assert "<h2>三、公示期</h2>" in chinese
    assert "公示期：2026年11月30日至2026年12月7日。" in chinese
    assert 'data-start="2026-11-30" data-end="2026-12-07"' in chinese
    signature = re.search(r'<div class="signature">(.*?)</div>', chinese).group(1)
    assert '<p class="issuer">柳州市体育局</p>' in signature
    assert '<p class="issued" data-date="2026-11-30">2026年11月30日</p>' in signature


def test_english_notice_states_the_period_and_ends_with_the_issuer_and_date(english):
    assert "<h2>3. Notice period</h2>" in english
    assert "Notice period: 30 November 2026 to 7 December 2026." in english
    assert '<p class="issuer">Liuzhou Sports Bureau</p>' in english
    assert '<p class="issued" data-date="2026-11-30">30 November 2026</p>' in english


def test_the_period_follows_the_configuration_and_can_be_chosen(sample):
    city, config, plan = sample
    ten_days = replace(plan, config=replace(config, notice_period_days=10))
    page = publish_html(ten_days, city.districts, city.fitness_paths.iloc[:5], issued=date(2026, 12, 25))
    assert "公示期：2026年12月25日至2027年1月4日。" in page
    chosen = publish_html(
        plan,
        city.districts,
        city.fitness_paths.iloc[:5],
        lang="en",
        period=(date(2027, 1, 4), date(2027, 1, 18)),
        issued=ISSUED,
    )
    assert "Notice period: 4 January 2027 to 18 January 2027." in chosen
    assert '<p class="issued" data-date="2026-11-30">30 November 2026</p>' in chosen


def test_a_period_that_ends_before_it_starts_is_refused_in_both_languages(sample):
    city, _config, plan = sample
    with pytest.raises(DataError) as caught:
        publish_html(plan, city.districts, city.fitness_paths.iloc[:5], period=(date(2027, 1, 4), date(2027, 1, 3)))
    assert "2027-01-03" in said(caught.value, "zh") and "早于开始日期" in said(caught.value, "zh")
    assert said(caught.value, "en").startswith("The notice period ends (2027-01-03) before it starts (2027-01-04)")


def test_the_feedback_lines_follow_the_period_in_its_section(sample):
    city, config, plan = sample
    other = replace(plan, config=replace(config, contact_zh=("局长信箱：lzsports@example.cn",)))
    page = publish_html(other, city.districts, city.fitness_paths.iloc[:5], issued=ISSUED)
    section = re.search(r'<section class="period">(.*?)</section>', page, re.DOTALL).group(1)
    assert "<h2>三、公示期与意见反馈</h2>" in section
    assert section.index("公示期：2026年11月30日") < section.index("公示期内，对本方案如有意见或建议")
    assert '<p class="contact">局长信箱：lzsports@example.cn</p>' in section


# --------------------------------------------------------------------------- sections in a notice's order


@pytest.mark.parametrize(
    "variant, headings",
    [
        ("chinese", ["<h2>一、整改方案</h2>", "<h2>二、整改成效</h2>", "<h2>三、公示期</h2>", '<div class="signature">',
                     "<h2>附录：技术参数</h2>"]),
        ("english", ["<h2>1. The plan</h2>", "<h2>2. Results</h2>", "<h2>3. Notice period</h2>",
                     '<div class="signature">', "<h2>Appendix: technical parameters</h2>"]),
    ],
)  # fmt: skip
def test_plan_results_period_signature_then_appendix(variant, headings, request):
    page = request.getfixturevalue(variant)
    positions = [page.index(heading) for heading in headings]
    assert positions == sorted(positions)
    plan_section = re.search(r'<section class="plan">(.*?)</section>', page, re.DOTALL).group(1)
    assert '<iframe class="map"' in plan_section and '<table class="summary">' in plan_section
    assert '<table class="selected">' in plan_section


def test_the_results_section_waits_for_installations(chinese, english):
    results = re.search(r'<section class="results">(.*?)</section>', chinese, re.DOTALL).group(1)
    assert "待健身路径安装情况录入后填写。" in results and "<table" not in results
    assert "To be filled in when installations are recorded." in english


# ------------------------------------------------------------- parameters: words in the text, keys in the appendix


def test_the_main_text_says_the_rules_in_words(chinese, english):
    main, _ = split_at_appendix(chinese)
    text = visible_text(main)
    assert "步行服务半径 500 米：小区边界距某套健身路径不超过 500 米" in text
    assert "每套健身路径造价 50,000 元。" in text
    assert "各资金项目预算：市本级 600,000 元、自治区补助 5,000,000 元。" in text
    assert "小区可用空地不少于 150 平方米" in text
    weights = re.findall(r"<li>(.*?)</li>", main)
    assert weights == ["小区人口（25）", "老人和儿童人数（20）", "距最近健身路径的距离（20）", "老旧小区（10）",
                       "已提出建设申请（15）", "周边未覆盖人口（10）", "可服务的无建设用地小区居民（15）"]  # fmt: skip
    english_text = visible_text(split_at_appendix(english)[0])
    assert "One fitness-path set costs CNY 50,000." in english_text
    assert "Budgets: City budget CNY 600,000, Regional grant CNY 5,000,000." in english_text


def test_the_main_text_holds_no_raw_key_and_the_appendix_every_one(sample, chinese, english):
    _, _, plan = sample
    keys = [key for key, _ in flattened(plan_parameters(plan))]
    internals = ["optimal_time_limit_s", "optimal_mip_rel_gap", "optimality_gap", "solve_seconds", "status"]
    for page in (chinese, english):
        main, appendix = split_at_appendix(page)
        text = visible_text(main)
        for key in keys + internals:
            last = key.rpartition(".")[2]
            assert key not in text and (last not in text or "_" not in last), key
        assert "<code>" not in main and "e+0" not in text
        listed = re.findall(r"<td><code>([\w.]+)</code></td>", appendix)
        assert listed == keys


def test_appendix_values_are_human_readable(chinese, english):
    rows = dict(re.findall(r"<td><code>([\w.]+)</code></td><td>(.*?)</td>", chinese))
    assert rows["mode"] == "按优先级排序"
    assert rows["programs_run"] == "市本级、自治区补助"
    assert rows["program.region.budget_cny"] == "5,000,000" and rows["set_cost_cny"] == "50,000"
    assert rows["old_before_year"] == "2000"  # a year, not 2,000
    assert rows["program.city.status"] == "完成" and rows["service_standard"] == "每个小区配建一套"
    assert rows["program.city.stop_reason"] == "资金已用完" and rows["unknown_open_space"] != "survey_first"
    english_rows = dict(re.findall(r"<td><code>([\w.]+)</code></td><td>(.*?)</td>", english))
    assert english_rows["mode"] == "by priority rank"
    assert english_rows["programs_run"] == "City budget, Regional grant"
    assert english_rows["program.city.status"] == "done"


def test_in_optimal_mode_the_weights_are_said_to_order_the_list_only(sample):
    city, _config, plan = sample
    optimal = replace(plan, mode="optimal")
    page = publish_html(optimal, city.districts, city.fitness_paths.iloc[:5], issued=ISSUED)
    assert "以下权重只决定名单的排列顺序，不影响选中哪些小区" in page
    assert "选取方式：选取使步行 500 米范围内新增覆盖居民最多的组合。" in page
    rows = dict(re.findall(r"<td><code>([\w.]+)</code></td><td>(.*?)</td>", page))
    assert rows["mode"] == "最优覆盖"


# --------------------------------------------------------------------------- English through and through


def test_the_english_notice_has_no_chinese_but_data_names(sample, english):
    city, config, _plan = sample
    names = set(city.communities["name"].dropna().astype(str)) | set(city.districts["district_name"].astype(str))
    names |= {p.name_zh for p in config.programs} | set(config.contact_zh)
    text = visible_text(english)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    assert not CJK.findall(text), sorted(set(CJK.findall(text)))
    # The map: Chinese only inside its data's strings, and each such string a community's, a district's or a set's name.
    document = html.unescape(re.search(r"<iframe class=\"map\"[^>]*\bsrcdoc='([^']*)'", english).group(1))
    data = re.search(r'<script type="application/json" id="fp-map-data-\w+">(.*?)</script>', document, re.DOTALL)
    assert not CJK.search(document.replace(data.group(1), ""))  # legend, controls, scripts
    names |= set(city.fitness_paths["name"].dropna().astype(str))
    assert {string for string in strings_in(json.loads(data.group(1))) if CJK.search(string)} <= names


def test_the_notice_still_opens_offline(chinese):
    outside_map = MAP.sub("", chinese)
    assert not re.search(r"\b(src|href)\s*=", outside_map, re.IGNORECASE)
    assert "Content-Security-Policy" in chinese and "default-src 'none'" in chinese


# --------------------------------------------------------------------------- the publish page


def test_the_publish_page_offers_the_period_and_refuses_it_reversed():
    app = AppTest.from_file("../app.py", default_timeout=120)
    app.run()
    app.switch_page("views/publish.py")
    app.run()
    assert not app.exception
    start, end = app.date_input[0], app.date_input[1]
    assert start.label == "公示开始日期" and end.label == "公示结束日期"
    assert (start.value, end.value) == notice_period(date.today(), load_config().notice_period_days)
    end.set_value(start.value.replace(year=start.value.year - 1)).run()
    assert not app.exception
    assert app.error and "早于开始日期" in app.error[0].value


def test_a_weight_of_zero_is_left_out_of_the_list_and_district_limits_are_labelled(sample):
    city, config, plan = sample
    weights = {**config.priority_weights, "old_community": 0.0}
    city_budget = replace(config.program("city"), district_min_sets={"450202": 2})
    other = replace(
        plan, config=replace(config, priority_weights=weights, programs=(city_budget, config.program("region")))
    )
    parameters = {**plan_parameters(plan), "program.city": {"district_min_sets": {"450202": 2}}}
    page = publish_html(other, city.districts, city.fitness_paths.iloc[:5], parameters=parameters, issued=ISSUED)
    assert "老旧小区（" not in page and "<li>小区人口（25）</li>" in page
    assert (
        "<td>市本级 · 各区县最少套数 · 450202</td><td><code>program.city.district_min_sets.450202</code></td>" in page
    )
