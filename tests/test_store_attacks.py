"""Attacks on the system of record (issue 14): another district's ids, hostile text, the roles' limits.

An attacker with an account tries every door of geo.store, the command line and the app: another
district's application, plan, installation and attachment ids; ids that do not exist (negative, huge);
dates in the future; steps the status machine does not allow; hostile strings as every text a user
types; photos that are not photos. What holds is asserted; what breaks is an ``xfail(strict=True)``
naming the cause. Store tests run on SQLite and PostgreSQL (the ``db_url`` fixture).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from geo.config import DEFAULT_DATA_PATH
from geo.errors import DataError, said
from geo.store.accounts import add_user, disable_user, list_users, log_in
from geo.store.actors import Actor
from geo.store.applications import (
    add_application,
    add_applications,
    history,
    list_applications,
    set_status,
)
from geo.store.audit import audit_entries, record_upload
from geo.store.db import open_store
from geo.store.installations import (
    MAX_PHOTO_BYTES,
    add_inspection,
    add_installation,
    attachment,
    list_inspections,
    list_installations,
    plan_progress,
)
from geo.store.plans import approve_plan, compare_plans, get_plan, list_plans, rename_plan, save_plan
from geo.store.schema import Application, Attachment, Inspection, Installation, SavedPlan
from tests.store_helpers import JPEG, PNG, handmade_plan, picture, run, seed_plan, small_city

ADMIN = Actor("chief", "admin")
PLANNER = Actor("planner1", "planner")
ANALYST = Actor("analyst1", "analyst")
CHENGZHONG = Actor("chengzhong", "district", ("450202",))  # small_city: C000, C001
YUFENG = Actor("yufeng", "district", ("450203",))  # small_city: C002
TODAY = date(2026, 11, 30)
PASSWORD = "a-long-password"

HOSTILE = [
    "<script>alert(1)</script>",
    "{{7*7}}",
    '=HYPERLINK("http://x","y")',
    "../../etc/passwd",
    "'; DROP TABLE applications; --",
    "x" * 1_000,  # the longest text an application field holds (geo.store.checks.MAX_TEXT_CHARS)
    "\u202e\u200f右到左\u200e\u202c",
    "{% for x in range(3) %}loop{% endfor %}",
    "名" * 300,
]
NUL = "a\x00b"
HTML_AS_JPEG = b"<!DOCTYPE html><html><script>alert(1)</script></html>"


@pytest.fixture
def store(db_url):
    return open_store(db_url)


@pytest.fixture
def city():
    return small_city()


@pytest.fixture
def plan_id(store, city):
    """An approved plan buying a set in C001 (城中区 450202) and C002 (鱼峰区 450203)."""
    return seed_plan(store, city)


def refused(key: str, call, *args, **kwargs) -> DataError:
    with pytest.raises(DataError) as caught:
        call(*args, **kwargs)
    assert caught.value.args[0].key == key, said(caught.value, "en")
    return caught.value


def xfail_on_postgres(db_url: str, request, reason: str) -> None:
    """Mark this run strictly xfail on PostgreSQL only (SQLite keeps the rule)."""
    if db_url.startswith("postgresql"):
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


def counts(store) -> dict[str, int]:
    """Rows per table that a write may add (applications, installations, inspections, attachments, plans, audit)."""
    from geo.store.schema import AuditEntry

    with store.session() as session:
        return {
            table.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in (Application, Installation, Inspection, Attachment, SavedPlan, AuditEntry)
        }


def install(store, plan_id, community="C001", actor=PLANNER, **kwargs):
    kwargs.setdefault("installed_on", date(2026, 11, 20))
    return add_installation(store, actor, plan_id, community, today=TODAY, **kwargs)


# --------------------------------------------------------------------------- another district's ids


def test_a_district_office_reaches_no_other_districts_row_by_its_id(store, city, plan_id):
    theirs = add_application(store, PLANNER, city.communities, "C002", date(2026, 11, 1), today=TODAY)
    mine = add_application(store, PLANNER, city.communities, "C001", date(2026, 11, 1), today=TODAY)
    installed = install(store, plan_id, community="C002")
    inspection = add_inspection(
        store, PLANNER, installed["id"], date(2026, 11, 25), "good", photos=[("p.png", PNG)], today=TODAY
    )
    photo_id = inspection["photos"][0]["id"]
    before = counts(store)

    refused("not_your_district", set_status, store, CHENGZHONG, theirs["id"], "district_review")
    refused("not_your_district", set_status, store, CHENGZHONG, theirs["id"], "rejected", reason="不要")
    refused("not_your_district", history, store, CHENGZHONG, theirs["id"])
    refused("not_your_district", list_applications, store, CHENGZHONG, "450203")
    refused("not_your_district", add_application, store, CHENGZHONG, city.communities, "C002", TODAY, today=TODAY)
    refused("not_your_district", attachment, store, CHENGZHONG, photo_id)
    refused("not_your_district", list_inspections, store, CHENGZHONG, installed["id"])
    refused("role_not_allowed", add_inspection, store, CHENGZHONG, installed["id"], TODAY, "damaged", today=TODAY)
    refused("role_not_allowed", install, store, plan_id, community="C002", actor=CHENGZHONG)

    assert list(list_applications(store, CHENGZHONG)["id"]) == [mine["id"]]
    assert list_installations(store, CHENGZHONG).empty and list_inspections(store, CHENGZHONG).empty
    assert list(plan_progress(store, CHENGZHONG, plan_id)["community_id"]) == ["C001"]
    assert list(list_plans(store, CHENGZHONG)["sets"]) == [1]  # its own pick only, not the city's two
    # the other office reads its own, and the administrator everything
    assert attachment(store, YUFENG, photo_id)[2] == PNG
    assert list(list_applications(store, ADMIN)["id"]) == [theirs["id"], mine["id"]]
    assert counts(store) == before  # no refused door wrote anything, not even an audit row


def test_a_district_office_is_refused_a_district_code_it_does_not_hold_however_written(store, city):
    add_application(store, PLANNER, city.communities, "C002", date(2026, 11, 1), today=TODAY)
    for code in ("450203", " 450203", "450203 ", "%", "450202' OR '1'='1", "'; DROP TABLE applications; --", ""):
        refused("not_your_district", list_applications, store, CHENGZHONG, code)
    # an administrator asking for a hostile code gets an empty list, and the table is still there
    assert list_applications(store, ADMIN, "'; DROP TABLE applications; --").empty
    assert list_applications(store, ADMIN, "%").empty
    assert len(list_applications(store, ADMIN)) == 1


def test_a_saved_plan_shown_to_a_district_office_names_no_other_districts_community(store):
    saved = save_plan(store, PLANNER, handmade_plan(), "全市", "a" * 64)  # C003 (450203) applied; picks in both
    record, picks = get_plan(store, CHENGZHONG, saved["id"])
    assert set(picks["district_code"]) <= {"450202"}
    text = json.dumps(record, default=str, ensure_ascii=False) + picks.to_json(force_ascii=False)
    assert not [c for c in ("C002", "C003") if c in text]


def test_a_comparison_shown_to_a_district_office_names_no_other_districts_community(store):
    a = save_plan(store, PLANNER, handmade_plan(), "甲", "a" * 64)
    b = save_plan(store, PLANNER, handmade_plan(budget=4 * 50_000), "乙", "a" * 64)
    compared = compare_plans(store, CHENGZHONG, a["id"], b["id"])
    assert set(compared["picks"]["district_code"]) <= {"450202"}
    text = json.dumps({k: compared[k] for k in ("a", "b")}, default=str, ensure_ascii=False)
    assert not [c for c in ("C002", "C003") if c in text]


# --------------------------------------------------------------------------- ids that do not exist


@pytest.mark.parametrize("bad", [0, -1, -(2**31), 2**31 - 1, 987_654])
def test_ids_that_do_not_exist_are_refused_by_name(store, plan_id, bad):
    before = counts(store)
    refused("application_unknown", set_status, store, PLANNER, bad, "district_review")
    refused("application_unknown", history, store, PLANNER, bad)
    refused("installation_plan_unknown", install, store, bad)
    refused("installation_unknown", add_inspection, store, PLANNER, bad, TODAY, "good", today=TODAY)
    refused("installation_unknown", list_inspections, store, CHENGZHONG, bad)
    refused("attachment_unknown", attachment, store, CHENGZHONG, bad)
    refused("plan_unknown", get_plan, store, CHENGZHONG, bad)
    refused("plan_unknown", approve_plan, store, ADMIN, bad)
    refused("plan_unknown", rename_plan, store, PLANNER, bad, "新名")
    assert plan_progress(store, CHENGZHONG, bad).empty
    assert counts(store) == before


@pytest.mark.parametrize("huge", [2**63, 10**20])
def test_an_id_past_any_integer_column_is_refused_as_unknown(store, plan_id, huge):
    refused("application_unknown", set_status, store, PLANNER, huge, "district_review")


def test_a_huge_attachment_or_plan_id_is_refused_as_unknown(store, plan_id):
    refused("attachment_unknown", attachment, store, CHENGZHONG, 10**20)
    refused("plan_unknown", get_plan, store, CHENGZHONG, 10**20)


# --------------------------------------------------------------------------- roles and the status machine


def test_an_analyst_and_a_district_office_write_nothing_they_may_not(store, city, plan_id):
    application = add_application(store, PLANNER, city.communities, "C001", date(2026, 11, 1), today=TODAY)
    installed = install(store, plan_id, community="C002")
    proposed = save_plan(store, PLANNER, handmade_plan(), "草案", "a" * 64)
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")  # with no account yet, anyone makes the first admin
    before = counts(store)
    refused("role_not_allowed", add_application, store, ANALYST, city.communities, "C000", TODAY, today=TODAY)
    refused("role_not_allowed", set_status, store, ANALYST, application["id"], "district_review")
    refused("role_not_allowed", set_status, store, ANALYST, application["id"], "rejected", reason="x")
    refused("role_not_allowed", install, store, plan_id, actor=ANALYST)
    refused("role_not_allowed", add_inspection, store, ANALYST, installed["id"], TODAY, "good", today=TODAY)
    refused("role_not_allowed", save_plan, store, ANALYST, handmade_plan(), "分析员的", "a" * 64)
    refused("role_not_allowed", rename_plan, store, ANALYST, proposed["id"], "改名")
    for actor in (ANALYST, PLANNER, CHENGZHONG):
        refused("role_not_allowed", approve_plan, store, actor, proposed["id"])
        refused("role_not_allowed", add_user, store, actor, "newbie", PASSWORD, "admin")
        refused("role_not_allowed", disable_user, store, actor, "chief")
    refused("role_not_allowed", save_plan, store, CHENGZHONG, handmade_plan(), "区县的", "a" * 64)
    # a district office takes only the district's steps, on its own district
    set_status(store, CHENGZHONG, application["id"], "district_review")
    set_status(store, CHENGZHONG, application["id"], "city_review")
    refused("role_not_allowed", set_status, store, CHENGZHONG, application["id"], "in_plan")
    refused("role_not_allowed", set_status, store, CHENGZHONG, application["id"], "rejected", reason="不要了")
    assert counts(store)["audit_log"] == before["audit_log"] + 2


def test_the_status_machine_refuses_skips_going_back_and_silent_rejections(store, city):
    application = add_application(store, PLANNER, city.communities, "C001", date(2026, 11, 1), today=TODAY)
    aid = application["id"]
    for skip in ("city_review", "in_plan", "installed", "accepted", "applied"):
        refused("status_step", set_status, store, ADMIN, aid, skip)
    for reason in ("", "   ", "\t\n"):
        refused("status_reject_needs_reason", set_status, store, ADMIN, aid, "rejected", reason=reason)
    for unknown in ("APPLIED", "done", "'; DROP TABLE applications; --", "", "<script>"):
        refused("status_unknown", set_status, store, ADMIN, aid, unknown)
    seed_plan(store, city)  # an approved plan buys C001 a set: 列入计划 is possible
    for step in ("district_review", "city_review", "in_plan"):
        set_status(store, ADMIN, aid, step)
    refused("status_no_reject", set_status, store, ADMIN, aid, "rejected", reason="太晚了")
    refused("status_step", set_status, store, ADMIN, aid, "city_review")  # no way back
    assert list(history(store, ADMIN, aid)["to_status"]) == ["applied", "district_review", "city_review", "in_plan"]


def test_a_date_after_today_is_refused_at_every_door(store, city, plan_id):
    tomorrow, far = TODAY + timedelta(days=1), date(9999, 12, 31)
    before = counts(store)
    for day in (tomorrow, far):
        refused("application_date_future", add_application, store, PLANNER, city.communities, "C001", day, today=TODAY)
        refused("installation_date_future", install, store, plan_id, installed_on=day)
    installed = install(store, plan_id)
    for day in (tomorrow, far):
        refused("inspection_date_future", add_inspection, store, PLANNER, installed["id"], day, "good", today=TODAY)
    refused(
        "inspection_before_installation", add_inspection, store, PLANNER, installed["id"], date(2000, 1, 1), "good",
        today=TODAY,
    )  # fmt: skip
    assert counts(store)["installations"] == before["installations"] + 1
    assert counts(store)["inspections"] == before["inspections"]


def test_a_plan_is_approved_once_and_sets_go_only_against_an_approved_plan_once_a_pick(store, city, plan_id):
    proposed = seed_plan(store, city, name="草案", status="proposed")
    refused("installation_plan_not_approved", install, store, proposed)
    refused("plan_already_approved", approve_plan, store, ADMIN, plan_id)
    refused("plan_frozen", rename_plan, store, PLANNER, plan_id, "改个名")
    refused("installation_not_picked", install, store, plan_id, community="C000")  # a community the plan did not pick
    refused("installation_not_picked", install, store, plan_id, community="'; DROP TABLE plans; --")
    refused("installation_negative", install, store, plan_id, cost_cny=-1)
    refused("installation_negative", install, store, plan_id, pieces=-5)
    refused("installation_site_not_degrees", install, store, plan_id, lon=float("nan"), lat=24.3)
    refused("installation_site_not_degrees", install, store, plan_id, lon=999, lat=24.3)
    refused("installation_site_far", install, store, plan_id, lon=0.0, lat=0.0)
    install(store, plan_id)
    refused("installation_duplicate", install, store, plan_id)
    approve_plan(store, ADMIN, proposed)
    refused("plan_already_approved", approve_plan, store, ADMIN, proposed)
    assert [p["status"] for p in list_plans(store, ADMIN).to_dict("records")] == ["approved", "approved"]


@pytest.mark.parametrize("cost", [10**12])
def test_a_cost_beyond_any_budget_is_stored_as_given_or_refused_with_a_message(store, plan_id, db_url, request, cost):
    try:
        row = install(store, plan_id, cost_cny=cost)
    except DataError:
        assert counts(store)["installations"] == 0
    else:
        assert list_installations(store, ADMIN).set_index("id").at[row["id"], "cost_cny"] == cost


# --------------------------------------------------------------------------- accounts


def test_six_wrong_passwords_lock_the_account_and_the_right_one_waits_for_the_lock(store):
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    add_user(store, ADMIN, "liunan", "liunan-password", "district", ["450204"])
    now = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    for _ in range(4):
        refused("login_failed", log_in, store, "liunan", "guess-guess-guess", now=now)
    refused(
        "login_failed_locked", log_in, store, "liunan", "guess-guess-guess", now=now
    )  # the fifth locks, and says so
    refused("login_locked", log_in, store, "liunan", "guess-guess-guess", now=now)  # the sixth
    refused("login_locked", log_in, store, "liunan", "liunan-password", now=now + timedelta(minutes=14))
    assert log_in(store, "liunan", "liunan-password", now=now + timedelta(minutes=16)).districts == ("450204",)
    locked = audit_entries(store).query("action == 'user_locked'")
    assert list(locked["entity_id"]) == ["liunan"]
    # an unknown name is told exactly as a wrong password, and locks nothing
    unknown = refused("login_failed", log_in, store, "nobody", "guess-guess-guess", now=now)
    wrong = refused("login_failed", log_in, store, "chief", "guess-guess-guess", now=now)
    assert said(unknown, "en") == said(wrong, "en")


def test_a_disabled_account_cannot_log_in_even_with_its_password(store):
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    add_user(store, ADMIN, "gone", PASSWORD, "planner")
    disable_user(store, ADMIN, "gone")
    refused("login_disabled", log_in, store, "gone", PASSWORD)
    refused("username_unknown", disable_user, store, ADMIN, "'; DROP TABLE users; --")
    assert [u["disabled"] for u in list_users(store)] == [False, True]


@pytest.mark.parametrize("name", [*HOSTILE[:7], NUL, "", "a", "a" * 65, "王五", "chief ", " chief"])
def test_a_hostile_user_name_is_refused(store, name):
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    refused("username_invalid", add_user, store, ADMIN, name, PASSWORD, "planner")
    assert [u["username"] for u in list_users(store)] == ["chief"]


def test_a_user_name_with_a_trailing_newline_is_refused(store):
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    refused("username_invalid", add_user, store, ADMIN, "chief\n", PASSWORD, "admin")


def test_a_name_written_as_sql_logs_no_one_in_and_locks_no_one(store):
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    for name in ("' OR '1'='1", "chief' --", "chief'; UPDATE users SET role = 'admin'; --", "%", "CHIEF", "chief "):
        for _ in range(6):
            refused("login_failed", log_in, store, name, PASSWORD)
    assert log_in(store, "chief", PASSWORD).role == "admin"  # never locked by the others' tries
    assert list_users(store) == [{"username": "chief", "role": "admin", "districts": "", "disabled": False}]


def test_a_disabled_accounts_name_with_a_wrong_password_is_told_as_a_wrong_password(store):
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    add_user(store, ADMIN, "gone", PASSWORD, "planner")
    disable_user(store, ADMIN, "gone")
    refused("login_failed", log_in, store, "gone", "guess-guess-guess")


def test_the_last_enabled_administrator_cannot_be_disabled(store):
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    add_user(store, ADMIN, "p1", PASSWORD, "planner")
    refused("last_admin", disable_user, store, ADMIN, "chief")


# --------------------------------------------------------------------------- hostile text stays data


@pytest.mark.parametrize("text", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
def test_hostile_text_is_stored_and_read_back_exactly_as_given(store, city, plan_id, text):
    application = add_application(
        store, PLANNER, city.communities, "C001", date(2026, 11, 1), applicant=text, contact=text, request=text,
        notes=text, today=TODAY,
    )  # fmt: skip
    row = list_applications(store, CHENGZHONG).iloc[0]
    assert [row[f] for f in ("applicant", "contact", "request", "notes")] == [text] * 4
    set_status(store, CHENGZHONG, application["id"], "rejected", reason=text)
    assert history(store, CHENGZHONG, application["id"])["reason"].iloc[-1] == text
    installed = install(store, plan_id, site=text, supplier=text, notes=text)
    listed = list_installations(store, ADMIN).iloc[0]
    assert (listed["site"], listed["supplier"], listed["notes"]) == (text, text, text)
    inspection = add_inspection(
        store, PLANNER, installed["id"], TODAY, "needs_repair", findings=text, photos=[(text, JPEG)], today=TODAY
    )
    assert list_inspections(store, ADMIN).iloc[0]["findings"] == text
    assert attachment(store, ADMIN, inspection["photos"][0]["id"]) == (text, "image/jpeg", JPEG)
    if len(text) <= 200:
        saved = save_plan(store, PLANNER, handmade_plan(), text, "a" * 64, data_name=text, notes=text)
        assert get_plan(store, ADMIN, saved["id"])[0]["name"] == text.strip()
    else:
        refused("plan_name_too_long", save_plan, store, PLANNER, handmade_plan(), text, "a" * 64)
    # the audit log keeps the text as JSON data, as given
    after = [json.loads(a) for a in audit_entries(store)["after"].dropna()]
    assert after[0]["applicant"] == text
    # and every table is still there
    assert len(list_applications(store, ADMIN)) == 1


@pytest.mark.parametrize("door", ["applicant", "supplier", "findings", "photo name", "plan notes"])
def test_a_nul_byte_is_stored_as_given_or_refused_with_a_message(store, city, plan_id, db_url, request, door):
    installed = install(store, plan_id, community="C002")
    calls = {
        "applicant": lambda: add_application(
            store, PLANNER, city.communities, "C001", TODAY, applicant=NUL, today=TODAY
        )["applicant"],
        "supplier": lambda: install(store, plan_id, supplier=NUL)["supplier"],
        "findings": lambda: add_inspection(store, PLANNER, installed["id"], TODAY, "good", NUL, today=TODAY)[
            "findings"
        ],
        "photo name": lambda: add_inspection(
            store, PLANNER, installed["id"], TODAY, "good", photos=[(NUL, PNG)], today=TODAY
        )["photos"][0]["file_name"],
        "plan notes": lambda: save_plan(store, PLANNER, handmade_plan(), "方案", "a" * 64, notes=NUL)["notes"],
    }
    with contextlib.suppress(DataError):  # refused with a message: fine too
        assert calls[door]() == NUL


# --------------------------------------------------------------------------- photos


def test_a_photo_named_as_a_path_is_kept_as_a_name_and_written_nowhere(store, plan_id, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    installed = install(store, plan_id)
    name = "../../x.jpg"
    inspection = add_inspection(store, PLANNER, installed["id"], TODAY, "good", photos=[(name, PNG)], today=TODAY)
    stored = inspection["photos"][0]
    assert (stored["file_name"], stored["media_type"], stored["size_bytes"]) == (name, "image/png", len(PNG))
    assert attachment(store, CHENGZHONG, stored["id"]) == (name, "image/png", PNG)  # told by its bytes, not its name
    assert not (tmp_path / name).resolve().exists() and not (tmp_path.parent / "x.jpg").exists()


@pytest.mark.parametrize(
    "content",
    [HTML_AS_JPEG, b"<svg onload=alert(1)>", b"GIF89a" + b"\x00" * 40, b"", b"\xff\xd8", b"RIFF\x00\x00\x00\x00AVI "],
)
def test_a_photo_that_is_not_an_image_is_refused_naming_the_file(store, plan_id, content):
    installed = install(store, plan_id)
    before = counts(store)
    error = refused(
        "photo_not_image", add_inspection, store, PLANNER, installed["id"], TODAY, "good",
        photos=[("ok.png", PNG), ("照片.jpg", content)], today=TODAY,
    )  # fmt: skip
    assert "照片.jpg" in said(error, "zh")
    assert counts(store) == before  # the good photo beside it is not kept either


def test_a_fifty_megabyte_photo_is_refused_and_nothing_is_stored(store, plan_id):
    installed = install(store, plan_id)
    before = counts(store)
    big = JPEG + b"\x00" * (50 * 1024 * 1024)
    refused("photo_too_large", add_inspection, store, PLANNER, installed["id"], TODAY, "good",
            photos=[("big.jpg", big)], today=TODAY)  # fmt: skip
    just_over = JPEG + b"\x00" * (MAX_PHOTO_BYTES - len(JPEG) + 1)
    refused("photo_too_large", add_inspection, store, PLANNER, installed["id"], TODAY, "good",
            photos=[("over.jpg", just_over)], today=TODAY)  # fmt: skip
    assert counts(store) == before


# --------------------------------------------------------------------------- the audit log


def test_every_write_path_leaves_exactly_one_audit_row_and_a_refusal_none(store, city, plan_id):
    def added(call, *args, **kwargs) -> list[tuple[str, str]]:
        before = len(audit_entries(store))
        call(*args, **kwargs)
        log = audit_entries(store).iloc[before:]
        return list(zip(log["action"], log["entity"], strict=True))

    assert added(add_user, store, Actor.local(), "chief", PASSWORD, "admin") == [("user_add", "user")]
    assert added(add_user, store, ADMIN, "p1", PASSWORD, "planner") == [("user_add", "user")]
    assert added(disable_user, store, ADMIN, "p1") == [("user_disable", "user")]
    assert added(add_application, store, PLANNER, city.communities, "C001", TODAY, today=TODAY) == [
        ("application_add", "application")
    ]
    batch = [{"community_id": c, "application_date": TODAY} for c in ("C000", "C002")]
    assert (
        added(add_applications, store, PLANNER, city.communities, batch, TODAY)
        == [("application_add", "application")] * 2
    )
    assert added(set_status, store, ADMIN, 1, "district_review") == [("application_status", "application")]
    saved = {}
    assert added(lambda: saved.update(save_plan(store, PLANNER, handmade_plan(), "方案", "a" * 64))) == [
        ("plan_save", "plan")
    ]
    assert added(approve_plan, store, ADMIN, saved["id"]) == [("plan_approve", "plan")]
    assert added(install, store, plan_id, community="C002") == [("installation_add", "installation")]
    assert added(add_inspection, store, PLANNER, 1, TODAY, "good", photos=[("a.png", PNG)], today=TODAY) == [
        ("inspection_add", "inspection")
    ]
    assert added(record_upload, store, "chief", "城市.gpkg", "ab" * 32, {"communities": 3}) == [("data_upload", "data")]
    # an installation against an application in the plan changes two records: one row each
    for step in ("city_review", "in_plan"):
        set_status(store, ADMIN, 1, step)
    assert added(install, store, plan_id, community="C001") == [
        ("installation_add", "installation"),
        ("application_status", "application"),
    ]
    # refusals leave none: a batch with one bad row stores nothing at all
    before = counts(store)
    bad_batch = [{"community_id": "C000", "application_date": TODAY}, {"community_id": "C9", "application_date": TODAY}]
    refused("application_unknown_community", add_applications, store, PLANNER, city.communities, bad_batch, TODAY)
    refused("status_reject_needs_reason", set_status, store, ADMIN, 2, "rejected")
    refused("plan_already_approved", approve_plan, store, ADMIN, saved["id"])
    refused("username_taken", add_user, store, ADMIN, "p1", PASSWORD, "planner")
    assert counts(store) == before


def test_the_database_refuses_to_update_or_delete_the_audit_log(store):
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    for statement in (
        "UPDATE audit_log SET actor = 'someone'",
        "UPDATE audit_log SET after = NULL WHERE id = 1",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE id = 1",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.exec_driver_sql(statement)
    assert len(audit_entries(store)) == 1


def test_truncate_cannot_empty_the_audit_log_on_postgresql(store):
    if store.dialect != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (its DELETE without WHERE fires the trigger)")
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    with contextlib.suppress(sa.exc.DBAPIError), store.engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE audit_log")
    assert len(audit_entries(store)) == 1


# --------------------------------------------------------------------------- the command line

OFFICE_PASSWORD = "office-password"
COMMUNITIES = pd.DataFrame(
    {"community_id": ["450202-0001", "450204-0001"], "district_code": ["450202", "450204"]}
)  # two communities of the sample city, in 城中区 and 柳南区


@pytest.fixture
def accounts(store, city):
    """A store with an administrator, a planner, an analyst, the 柳南区 (450204) and 城中区 (450202) offices,
    an application in each office's district and sets installed in 城中区 (C001) and 鱼峰区 (C002)."""
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    for name, role, districts in (
        ("plan1", "planner", ()),
        ("ana", "analyst", ()),
        ("liunan", "district", ("450204",)),
        ("chengzhong", "district", ("450202",)),
    ):
        add_user(store, ADMIN, name, OFFICE_PASSWORD, role, districts)
    theirs = add_application(store, ADMIN, COMMUNITIES, "450202-0001", date(2026, 11, 1))
    mine = add_application(store, ADMIN, COMMUNITIES, "450204-0001", date(2026, 11, 1))
    plan_id = seed_plan(store, city)
    installed = [install(store, plan_id, community=c, actor=ADMIN)["id"] for c in ("C001", "C002")]
    add_inspection(store, ADMIN, installed[0], TODAY, "good", photos=[("p.png", PNG)], today=TODAY)
    return {"theirs": theirs["id"], "mine": mine["id"], "plan": plan_id, "installed": installed}


