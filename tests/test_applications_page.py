"""The 建设申请 / Applications page (views/applications.py), driven with Streamlit's AppTest on the sample
city and a store of the test's own (PLANNER_DB_URL → a SQLite file in tmp_path).

The 柳南区 office (450204) enters, uploads and forwards its applications and sees nothing of 城中区
(450202); the planner sees every district and takes the city's steps. Every write reruns the page,
so the list shows it at once.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.store.actors import Actor
from geo.store.applications import add_application, list_applications, set_status
from geo.store.applications import history as history_of
from geo.store.db import open_store
from views import shared

APP = "../app.py"
PAGE = "../views/applications.py"
LIUNAN = Actor("liunan", "district", ("450204",))
PLANNER = Actor("planner1", "planner")
TODAY = datetime.now(UTC).date()


@pytest.fixture
def store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/store.sqlite"
    monkeypatch.setenv("PLANNER_DB_URL", url)
    return open_store(url)


@pytest.fixture(scope="module")
def communities():
    return shared.cached_city(str(shared.DEFAULT_DATA_PATH), shared.data_version(shared.DEFAULT_DATA_PATH)).communities


def open_page(actor: Actor, lang: str = "zh") -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=120)
    app.session_state["actor"] = actor
    app.session_state["lang"] = lang
    app.run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    return app


def listed(app: AppTest):
    return app.dataframe[0].value


def table_with(app: AppTest, column: str):
    """The one table of the page with a column headed ``column``."""
    (table,) = [d.value for d in app.dataframe if column in d.value.columns]
    return table


def press(app: AppTest, label: str) -> None:
    next(b for b in app.button if b.label == label).click()
    app.run()
    assert not app.exception, app.exception


def test_a_district_office_lists_only_its_own_district_in_chinese(store, communities):
    add_application(store, PLANNER, communities, "450204-0001", TODAY, applicant="王阿姨", request="适合老年人和儿童")
    add_application(store, PLANNER, communities, "450202-0001", TODAY)
    app = open_page(LIUNAN)
    assert app.title[0].value == "建设申请"
    table = listed(app)
    assert list(table.columns) == [
        "申请编号", "小区编号", "小区名称", "区县", "申请日期", "申请人", "联系方式", "居民诉求", "备注",
        "办理状态", "不予受理理由", "登记人", "最后更新（北京时间）",
    ]  # fmt: skip
    assert list(table["小区编号"]) == ["450204-0001"]  # 城中区's application is not read at all
    name = communities.set_index("community_id").at["450204-0001", "name"]
    assert list(table["小区名称"]) == [name] and list(table["区县"]) == ["柳南区"]
    assert list(table["办理状态"]) == ["已申请"] and list(table["居民诉求"]) == ["适合老年人和儿童"]
    district_filter = app.multiselect(key="applications-district")
    assert district_filter.options == ["柳南区"]  # only the office's own district to choose from

    planner = open_page(PLANNER, "en")
    assert sorted(listed(planner)["Community ID"]) == ["450202-0001", "450204-0001"]
    assert list(planner.multiselect(key="applications-status").options)[:2] == ["Applied", "District review"]
    assert len(planner.multiselect(key="applications-district").options) == 10
    planner.multiselect(key="applications-district").set_value(["450202"]).run()
    assert list(listed(planner)["Community ID"]) == ["450202-0001"]
    planner.multiselect(key="applications-district").set_value([]).run()
    planner.text_input(key="applications-search").set_value(name).run()
    assert list(listed(planner)["Community ID"]) == ["450204-0001"]


def test_the_list_downloads_as_a_csv_with_bom_of_what_is_shown(store, communities):
    add_application(store, PLANNER, communities, "450204-0001", TODAY, notes='=HYPERLINK("http://x","y")')
    add_application(store, PLANNER, communities, "450204-0002", TODAY)
    app = open_page(PLANNER)
    app.text_input(key="applications-search").set_value("450204-0001").run()
    content = shared.export_bytes(listed_frame(app), ".csv", {}, "zh")
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["申请编号", "小区编号", "小区名称"] and len(rows) == 2
    assert rows[1][8] == '\'=HYPERLINK("http://x","y")'  # the formula guard


def listed_frame(app):
    """The frame the page's download is built from: what the list shows (internal column names)."""
    from views.applications import filtered, shown_table

    with_session = app.session_state
    rows = list_applications(shared.store(), with_session["actor"])
    names = {"450202": "城中区", "450204": "柳南区"}
    return shown_table(filtered(rows, with_session["applications-search"], [], []), names)


