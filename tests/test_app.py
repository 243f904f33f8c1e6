"""Every page of the Streamlit app renders, shows the pipeline's numbers, and reacts to its widgets."""

import pytest
from streamlit.testing.v1 import AppTest

from geo.config import DEFAULT_DATA_PATH, load_config
from geo.i18n import text
from geo.pipeline import coverage_report, load_city
from geo.plan import score_communities

APP = "../app.py"


@pytest.fixture(scope="module")
def city():
    return load_city(DEFAULT_DATA_PATH)


@pytest.fixture(scope="module")
def expected(city):
    return coverage_report(city, load_config().walk_radius_m)


@pytest.fixture(scope="module")
def scored(city):
    return score_communities(city.communities, city.fitness_paths, load_config(), city.applications)


def open_page(page=None):
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    if page:
        app.switch_page(page)
        app.run()
    assert not app.exception, app.exception
    return app


def metrics(app):
    return {m.label: m.value for m in app.metric}


def number(value: str) -> int:
    return int(value.split()[0].replace(",", ""))


def test_coverage_page_shows_the_pipeline_numbers(expected, scored):
    app = open_page()
    assert not app.error
    shown = metrics(app)
    assert shown["小区总数"] == f"{expected.total['communities']:,}"
    assert shown["小区内已有健身路径"] == f"{expected.total['served_inside']:,}"
    # The standard in force (inside) first; the walk-radius figure is labelled secondary.
    assert shown["次要：步行范围内已覆盖"] == f"{expected.total['served_within_radius']:,}"
    unserved_eligible = int((~scored["served_inside"] & scored["eligible"]).sum())
    assert number(shown["无健身路径且可建设"]) == unserved_eligible
    table = app.dataframe[0].value
    assert list(table["区县"])[:5] == ["城中区", "鱼峰区", "柳南区", "柳北区", "柳江区"]
    districts = table[table["区县"] != "合计"]
    assert districts["小区数"].sum() == 2500 and list(table["小区数"])[-1] == 2500  # the 合计 row: their sum


def test_language_switch_to_english():
    app = open_page()
    app.sidebar.radio(key="language_choice").set_value("English").run()
    assert not app.exception
    assert app.title[0].value == "Coverage map"
    assert "Communities" in metrics(app)
    assert "Chengzhong District" in list(app.dataframe[0].value["District"])


def test_english_optimal_mode_says_its_gap_as_a_number_and_in_english():
    """The gap's metric is a number (a sentence was cut short in its column: "Proven opti…"), its words below it."""
    app = open_page("views/priority_budget.py")
    app.radio(key="widget_mode").set_value("optimal").run()
    # Then English (AppTest keeps a radio's choice by its label: one set after the switch is refused).
    app.sidebar.radio(key="language_choice").set_value("English").run()
    assert not app.exception
    gap = next(m for m in app.metric if m.label == "Optimality gap")
    assert gap.value == "0"
    assert gap.delta.startswith("proven optimal, ") and gap.delta.endswith(" s")


def test_english_priority_page_names_programmes_in_english():
    """Choices and names come from config.toml's [[programs]] in the page's language (no 市本级 on an English page)."""
    config = load_config()
    app = open_page()
    app.sidebar.radio(key="language_choice").set_value("English").run()
    app.switch_page("views/priority_budget.py")
    app.run()
    assert not app.exception
    choice = app.radio(key="widget_program_choice")
    assert list(choice.options)[:3] == [
        f"{config.program('city').name_en} (CNY {config.program('city').budget_cny:,}, "
        f"{config.program('city').budget_cny // config.set_cost_cny} sets)",
        f"{config.program('region').name_en} (CNY {config.program('region').budget_cny:,}, "
        f"{config.program('region').budget_cny // config.set_cost_cny} sets)",
        "City budget, then Regional grant",
    ]
    assert choice.value == "city,region"
    names = set(app.dataframe[0].value["Programme name"])
    assert names == {"City budget", "Regional grant"}
    assert "Chengzhong District" in set(app.dataframe[0].value["District"])
    assert app.metric[0].label == "City budget"