def cli(capsys, monkeypatch, db_url, user, *args, password=OFFICE_PASSWORD):
    return run(capsys, monkeypatch, *args, "--db", db_url, "--user", user, "--lang", "en", password=password)


def test_cli_a_district_office_reaches_no_other_districts_id_or_code(store, db_url, accounts, capsys, monkeypatch):
    before = counts(store)
    office = (capsys, monkeypatch, db_url, "liunan")
    status, _, err = cli(*office, "applications", "set-status", str(accounts["theirs"]), "district_review")
    assert status == 2 and "may not see or change district 450202" in err
    status, _, err = cli(*office, "applications", "set-status", str(accounts["theirs"]), "rejected", "--reason", "x")
    assert status == 2 and "450202" in err
    for code in ("450202", "450202' OR '1'='1", "%"):
        status, _, err = cli(*office, "applications", "list", "--district", code)
        assert status == 2 and "may not see or change district" in err
    status, out, _ = cli(*office, "applications", "list", "--json")
    assert status == 0 and [row["id"] for row in json.loads(out)] == [accounts["mine"]]
    status, out, _ = cli(*office, "installations", "list", "--json")
    assert status == 0 and json.loads(out) == []
    status, out, _ = cli(*office, "inspections", "list", "--json")
    assert status == 0 and json.loads(out) == []
    status, _, err = cli(*office, "inspections", "list", "--installation", str(accounts["installed"][0]))
    assert status == 2 and "450202" in err
    status, out, _ = cli(capsys, monkeypatch, db_url, "chengzhong", "installations", "list", "--json")
    assert [row["community_id"] for row in json.loads(out)] == ["C001"]  # its own, never 鱼峰区's C002
    assert counts(store) == before