def test_entering_one_stores_it_and_a_duplicate_names_the_open_application(store, communities):
    app = open_page(LIUNAN)
    community = app.selectbox(key="applications-add-community")
    assert all(option.split(" · ")[2] == "柳南区" for option in community.options)  # its own communities only
    community.set_value("450204-0003")
    app.date_input(key="applications-add-date").set_value(TODAY - timedelta(days=3))
    app.text_input(key="applications-add-applicant").set_value("<script>alert(1)</script>")
    app.text_input(key="applications-add-request").set_value("适合老年人和儿童")
    press(app, "登记申请")
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert [s.value for s in app.success] == ["已登记申请 1（小区 450204\\-0003）。"]
    assert list(listed(app)["申请人"]) == ["<script>alert(1)</script>"]  # data, shown as typed
    stored = list_applications(store, LIUNAN)
    assert stored.iloc[0]["application_date"] == TODAY - timedelta(days=3)

    app.selectbox(key="applications-add-community").set_value("450204-0003")
    press(app, "登记申请")
    assert [e.value for e in app.error] == [
        "小区 450204\\-0003 已有一份未办结的申请（编号 1，状态 已申请），不重复登记"
    ]
    assert len(list_applications(store, PLANNER)) == 1


def test_an_upload_reports_bad_rows_and_stores_the_good_ones_together(store, communities):
    add_application(store, PLANNER, communities, "450204-0005", TODAY)
    lines = [
        ["小区编号", "申请日期", "申请人", "联系方式", "居民诉求", "备注"],
        ["450204-0001", TODAY.isoformat(), "王阿姨", "139", "适合老年人和儿童", "../../etc/passwd"],
        ["450204-0002", TODAY.isoformat(), "", "", "", ""],
        ["450202-0001", TODAY.isoformat(), "", "", "", ""],  # another district
        ["450204-0003", (TODAY + timedelta(days=1)).isoformat(), "", "", "", ""],  # tomorrow
        ["450204-0001", TODAY.isoformat(), "", "", "", ""],  # again
        ["450204-0005", TODAY.isoformat(), "", "", "", ""],  # stored and open
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(lines)
    app = open_page(LIUNAN)
    app.file_uploader(key="applications-upload-0").set_value(
        ("申请.csv", buffer.getvalue().encode("utf-8-sig"), "text/csv")
    )
    app.run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert any("共 6 行，合格 2 行，不合格 4 行" in c.value for c in app.caption)
    rejects = table_with(app, "未通过原因")
    assert list(rejects["行号"]) == [4, 5, 6, 7]
    assert rejects["未通过原因"].iloc[0] == "小区 450202-0001 属于区县 450202，不在本账号所管区县内"
    assert len(list_applications(store, PLANNER)) == 1  # nothing stored before the button

    press(app, "保存 2 份合格的申请")
    assert [s.value for s in app.success] == ["已保存 2 份申请（编号 2–3）。"]
    assert sorted(list_applications(store, LIUNAN)["community_id"]) == ["450204-0001", "450204-0002", "450204-0005"]
    assert list(listed(app)["备注"])[-2] == "../../etc/passwd"


def test_one_uploaded_application_is_said_as_one_with_its_number(store, communities):
    add_application(store, PLANNER, communities, "450204-0005", TODAY)
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["小区编号", "申请日期"], ["450204-0001", TODAY.isoformat()]])
    app = open_page(LIUNAN)
    app.file_uploader(key="applications-upload-0").set_value(
        ("申请.csv", buffer.getvalue().encode("utf-8"), "text/csv")
    )
    app.run()
    press(app, "保存 1 份合格的申请")
    assert [s.value for s in app.success] == ["已保存 1 份申请（编号 2）。"]  # not "编号 2–2"