def test_walk_radius_changes_coverage(expected):
    app = open_page()
    app.sidebar.number_input(key="widget_walk_radius_m").set_value(1000).run()
    assert not app.exception
    assert number(metrics(app)["次要：步行范围内已覆盖"]) > expected.total["served_within_radius"]
    assert metrics(app)["小区内已有健身路径"] == f"{expected.total['served_inside']:,}"


@pytest.mark.parametrize("district", ["450204", "450226"])
def test_the_district_drives_the_headline_and_the_table(district, scored):
    app = open_page()
    app.selectbox[0].set_value(district).run()
    assert not app.exception
    shown = metrics(app)
    table = app.dataframe[0].value
    rows = table[table["区县"] != "合计"] if "合计" in set(table["区县"]) else table
    assert len(rows) == 1  # the chosen district's row only
    assert number(shown["小区总数"]) == int(rows["小区数"].sum())
    mine = scored[scored["district_code"] == district]
    assert number(shown["小区总数"]) == len(mine)
    assert number(shown["小区内已有健身路径"]) == int(mine["served_inside"].sum())
    assert number(shown["次要：步行范围内已覆盖"]) == int(mine["served_within_radius"].sum())
    assert number(shown["无健身路径且可建设"]) == int(mine["eligible"].sum())


def test_district_choice_limits_the_community_search(city):
    app = open_page()
    app.selectbox[0].set_value("450226").run()
    assert not app.exception
    in_sanjiang = int((city.communities["district_code"] == "450226").sum())
    assert len(app.selectbox[1].options) == in_sanjiang


def test_eligibility_page_counts_and_filters(scored):
    app = open_page("views/eligibility.py")
    app.selectbox(key="widget_eligibility_district").set_value("450202").run()
    assert not app.exception
    mine = scored[scored["district_code"] == "450202"]
    shown = metrics(app)
    assert number(shown["符合建设条件"]) == int(mine["eligible"].sum())
    assert number(shown["不符合条件"]) == int((~mine["eligible"]).sum())
    assert number(shown["已申请"]) == int(mine["applied"].sum())
    app.radio(key="widget_eligibility_status").set_value("ineligible").run()
    table = app.dataframe[0].value
    assert len(table) == int((~mine["eligible"]).sum())
    assert table["不符合原因"].str.len().gt(0).all()  # every ineligible community says why


# The seed's 12 and 100 sets; the regional grant buys 99 when one set goes on a public site (it costs more).
@pytest.mark.parametrize("choice, sets", [("city", 12), ("region", 99)])
def test_priority_page_programs_buy_the_seed_numbers(choice, sets):
    app = open_page("views/priority_budget.py")
    app.radio(key="widget_program_choice").set_value(choice).run()
    assert not app.exception
    first = app.metric[0]
    assert first.value == f"{sets} 套"
    assert len(app.dataframe[0].value) == sets


def test_priority_page_custom_budget_and_optimal_mode():
    app = open_page("views/priority_budget.py")
    app.radio(key="widget_program_choice").set_value("custom").run()
    app.number_input(key="widget_custom_budget_cny").set_value(250_000).run()
    app.radio(key="widget_mode").set_value("optimal").run()
    assert not app.exception
    assert app.metric[0].value == "5 套"
    assert (app.metric[3].label, app.metric[3].value) == ("最优性差距", "0")
    assert app.metric[3].delta.startswith("已证明最优，") and app.metric[3].delta.endswith(" 秒")
    comparison = next(frame.value for frame in app.dataframe if "差值" in frame.value.columns)
    assert (comparison["差值"] >= 0).all()  # optimal never serves fewer than rank
    # Why they differ, in sentences; the weights panel says they do not change the choice.
    text = " ".join(m.value for m in app.markdown)
    assert "两种方式为何不同" in text and "合计：最优覆盖使步行范围内新增" in text
    assert any("权重不改变选中哪些组合" in i.value for i in app.info)
    assert "名单按每套健身路径新增步行范围内居民的多少排列" in " ".join(c.value for c in app.caption)