def test_cli_roles_an_analyst_writes_nothing_and_only_an_administrator_reads_the_audit(
    store, db_url, accounts, capsys, monkeypatch, tmp_path
):
    before = counts(store)
    analyst = (capsys, monkeypatch, db_url, "ana")
    for args in (
        ("applications", "set-status", str(accounts["mine"]), "district_review"),
        ("installations", "add", "--plan", str(accounts["plan"]), "--community", "C001", "--date", "2026-11-01"),
        ("inspections", "add", "--installation", str(accounts["installed"][0]), "--date", "2026-11-29",
         "--condition", "damaged"),
        ("plans", "approve", str(accounts["plan"])),
        ("users", "disable", "chief"),
        ("users", "list"),
    ):  # fmt: skip
        status, _, err = cli(*analyst, *args)
        assert status == 2 and "role analyst" in err, (args, err)
    for user in ("plan1", "ana", "liunan"):
        status, out, err = cli(capsys, monkeypatch, db_url, user, "audit", "--json")
        assert status == 2 and "needs one of: admin" in err and out == ""
        target = tmp_path / f"{user}.csv"
        status, _, err = cli(capsys, monkeypatch, db_url, user, "audit", "--csv", str(target))
        assert status == 2 and not target.exists()
        status, _, _ = cli(capsys, monkeypatch, db_url, user, "store", "backup", "--out", str(tmp_path / "b.zip"))
        assert status == 2 and not (tmp_path / "b.zip").exists()
    status, out, _ = cli(capsys, monkeypatch, db_url, "chief", "audit", "--json", password=PASSWORD)
    assert status == 0 and len(json.loads(out)) == counts(store)["audit_log"]
    assert counts(store) == before