def test_status_offers_only_the_roles_steps_and_records_who_when_why(store, communities):
    first = add_application(store, LIUNAN, communities, "450204-0001", TODAY)
    app = open_page(LIUNAN)
    assert app.radio(key="applications-step").options == ["区县审核", "不予受理"]
    app.radio(key="applications-step").set_value("district_review")
    press(app, "确认")
    assert [s.value for s in app.success] == [f"申请 {first['id']} 已改为“区县审核”。"]
    app.radio(key="applications-step").set_value("city_review")
    press(app, "确认")
    # Forwarded to the city: the office has no step left, the planner has the city's.
    assert "本账号对这份申请没有可办理的下一步（当前：市局审核）。" in [i.value for i in app.info]
    planner = open_page(PLANNER)
    assert planner.radio(key="applications-step").options == ["列入计划", "不予受理"]
    planner.radio(key="applications-step").set_value("rejected")
    press(planner, "确认")
    assert planner.error[0].value.endswith("不予受理须说明理由")  # the store refuses; nothing changed
    planner.text_input(key="applications-reason").set_value("小区无空地，公共空间用于停车")
    press(planner, "确认")
    history = table_with(planner, "新状态")
    assert list(history["原状态"]) == ["", "已申请", "区县审核", "市局审核"]
    assert list(history["新状态"]) == ["已申请", "区县审核", "市局审核", "不予受理"]
    assert list(history["操作人"]) == ["liunan", "liunan", "liunan", "planner1"]
    assert list(history["理由"])[-1] == "小区无空地，公共空间用于停车"
    assert history.columns[0] == "时间（北京时间）"  # the city's clock, not UTC
    stored_at = pd.Timestamp(history_of(store, PLANNER, first["id"])["at"].iloc[0])
    utc = stored_at.tz_convert("UTC").tz_localize(None) if stored_at.tzinfo else stored_at
    shown = pd.Timestamp(history["时间（北京时间）"].iloc[0])
    assert shown - utc.floor("s") == pd.Timedelta(hours=8)


def test_land_solution_lists_what_the_eligibility_page_counts_with_the_stored_applications(store, communities):
    scored = shared.cached_scored(
        str(shared.DEFAULT_DATA_PATH),
        shared.data_version(shared.DEFAULT_DATA_PATH),
        float(shared.base_config().walk_radius_m),
        tuple(sorted(shared.base_config().priority_weights.items())),
        shared.base_config().unknown_open_space,
    )
    mine = scored["district_code"] == "450204"
    lacking = scored[
        ~scored["eligible"]
        & ~scored["served"]
        & ~scored["applied"]  # no application in the data file: listed only through the store's
        & scored["reasons"].str.contains("no_open_space|parking_no_space")
        & mine
    ]["community_id"].tolist()
    eligible = scored[scored["eligible"] & mine]["community_id"].tolist()
    from_file = scored[scored["needs_land_solution"] & mine]["community_id"].tolist()
    assert len(lacking) >= 2 and eligible and from_file
    for community in (lacking[0], lacking[1], eligible[0]):
        add_application(store, LIUNAN, communities, community, TODAY)
    set_status(store, LIUNAN, 2, "rejected", "撤回")
    app = open_page(LIUNAN)
    land = table_with(app, "不符合原因")
    # the data file's applications and the stored open one; the rejected one and the eligible one are not listed
    assert sorted(land["小区编号"]) == sorted(from_file + [lacking[0]])
    row = land.set_index("小区编号").loc[lacking[0]]
    assert (row["申请编号"], row["办理状态"]) == (1, "已申请") and row["不符合原因"]
    assert set(land.set_index("小区编号").loc[from_file, "办理状态"]) == {"数据文件中的申请"}
    eligibility = AppTest.from_file("../views/eligibility.py", default_timeout=120)
    eligibility.session_state["actor"] = LIUNAN
    eligibility.run()
    counted = next(m.value for m in eligibility.metric if m.label == "需解决用地")
    assert int(counted.replace(",", "")) == len(land)  # the two pages agree


def test_the_page_is_in_the_apps_navigation_for_a_district_office(store):
    from geo.store.accounts import add_user

    add_user(store, Actor.local(), "chief", "a-long-password", "admin")
    add_user(store, Actor("chief", "admin"), "liunan", "liunan-password", "district", ("450204",))
    app = AppTest.from_file(APP, default_timeout=180)
    app.session_state["actor"] = LIUNAN
    app.run()
    app.switch_page("views/applications.py")
    app.run()
    assert not app.exception, app.exception
    assert app.title[0].value == "建设申请" and not app.error


def test_entering_asks_for_a_community_rather_than_taking_the_first(store):
    app = open_page(LIUNAN)
    assert app.selectbox(key="applications-add-community").value is None
    press(app, "登记申请")
    assert [w.value for w in app.warning] == ["请选择小区"]
    assert list_applications(store, PLANNER).empty
