"""The 已保存的方案 / Saved plans page (views/plans.py) and the priority page's 保存方案 form, with AppTest
on the sample city and a store of the test's own (PLANNER_DB_URL → a SQLite file in tmp_path)."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.config import DEFAULT_DATA_PATH, load_config, with_overrides
from geo.data.cells import csv_bytes
from geo.i18n import humanised
from geo.pipeline import load_city
from geo.plan import run_plan
from geo.store.actors import Actor
from geo.store.db import open_store
from geo.store.plans import data_sha256, get_plan, list_plans, save_plan

PAGE = "../views/plans.py"
PRIORITY = "../views/priority_budget.py"
ADMIN = Actor("chief", "admin")
PLANNER = Actor("wang", "planner")
ANALYST = Actor("li", "analyst")
CHENGZHONG = Actor("chengzhong", "district", ("450202",))


@pytest.fixture
def store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/store.sqlite"
    monkeypatch.setenv("PLANNER_DB_URL", url)
    return open_store(url)


@pytest.fixture(scope="module")
def sample_plans():
    """The sample's city programme at CNY 600,000 (12 sets) and at CNY 800,000 (16 sets)."""
    city = load_city(DEFAULT_DATA_PATH)
    return [
        run_plan(
            city.communities,
            city.fitness_paths,
            with_overrides(load_config(), budgets={"city": budget}),
            ["city"],
            "rank",
            city.applications,
        )
        for budget in (600_000, 800_000)
    ]


@pytest.fixture
def two_plans(store, sample_plans):
    digest = data_sha256(DEFAULT_DATA_PATH)
    first = save_plan(store, PLANNER, sample_plans[0], "六十万", digest, DEFAULT_DATA_PATH.name, notes="第一稿")
    second = save_plan(store, PLANNER, sample_plans[1], "八十万", digest, DEFAULT_DATA_PATH.name)
    return first, second


def open_page(actor: Actor, path: str = PAGE, lang: str = "zh", **state) -> AppTest:
    app = AppTest.from_file(path, default_timeout=120)
    app.session_state["actor"] = actor
    app.session_state["lang"] = lang
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    return app


def table_with(app: AppTest, column: str):
    (table,) = [d.value for d in app.dataframe if column in d.value.columns]
    return table


def buttons(app: AppTest) -> list[str]:
    return [b.label for b in app.button]


def test_an_empty_store_says_how_to_save_a_plan(store):
    app = open_page(PLANNER)
    assert app.title[0].value == "已保存的方案"
    assert "在“优先排序与预算”页可以把当前方案保存下来" in app.info[0].value


def test_the_list_an_opened_plan_and_its_download_in_chinese(store, two_plans):
    app = open_page(ANALYST)
    listed = table_with(app, "记录人")
    assert list(listed["名称"]) == ["八十万", "六十万"] and list(listed["状态"]) == ["待批准", "待批准"]
    assert list(listed["套数"]) == [16, 12] and list(listed["已用资金（元）"]) == [800_000, 600_000]
    assert list(listed["数据文件"]) == [DEFAULT_DATA_PATH.name] * 2
    picks = table_with(app, "经度")  # the newest plan is opened first
    assert len(picks) == 16 and set(picks["资金项目名称"]) == {"市本级"}
    assert "鱼峰区" in set(picks["区县"]) and not any(name.isdigit() for name in picks["区县"])  # names, not codes
    (figures,) = [d.value for d in app.dataframe if {"指标", "市本级"} <= set(d.value.columns)]
    figures = figures.set_index("指标")  # one row per figure, one column per programme: none cut off
    assert list(figures.columns) == ["市本级", "合计"] and list(figures.loc["套数"]) == ["16", "16"]
    assert figures.loc["停止原因", "市本级"] in {"资金已用完", "已无可建设的小区", "再建也不能增加覆盖"}
    assert figures.loc["已用资金（元）", "合计"] == "800,000" and figures.loc["停止原因", "合计"] == ""
    download = next(e for e in app.get("download_button") if "plans_download" in e.proto.id)
    assert download.proto.label == "下载选点（CSV）"
    assert csv_bytes(picks).startswith(b"\xef\xbb\xbf")  # the button's bytes: UTF-8 with BOM, for Excel
    assert "批准此方案" not in buttons(app)  # an analyst reads; only an administrator approves

    app.selectbox(key="plans_open_id").set_value(two_plans[0]["id"]).run()
    assert len(table_with(app, "经度")) == 12 and any("第一稿" in c.value for c in app.caption)


def test_two_plans_compared_side_by_side(store, two_plans):
    app = open_page(PLANNER, lang="en")
    said = [m.value.replace("\\", "") for m in app.markdown]  # Markdown punctuation escaped on the page
    assert "**Plan B against plan A: 4 picks added, 0 removed, 12 kept**" in said
    money = next(d.value for d in app.dataframe if {"Figure", "Programme name"} <= set(d.value.columns))  # money
    money = money.set_index(["Programme name", "Figure"])
    spent = money.loc[("City budget", "Spent (CNY)")]
    assert [spent["Plan A"], spent["Plan B"], spent["Difference"]] == [600_000, 800_000, 200_000]
    assert list(money.loc[("Total", "Budget (CNY)")]) == [600_000, 800_000, 200_000]
    changed = table_with(app, "Change")
    assert list(changed["Change"]) == ["Added"] * 4 and list(changed["Order (plan B)"]) == [13, 14, 15, 16]


