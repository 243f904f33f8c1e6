"""The store's listings on the command line speak words, not codes (issue 14): statuses, conditions and
modes in the chosen language, an empty listing says so, and a password that never comes is a clear
refusal, not a crash."""

from __future__ import annotations

import io
from datetime import date

from geo.store.actors import Actor
from geo.store.db import open_store
from geo.store.installations import add_inspection, add_installation
from tests.store_helpers import JPEG, run, seed_plan, small_city

TODAY = date(2026, 11, 30)


def test_listings_show_words_in_the_chosen_language_and_say_when_empty(db_url, capsys, monkeypatch):
    store = open_store(db_url)
    for lang, empty in (("zh", "（没有记录）"), ("en", "(no records)")):
        status, out, _ = run(capsys, monkeypatch, "installations", "list", "--db", db_url, "--lang", lang)
        assert (status, out.strip()) == (0, empty)

    plan_id = seed_plan(store, small_city())
    installation = add_installation(store, Actor.local(), plan_id, "C001", date(2026, 11, 20), today=TODAY)
    add_inspection(store, Actor.local(), installation["id"], date(2026, 11, 25), "needs_repair", "单杠松动",
                   [("a.jpg", JPEG)], today=TODAY)  # fmt: skip
    status, out, _ = run(capsys, monkeypatch, "inspections", "list", "--db", db_url, "--lang", "zh")
    assert status == 0 and "需维修" in out and "needs_repair" not in out and "检查日期" in out
    status, out, _ = run(capsys, monkeypatch, "installations", "list", "--db", db_url, "--lang", "zh")
    assert status == 0 and "最近检查状况" in out and "需维修" in out and "installed_on" not in out
    status, out, _ = run(capsys, monkeypatch, "plans", "list", "--db", db_url, "--lang", "zh")
    assert status == 0 and "已批准" in out and "按优先级排序" in out and "approved" not in out
    assert "记录时间（北京时间）" in out and "（UTC）" not in out


def test_a_password_that_never_comes_is_refused_with_a_message(db_url, capsys, monkeypatch):
    assert run(capsys, monkeypatch, "users", "add", "--db", db_url, "--username", "chief", "--role", "admin",
               "--password-stdin", stdin="a-long-password\n")[0] == 0  # fmt: skip
    monkeypatch.setattr("getpass.getpass", lambda prompt: (_ for _ in ()).throw(EOFError()))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status, out, err = run(capsys, monkeypatch, "applications", "list", "--db", db_url, "--user", "chief")
    assert status == 2 and "PLANNER_PASSWORD" in err and "bug" not in err and out == ""


def test_users_add_says_the_role_in_words_in_the_clis_language(db_url, capsys, monkeypatch):
    status, out, _ = run(capsys, monkeypatch, "users", "add", "--db", db_url, "--username", "chief", "--role", "admin",
                         "--password-stdin", "--lang", "zh", stdin="a-long-password\n")  # fmt: skip
    assert status == 0 and out.strip() == "已添加账号 chief（管理员）"
    status, out, _ = run(capsys, monkeypatch, "users", "add", "--db", db_url, "--user", "chief", "--username", "liunan",
                         "--role", "district", "--district", "450204", "--password-stdin", "--lang", "en",
                         password="a-long-password", stdin="liunan-password\n")  # fmt: skip
    assert status == 0 and out.strip() == "added account liunan (District office)"
