"""The 安装与检查 / Installations page (views/installations.py) with AppTest on the sample city and a store
of the test's own (PLANNER_DB_URL → a SQLite file in tmp_path)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.config import DEFAULT_DATA_PATH
from geo.pipeline import load_city
from geo.store.actors import Actor
from geo.store.db import open_store
from geo.store.installations import add_inspection, add_installation, list_installations
from tests.store_helpers import JPEG, picture, seed_plan

PAGE = "../views/installations.py"
PLANNER = Actor("wang", "planner")
ANALYST = Actor("li", "analyst")


@pytest.fixture(scope="module")
def sample():
    return load_city(DEFAULT_DATA_PATH)


@pytest.fixture
def planned(tmp_path, monkeypatch, sample):
    """An approved plan of the sample with a set in each of two districts' first communities."""
    url = f"sqlite:///{tmp_path}/store.sqlite"
    monkeypatch.setenv("PLANNER_DB_URL", url)
    store = open_store(url)
    communities = sample.communities.astype({"community_id": str, "district_code": str})
    firsts = communities.drop_duplicates("district_code").iloc[:2]
    plan_id = seed_plan(store, sample, picks=tuple(firsts["community_id"]))
    return store, plan_id, list(firsts["community_id"]), list(firsts["district_code"])


def open_page(actor: Actor, lang: str = "zh") -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=120)
    app.session_state["actor"] = actor
    app.session_state["lang"] = lang
    app.run()
    assert not app.exception, app.exception
    return app


def table_with(app: AppTest, column: str):
    (table,) = [d.value for d in app.dataframe if column in d.value.columns]
    return table


def test_without_an_approved_plan_the_page_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANNER_DB_URL", f"sqlite:///{tmp_path}/store.sqlite")
    app = open_page(PLANNER)
    assert app.title[0].value == "安装与检查"
    assert "还没有已批准的方案" in app.info[0].value


def test_a_planner_records_an_installation_with_the_form(planned, sample):
    store, _, communities, _ = planned
    app = open_page(PLANNER)
    assert not app.error, [e.value for e in app.error]
    progress = table_with(app, "安装情况")
    assert list(progress["小区编号"]) == communities and list(progress["安装情况"]) == ["尚未安装"] * 2
    assert any("已安装 0 处，方案共 2 处" in m.value for m in app.markdown)

    app.selectbox[2].set_value(communities[1]).run()  # plan, district, then the community (its cost offered)
    [cost] = [n for n in app.number_input if n.label == "实际费用（元）"]
    [pieces] = [n for n in app.number_input if n.label == "器材件数"]
    assert cost.value == 50_000 and pieces.value is None  # the pick's planned cost; pieces not known until told
    app.text_input[0].input("北门")
    cost.set_value(48_000)
    [submit] = [b for b in app.button if b.label == "登记安装"]
    submit.click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert any("已登记安装 1" in s.value for s in app.success)
    stored = list_installations(store, PLANNER)
    assert list(stored["community_id"]) == [communities[1]] and list(stored["cost_cny"]) == [48_000]
    assert list(stored["site"]) == ["北门"]
    assert list(table_with(app, "安装情况")["安装情况"]) == ["尚未安装", "已安装"]


def test_the_inspection_record_shows_the_photos_and_an_analyst_gets_no_form(planned):
    store, plan_id, communities, _ = planned
    row = add_installation(store, PLANNER, plan_id, communities[0], date(2026, 11, 20))
    add_inspection(store, PLANNER, row["id"], date(2026, 11, 25), "needs_repair", "单杠松动 **粗体**",
                   [("东门.jpg", picture("JPEG")), ("侧面.webp", picture("WEBP")), ("坏.jpg", JPEG)],
                   today=date(2026, 11, 30))  # fmt: skip
    app = open_page(ANALYST)
    assert not app.error, [e.value for e in app.error]
    assert not [b for b in app.button if b.label in ("登记安装", "登记检查")]  # an analyst reads
    assert any("2026-11-25" in m.value and "需维修" in m.value and "照片 3 张" in m.value for m in app.markdown)
    assert any(c.value == "单杠松动 \\*\\*粗体\\*\\*" for c in app.caption)  # findings shown as typed
    shown = [i.caption for image in app.image for i in image.proto.imgs]
    assert shown == ["东门\\.jpg", "侧面\\.webp"]  # as typed: a caption is Markdown, its "." escaped
    assert any("坏" in c.value and "无法显示" in c.value for c in app.caption)  # named, the rest shown


def test_the_district_filter_narrows_the_picks_and_a_district_office_cannot_open_the_page(planned):
    _, _, communities, districts = planned
    app = open_page(PLANNER, lang="en")
    app.selectbox(key="installations_district").set_value(districts[1]).run()
    assert list(table_with(app, "Installed")["Community ID"]) == [communities[1]]
    office = open_page(Actor("office", "district", (districts[0],)))
    assert office.error and not office.dataframe


def test_the_progress_shows_what_was_recorded_next_to_the_planned_cost(planned):
    store, plan_id, communities, _ = planned
    add_installation(store, PLANNER, plan_id, communities[0], date(2026, 11, 20), site="北门", pieces=8,
                     supplier="柳州体育器材厂", cost_cny=48_000)  # fmt: skip
    app = open_page(ANALYST)
    progress = table_with(app, "安装情况").set_index("小区编号")
    done, waiting = progress.loc[communities[0]], progress.loc[communities[1]]
    assert (done["计划造价（元）"], done["实际造价（元）"], done["器材件数"]) == (50_000, 48_000, 8)
    assert (done["供货或施工单位"], done["安装地点说明"]) == ("柳州体育器材厂", "北门")
    assert waiting["计划造价（元）"] == 50_000 and pd.isna(waiting["实际造价（元）"]) and pd.isna(waiting["器材件数"])
    assert waiting["供货或施工单位"] == "" and "造价（元）" not in progress.columns


def test_one_photo_is_said_as_one_in_english(planned):
    store, plan_id, communities, _ = planned
    row = add_installation(store, PLANNER, plan_id, communities[0], date(2026, 11, 20))  # pieces not told: blank
    add_inspection(store, PLANNER, row["id"], date(2026, 11, 25), "good", "", [("a.jpg", picture("JPEG"))],
                   today=date(2026, 11, 30))  # fmt: skip
    app = open_page(ANALYST, "en")
    assert any(m.value.endswith("· 1 photo") for m in app.markdown), [m.value for m in app.markdown]
    assert not any("photo(s)" in m.value for m in app.markdown)
    assert pd.isna(
        table_with(app, "Actual cost (CNY)").set_index("Community ID").loc[communities[0], "Pieces of equipment"]
    )