def test_cli_a_disabled_user_and_six_wrong_passwords(store, db_url, accounts, capsys, monkeypatch):
    disable_user(store, ADMIN, "ana")
    status, out, err = cli(capsys, monkeypatch, db_url, "ana", "applications", "list")
    assert status == 2 and "account ana is disabled" in err and out == ""
    for _ in range(5):
        status, _, err = cli(capsys, monkeypatch, db_url, "liunan", "applications", "list", password="guess-guess")
        assert status == 2 and "wrong user name or password" in err
    status, out, err = cli(capsys, monkeypatch, db_url, "liunan", "applications", "list", "--json")
    assert status == 2 and "locked for 15 minutes" in err and out == ""  # the sixth, with the right password
    status, _, err = cli(capsys, monkeypatch, db_url, "nobody", "applications", "list", password="guess-guess")
    assert status == 2 and "wrong user name or password" in err
    status, _, err = run(capsys, monkeypatch, "audit", "--db", db_url, "--lang", "en")
    assert status == 2 and "--user" in err  # accounts exist: no one acts anonymously


def test_cli_a_huge_id_is_refused_as_unknown_not_as_a_bug(store, db_url, accounts, capsys, monkeypatch):
    huge = str(10**20)
    status, _, err = cli(capsys, monkeypatch, db_url, "plan1", "applications", "set-status", huge, "district_review")
    assert status == 2 and f"no application number {huge}" in err
    status, _, err = cli(capsys, monkeypatch, db_url, "liunan", "plans", "show", huge)
    assert status == 2 and f"no saved plan number {huge}" in err