def test_an_administrator_approves_and_the_plan_shows_approved(store, two_plans):
    assert "批准此方案" not in buttons(open_page(PLANNER))
    app = open_page(ADMIN)
    next(b for b in app.button if b.label == "批准此方案").click()
    app.run()
    assert not app.exception and not app.error
    assert app.success[0].value == f"已批准方案 {two_plans[1]['id']}“八十万”。"
    assert list(table_with(app, "记录人")["状态"]) == ["已批准", "待批准"]
    assert "批准此方案" not in buttons(app)
    assert get_plan(store, ADMIN, two_plans[1]["id"])[0]["approved_by"] == "chief"


def test_a_district_office_is_refused_the_page(store, two_plans):
    """Not a district office's page (the navigation does not offer it either); the store, asked by another
    door, gives it only its own picks (tests/test_store_plans.py, tests/test_cli_plans.py)."""
    app = AppTest.from_file(PAGE, default_timeout=120)
    app.session_state["actor"] = CHENGZHONG
    app.session_state["lang"] = "zh"
    app.run()
    assert not app.exception and "（角色 区县文体部门）不能进行此操作" in app.error[0].value and not app.dataframe


def test_the_priority_page_saves_the_current_plan_for_a_planner(store):
    app = open_page(PLANNER, PRIORITY)
    app.text_input(key="plans_save_name").set_value("页面保存")
    app.text_area(key="plans_save_notes").set_value("从页面")
    next(b for b in app.button if b.label == "保存当前方案").click()
    app.run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    saved = list_plans(store, PLANNER)
    assert list(saved["name"]) == ["页面保存"] and list(saved["created_by"]) == ["wang"]
    assert saved["data_sha256"].iloc[0] == data_sha256(DEFAULT_DATA_PATH)
    assert any("已保存为方案 1“页面保存”" in s.value for s in app.success)
    assert app.text_input(key="plans_save_name").value == "" and app.text_area(key="plans_save_notes").value == ""
    # the same name again: refused on the page, nothing more stored
    app.text_input(key="plans_save_name").set_value("页面保存")
    next(b for b in app.button if b.label == "保存当前方案").click()
    app.run()
    assert any("已有名为“页面保存”的方案" in e.value for e in app.error) and len(list_plans(store, PLANNER)) == 1


def test_the_saved_flash_survives_a_second_run_and_goes_when_the_plan_changes(store):
    """A run cut short by another rerun (a slow page under load) must not swallow the 已保存 message."""
    app = open_page(PLANNER, PRIORITY)
    app.text_input(key="plans_save_name").set_value("留言")
    next(b for b in app.button if b.label == "保存当前方案").click()
    app.run()
    app.run()  # the page run again without any change: still the plan saved
    assert any("已保存为方案 1“留言”" in s.value for s in app.success)
    app.slider(key="widget_weight_population").set_value(0.0)  # another plan now: the message goes
    app.run()
    assert not app.exception and not any("已保存为方案" in s.value for s in app.success)


def test_the_save_form_is_for_planners_and_refuses_an_upload(store, tmp_path):
    assert "保存当前方案" not in buttons(open_page(ANALYST, PRIORITY))
    upload = tmp_path / "mine.gpkg"
    upload.write_bytes(DEFAULT_DATA_PATH.read_bytes())
    app = open_page(PLANNER, PRIORITY, uploaded_data=str(upload), uploaded_name="mine.gpkg")
    assert any("方案只能在服务器的城市数据上保存" in i.value for i in app.info)
    assert "保存当前方案" not in buttons(app) and not len(list_plans(store, PLANNER))


def test_the_page_in_english_says_statuses_in_english(store, two_plans):
    app = open_page(ANALYST, lang="en")
    assert app.title[0].value == "Saved plans"
    listed = humanised(table_with(app, "Recorded by"), "en")
    assert list(listed["Status"]) == ["Proposed", "Proposed"]


def test_the_list_says_its_times_in_the_citys_zone_and_the_picks_csv_has_6_decimals(store, two_plans):
    app = open_page(ANALYST)
    listed = table_with(app, "记录人")
    assert "记录时间（北京时间）" in listed.columns and "记录时间（UTC）" not in listed.columns
    from views import plans as page

    picks = pd.DataFrame({"community_id": ["a"], "lon": [109.123456789], "lat": [24.3]})
    text = page.picks_csv(picks).decode("utf-8-sig")
    assert "109.123457" in text and "109.1234567" not in text


def test_a_figure_missing_in_one_plan_is_a_dash_not_zero(store):
    from views import plans as page  # (importing runs the page once, bare, on the empty store)

    money = pd.DataFrame(
        [
            {"program": "city", **{f"{f}_{s}": 100 for f in ("budget_cny", "spent_cny", "unspent_cny") for s in "ab"}},
            {
                "program": "region",  # only in plan B
                **{f"{f}_a": None for f in ("budget_cny", "spent_cny", "unspent_cny")},
                **{f"{f}_b": 50 for f in ("budget_cny", "spent_cny", "unspent_cny")},
            },
        ]
    )
    shown = page.money_table(money, {"city": "市本级", "region": "自治区"}, {"a": "甲", "b": "乙"}, "zh")
    region = shown[shown["资金项目名称"] == "自治区"]
    assert region["甲"].isna().all() and region["差值"].isna().all() and list(region["乙"]) == [50, 50, 50]
    assert list(shown[shown["资金项目名称"] == "市本级"]["差值"]) == [0, 0, 0]
