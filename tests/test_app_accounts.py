"""The app's accounts (issue 14): login, logout, idle expiry, pages by role, district offices confined.

Each test has its own store (``PLANNER_DB_URL`` = a SQLite file in tmp_path) with accounts made by
:func:`geo.store.accounts.add_user`; a session acts as a user once ``st.session_state["actor"]`` holds
it, as the login page leaves it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.config import DEFAULT_DATA_PATH, load_config
from geo.i18n import label, text
from geo.pipeline import load_city
from geo.plan import score_communities
from geo.store.accounts import add_user, disable_user
from geo.store.actors import Actor
from geo.store.applications import add_application
from geo.store.audit import audit_entries
from geo.store.db import open_store
from geo.store.installations import add_installation
from views import shared

APP = "../app.py"
PASSWORD = "correct horse battery"
MINE, OTHERS = "450203", ("450202", "450204", "450205", "450206")  # 鱼峰区; the sample's other districts
USERS = {
    "boss": ("admin", ()),
    "plan": ("planner", ()),
    "ana": ("analyst", ()),
    "yufeng": ("district", (MINE,)),
}
ACTORS = {name: Actor(name, role, districts) for name, (role, districts) in USERS.items()}


@pytest.fixture(scope="module")
def city():
    return load_city(DEFAULT_DATA_PATH)


@pytest.fixture(scope="module")
def scored(city):
    return score_communities(city.communities, city.fitness_paths, load_config(), city.applications)


@pytest.fixture
def empty_store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/store.sqlite"
    monkeypatch.setenv("PLANNER_DB_URL", url)
    return open_store(url)


@pytest.fixture
def store(empty_store):
    for name, (role, districts) in USERS.items():
        add_user(empty_store, ACTORS["boss"], name, PASSWORD, role, districts)
    return empty_store


def run(app):
    app.run()
    assert not app.exception, app.exception
    return app


def open_app(user: str | None = None, page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    if user is not None:
        app.session_state["actor"] = ACTORS[user]
    run(app)
    if page is not None:
        app.switch_page(page)
        run(app)
    return app


def log_in(app, username, password):
    app.text_input[0].input(username)
    app.text_input[1].input(password)
    app.button[0].click()
    return run(app)


def titles(app):
    return [t.value for t in app.title]


def message(key, **values):
    """A page's text (the [text] table) as the page shows it."""
    return text(key, "zh", **values)


def refusal(key, **values):
    """A refusal (the [message] table) as the login page shows it."""
    return shared.plain(label("message", key, "zh", **values))


def test_without_any_account_the_app_opens_as_the_local_single_user(empty_store):
    app = open_app()
    assert titles(app) == ["覆盖地图"]
    captions = [c.value for c in app.sidebar.caption]
    assert any(c.startswith("本地单用户会话（未设置账号）") and "geo users add --role admin" in c for c in captions)
    assert "actor" not in app.session_state


def test_with_accounts_a_new_session_sees_the_login_page_and_nothing_else(store):
    app = open_app()
    assert titles(app) == ["登录"]
    assert not app.metric and not app.dataframe and not app.get("iframe")
    assert not app.sidebar.number_input  # no walk radius, no data name: nothing of the city


def test_a_wrong_password_is_refused_and_the_right_one_opens_the_pages(store):
    app = open_app()
    log_in(app, "boss", "not the password")
    assert [e.value for e in app.error] == [refusal("login_failed")]
    assert titles(app) == ["登录"] and "actor" not in app.session_state
    log_in(app, "boss", PASSWORD)
    assert titles(app) == ["覆盖地图"]
    assert app.session_state["actor"] == ACTORS["boss"]
    assert "boss · 管理员 · 全部区县" in [c.value for c in app.sidebar.caption]


def test_a_district_office_is_named_with_its_districts_in_the_sidebar(store):
    app = open_app()
    log_in(app, "yufeng", PASSWORD)
    assert "yufeng · 区县文体部门 · 鱼峰区" in [c.value for c in app.sidebar.caption]