def test_cli_a_saved_plan_shown_to_a_district_office_names_no_other_districts_community(
    store, db_url, accounts, capsys, monkeypatch
):
    saved = save_plan(store, PLANNER, handmade_plan(), "全市", "a" * 64)  # C003 (450203) applied
    status, out, _ = cli(capsys, monkeypatch, db_url, "chengzhong", "plans", "show", str(saved["id"]), "--json")
    assert status == 0
    shown = json.loads(out)
    assert {p["district_code"] for p in shown["picks"]} <= {"450202"}
    assert not [c for c in ("C002", "C003") if c in out]


def test_cli_hostile_text_is_stored_as_given_and_printed_as_one_line(store, db_url, accounts, capsys, monkeypatch):
    text = '<script>alert(1)</script>\n=HYPERLINK("http://x","y")\r\'; DROP TABLE applications; --\u202e'
    status, out, err = cli(capsys, monkeypatch, db_url, "chief", "installations", "add", "--plan",
                           str(seed_plan(store, small_city(), name="二批")), "--community", "C001",
                           "--date", "2026-11-01", "--supplier", text, "--notes", text, password=PASSWORD)  # fmt: skip
    assert status == 0, err
    assert list_installations(store, ADMIN)["supplier"].iloc[-1] == text
    status, out, _ = cli(capsys, monkeypatch, db_url, "chief", "installations", "list", "--json", password=PASSWORD)
    assert json.loads(out)[-1]["notes"] == text
    installation = str(list_installations(store, ADMIN)["id"].iloc[-1])
    status, _, err = cli(capsys, monkeypatch, db_url, "chief", "inspections", "add", "--installation", installation,
                         "--date", "2026-11-29", "--condition", "damaged", "--findings", text,
                         password=PASSWORD)  # fmt: skip
    assert status == 0, err
    assert list(list_inspections(store, ADMIN, int(installation))["findings"]) == [text]
    status, out, _ = cli(capsys, monkeypatch, db_url, "chief", "inspections", "list", password=PASSWORD)
    assert status == 0 and "<script>alert(1)</script>" in out  # plain text on a terminal
    assert "\u202e" not in out and "\r" not in out  # the table is said without control characters


