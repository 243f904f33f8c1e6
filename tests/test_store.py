"""The system of record (issue 14), on SQLite and on PostgreSQL: accounts, the application status
machine, district offices kept to their districts, the append-only audit log, concurrent writes."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from geo.errors import DataError, said
from geo.store.accounts import MAX_FAILED_LOGINS, add_user, disable_user, has_accounts, list_users, log_in
from geo.store.actors import Actor
from geo.store.applications import (
    NEXT,
    add_application,
    applications_for_priority,
    history,
    list_applications,
    set_status,
)
from geo.store.audit import audit_entries
from geo.store.db import open_store, schema_revision
from tests.store_helpers import approved_plan_of

ADMIN = Actor("chief", "admin")
PLANNER = Actor("planner1", "planner")
ANALYST = Actor("analyst1", "analyst")
LIUNAN = Actor("liunan", "district", ("450204",))
TODAY = date(2026, 11, 30)
COMMUNITIES = pd.DataFrame(
    {
        "community_id": ["450204-0001", "450204-0002", "450202-0001"],
        "district_code": ["450204", "450204", "450202"],
    }
)


@pytest.fixture
def store(db_url):
    return open_store(db_url)


def refused(key: str, call, *args, **kwargs) -> DataError:
    with pytest.raises(DataError) as caught:
        call(*args, **kwargs)
    assert caught.value.args[0].key == key, said(caught.value, "en")
    return caught.value


def apply(store, actor=LIUNAN, community="450204-0001", **kwargs):
    return add_application(store, actor, COMMUNITIES, community, date(2026, 11, 2), today=TODAY, **kwargs)


def test_the_store_is_made_by_its_migrations_and_opening_it_again_changes_nothing(db_url):
    store = open_store(db_url)
    assert schema_revision(store.engine) == "0003"
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {"users", "applications", "application_events", "audit_log", "alembic_version"} <= tables
    assert {"plans", "plan_picks", "installations", "inspections", "attachments"} <= tables
    again = open_store(db_url)
    assert schema_revision(again.engine) == "0003"


def test_a_store_of_the_first_migration_is_upgraded_on_opening_and_keeps_its_rows(db_url):
    from geo.store.db import make_engine, upgrade

    engine = make_engine(db_url)
    upgrade(engine, "0001")
    assert schema_revision(engine) == "0001"
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO users (username, role, districts, password_hash, disabled, failed_logins, created_at) "
                "VALUES ('chief', 'admin', '', 'x', false, 0, CURRENT_TIMESTAMP)"
            )
        )
    store = open_store(db_url)
    assert schema_revision(store.engine) == "0003"
    assert [u["username"] for u in list_users(store)] == ["chief"]


def test_an_approved_plan_is_frozen_by_the_database_itself(store):
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO plans (id, name, status, mode, data_sha256, parameters, metrics, created_by, created_at) "
                "VALUES (1, 'p', 'approved', 'rank', 'x', '{}', '{}', 'chief', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO plan_picks (plan_id, program, rank, community_id, lon, lat, cost_cny) "
                "VALUES (1, 'city', 1, 'c1', 109.4, 24.3, 50000)"
            )
        )
    for statement in (
        "UPDATE plans SET name = 'other' WHERE id = 1",
        "DELETE FROM plans WHERE id = 1",
        "UPDATE plan_picks SET cost_cny = 1 WHERE plan_id = 1",
        "DELETE FROM plan_picks WHERE plan_id = 1",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="frozen"), store.engine.begin() as connection:
            connection.execute(sa.text(statement))
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT name FROM plans")).scalar() == "p"
        assert connection.execute(sa.text("SELECT cost_cny FROM plan_picks")).scalar() == 50000


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/s.sqlite")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_no_default_account_the_first_is_an_administrator_and_passwords_are_hashed(store):
    assert not has_accounts(store)
    refused("first_user_admin", add_user, store, Actor.local(), "p1", "a-long-password", "planner")
    add_user(store, Actor.local(), "chief", "a-long-password", "admin")
    assert has_accounts(store)
    refused("role_not_allowed", add_user, store, PLANNER, "p2", "a-long-password", "planner")
    refused("password_too_short", add_user, store, ADMIN, "p2", "short", "planner")
    refused("district_role_needs_districts", add_user, store, ADMIN, "d1", "a-long-password", "district")
    refused("username_taken", add_user, store, ADMIN, "chief", "a-long-password", "planner")
    refused("username_invalid", add_user, store, ADMIN, "x'; DROP TABLE users;--", "a-long-password", "planner")
    add_user(store, ADMIN, "liunan", "another-password", "district", ["450204"])
    assert [u["username"] for u in list_users(store)] == ["chief", "liunan"]
    with store.engine.connect() as connection:
        hashes = [row[0] for row in connection.execute(sa.text("SELECT password_hash FROM users"))]
    assert all(h.startswith("$argon2id$") and "password" not in h for h in hashes)
    assert log_in(store, "liunan", "another-password") == Actor("liunan", "district", ("450204",))


def test_wrong_passwords_lock_the_account_and_a_disabled_account_cannot_log_in(store):
    add_user(store, Actor.local(), "chief", "a-long-password", "admin")
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    for _ in range(MAX_FAILED_LOGINS - 1):
        refused("login_failed", log_in, store, "chief", "wrong-password", now)
    locking = refused("login_failed_locked", log_in, store, "chief", "wrong-password", now)  # said when it happens
    assert "locked for 15 minutes" in said(locking, "en") and "锁定 15 分钟" in said(locking, "zh")
    refused("login_locked", log_in, store, "chief", "a-long-password", now + timedelta(minutes=1))
    assert log_in(store, "chief", "a-long-password", now + timedelta(minutes=16)).role == "admin"
    refused("login_failed", log_in, store, "nobody", "a-long-password", now)  # the same words for an unknown name
    add_user(store, ADMIN, "p1", "a-long-password", "planner")
    disable_user(store, ADMIN, "p1")
    refused("login_disabled", log_in, store, "p1", "a-long-password")


def test_the_status_machine_one_step_at_a_time_or_rejected_with_a_reason(store):
    application = apply(store, applicant="王阿姨", request="适合老人和儿童的器材")
    assert application["status"] == "applied"
    refused("status_step", set_status, store, PLANNER, application["id"], "in_plan")  # skips two steps
    set_status(store, LIUNAN, application["id"], "district_review")
    set_status(store, LIUNAN, application["id"], "city_review")
    # 列入计划 means an approved plan buys the community a set
    refused("application_not_in_plan", set_status, store, PLANNER, application["id"], "in_plan")
    approved_plan_of(store, "450204-0001", district_code="450204")
    status = "city_review"
    for actor in (PLANNER, PLANNER, ADMIN):
        status = NEXT[status]
        assert set_status(store, actor, application["id"], status)["status"] == status
    assert status == "accepted"
    refused("status_no_reject", set_status, store, ADMIN, application["id"], "rejected", "no land")
    steps = history(store, ADMIN, application["id"])
    assert list(steps["to_status"]) == ["applied", "district_review", "city_review", "in_plan", "installed", "accepted"]
    assert list(steps["actor"]) == ["liunan", "liunan", "liunan", "planner1", "planner1", "chief"]

    second = apply(store, community="450204-0002")
    refused("status_reject_needs_reason", set_status, store, LIUNAN, second["id"], "rejected", "  ")
    done = set_status(store, LIUNAN, second["id"], "rejected", "小区无规划体育用地，公共空间用于停车")
    assert done["status"] == "rejected" and done["status_reason"].startswith("小区无规划体育用地")


def test_roles_a_district_office_forwards_to_the_city_and_an_analyst_changes_nothing(store):
    application = apply(store)
    refused("role_not_allowed", set_status, store, ANALYST, application["id"], "district_review")
    refused("role_not_allowed", apply, store, ANALYST, community="450204-0002")
    set_status(store, LIUNAN, application["id"], "district_review")
    set_status(store, LIUNAN, application["id"], "city_review")
    refused("role_not_allowed", set_status, store, LIUNAN, application["id"], "in_plan")  # the city decides
    refused("role_not_allowed", set_status, store, LIUNAN, application["id"], "rejected", "no land")


def test_a_district_office_never_touches_another_district(store):
    other = apply(store, actor=PLANNER, community="450202-0001")
    refused("not_your_district", apply, store, LIUNAN, community="450202-0001")
    refused("not_your_district", set_status, store, LIUNAN, other["id"], "district_review")
    refused("not_your_district", history, store, LIUNAN, other["id"])
    refused("not_your_district", list_applications, store, LIUNAN, "450202")
    mine = apply(store)
    assert list(list_applications(store, LIUNAN)["id"]) == [mine["id"]]  # filtered where the rows are read
    assert len(list_applications(store, PLANNER)) == 2


def test_bad_input_is_refused_and_changes_nothing(store):
    refused("application_unknown_community", apply, store, community="450204-9999")
    refused(
        "application_date_future",
        add_application,
        store,
        LIUNAN,
        COMMUNITIES,
        "450204-0001",
        date(2026, 12, 25),
        today=TODAY,
    )
    first = apply(store)
    refused("application_duplicate", apply, store)  # an open application of the same community
    refused("status_unknown", set_status, store, LIUNAN, first["id"], "done")
    refused("application_unknown", set_status, store, LIUNAN, 999, "district_review")
    assert len(list_applications(store, ADMIN)) == 1
    assert len(audit_entries(store)) == 1  # only the one stored application


def test_every_write_leaves_one_audit_row_and_the_log_cannot_be_changed(store):
    add_user(store, Actor.local(), "chief", "a-long-password", "admin")
    add_user(store, ADMIN, "p1", "a-long-password", "planner")
    disable_user(store, ADMIN, "p1")
    application = apply(store, actor=ADMIN)
    set_status(store, ADMIN, application["id"], "district_review")
    log = audit_entries(store)
    assert list(log["action"]) == ["user_add", "user_add", "user_disable", "application_add", "application_status"]
    assert list(log["actor"]) == ["local", "chief", "chief", "chief", "chief"]
    status_row = log.iloc[-1]
    assert '"status": "applied"' in status_row["before"] and '"status": "district_review"' in status_row["after"]
    assert "password" not in " ".join(log["after"].dropna())
    for statement in ("UPDATE audit_log SET actor = 'someone'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.exec_driver_sql(statement)
    assert len(audit_entries(store)) == 5


def test_applications_feed_priority_as_the_applications_table_does(store):
    apply(store, actor=ADMIN)
    rejected = apply(store, actor=ADMIN, community="450204-0002")
    set_status(store, ADMIN, rejected["id"], "rejected", "已有健身路径")
    table = applications_for_priority(store)
    assert list(table["community_id"]) == ["450204-0001"]
    assert table["application_date"].iloc[0] == pd.Timestamp("2026-11-02")


def test_fifty_concurrent_submissions_are_all_stored_once(db_url):
    store = open_store(db_url)
    communities = pd.DataFrame(
        {"community_id": [f"450204-{k:04d}" for k in range(50)], "district_code": ["450204"] * 50}
    )
    errors, start = [], threading.Barrier(50)

    def submit(k: int) -> None:
        try:
            own = open_store(db_url)  # each session its own engine and connections, as app servers are
            start.wait(timeout=60)
            add_application(own, LIUNAN, communities, f"450204-{k:04d}", date(2026, 11, 1), today=TODAY)
            own.engine.dispose()
        except Exception as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=submit, args=(k,)) for k in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = list_applications(store, ADMIN)
    assert len(stored) == 50 and stored["community_id"].is_unique
    assert len(audit_entries(store)) == 50


def test_a_backup_restores_every_row_into_an_empty_store_on_either_database(db_url, tmp_path):
    from geo.store.backup import TABLES, backup, restore

    store = open_store(db_url)
    add_user(store, Actor.local(), "chief", "a-long-password", "admin")
    first = apply(store, actor=ADMIN, applicant="王阿姨", notes='=HYPERLINK("http://x")')
    set_status(store, ADMIN, first["id"], "district_review")
    manifest = backup(store, tmp_path / "store.zip")
    none_yet = dict.fromkeys(("plans", "plan_picks", "installations", "inspections", "attachments"), 0)
    assert manifest["tables"] == {"users": 1, "applications": 1, "application_events": 2, "audit_log": 3} | none_yet

    copy = open_store(f"sqlite:///{tmp_path}/copy.sqlite")  # restored into SQLite, whichever it came from
    restore(copy, tmp_path / "store.zip")

    def rows(target, name):
        """The table's rows through its column types; times as naive UTC (SQLite keeps no zone)."""
        from geo.store.schema import Base

        table = Base.metadata.tables[name]
        with target.engine.connect() as connection:
            result = connection.execute(sa.select(table).order_by(table.c.id)).mappings().all()

        def plain(value):
            if isinstance(value, datetime):
                return (value.astimezone(UTC) if value.tzinfo else value).replace(tzinfo=None)
            return value

        return [{k: plain(v) for k, v in row.items()} for row in result]

    for name in TABLES:
        assert rows(copy, name) == rows(store, name), name
    assert log_in(copy, "chief", "a-long-password").role == "admin"  # the hash came across intact
    second = apply(copy, actor=ADMIN, community="450204-0002")  # ids go on after the restored ones
    assert second["id"] == first["id"] + 1

    refused("restore_not_empty", restore, copy, tmp_path / "store.zip")  # nothing merged or overwritten
    (tmp_path / "not.zip").write_bytes(b"PK\x03\x04 not a zip")
    refused("backup_unreadable", restore, open_store(f"sqlite:///{tmp_path}/empty.sqlite"), tmp_path / "not.zip")


def test_a_role_refusal_names_the_roles_in_words_in_each_language(store):
    error = refused("role_not_allowed", set_status, store, ANALYST, apply(store)["id"], "district_review")
    assert said(error, "zh").endswith(
        "（角色 分析人员）不能进行此操作；需要以下角色之一：管理员、市局规划人员、区县文体部门"
    )
    assert "(role analyst) may not do this; it needs one of: administrator, planner (city bureau), district office" in (
        said(error, "en")
    )
    assert "admin" not in said(error, "zh") and "district," not in said(error, "en")