def test_a_disabled_or_locked_account_cannot_log_in(store):
    disable_user(store, ACTORS["boss"], "plan")
    app = open_app()
    log_in(app, "plan", PASSWORD)
    assert [e.value for e in app.error] == [refusal("login_disabled", username="plan")]
    for _ in range(5):
        log_in(app, "ana", "wrong password!")
    assert [e.value for e in app.error] == [refusal("login_failed_locked", tries=5, minutes=15)]  # said at once
    log_in(app, "ana", PASSWORD)  # locked: even the right password waits
    assert [e.value for e in app.error] == [refusal("login_locked", minutes=15)]
    assert titles(app) == ["登录"]


def test_an_idle_session_is_logged_out_with_a_message(store):
    app = open_app("boss")
    assert titles(app) == ["覆盖地图"]
    app.session_state[shared.LAST_ACTIVE_KEY] = time.time() - 29 * 60  # within 30 minutes: still in
    run(app)
    assert titles(app) == ["覆盖地图"]
    app.session_state[shared.LAST_ACTIVE_KEY] = time.time() - 31 * 60
    run(app)
    assert titles(app) == ["登录"] and "actor" not in app.session_state
    assert [i.value for i in app.info] == [message("login_expired", minutes=30)]


def test_logout_ends_the_session_and_forgets_its_choices_and_upload(store):
    from geo.intake.uploads import UploadFolder

    app = open_app("ana")
    app.sidebar.number_input(key="widget_walk_radius_m").set_value(800)
    folder = app.session_state["upload_folder"] = UploadFolder()
    run(app)
    assert folder.path.exists()
    app.sidebar.button(key="logout").click()
    run(app)
    assert titles(app) == ["登录"] and "actor" not in app.session_state
    assert "keep_walk_radius_m" not in app.session_state and not folder.path.exists()
    assert [i.value for i in app.info] == [message("logged_out")]


def test_an_account_disabled_during_a_session_is_logged_out_at_its_next_action(store):
    app = open_app("plan")
    disable_user(store, ACTORS["boss"], "plan")
    run(app)
    assert titles(app) == ["登录"] and "actor" not in app.session_state


ALL_PAGES = ["coverage", "eligibility", "applications", "priority", "publish", "intake", "new-city", "audit"]
EXPECTED_PAGES = {
    "yufeng": ["coverage", "eligibility", "applications"],
    "ana": ["coverage", "eligibility", "applications", "priority", "publish", "intake", "new-city"],
    "plan": ["coverage", "eligibility", "applications", "priority", "publish", "intake", "new-city"],
    "boss": ALL_PAGES,
}


@pytest.mark.parametrize("user", list(EXPECTED_PAGES))
def test_each_role_is_given_only_its_pages(store, user, monkeypatch):
    offered = []
    original = shared.pages_for

    def spy(actor, pages):
        chosen = original(actor, pages)
        offered.append([shared.declared_path(p) for p in chosen])
        return chosen

    monkeypatch.setattr(shared, "pages_for", spy)
    open_app(user)
    present = list(offered[-1])
    # Pages other helpers have not registered yet (plans, installations) are simply not there.
    assert {p for p in present if p in ALL_PAGES} == set(EXPECTED_PAGES[user])
    assert all(shared.may_open(ACTORS[user], p) for p in present)


def test_the_role_table_covers_the_pages_still_to_come():
    assert shared.may_open(ACTORS["ana"], "plans") and shared.may_open(ACTORS["plan"], "installations")
    assert not shared.may_open(ACTORS["yufeng"], "plans") and not shared.may_open(ACTORS["yufeng"], "installations")
    assert not shared.may_open(ACTORS["plan"], "audit") and shared.may_open(ACTORS["boss"], "audit")
    assert not shared.may_open(ACTORS["plan"], "a-page-nobody-listed")  # unlisted: the administrator's alone
    assert shared.may_open(ACTORS["boss"], "a-page-nobody-listed")


