"""geo plans save|list|show|compare|approve (issue 14) on the sample, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from geo.config import DEFAULT_DATA_PATH
from geo.store.accounts import add_user
from geo.store.actors import Actor
from geo.store.db import open_store
from geo.store.plans import data_sha256
from tests.store_helpers import run


def plans(capsys, monkeypatch, db_url, *args, user=None, password=None):
    who = ("--user", user) if user else ()
    return run(capsys, monkeypatch, "plans", *args, "--db", db_url, *who, password=password)


def test_a_planner_saves_lists_shows_compares_and_an_administrator_approves(db_url, capsys, monkeypatch):
    status, out, _ = plans(capsys, monkeypatch, db_url, "save", "--name", "市本级 60 万", "--program", "city",
                           "--notes", "第一稿", "--json")  # fmt: skip
    assert status == 0
    first = json.loads(out)
    assert first["status"] == "proposed" and first["created_by"] == "local" and first["notes"] == "第一稿"
    assert first["data_name"] == DEFAULT_DATA_PATH.name and first["data_sha256"] == data_sha256(DEFAULT_DATA_PATH)
    assert first["metrics"]["total"]["spent_cny"] <= 600_000 and first["picks"] == first["metrics"]["total"]["sets"]
    status, out, _ = plans(capsys, monkeypatch, db_url, "save", "--name", "市本级 80 万", "--program", "city",
                           "--budget", "city=800000", "--lang", "zh")  # fmt: skip
    assert status == 0 and out.startswith("已保存方案 2“市本级 80 万”：16 套，800,000 元")
    status, _, err = plans(capsys, monkeypatch, db_url, "save", "--name", "市本级 80 万", "--program", "city")
    assert status == 2 and "市本级 80 万" in err and "2" in err

    status, out, _ = plans(capsys, monkeypatch, db_url, "list", "--json")
    listed = json.loads(out)
    assert [(p["id"], p["name"], p["sets"]) for p in listed] == [(2, "市本级 80 万", 16), (1, "市本级 60 万", 12)]
    status, out, _ = plans(capsys, monkeypatch, db_url, "list", "--lang", "zh")
    assert status == 0 and "市本级 80 万" in out and "套数" in out

    status, out, _ = plans(capsys, monkeypatch, db_url, "show", "1", "--json")
    shown = json.loads(out)
    assert len(shown["picks"]) == 12 and shown["parameters"]["program_keys"] == ["city"]
    assert all(108 < p["lon"] < 111 and 23 < p["lat"] < 27 for p in shown["picks"])  # WGS84 degrees in Liuzhou
    status, out, _ = plans(capsys, monkeypatch, db_url, "show", "1", "--lang", "en")
    assert status == 0 and 'plan 1 "市本级 60 万": proposed, rank, saved by local' in out

    status, out, _ = plans(capsys, monkeypatch, db_url, "compare", "1", "2", "--json")
    compared = json.loads(out)
    changes = [p["change"] for p in compared["picks"]]
    assert changes.count("added") == 4 and changes.count("kept") == 12 and "removed" not in changes
    assert compared["same_data"] is True
    money = {row["program"]: row for row in compared["money"]}
    assert money["city"]["spent_cny_b"] - money["city"]["spent_cny_a"] == money["city"]["spent_cny_difference"]
    assert money["city"]["spent_cny_difference"] == 200_000
    status, out, _ = plans(capsys, monkeypatch, db_url, "compare", "1", "2", "--lang", "zh")
    assert status == 0 and "方案乙比方案甲：增加 4 处，减少 0 处，保留 12 处" in out and "增加" in out

    status, out, _ = plans(capsys, monkeypatch, db_url, "approve", "2", "--lang", "zh")
    assert status == 0 and out.strip() == "已批准方案 2“市本级 80 万”"
    status, _, err = plans(capsys, monkeypatch, db_url, "approve", "2", "--lang", "en")
    assert status == 2 and "cannot be approved again" in err
    status, _, err = plans(capsys, monkeypatch, db_url, "show", "9")
    assert status == 2 and "9" in err


def test_roles_on_the_command_line(db_url, capsys, monkeypatch):
    store = open_store(db_url)
    chief = add_user(store, Actor.local(), "chief", "a-long-password", "admin")
    assert chief["role"] == "admin"
    admin = Actor("chief", "admin")
    add_user(store, admin, "li", "analyst-password", "analyst")
    add_user(store, admin, "liunan", "liunan-password", "district", ["450204"])
    status, _, err = plans(capsys, monkeypatch, db_url, "save", "--name", "x", user="li", password="analyst-password")
    assert status == 2 and "role analyst" in err
    status, _, _ = plans(capsys, monkeypatch, db_url, "save", "--name", "全市", user="chief",
                         password="a-long-password")  # fmt: skip
    assert status == 0
    status, out, _ = plans(capsys, monkeypatch, db_url, "show", "1", "--json", user="liunan",
                           password="liunan-password")  # fmt: skip
    shown = json.loads(out)
    assert shown["scope"] == "districts" and {p["district_code"] for p in shown["picks"]} <= {"450204"}
    assert shown["metrics"]["total"]["sets"] == len(shown["picks"])
    status, _, err = plans(capsys, monkeypatch, db_url, "approve", "1", user="li", password="analyst-password")
    assert status == 2 and "role analyst" in err


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_name_is_refused(db_url, capsys, monkeypatch, name):
    status, _, err = plans(capsys, monkeypatch, db_url, "save", "--name", name, "--lang", "en")
    assert status == 2 and "give the plan a name" in err
