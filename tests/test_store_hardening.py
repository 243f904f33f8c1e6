"""The store hardened against what the attacks found (issue 14): ids, NUL and long texts, amounts, the one
open application a community kept by the database, accounts, what a district office reads of a saved plan.

Each runs on SQLite and PostgreSQL (the ``db_url`` fixture): the same refusal on both.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from geo.errors import DataError, said
from geo.store import application_upload, checks
from geo.store.accounts import add_user, disable_user, list_users, log_in
from geo.store.actors import Actor
from geo.store.applications import add_application, history, list_applications, set_status
from geo.store.checks import MAX_COST_CNY, MAX_PIECES, MAX_TEXT_CHARS, row_id
from geo.store.db import open_store
from geo.store.installations import (
    add_inspection,
    add_installation,
    attachment,
    list_inspections,
    list_installations,
    plan_progress,
)
from geo.store.plans import approve_plan, compare_plans, get_plan, rename_plan, save_plan
from geo.store.schema import Application, AuditEntry, Inspection, Installation, SavedPlan
from tests.store_helpers import PNG, handmade_plan, run, seed_plan, small_city

ADMIN = Actor("chief", "admin")
PLANNER = Actor("planner1", "planner")
CHENGZHONG = Actor("chengzhong", "district", ("450202",))  # small_city: C000, C001; handmade_city: C000, C001
TODAY = date(2026, 11, 30)
PASSWORD = "a-long-password"
NUL = "a\x00b"


@pytest.fixture
def store(db_url):
    return open_store(db_url)


@pytest.fixture
def city():
    return small_city()


def refused(key: str, call, *args, **kwargs) -> DataError:
    with pytest.raises(DataError) as caught:
        call(*args, **kwargs)
    assert caught.value.args[0].key == key, said(caught.value, "en")
    return caught.value


def rows(store) -> dict[str, int]:
    with store.session() as session:
        return {
            table.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in (Application, Installation, Inspection, SavedPlan, AuditEntry)
        }


def install(store, plan_id, community="C001", **kwargs):
    return add_installation(store, PLANNER, plan_id, community, date(2026, 11, 20), today=TODAY, **kwargs)


# --------------------------------------------------------------------------- ids


def test_a_row_id_is_a_whole_number_within_the_id_columns_range():
    assert [row_id(v) for v in (1, "12", 12.0, 2**31 - 1)] == [1, 12, 12, 2**31 - 1]
    assert [row_id(v) for v in (0, -1, 2**31, 2**63, 10**20, "abc", None, 1.5, True, float("nan"))] == [None] * 10


@pytest.mark.parametrize("unknown", [2**31 - 1, 2**31, 2**40, 2**63 - 1, 2**63, -(2**70), "12abc"])
def test_every_door_taking_an_id_says_unknown_for_an_id_no_row_has(store, city, unknown):
    plan_id = seed_plan(store, city)
    before = rows(store)
    refused("application_unknown", set_status, store, PLANNER, unknown, "district_review")
    refused("application_unknown", history, store, PLANNER, unknown)
    refused("installation_plan_unknown", install, store, unknown)
    refused("installation_unknown", add_inspection, store, PLANNER, unknown, TODAY, "good", today=TODAY)
    refused("installation_unknown", list_inspections, store, CHENGZHONG, unknown)
    refused("attachment_unknown", attachment, store, CHENGZHONG, unknown)
    refused("plan_unknown", get_plan, store, CHENGZHONG, unknown)
    refused("plan_unknown", compare_plans, store, ADMIN, plan_id, unknown)
    refused("plan_unknown", approve_plan, store, ADMIN, unknown)
    refused("plan_unknown", rename_plan, store, PLANNER, unknown, "新名")
    assert plan_progress(store, ADMIN, unknown).empty
    assert rows(store) == before


# --------------------------------------------------------------------------- texts


def test_a_nul_character_is_refused_at_every_door_naming_the_field_on_both_databases(store, city):
    plan_id = seed_plan(store, city)
    installed = install(store, plan_id, community="C002")
    application = add_application(store, PLANNER, city.communities, "C000", TODAY, today=TODAY)
    before = rows(store)
    for field, words in (("applicant", "申请人"), ("contact", "联系方式"), ("request", "居民诉求"), ("notes", "备注")):
        error = refused(
            "text_nul", add_application, store, PLANNER, city.communities, "C001", TODAY, **{field: NUL}, today=TODAY
        )
        assert said(error, "zh").startswith(words)
    error = refused("text_nul", set_status, store, PLANNER, application["id"], "rejected", reason=NUL)
    assert said(error, "en").startswith("Reason holds a NUL character")
    for field in ("site", "supplier", "notes"):
        refused("text_nul", install, store, plan_id, **{field: NUL})
    refused("text_nul", install, store, plan_id, community=NUL)
    error = refused("text_nul", add_inspection, store, PLANNER, installed["id"], TODAY, "good", NUL, today=TODAY)
    assert said(error, "zh").startswith("检查发现")
    error = refused(
        "text_nul", add_inspection, store, PLANNER, installed["id"], TODAY, "good", photos=[(NUL, PNG)], today=TODAY
    )
    assert said(error, "zh").startswith("照片文件名")
    for field, value in (("name", NUL), ("notes", NUL), ("data_name", NUL)):
        arguments = {"name": "方案", "notes": "", "data_name": ""} | {field: value}
        name = arguments.pop("name")
        refused("text_nul", save_plan, store, PLANNER, handmade_plan(), name, "a" * 64, **arguments)
    refused("text_nul", rename_plan, store, PLANNER, seed_plan(store, city, name="草案", status="proposed"), NUL)
    refused("text_nul", list_applications, store, ADMIN, NUL)
    # a user name: refused when made, a wrong login when given, unknown when disabled
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    refused("username_invalid", add_user, store, ADMIN, "chi\x00ef", PASSWORD, "planner")
    refused("login_failed", log_in, store, "chi\x00ef", PASSWORD)
    refused("username_unknown", disable_user, store, ADMIN, "chi\x00ef")
    after = rows(store)
    assert {k: after[k] for k in ("applications", "installations", "inspections")} == {
        k: before[k] for k in ("applications", "installations", "inspections")
    }
    assert after["plans"] == before["plans"] + 1  # the proposed plan made to be renamed


def test_a_typed_in_applications_text_is_held_to_the_uploads_limit(store, city):
    assert application_upload.MAX_TEXT_CHARS is checks.MAX_TEXT_CHARS == 1000
    longest = "长" * MAX_TEXT_CHARS
    stored = add_application(
        store, PLANNER, city.communities, "C001", TODAY, applicant=longest, request=longest, today=TODAY
    )
    assert (stored["applicant"], stored["request"]) == (longest, longest)
    for field in ("applicant", "contact", "request", "notes"):
        error = refused(
            "text_too_long_entry", add_application, store, PLANNER, city.communities, "C000", TODAY,
            **{field: "x" * (MAX_TEXT_CHARS + 1)}, today=TODAY,
        )  # fmt: skip
        assert "1001 characters, above the limit of 1000" in said(error, "en")
    assert len(list_applications(store, ADMIN)) == 1


def test_an_uploaded_row_with_a_nul_character_is_refused_with_its_reason(city):
    table = pd.DataFrame(
        {
            "community_id": ["C000", "C001"],
            "application_date": ["2026-11-01", "2026-11-02"],
            "applicant": ["王\x00五", "李四"],
            "contact": [None, None],
            "request": [None, None],
            "notes": [None, None],
        }
    )
    empty = pd.DataFrame(columns=["id", "community_id", "status"])
    good, rejects = application_upload.check_rows(table, [2, 3], city.communities, PLANNER, empty, TODAY)
    assert list(good["community_id"]) == ["C001"]
    assert list(rejects["sheet_row"]) == [2] and list(rejects["reason_code"]) == ["text_nul"]
    assert rejects["reason_zh"].iloc[0].startswith("申请人：含有空字符")


# --------------------------------------------------------------------------- amounts


def test_a_cost_and_a_piece_count_are_held_to_their_ranges_on_both_databases(store, city):
    plan_id = seed_plan(store, city, picks=("C001", "C001", "C002"))
    row = install(store, plan_id, cost_cny=MAX_COST_CNY, pieces=MAX_PIECES)
    listed = list_installations(store, ADMIN).set_index("id")
    assert (listed.at[row["id"], "cost_cny"], listed.at[row["id"], "pieces"]) == (2_147_483_647, 10_000)
    error = refused("installation_out_of_range", install, store, plan_id, cost_cny=MAX_COST_CNY + 1)
    assert "2,147,483,648, outside the allowed range 0 to 2,147,483,647" in said(error, "en")
    assert "0 至 2,147,483,647" in said(error, "zh")
    error = refused("installation_out_of_range", install, store, plan_id, pieces=10_001)
    assert "Pieces is 10,001, outside the allowed range 0 to 10,000" in said(error, "en")
    refused("installation_negative", install, store, plan_id, cost_cny=-1)
    assert len(list_installations(store, ADMIN)) == 1


# --------------------------------------------------------------------------- one open application a community


def test_the_database_itself_keeps_one_open_application_a_community(store, city):
    first = add_application(store, PLANNER, city.communities, "C001", TODAY, today=TODAY)
    insert = sa.text(
        "INSERT INTO applications (community_id, district_code, application_date, applicant, contact, request, "
        "notes, status, status_reason, created_by, created_at, updated_at) VALUES ('C001', '450202', "
        "CURRENT_DATE, '', '', '', '', :status, '', 'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as connection:
        connection.execute(insert, {"status": "city_review"})
    with store.engine.begin() as connection:  # closed ones do not count
        connection.execute(insert, {"status": "rejected"})
        connection.execute(insert, {"status": "accepted"})
    set_status(store, PLANNER, first["id"], "rejected", reason="重复")
    again = add_application(store, PLANNER, city.communities, "C001", TODAY, today=TODAY)
    assert again["status"] == "applied"


def test_a_second_open_application_stopped_by_the_index_is_told_as_a_duplicate(store, city, monkeypatch):
    from geo.store import applications

    first = add_application(store, PLANNER, city.communities, "C001", TODAY, today=TODAY)
    before = rows(store)
    original, calls = applications._open_application, []

    def missed_once(session, community_id):  # the check in the transaction misses (as a race would make it)
        calls.append(community_id)  # and the refusal's re-reading does not
        return None if len(calls) == 1 else original(session, community_id)

    monkeypatch.setattr(applications, "_open_application", missed_once)
    error = refused("application_duplicate", add_application, store, PLANNER, city.communities, "C001", TODAY)
    assert f"number {first['id']}, status applied" in said(error, "en")
    assert rows(store) == before


def test_a_store_holding_two_open_applications_of_a_community_is_not_upgraded_silently(db_url):
    from geo.store.db import make_engine, schema_revision, upgrade

    engine = make_engine(db_url)
    upgrade(engine, "0002")
    with engine.begin() as connection:
        for _ in range(2):
            connection.execute(
                sa.text(
                    "INSERT INTO applications (community_id, district_code, application_date, status, created_by, "
                    "created_at, updated_at) VALUES ('450202-0007', '450202', CURRENT_DATE, 'applied', 'x', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
    with pytest.raises(RuntimeError, match=r"450202-0007 \(2\)"):
        open_store(db_url)
    assert schema_revision(engine) == "0002"  # nothing changed: the upgrade rolled back
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE applications SET status = 'rejected' WHERE id = 2"))
    assert schema_revision(open_store(db_url).engine) == "0003"
    engine.dispose()


# --------------------------------------------------------------------------- accounts


def test_a_disabled_account_is_told_disabled_only_to_whoever_gives_its_password(store):
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    add_user(store, ADMIN, "gone", PASSWORD, "planner")
    disable_user(store, ADMIN, "gone")
    wrong = refused("login_failed", log_in, store, "gone", "guess-guess-guess")
    unknown = refused("login_failed", log_in, store, "nobody", "guess-guess-guess")
    assert said(wrong, "zh") == said(unknown, "zh")
    refused("login_disabled", log_in, store, "gone", PASSWORD)


def test_the_last_enabled_administrator_stays(store):
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    add_user(store, ADMIN, "deputy", PASSWORD, "admin")
    add_user(store, ADMIN, "p1", PASSWORD, "planner")
    disable_user(store, ADMIN, "deputy")  # two enabled: one may go
    error = refused("last_admin", disable_user, store, ADMIN, "chief")
    assert "chief is the last enabled administrator" in said(error, "en")
    disable_user(store, ADMIN, "p1")  # anyone else still may
    assert [u["disabled"] for u in list_users(store)] == [False, True, True]


@pytest.mark.parametrize("name", ["chief\n", "chief\r\n", "\nchief", "chi\nef"])
def test_a_user_name_with_a_line_break_anywhere_is_refused_and_logs_no_one_in(store, name):
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    refused("username_invalid", add_user, store, ADMIN, name, PASSWORD, "admin")
    refused("login_failed", log_in, store, name, PASSWORD)


@pytest.mark.parametrize("code", ["450202;450203", "450202;", "4502 02", "450202'--", "区县"])
def test_a_district_code_that_is_not_letters_digits_or_dashes_is_refused(store, code):
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    refused("district_code_invalid", add_user, store, ADMIN, "office", PASSWORD, "district", [code])
    add_user(store, ADMIN, "office", PASSWORD, "district", ["450202", "LZ_01-a"])
    assert log_in(store, "office", PASSWORD).districts == ("450202", "LZ_01-a")


def test_cli_users_add_refuses_a_district_code_with_a_semicolon(db_url, capsys, monkeypatch):
    store = open_store(db_url)
    add_user(store, Actor.local(), "chief", PASSWORD, "admin")
    status, out, err = run(
        capsys, monkeypatch, "users", "add", "--username", "office", "--role", "district",
        "--district", "450202;450203", "--password-stdin", "--db", db_url, "--user", "chief", "--lang", "en",
        password=PASSWORD, stdin="office-password\n",
    )  # fmt: skip
    assert status == 2 and "district code '450202;450203' is not valid" in err and out == ""
    assert [u["username"] for u in list_users(store)] == ["chief"]


# --------------------------------------------------------------------------- a saved plan a district office reads


def test_a_district_office_reads_a_plans_parameters_without_the_city_wide_lists(store):
    saved = save_plan(store, PLANNER, handmade_plan(), "全市", "a" * 64)  # C003 (450203) applied
    city_wide, _ = get_plan(store, ADMIN, saved["id"])
    assert [c for c, _ in city_wide["parameters"]["applications"]] == ["C003"]
    assert city_wide["parameters"]["installed_sets"] == []
    own, picks = get_plan(store, CHENGZHONG, saved["id"])
    assert "applications" not in own["parameters"] and "installed_sets" not in own["parameters"]
    assert own["parameters"]["walk_radius_m"] == city_wide["parameters"]["walk_radius_m"]  # the rest is kept
    assert set(picks["district_code"]) <= {"450202"}
    compared = compare_plans(store, CHENGZHONG, saved["id"], saved["id"])
    text = json.dumps({k: compared[k] for k in ("a", "b")}, default=str, ensure_ascii=False)
    assert "C003" not in text and "installed_sets" not in text