@pytest.mark.parametrize(
    "user, page, title",
    [("ana", "views/audit.py", "操作记录"), ("yufeng", "views/priority_budget.py", "优先排序与预算")],
)
def test_a_page_the_role_may_not_open_does_not_render_when_asked_for(store, user, page, title):
    app = open_app("boss", page)  # the page is open in this browser session (its URL)
    assert titles(app)[0] == title
    app.session_state["actor"] = ACTORS[user]  # now someone who may not see it asks for the same page
    run(app)
    assert title not in titles(app)
    assert titles(app) == ["覆盖地图"]  # the default page instead


def community_ids(frame: pd.DataFrame) -> set[str]:
    column = "community_id" if "community_id" in frame.columns else "小区编号"
    return set(frame[column].astype(str))


def test_a_district_office_sees_only_its_district_on_the_coverage_page(store, scored):
    app = open_app("yufeng")
    assert list(app.selectbox[0].options) == ["本账号的全部区县", "鱼峰区"]
    table = app.dataframe[0].value
    assert list(table["区县"]) == ["鱼峰区", "合计"]
    mine = scored[scored["district_code"] == MINE]
    shown = {m.label: m.value for m in app.metric}
    assert shown["小区总数"] == f"{len(mine):,}"
    # Coverage was computed on the whole city: a set across the border serves a community of this district.
    assert int(shown["次要：步行范围内已覆盖"].split()[0].replace(",", "")) == int(mine["served_within_radius"].sum())
    html = app.get("iframe")[0].proto.srcdoc
    assert f"{MINE}-0001" in html
    assert not any(f"{other}-0001" in html for other in OTHERS)


def test_a_district_office_lists_and_downloads_only_its_communities(store, monkeypatch):
    downloads = []
    original = shared.download_buttons

    def spy(tables, *args, **kwargs):
        downloads.append(tables)
        return original(tables, *args, **kwargs)

    monkeypatch.setattr(shared, "download_buttons", spy)
    app = open_app("yufeng", "views/eligibility.py")
    assert list(app.selectbox[0].options) == ["鱼峰区"]
    assert {i[:6] for i in community_ids(app.dataframe[0].value)} == {MINE}
    # Every download of the page (the district's communities, then its land-less list) is confined to it.
    assert downloads and all({i[:6] for i in community_ids(table)} == {MINE} for table in downloads)
    csv = shared.export_bytes(downloads[0], ".csv", {}, "zh").decode("utf-8-sig")
    assert f"{MINE}-0001" in csv and not any(f"{other}-" in csv for other in OTHERS)
    html = app.get("iframe")[0].proto.srcdoc
    assert not any(f"{other}-0001" in html for other in OTHERS)


def test_another_districts_code_from_a_link_or_the_kept_state_is_refused(store):
    app = AppTest.from_file(APP, default_timeout=120)
    app.session_state["actor"] = ACTORS["yufeng"]
    app.query_params["district"] = "450202"
    run(app)
    app.switch_page("views/eligibility.py")
    run(app)
    refused = label("message", "not_your_district", "zh", user="yufeng", district="450202")
    assert any(shared.plain(refused) in e.value for e in app.error)
    assert not app.dataframe  # nothing of that district, nor of any other

    app = open_app("yufeng")
    app.session_state["keep_eligibility_district"] = "450202"  # kept from before, or typed into the state
    app.switch_page("views/eligibility.py")
    run(app)
    assert any(shared.plain(refused) in e.value for e in app.error) and not app.dataframe
    run(app)  # the kept choice was put back to the office's own district
    assert not app.error and {i[:6] for i in community_ids(app.dataframe[0].value)} == {MINE}