def test_priority_page_says_the_standard_the_money_left_and_the_candidates_left_out():
    app = open_page("views/priority_budget.py")
    assert not app.exception
    captions = " ".join(c.value for c in app.caption)
    assert "服务标准：每个小区配建一套" in captions
    reach = [m for m in app.metric if m.label == "步行范围内新增"]
    assert [(m.value, m.delta) for m in reach] == [("24,794 人", "30 个小区"), ("86,288 人", "105 个小区")]
    left = next(frame.value for frame in app.dataframe if "未入选原因" in frame.value.columns)
    communities = left[left["点位类型"] == "小区"]
    assert set(communities["未入选原因"]) == {"预算已用完"}  # the inside standard: only money stops a community
    # 1,092 eligible communities at first; 12 + 96 picked (3 more sets on public sites): the other 984, each once.
    assert len(communities) == 984 and left["小区编号"].is_unique
    # 135 eligible sites, 3 picked: a site left out could not be paid for, would reach only communities the plan's
    # sets reach already, or has no unserved community in reach at all.
    sites = left[left["点位类型"] != "小区"]
    no_gain = "再建不能增加覆盖（已在本方案新建健身路径的步行范围内）"
    reaches_no_one = "步行范围内没有未覆盖的小区（周边小区步行范围内已有健身路径）"
    assert len(sites) == 132 and set(sites["未入选原因"]) <= {"预算已用完", no_gain, reaches_no_one}
    assert {no_gain, reaches_no_one} <= set(sites["未入选原因"])


def test_changing_a_weight_changes_the_list():
    app = open_page("views/priority_budget.py")
    app.radio(key="widget_program_choice").set_value("city").run()
    before = list(app.dataframe[0].value["小区编号"])
    app.slider(key="widget_weight_population").set_value(0.0).run()
    assert not app.exception
    after = list(app.dataframe[0].value["小区编号"])
    assert before != after


def test_publish_page_renders():
    app = open_page("views/publish.py")
    assert not app.error
    assert app.title[0].value == "发布"


@pytest.mark.parametrize("content", [None, b"this is not a GeoPackage"])
def test_bad_data_file_gives_a_plain_message_not_a_traceback(tmp_path, monkeypatch, content):
    target = tmp_path / "city.gpkg"
    if content is not None:
        target.write_bytes(content)
    monkeypatch.setenv("PLANNER_DATA", str(target))
    for page in (None, "views/eligibility.py", "views/priority_budget.py", "views/publish.py"):
        app = open_page(page)
        assert not app.exception
        assert app.error, "a bad data file must be reported on the page"
        assert "无法读取数据" in app.error[0].value and "Traceback" not in app.error[0].value


def test_intake_page_offers_the_template_and_the_upload():
    app = open_page("views/intake.py")
    assert not app.error
    assert app.title[0].value == "数据导入"
    assert app.button[0].label == "校验" and app.button[0].disabled  # nothing uploaded yet


# --------------------------------------------------------------------------- config and limits


def test_broken_config_shows_the_clis_one_line_message(tmp_path, monkeypatch):
    from geo.config import DEFAULT_CONFIG_PATH

    broken = tmp_path / "config.toml"
    broken.write_text(
        DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace("time_limit_s = 60", "time_limit_s = -5"),
        encoding="utf-8",
    )
    monkeypatch.setenv("PLANNER_CONFIG", str(broken))
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    assert not app.exception
    assert len(app.error) == 1 and not app.title  # the message, and no page under it
    message = app.error[0].value
    assert "配置文件有误" in message and "optimal" in message and "time\\_limit\\_s" in message and "-5" in message
    assert "\n" not in message