# --------------------------------------------------------------------------- the app

APP = "../app.py"
MINE, OTHERS = "450203", ("450202", "450204", "450205", "450206")  # 鱼峰区 and the sample city's other districts
OFFICE = Actor("yufeng", "district", (MINE,))


@pytest.fixture
def app_store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/store.sqlite"
    monkeypatch.setenv("PLANNER_DB_URL", url)
    store = open_store(url)
    add_user(store, Actor.local(), "boss", PASSWORD, "admin")
    add_user(store, ADMIN, "yufeng", PASSWORD, "district", (MINE,))
    return store


@pytest.fixture(scope="module")
def sample_communities():
    from views import shared

    return shared.cached_city(str(shared.DEFAULT_DATA_PATH), shared.data_version(shared.DEFAULT_DATA_PATH)).communities


def app_run(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, app.exception
    return app


def office_app(page: str | None = None, **query) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.session_state["actor"] = OFFICE
    for key, value in query.items():
        app.query_params[key] = value
    app_run(app)
    if page is not None:
        app.switch_page(page)
        app_run(app)
    return app


@pytest.mark.parametrize(
    "page",
    [
        "views/priority_budget.py",
        "views/publish.py",
        "views/intake.py",
        "views/new_city.py",
        "views/plans.py",
        "views/installations.py",
        "views/audit.py",
    ],
)
def test_app_a_district_office_asking_for_a_page_it_may_not_open_gets_the_default_page(app_store, page):
    app = AppTest.from_file(APP, default_timeout=120)
    app.session_state["actor"] = Actor("boss", "admin")
    app_run(app)
    app.switch_page(page)  # the page is open in this browser session (its URL) …
    app_run(app)
    app.session_state["actor"] = OFFICE  # … and a district office asks for it
    app_run(app)
    assert [t.value for t in app.title] == ["覆盖地图"]


@pytest.mark.parametrize(
    "page",
    [
        "views/priority_budget.py",
        "views/publish.py",
        "views/intake.py",
        "views/new_city.py",
        "views/plans.py",
        "views/installations.py",
        "views/audit.py",
    ],
)
def test_app_a_page_a_district_office_may_not_open_refuses_it_on_its_own_too(app_store, page):
    app = AppTest.from_file(f"../{page}", default_timeout=120)
    app.session_state["actor"] = OFFICE
    app.session_state["lang"] = "en"
    app_run(app)
    assert any("role district" in e.value for e in app.error), [e.value for e in app.error]
    assert not app.dataframe and not app.get("download_button")


def test_app_hostile_applications_stay_text_on_the_offices_page_and_in_its_downloads(
    app_store, sample_communities, monkeypatch
):
    from views import shared

    ids = sample_communities["community_id"].astype(str)
    mine = [i for i in ids if i.startswith(MINE)][: len(HOSTILE)]
    today = datetime.now(UTC).date()
    for community, text in zip(mine, HOSTILE, strict=True):
        add_application(app_store, ADMIN, sample_communities, community, today, applicant=text, notes=text)
    for district in OTHERS:
        other = next(i for i in ids if i.startswith(district))
        add_application(app_store, ADMIN, sample_communities, other, today, applicant='=HYPERLINK("http://x","y")')
    downloads = []
    original = shared.download_buttons

    def spy(tables, *args, **kwargs):
        downloads.append(tables)
        return original(tables, *args, **kwargs)

    monkeypatch.setattr(shared, "download_buttons", spy)
    app = office_app("views/applications.py")
    (table,) = [d.value for d in app.dataframe if "申请人" in d.value.columns]
    assert sorted(table["申请人"]) == sorted(HOSTILE) and sorted(table["备注"]) == sorted(HOSTILE)  # as given
    assert {str(i)[:6] for i in table["小区编号"]} == {MINE}
    assert not [m.value for m in app.markdown if m.proto.allow_html and ("<script>" in m.value or "{{" in m.value)]
    assert downloads
    every_cell = []
    for tables in downloads:
        for frame in tables.values() if isinstance(tables, dict) else [tables]:
            text = shared.export_bytes(frame, ".csv", {}, "zh").decode("utf-8-sig")
            assert not [other for other in OTHERS if f"{other}-" in text]
            cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
            assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
            every_cell += cells
            book = openpyxl.load_workbook(io.BytesIO(shared.export_bytes(frame, ".xlsx", {}, "zh")))
            values = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
            assert not [c.value for c in values if c.data_type == "f" or str(c.value).startswith("=")]
            assert not [other for other in OTHERS if any(str(c.value).startswith(f"{other}-") for c in values)]
    assert '\'=HYPERLINK("http://x","y")' in every_cell  # guarded, otherwise as given
    assert "'; DROP TABLE applications; --" in every_cell and "{{7*7}}" in every_cell and "49" not in every_cell
    assert "x" * 1_000 in every_cell and "../../etc/passwd" in every_cell


@pytest.mark.parametrize("asked", ["450202", "<script>alert(1)</script>", "'; DROP TABLE applications; --", "../.."])
def test_app_a_district_from_a_link_that_is_not_the_offices_is_refused_as_text(app_store, sample_communities, asked):
    other = next(i for i in sample_communities["community_id"].astype(str) if i.startswith("450202"))
    add_application(app_store, ADMIN, sample_communities, other, datetime.now(UTC).date())
    app = office_app("views/applications.py", district=asked)
    errors = " ".join(e.value for e in app.error)
    assert "450202-" not in errors and not [d for d in app.dataframe if "450202-" in d.value.to_csv()]


MARKDOWN_NAMES = [
    "![t](http://127.0.0.2:9/leak.png).png",
    "[点我](http://127.0.0.2:9/).png",
    "<img src=x onerror=alert(1)>.png",
]


@pytest.fixture
def inspected(tmp_path, monkeypatch, sample_communities):
    """A store (PLANNER_DB_URL) with an installation in the sample city and an inspection whose findings and
    photo names are hostile: real PNG photos named as Markdown and HTML, and a PNG-headed HTML file."""
    from geo.pipeline import load_city

    url = f"sqlite:///{tmp_path}/store.sqlite"
    monkeypatch.setenv("PLANNER_DB_URL", url)
    store = open_store(url)
    sample = load_city(DEFAULT_DATA_PATH)
    first = str(sample.communities["community_id"].iloc[0])
    plan_id = seed_plan(store, sample, picks=(first,))
    row = add_installation(store, PLANNER, plan_id, first, date(2026, 11, 20))
    photos = [(name, picture("PNG")) for name in MARKDOWN_NAMES]
    photos.append(("../../evil.html", b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"))
    findings = "<script>alert(1)</script> ![t](http://127.0.0.2:9/leak.png) {{7*7}} =1+2"
    add_inspection(store, PLANNER, row["id"], date(2026, 11, 25), "damaged", findings, photos, today=date.today())
    return store, findings


def open_installations(actor: Actor = ANALYST) -> AppTest:
    app = AppTest.from_file("../views/installations.py", default_timeout=120)
    app.session_state["actor"] = actor
    app.session_state["lang"] = "zh"
    return app_run(app)


def test_app_hostile_findings_and_an_undecodable_photos_name_are_shown_as_typed(inspected):
    from views import shared

    _, findings = inspected
    app = open_installations()
    assert not app.error, [e.value for e in app.error]
    captions = [c.value for c in app.caption]
    assert shared.plain(findings) in captions  # escaped: no image fetched, no markup
    assert any(shared.plain("../../evil.html") in c and "无法显示" in c for c in captions)
    assert not [m.value for m in app.markdown if m.proto.allow_html]


def test_app_a_photos_name_is_shown_as_typed_under_the_photo(inspected):
    from views import shared

    app = open_installations()
    shown = [i.caption for image in app.image for i in image.proto.imgs]
    assert shown == [shared.plain(name) for name in MARKDOWN_NAMES]


def test_the_notices_results_of_a_district_office_hold_its_rows_only_and_hostile_findings_as_text(store):
    from geo.config import load_config
    from geo.pipeline import load_city
    from geo.plan import run_plan
    from geo.render.notice import publish_html
    from geo.store.installations import inspection_record, planned_vs_installed

    issued, results_section = date(2026, 11, 30), re.compile(r'<section class="results">.*?</section>', re.DOTALL)

    sample = load_city(DEFAULT_DATA_PATH)
    ids = sample.communities["community_id"].astype(str)
    mine, other = next(i for i in ids if i.startswith(MINE)), next(i for i in ids if i.startswith("450202"))
    plan_id = seed_plan(store, sample, picks=(mine, other))
    findings = '<script>alert(1)</script> {{7*7}} =HYPERLINK("http://x","y") ![t](http://127.0.0.2:9/leak.png)'
    for community, text in ((mine, findings), (other, "城中区的检查")):
        row = add_installation(store, ADMIN, plan_id, community, date(2026, 11, 20), today=TODAY)
        add_inspection(store, ADMIN, row["id"], date(2026, 11, 25), "damaged", text, today=TODAY)
    record, installed = inspection_record(store, OFFICE), planned_vs_installed(store, OFFICE)
    assert list(record["community_id"]) == [mine] and list(installed["district_code"]) == [MINE]
    plan = run_plan(sample.communities, sample.fitness_paths, load_config(), ["city"])
    html = publish_html(
        plan, sample.districts, sample.fitness_paths, lang="zh", issued=issued, installed=installed, inspections=record
    )
    section = results_section.search(html).group(0)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section and "{{7*7}}" in section
    assert "<script>" not in section and "<img" not in section and 'href="http' not in section
    assert other not in section and "城中区的检查" not in section


@pytest.mark.parametrize("page", ["views/eligibility.py", "views/applications.py"])  # the coverage page has none
def test_app_every_download_format_of_a_district_office_holds_only_its_communities(
    app_store, sample_communities, page, monkeypatch, tmp_path
):
    import geopandas as gpd

    from geo.data.gpkg import gpkg_layers
    from views import shared

    today = datetime.now(UTC).date()
    for district in (MINE, *OTHERS):
        first = next(i for i in sample_communities["community_id"].astype(str) if i.startswith(district))
        add_application(app_store, ADMIN, sample_communities, first, today, applicant=f"{district} 居委会")
    downloads = []
    original = shared.download_buttons

    def spy(tables, *args, **kwargs):
        downloads.append(tables)
        return original(tables, *args, **kwargs)

    monkeypatch.setattr(shared, "download_buttons", spy)
    office_app(page)
    assert downloads
    for number, tables in enumerate(downloads):
        tables = tables if isinstance(tables, dict) else {"list": tables}
        book = openpyxl.load_workbook(io.BytesIO(shared.export_bytes(tables, ".xlsx", {}, "zh")))
        cells = " ".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row)
        assert not [other for other in OTHERS if f"{other}-" in cells or f"{other} 居委会" in cells]
        for name, frame in tables.items():
            if not isinstance(frame, gpd.GeoDataFrame):
                continue
            target = tmp_path / f"{number}-{len(name)}.gpkg"
            target.write_bytes(shared.export_bytes(frame, ".gpkg", {}, "zh"))
            for layer in gpkg_layers(target):
                text = gpd.read_file(target, layer=layer).drop(columns="geometry").to_csv()
                assert not [other for other in OTHERS if f"{other}-" in text]


def test_cli_a_photo_that_is_html_too_large_or_a_device_is_refused_naming_it(
    store, db_url, accounts, capsys, monkeypatch, tmp_path
):
    before = counts(store)
    html = tmp_path / "东门.jpg"
    html.write_bytes(HTML_AS_JPEG)
    big = tmp_path / "big.jpg"
    with open(big, "wb") as handle:
        handle.write(JPEG)
        handle.truncate(50 * 1024 * 1024)
    add = ("inspections", "add", "--installation", str(accounts["installed"][0]), "--date", "2026-11-29",
           "--condition", "good", "--photo")  # fmt: skip
    for photo, said_in_err in ((html, "东门.jpg"), (big, "big.jpg"), (tmp_path / "missing.jpg", "missing.jpg")):
        status, out, err = cli(capsys, monkeypatch, db_url, "chief", *add, str(photo), password=PASSWORD)
        assert status == 2 and said_in_err in err and out == "", err
        assert "unexpected" not in err
    status, _, err = cli(capsys, monkeypatch, db_url, "chief", *add, "/dev/zero", password=PASSWORD)
    assert status == 2 and "unexpected" not in err
    assert counts(store) == before


# --------------------------------------------------------------------------- the same write from many sessions at once


def at_once(db_url, call, table: str, sessions: int = 8) -> list[str]:
    """``call(store)`` from ``sessions`` sessions released together (each its own engine, as app servers are):
    ``ok``, ``refused:<key>`` for a DataError, else the exception's type name.

    Each session pauses 0.3 s after it reads ``table``, so every session reads before any writes: the
    interleaving a busy server makes now and then, made every time.
    """
    import threading
    import time

    outcomes, start = [], threading.Barrier(sessions)

    def one() -> None:
        own = open_store(db_url)

        @sa.event.listens_for(own.engine, "after_cursor_execute")
        def _pause(_connection, _cursor, statement, _parameters, _context, _many):
            if statement.lstrip().upper().startswith("SELECT") and f"FROM {table}" in statement:
                time.sleep(0.3)

        start.wait(timeout=60)
        try:
            call(own)
            outcomes.append("ok")
        except DataError as error:
            outcomes.append(f"refused:{error.args[0].key}")
        except Exception as error:  # collected and asserted by the caller
            outcomes.append(type(error).__name__)
        finally:
            own.engine.dispose()

    threads = [threading.Thread(target=one) for _ in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_sessions_taking_the_same_step_at_once_take_it_once(store, city, db_url):
    application = add_application(store, PLANNER, city.communities, "C001", date(2026, 11, 1), today=TODAY)
    outcomes = at_once(db_url, lambda own: set_status(own, ADMIN, application["id"], "district_review"), "applications")
    assert outcomes == ["ok"] + ["refused:status_step"] * 7
    assert list(history(store, ADMIN, application["id"])["to_status"]) == ["applied", "district_review"]
    assert list(audit_entries(store)["action"]) == ["application_add", "application_status"]


def test_sessions_applying_for_one_community_at_once_store_one_application(store, city, db_url):
    outcomes = at_once(
        db_url,
        lambda own: add_application(own, CHENGZHONG, city.communities, "C001", date(2026, 11, 1), today=TODAY),
        "applications",
    )
    assert outcomes == ["ok"] + ["refused:application_duplicate"] * 7
    assert len(list_applications(store, ADMIN)) == 1


def test_sessions_approving_one_plan_at_once_approve_it_once(store, db_url, city):
    proposed = seed_plan(store, city, status="proposed")
    outcomes = at_once(db_url, lambda own: approve_plan(own, ADMIN, proposed), "plans")
    assert outcomes.count("ok") == 1  # the frozen plan's triggers refuse every later change
    assert list(audit_entries(store)["action"]) == ["plan_approve"]


def test_sessions_approving_one_plan_at_once_are_told_it_is_approved(store, db_url, city):
    proposed = seed_plan(store, city, status="proposed")
    outcomes = at_once(db_url, lambda own: approve_plan(own, ADMIN, proposed), "plans")
    assert outcomes == ["ok"] + ["refused:plan_already_approved"] * 7


def test_the_stores_geopackage_keeps_hostile_text_as_cells_and_writes_no_other_file(store, city, plan_id, tmp_path):
    from geo.data.gpkg import gpkg_layers, read_table
    from geo.store.export import export_city

    text = '=HYPERLINK("http://x","y") <script>alert(1)</script> \'; DROP TABLE plans; --'
    installed = install(store, plan_id, supplier=text, notes=text)
    add_inspection(store, PLANNER, installed["id"], TODAY, "good", text, [("../../x.jpg", PNG)], today=TODAY)
    folder = tmp_path / "out" / "deep"
    folder.mkdir(parents=True)
    export_city(city, store, folder / "city.gpkg")
    written = [p.name for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith("store.sqlite")]
    assert written == ["city.gpkg"]  # the SQLite store's own files aside
    assert not (tmp_path / "x.jpg").exists() and not (tmp_path / "out" / "x.jpg").exists()
    target = folder / "city.gpkg"
    assert "store_attachments" in gpkg_layers(target)
    assert list(read_table(target, "store_attachments")["file_name"]) == ["../../x.jpg"]
    assert list(read_table(target, "store_installations")["supplier"]) == [text]
    assert list(read_table(target, "store_inspections")["findings"]) == [text]
    assert "content" not in read_table(target, "store_attachments").columns
