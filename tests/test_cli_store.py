"""The system of record from the command line (issue 14): users, applications, audit, on both databases."""

from __future__ import annotations

import json

import pytest

from tests.store_helpers import run


@pytest.fixture
def accounts(db_url, capsys, monkeypatch):
    """A store with an administrator (chief) and the 柳南区 office (liunan)."""
    assert run(capsys, monkeypatch, "users", "add", "--db", db_url, "--username", "chief", "--role", "admin",
               "--password-stdin", stdin="a-long-password\n")[0] == 0  # fmt: skip
    assert run(capsys, monkeypatch, "users", "add", "--db", db_url, "--user", "chief", "--username", "liunan",
               "--role", "district", "--district", "450204", "--password-stdin",
               password="a-long-password", stdin="liunan-password\n")[0] == 0  # fmt: skip
    return db_url


def test_once_accounts_exist_every_command_needs_a_user_and_the_right_password(accounts, capsys, monkeypatch):
    status, _, err = run(capsys, monkeypatch, "users", "list", "--db", accounts, "--lang", "en")
    assert status == 2 and "say which one acts with --user" in err
    status, _, err = run(capsys, monkeypatch, "users", "list", "--db", accounts, "--user", "chief", password="nope")
    assert status == 2 and "wrong user name or password" in err
    status, out, _ = run(capsys, monkeypatch, "users", "list", "--db", accounts, "--user", "chief", "--json",
                         password="a-long-password")  # fmt: skip
    assert status == 0
    assert json.loads(out) == [
        {"username": "chief", "role": "admin", "districts": "", "disabled": False},
        {"username": "liunan", "role": "district", "districts": "450204", "disabled": False},
    ]


def test_a_district_office_records_and_lists_only_its_own_district(accounts, capsys, monkeypatch):
    office = ("--db", accounts, "--user", "liunan")
    status, out, _ = run(capsys, monkeypatch, "applications", "add", *office, "--community", "450204-0001",
                         "--date", "2026-11-02", "--applicant", "王阿姨", "--lang", "zh",
                         password="liunan-password")  # fmt: skip
    assert status == 0 and out.strip() == "已登记申请 1（小区 450204-0001）"
    status, _, err = run(capsys, monkeypatch, "applications", "add", *office, "--community", "450202-0001",
                         "--date", "2026-11-02", password="liunan-password")  # fmt: skip
    assert status == 2 and "450202" in err
    status, _, err = run(capsys, monkeypatch, "applications", "list", *office, "--district", "450202",
                         password="liunan-password")  # fmt: skip
    assert status == 2 and "450202" in err
    status, out, _ = run(capsys, monkeypatch, "applications", "list", *office, "--json", password="liunan-password")
    assert [row["community_id"] for row in json.loads(out)] == ["450204-0001"]
    status, _, err = run(capsys, monkeypatch, "applications", "set-status", *office, "1", "in_plan",
                         password="liunan-password")  # fmt: skip
    assert status == 2 and "district_review" in err  # the one next step is named


def test_the_audit_trail_is_for_administrators_and_exports_for_excel(accounts, capsys, monkeypatch, tmp_path):
    status, _, err = run(capsys, monkeypatch, "audit", "--db", accounts, "--user", "liunan", "--lang", "en",
                         password="liunan-password")  # fmt: skip
    assert status == 2 and "role district" in err
    target = tmp_path / "audit.csv"
    status, _, _ = run(capsys, monkeypatch, "audit", "--db", accounts, "--user", "chief", "--csv", str(target),
                       "--lang", "zh", password="a-long-password")  # fmt: skip
    assert status == 0
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    text = data.decode("utf-8-sig")
    header = '"编号","时间（北京时间）","操作人","操作","对象","对象编号","变更内容",'
    header += '"修改前（原始 JSON）","修改后（原始 JSON）"'
    assert text.splitlines()[0] == header  # times in the city's zone, words, the raw JSON last for auditors
    assert text.count("添加账号") == 2 and "user_add" not in text and "区县文体部门" in text
    assert "password" not in text and "$argon2" not in text
    status, out, _ = run(capsys, monkeypatch, "audit", "--db", accounts, "--user", "chief", "--lang", "en",
                         password="a-long-password")  # fmt: skip
    assert status == 0 and out.count("Account added") == 2 and "user_add" not in out and "Beijing time" in out


def test_an_administrator_backs_up_and_restores_into_an_empty_store(accounts, capsys, monkeypatch, tmp_path):
    target = tmp_path / "backup.zip"
    status, _, err = run(capsys, monkeypatch, "store", "backup", "--db", accounts, "--user", "liunan",
                         "--out", str(target), password="liunan-password")  # fmt: skip
    assert status == 2 and not target.exists()  # administrators only
    status, out, _ = run(capsys, monkeypatch, "store", "backup", "--db", accounts, "--user", "chief",
                         "--out", str(target), "--lang", "en", password="a-long-password")  # fmt: skip
    assert status == 0 and out.strip() == f"backed up to {target}: 4 rows"  # 2 users, 2 audit rows
    empty = f"sqlite:///{tmp_path}/restored.sqlite"
    status, out, _ = run(capsys, monkeypatch, "store", "restore", str(target), "--db", empty, "--lang", "en")
    assert status == 0 and out.strip() == f"restored from {target}: 4 rows"
    status, _, err = run(capsys, monkeypatch, "store", "restore", str(target), "--db", empty, "--user", "chief",
                         "--lang", "en", password="a-long-password")  # fmt: skip
    assert status == 2 and "not empty" in err