def config_saying(tmp_path, monkeypatch, line: str, instead: str) -> None:
    """The app reads a copy of config.toml with ``line`` replaced by ``instead`` ($PLANNER_CONFIG)."""
    from geo.config import DEFAULT_CONFIG_PATH

    config = tmp_path / "config.toml"
    said = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    assert line in said, f"config.toml no longer says {line!r}"
    config.write_text(said.replace(line, instead), encoding="utf-8")
    monkeypatch.setenv("PLANNER_CONFIG", str(config))


def test_a_city_too_large_for_one_map_asks_for_a_district(tmp_path, monkeypatch):
    config_saying(tmp_path, monkeypatch, "max_communities = 200000", "max_communities = 1000")
    app = open_page()
    assert any("2,500 个小区" in info.value and "1,000" in info.value for info in app.info)
    assert not app.get("iframe")
    app.selectbox[0].set_value("450202").run()  # 城中区 has fewer than 1,000 communities
    assert not any("max\\_communities" in info.value for info in app.info)


def test_the_walks_map_too_large_names_the_setting_that_limits_it(tmp_path, monkeypatch):
    """The comparison map draws every shape at once: [map] shapes_at_once limits it, and the message says so."""
    config_saying(tmp_path, monkeypatch, "shapes_at_once = 20000", "shapes_at_once = 1000")
    app = open_page()
    assert len(app.get("iframe")) == 1  # the coverage map: 2,500 communities, as grid cells and shapes in view
    app.toggle(key="compare_map_shown").set_value(True).run()
    said = [info.value for info in app.info if "2,500 个小区" in info.value]
    assert len(said) == 1 and "1,000" in said[0] and "[map] shapes_at_once" in said[0], said
    assert len(app.get("iframe")) == 1  # no walks' map


@pytest.mark.parametrize(
    "text",
    [
        "![t](http://127.0.0.2:9/t.png).csv",
        "**b** _i_ `c` <b>x</b> :red[r] $x^2$ www.a.cn",
        "MAILTO:a@b.cn xmpp:c@d.cn HTTPS://x.cn",
        "rows 2, 3: no ID",
        "a\nb\r\nc",
        "# heading",
        "1. list",
        "> quote",
        "\\*",
    ],
)
def test_plain_shows_markdown_text_literally(text):
    """What views.shared.plain gives Streamlit renders as the text itself (CommonMark escapes)."""
    import re

    from views.shared import plain

    escaped = plain(text)
    assert "\n" not in escaped and "\r" not in escaped
    # Every ASCII punctuation mark is escaped; undoing the escapes gives the text on one line.
    assert re.sub(r"\\(.)", r"\1", escaped).replace("\u2060", "") == re.sub(r"[\r\n]+", " ", text)
    # No address survives whole for GFM's autolinks to find; an ordinary colon gets no joiner.
    assert not re.search(r"(?i)https?\\?:|mailto\\?:|xmpp\\?:|www\\?\.|\w\\?@", escaped)
    assert "\u2060" not in plain("rows 2, 3: no ID; 1:2")
    assert not re.search(r"[!-/:-@\[-`{-~]", re.sub(r"\\.", "", escaped))  # none left unescaped


@pytest.mark.parametrize(
    "header, allowed",
    [
        ("localhost:8501", True),
        ("127.0.0.1:8501", True),
        ("[::1]:8501", True),
        ("LOCALHOST", True),
        ("evil.example:8501", False),
        ("evil.example", False),
        ("localhost.evil.example:8501", False),
        ("127.0.0.1.nip.io:8501", False),
        ("", False),
        ("planner.bureau.local:8501", True),
    ],
)
def test_only_allowed_host_names_reach_the_app(header, allowed, monkeypatch):
    """DNS rebinding: a foreign page re-pointed at 127.0.0.1 arrives with its own name in Host."""
    from views.shared import allowed_hosts, host_allowed

    monkeypatch.setenv("PLANNER_ALLOWED_HOSTS", "planner.bureau.local, 192.168.1.5")
    assert host_allowed(header, allowed_hosts()) is allowed