def test_a_stored_application_counts_on_the_next_rerun(store, city):
    app = open_app("boss", "views/eligibility.py")
    app.selectbox[0].set_value(MINE)
    run(app)
    applied = int(next(m.value for m in app.metric if m.label == "已申请").replace(",", ""))
    applied_ids = set(city.applications["community_id"].astype(str))
    ids = city.communities["community_id"].astype(str)
    candidate = next(i for i in ids if i.startswith(MINE) and i not in applied_ids)
    add_application(store, ACTORS["yufeng"], city.communities, candidate, datetime.now(UTC).date())
    run(app)
    assert int(next(m.value for m in app.metric if m.label == "已申请").replace(",", "")) == applied + 1


def test_the_audit_page_lists_newest_first_and_downloads_a_csv_with_a_bom(store):
    app = open_app("boss", "views/audit.py")
    table = app.dataframe[0].value
    assert list(table["操作"][:1]) == ["添加账号"] and list(table["对象编号"]) == ["yufeng", "ana", "plan", "boss"]
    assert list(table["对象"][:1]) == ["账号"] and "时间（北京时间）" in table.columns
    assert list(table["变更内容"][:1]) == ["用户名：yufeng；角色：区县文体部门；所管区县：鱼峰区；已停用：否"]
    from views.audit import csv_bytes, newest_first

    data = csv_bytes(newest_first(audit_entries(store)), "zh")
    lines = data.decode("utf-8-sig").splitlines()
    assert data.startswith(b"\xef\xbb\xbf") and "yufeng" in lines[1] and "添加账号" in lines[1]
    assert lines[0].endswith('"修改前（原始 JSON）","修改后（原始 JSON）"')
    assert not app.text_area and not app.get("data_editor")  # nothing to edit


def test_a_data_upload_is_recorded_in_the_audit_log(store, tmp_path):
    import shutil

    upload = tmp_path / "upload.gpkg"
    shutil.copy(DEFAULT_DATA_PATH, upload)

    def page(path, user):
        import streamlit as st

        from views import shared

        st.session_state["actor"] = user
        shared.use_data(path, "我的城市.gpkg")

    app = AppTest.from_function(page, args=(upload, ACTORS["ana"]), default_timeout=60)
    run(app)
    rows = audit_entries(store)
    row = rows[rows["action"] == "data_upload"].iloc[-1]
    assert row["actor"] == "ana" and row["entity"] == "data"
    after = pd.read_json(pd.io.common.StringIO(row["after"]), typ="series")
    assert after["file"] == "我的城市.gpkg"
    assert after["sha256"] == shared.file_sha256(upload) == row["entity_id"]
    city = load_city(upload)
    assert after["layers"]["communities"] == len(city.communities)
    assert after["layers"]["fitness_paths"] == len(city.fitness_paths)
    assert app.session_state["uploaded_data"] == str(upload)


def test_single_sign_on_maps_an_identity_to_an_existing_enabled_account_and_never_makes_one(db_url):
    from geo.errors import DataError
    from geo.store.sso import sso_actor, sso_usernames

    sso_store = open_store(db_url)
    for name, (role, districts) in USERS.items():
        add_user(sso_store, ACTORS["boss"], name, PASSWORD, role, districts)
    assert sso_actor(sso_store, {"preferred_username": "yufeng"}) == ACTORS["yufeng"]
    # An e-mail maps by its part before @ only at the domain config.toml trusts, and only when verified.
    claims = {"email": "Ana@City.gov.cn", "email_verified": True}
    assert sso_usernames(claims) == [] and sso_usernames(claims, "city.gov.cn") == ["Ana"]
    assert sso_actor(sso_store, {"email": "ana@city.gov.cn"}, "city.gov.cn") == ACTORS["ana"]
    for claims, domain in (
        ({"email": "boss@gmail.com"}, "city.gov.cn"),  # anyone's mail service: never the administrator
        ({"email": "boss@city.gov.cn", "email_verified": False}, "city.gov.cn"),
        ({"email": "boss@city.gov.cn"}, ""),
        ({"preferred_username": "stranger"}, ""),
        ({"preferred_username": "'; DROP TABLE users; --"}, ""),
        ({}, ""),
    ):
        with pytest.raises(DataError) as refused:
            sso_actor(sso_store, claims, domain)
        assert refused.value.args[0].key == "sso_unknown_account"
    disable_user(sso_store, ACTORS["boss"], "plan")
    with pytest.raises(DataError) as refused:
        sso_actor(sso_store, {"preferred_username": "plan"})
    assert refused.value.args[0].key == "login_disabled"
    assert len(audit_entries(sso_store)) == len(USERS) + 1  # signing on made and changed nothing