@pytest.mark.parametrize(
    "language, expected",
    [
        ("中文", ["500 米步行半径内", "1,000 对", "max_pairs"]),
        ("English", ["walk radius of 500 m", "more than 1,000 (site, community) pairs", "max_pairs"]),
    ],
)
def test_too_many_pairs_is_a_plain_message_in_the_pages_language(tmp_path, monkeypatch, language, expected):
    """A coverage relation above [coverage] max_pairs is refused with a message, never a traceback."""
    config_saying(tmp_path, monkeypatch, "max_pairs = 20000000", "max_pairs = 1000")
    app = open_page("views/priority_budget.py")
    app.sidebar.radio(key="language_choice").set_value(language).run()
    assert not app.exception
    messages = [error.value for error in app.error]
    assert any(all(part in message for part in expected) for message in messages), messages
    if language == "English":
        assert not any(ord(ch) > 0x2FFF for message in messages for ch in message)


def test_an_edited_config_is_used_at_once_not_a_result_cached_under_the_old_one(tmp_path, monkeypatch):
    import os

    from geo.config import DEFAULT_CONFIG_PATH

    config = tmp_path / "config.toml"
    original = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    config.write_text(original, encoding="utf-8")
    monkeypatch.setenv("PLANNER_CONFIG", str(config))
    app = open_page("views/priority_budget.py")
    assert not app.error and app.metric[0].value == "12 套"
    config.write_text(original.replace("max_pairs = 20000000", "max_pairs = 1000"), encoding="utf-8")
    stat = config.stat()
    os.utime(config, (stat.st_atime, stat.st_mtime + 10))  # a later edit, whatever the clock's resolution
    app.run()
    assert not app.exception
    assert any("max_pairs" in error.value for error in app.error)


def test_no_page_has_a_bare_string_that_streamlit_would_draw():
    """Streamlit's "magic" writes any bare expression of a page script on the page, strings included.

    A string after the module docstring (say, a constant's "docstring") once put an English sentence
    at the top of the Chinese data page. Only the scripts Streamlit runs are transformed: app.py
    and the pages it names (a module they import, such as views/shared.py, is not).
    """
    import ast
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    pages = re.findall(r'st\.Page\(\s*"([^"]+)"', (root / "app.py").read_text(encoding="utf-8"))
    assert len(pages) >= 5
    found = []
    for script in [root / "app.py", *(root / page for page in pages)]:
        tree = ast.parse(script.read_text(encoding="utf-8"))
        body = tree.body[1:] if ast.get_docstring(tree) is not None else tree.body
        found += [
            f"{script.name}:{node.lineno}"
            for node in body
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        ]
    assert not found, f"bare strings on pages: {found}"


def test_eligibility_filter_keeps_its_choice_when_the_language_changes():
    """A radio whose labels change with the language must be given its choice again, in the new
    labels; otherwise the browser shows no choice at all after the switch (seen in Chromium)."""
    app = open_page("views/eligibility.py")
    app.radio(key="widget_eligibility_status").set_value("ineligible").run()
    app.sidebar.radio(key="language_choice").set_value("English").run()
    radio = app.radio(key="widget_eligibility_status").proto
    assert radio.set_value and radio.raw_value == "Not eligible"
    table = app.dataframe[0].value
    assert len(table) > 0 and (table["Eligible"] == "No").all()  # the filter still applies


def test_intake_coordinate_choice_survives_a_language_switch():
    app = open_page("views/intake.py")
    app.radio(key="widget_crs-communities").set_value("gcj02").run()
    app.sidebar.radio(key="language_choice").set_value("English").run()
    radio = app.radio(key="widget_crs-communities").proto
    assert radio.set_value and radio.raw_value == "GCJ-02 (Amap, Tencent)"


@pytest.mark.parametrize(
    "language, date_header, placeholder",
    [("中文", "申请日期", "选择原因（可多选）"), ("English", "Application date", "Choose reasons")],
)
def test_eligibility_page_shows_no_english_none_and_a_placeholder_in_the_language(language, date_header, placeholder):
    """A missing application date is an empty cell, not Streamlit's "None"; the reasons filter's
    placeholder is ours, not Streamlit's "Choose options"."""
    app = open_page("views/eligibility.py")
    app.sidebar.radio(key="language_choice").set_value(language).run()
    assert not app.exception
    assert app.multiselect[0].proto.placeholder == placeholder
    for frame in app.dataframe:
        assert frame.proto.HasField("placeholder") and frame.proto.placeholder == ""
    dates = app.dataframe[0].value[date_header]
    assert dates.isna().any() and dates.notna().any()  # the data keeps its missing values; only the display is empty


def test_every_table_on_a_page_shows_missing_values_as_empty_cells():
    """Streamlit draws a missing cell as the English word "None" unless ``placeholder`` says otherwise
    ("" or "—", the plans comparison's mark of a figure one plan lacks)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    bare = []
    for script in sorted((root / "views").glob("*.py")) + [root / "app.py"]:
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "dataframe":
                given = {k.arg: k.value for k in node.keywords}
                placeholder = given.get("placeholder")  # empty, or a dash where a figure is missing
                if not (isinstance(placeholder, ast.Constant) and placeholder.value in ("", "—")):
                    bare.append(f"{script.name}:{node.lineno}")
    assert not bare, f'st.dataframe without placeholder="": {bare}'


def test_a_city_without_english_district_names_shows_the_chinese_ones_on_the_english_page(tmp_path, monkeypatch):
    import shutil

    import geopandas as gpd

    city = tmp_path / "city.gpkg"
    shutil.copy(DEFAULT_DATA_PATH, city)
    districts = gpd.read_file(city, layer="districts").drop(columns=["district_name_en"])
    districts.to_file(city, layer="districts", driver="GPKG", engine="pyogrio")
    monkeypatch.setenv("PLANNER_DATA", str(city))
    app = open_page()
    app.sidebar.radio(key="language_choice").set_value("English").run()
    assert not app.exception
    options = app.selectbox[0].options
    assert "城中区" in options and not any(o in ("nan", "None", "<NA>") for o in options)


def test_a_city_of_its_own_is_named_on_every_page_and_is_not_called_synthetic(tmp_path, monkeypatch):
    """A city made by ``geo city init`` names itself (合肥市), never the sample's city, and is not
    called synthetic; the sample is (its file says so)."""
    from geo.intake.newcity import build_city, write_city
    from tests import othercity

    files = othercity.write_files(tmp_path / "files")
    city = tmp_path / "hefei.gpkg"
    write_city(build_city(files["communities"], fitness_paths=files["fitness_paths"], name="合肥市"), city)
    monkeypatch.setenv("PLANNER_DATA", str(city))
    sample_city = load_config().city_name("zh")
    for page in (None, "views/eligibility.py", "views/priority_budget.py", "views/publish.py"):
        app = open_page(page)
        shown = " ".join(
            str(e.value) for kind in ("title", "header", "subheader", "caption", "markdown") for e in getattr(app, kind)
        ) + " ".join(str(e.value) for e in [*app.sidebar.caption, *app.text_input])
        assert page in ("views/eligibility.py", "views/priority_budget.py") or "合肥市" in shown, page
        assert sample_city not in shown, page
        assert text("synthetic_notice", "zh", city="合肥市", bureau="")[:4] not in shown
    monkeypatch.delenv("PLANNER_DATA")
    app = open_page()
    assert any(
        text("synthetic_notice", "zh", city=sample_city, bureau="")[:4] in str(c.value) for c in app.sidebar.caption
    )


def test_a_hostile_city_name_from_a_city_file_is_shown_as_text(tmp_path, monkeypatch):
    """The city's name now comes from a file a user may have made: never Markdown, never a link."""
    from geo.intake.newcity import build_city, write_city
    from tests import othercity

    files = othercity.write_files(tmp_path / "files")
    hostile = "[点我](javascript:alert(1))**粗体**<b>x</b>"
    city = tmp_path / "hostile.gpkg"
    write_city(build_city(files["communities"], name=hostile), city)
    monkeypatch.setenv("PLANNER_DATA", str(city))
    app = open_page()
    rendered = [str(e.value) for kind in ("title", "header", "markdown", "caption") for e in getattr(app, kind)]
    named = [value for value in rendered if "点我" in value]
    assert named, rendered
    for value in named:
        assert "\\[点我\\]" in value and "\\*\\*粗体\\*\\*" in value and "\\<b\\>" in value