def test_record_upload_appends_one_row_on_either_database(db_url):
    from geo.store.audit import record_upload

    audit_store = open_store(db_url)
    record_upload(audit_store, "local", "城市.gpkg", "ab" * 32, {"communities": 3, "fitness_paths": 1})
    row = audit_entries(audit_store).iloc[-1]
    assert (row["actor"], row["action"], row["entity"], row["entity_id"]) == ("local", "data_upload", "data", "ab" * 32)
    assert row["before"] is None and '"communities": 3' in row["after"] and "城市.gpkg" in row["after"]


def everything_shown(app) -> str:
    """All a page shows: tables, maps, choices, texts (one string to search)."""
    parts = [frame.value.to_csv() for frame in app.dataframe]
    parts += [element.proto.srcdoc for element in app.get("iframe")]
    for kind in ("selectbox", "multiselect", "radio"):
        parts += [str(list(widget.options)) for widget in getattr(app, kind)]
    for kind in ("markdown", "caption", "text", "info", "warning", "error", "metric"):
        parts += [str(getattr(element, "value", "")) for element in getattr(app, kind)]
    return "\n".join(parts)


@pytest.mark.parametrize("page", ["views/coverage_map.py", "views/eligibility.py", "views/applications.py"])
def test_no_door_of_a_district_office_shows_or_downloads_another_districts_community(store, city, page, monkeypatch):
    today = datetime.now(UTC).date()
    for district in (MINE, *OTHERS):  # stored applications in every district, the office's own among them
        first = next(i for i in city.communities["community_id"].astype(str) if i.startswith(district))
        add_application(store, ACTORS["boss"], city.communities, first, today, applicant="居委会")
    downloads = []
    original = shared.download_buttons

    def spy(tables, *args, **kwargs):
        downloads.append(tables)
        return original(tables, *args, **kwargs)

    monkeypatch.setattr(shared, "download_buttons", spy)
    app = open_app("yufeng")
    if page != "views/coverage_map.py":
        app.switch_page(page)
        run(app)
    assert titles(app) and not app.error
    shown = everything_shown(app)
    for tables in downloads:
        for table in tables.values() if isinstance(tables, dict) else [tables]:
            shown += shared.export_bytes(table, ".csv", {}, "zh").decode("utf-8-sig")
    assert f"{MINE}-0" in shown
    assert not [other for other in OTHERS if f"{other}-0" in shown]


def test_the_login_page_speaks_english_too_and_offers_no_sign_on_without_a_provider(store):
    app = open_app()
    app.sidebar.radio(key="language_choice").set_value("English")
    run(app)
    assert titles(app) == ["Log in"]
    assert [b.label for b in app.button] == ["Log in"]  # no 单点登录 without [auth] in secrets.toml
    log_in(app, "boss", "not the password")
    assert [e.value for e in app.error] == [shared.plain(label("message", "login_failed", "en"))]
    log_in(app, "yufeng", PASSWORD)
    assert titles(app) == ["Coverage map"]
    assert "yufeng · District office · Yufeng District" in [c.value for c in app.sidebar.caption]