def test_gis_downloads_offer_cgcs2000_and_gbk_and_say_when_gbk_cannot_hold_a_name(tmp_path, monkeypatch):
    """The priority page's GIS downloads: Shapefile in UTF-8 or GBK, WGS84 or CGCS2000. A name GBK
    lacks (an emoji) is said at once, and the GBK Shapefile is not offered; UTF-8 still is."""
    import shutil

    import geopandas as gpd

    from geo.errors import DataError
    from geo.render.export import export

    city = tmp_path / "city.gpkg"
    shutil.copy(DEFAULT_DATA_PATH, city)
    communities = gpd.read_file(city, layer="communities")
    communities["name"] = communities["name"] + "🏃"
    communities.to_file(city, layer="communities", driver="GPKG", engine="pyogrio")
    monkeypatch.setenv("PLANNER_DATA", str(city))
    app = open_page("views/priority_budget.py")
    assert [r.value for r in app.radio if r.key and r.key.startswith("gis-crs-")] == ["EPSG:4326"]
    gbk = next(r for r in app.radio if r.key and r.key.startswith("gis-encoding-"))
    assert not [w for w in app.warning if "GBK" in str(w.value)]
    gbk.set_value("gbk").run()
    assert not app.exception
    assert [w for w in app.warning if "GBK" in str(w.value) and "🏃" in str(w.value)], [w.value for w in app.warning]
    # The page's check is the export's own: GBK refused, UTF-8 (here in CGCS2000) written.
    frame = communities.head(3)
    with pytest.raises(DataError, match="GBK"):
        export(frame, tmp_path / "x.zip", encoding="gbk")
    assert export(frame, tmp_path / "y.zip", crs="EPSG:4490").stat().st_size > 0


def test_the_analyst_chooses_how_to_treat_unknown_open_space_on_the_page(tmp_path, monkeypatch):
    """A city without open-space data: the priority page says why nothing is bought and offers the
    choice; 'assume room' buys sets (flagged), and the map and eligibility counts follow."""
    from geo.intake.newcity import build_city, write_city
    from tests import othercity

    files = othercity.write_files(tmp_path / "files")
    city = tmp_path / "hefei.gpkg"
    write_city(build_city(files["communities"], fitness_paths=files["fitness_paths"], name="合肥市"), city)
    monkeypatch.setenv("PLANNER_DATA", str(city))
    app = open_page("views/priority_budget.py")
    assert any("11 个小区因可用空地待现场核查未纳入考虑" in str(i.value) for i in app.info)
    rule = next(r for r in app.radio if r.label == text("open_space_rule", "zh"))
    assert rule.value == "survey_first"
    rule.set_value("assume_room").run()
    assert not app.exception
    sets = [m.value for m in app.metric if m.value.endswith(text("sets_unit", "zh"))]
    assert sets and int(sets[0].split()[0]) > 0
    app.switch_page("views/eligibility.py").run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics[text("metric_eligible", "zh")] != "0", metrics


def test_an_eligibility_workbook_has_a_sheet_named_in_the_language_and_gis_formats_are_offered(city):
    import io

    import openpyxl

    from views import shared

    scored = score_communities(city.communities.head(30), city.fitness_paths, load_config())
    for language, sheet in (("zh", "名单"), ("en", "List")):
        workbook = openpyxl.load_workbook(io.BytesIO(shared.export_bytes(scored, ".xlsx", {}, language)))
        assert workbook.sheetnames[0] == sheet
    app = open_page("views/eligibility.py")
    assert [r for r in app.radio if r.key and r.key.startswith("gis-crs-eligibility")]