def test_a_set_installed_counts_as_served_on_the_next_rerun_of_every_session(store, city, scored):
    from tests.store_helpers import seed_plan

    app = open_app("boss")
    other = open_app("ana")  # another session, open before the installation
    served = {m.label: m.value for m in app.metric}["小区内已有健身路径"]
    communities = city.communities.set_index("community_id")
    unserved = scored[~scored["served_inside"]]["community_id"].astype(str)
    community = next(i for i in unserved if communities.geometry[i].contains(communities.geometry[i].centroid))
    plan_id = seed_plan(store, city, picks=(community,))
    add_installation(store, ACTORS["boss"], plan_id, community, datetime.now(UTC).date())
    for session in (app, other):
        run(session)
        now = {m.label: m.value for m in session.metric}["小区内已有健身路径"]
        assert int(now.replace(",", "")) == int(served.replace(",", "")) + 1


def test_the_audit_page_filters_since_a_date_and_no_one_else_opens_it(store):
    from geo.store.schema import AuditEntry

    with store.session() as session, session.begin():  # an entry of an earlier year, as if written then
        session.add(
            AuditEntry(
                at=datetime(2020, 5, 1, tzinfo=UTC), actor="boss", action="user_add", entity="user", entity_id="old"
            )
        )
    app = open_app("boss", "views/audit.py")
    assert "old" in set(app.dataframe[0].value["对象编号"])
    app.date_input(key="audit-since").set_value(datetime.now(UTC).date())
    run(app)
    assert "old" not in set(app.dataframe[0].value["对象编号"]) and len(app.dataframe[0].value) == len(USERS)
    app.session_state["actor"] = ACTORS["plan"]
    run(app)
    assert titles(app) == ["覆盖地图"]  # a planner asking for the audit page gets the default page


class SignedOn:
    """Stands in for ``st.user`` after the identity provider has sent the user back (no provider here)."""

    def __init__(self, **claims):
        self.claims = {"is_logged_in": True, **claims}
        self.is_logged_in = True

    def to_dict(self):
        return dict(self.claims)


@pytest.mark.parametrize(
    "claims, title, error",
    [
        ({"preferred_username": "yufeng"}, "覆盖地图", None),
        ({"preferred_username": "stranger", "email": "boss@gmail.com"}, "登录", "sso_unknown_account"),
    ],
)
def test_single_sign_on_in_the_app_logs_in_only_an_existing_account(store, monkeypatch, claims, title, error):
    import streamlit

    monkeypatch.setattr(shared, "sso_configured", lambda: True)
    monkeypatch.setattr(streamlit, "user", SignedOn(**claims))
    app = open_app()
    assert titles(app) == [title]
    if error is None:
        assert app.session_state["actor"] == ACTORS["yufeng"]
    else:
        assert [e.value for e in app.error] == [refusal(error, identity="stranger")]
        assert "actor" not in app.session_state and has_accounts_count(store) == len(USERS)


def has_accounts_count(store) -> int:
    from geo.store.accounts import list_users

    return len(list_users(store))


def test_a_store_that_cannot_be_reached_is_a_plain_message_not_a_traceback(monkeypatch):
    monkeypatch.setenv("PLANNER_DB_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/nothing")
    app = AppTest.from_file(APP, default_timeout=120)
    run(app)
    assert [e.value for e in app.error] == [text("error_store", "zh")]
    assert not app.title and "secret" not in str(app)


def test_the_login_page_builds_the_first_page_for_the_first_planner(store, monkeypatch):
    """While the login form waits, the planner's first page is built into the shared caches, nothing of it shown:
    after the login the coverage page finds its map built (one build in all), not a second one."""
    import streamlit as st

    built = []
    original = shared.coverage_map

    def counted(*args, **kwargs):
        built.append(kwargs.get("lang"))
        return original(*args, **kwargs)

    monkeypatch.setattr(shared, "coverage_map", counted)
    st.cache_data.clear()  # no map from an earlier test
    app = open_app()
    assert titles(app) == ["登录"]
    assert not app.metric and not app.get("iframe")  # nothing of the data on the login page
    assert built == ["zh"]  # the whole city's map, in the page's language, built for later

    log_in(app, "plan", PASSWORD)
    assert titles(app) == ["覆盖地图"]
    assert len(app.get("iframe")) == 1
    assert built == ["zh"]  # the page found it cached
