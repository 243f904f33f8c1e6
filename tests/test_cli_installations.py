"""Installations, inspections and the store's export from the command line (issue 14), on both databases."""

from __future__ import annotations

import json

import pytest

from geo.data.gpkg import gpkg_layers, read_table, write_layers
from geo.store.accounts import add_user
from geo.store.actors import Actor
from geo.store.db import open_store
from geo.store.export import STORE_TABLES
from geo.store.installations import attachment, list_inspections
from tests.store_helpers import JPEG, PNG, run, seed_plan, small_city

ADMIN = Actor("chief", "admin")


@pytest.fixture
def planned(db_url, tmp_path):
    """A store (no account yet: the local administrator acts) with an approved plan for C001 and C002."""
    store = open_store(db_url)
    return db_url, seed_plan(store, small_city())


def test_an_installation_and_its_inspection_with_photos_from_the_command_line(planned, capsys, monkeypatch, tmp_path):
    db, plan_id = planned
    status, out, err = run(capsys, monkeypatch, "installations", "add", "--db", db, "--plan", str(plan_id),
                           "--community", "C001", "--date", "2026-11-20", "--site", "东门广场", "--pieces", "8",
                           "--cost", "48000", "--lang", "zh")  # fmt: skip
    assert (status, err) == (0, "") and out.strip() == "已登记安装 1（小区 C001）"
    status, _, err = run(capsys, monkeypatch, "installations", "add", "--db", db, "--plan", str(plan_id),
                         "--community", "C001", "--date", "2026-11-21", "--lang", "en")  # fmt: skip
    assert status == 2 and "already recorded as installed" in err
    status, _, err = run(capsys, monkeypatch, "installations", "add", "--db", db, "--plan", str(plan_id),
                         "--community", "C000", "--date", "2026-11-21", "--lang", "en")  # fmt: skip
    assert status == 2 and "has no set for community C000" in err

    (tmp_path / "东门.jpg").write_bytes(JPEG)
    (tmp_path / "side.png").write_bytes(PNG)
    (tmp_path / "report.jpg").write_bytes(b"%PDF-1.7 not a photo")
    status, _, err = run(capsys, monkeypatch, "inspections", "add", "--db", db, "--installation", "1",
                         "--date", "2026-11-25", "--condition", "good", "--photo", str(tmp_path / "report.jpg"),
                         "--lang", "en")  # fmt: skip
    assert status == 2 and "report.jpg is not a JPEG, PNG or WebP image" in err
    status, out, err = run(capsys, monkeypatch, "inspections", "add", "--db", db, "--installation", "1",
                           "--date", "2026-11-25", "--condition", "needs_repair", "--findings", "单杠松动",
                           "--photo", str(tmp_path / "东门.jpg"), "--photo", str(tmp_path / "side.png"),
                           "--lang", "en")  # fmt: skip
    assert (status, err) == (0, "") and out.strip() == "recorded inspection 1 (installation 1, 2 photos)"
    ids = list_inspections(open_store(db), ADMIN)["attachment_ids"].iloc[0]
    assert attachment(open_store(db), ADMIN, ids[0]) == ("东门.jpg", "image/jpeg", JPEG)  # the name, not the path

    status, out, _ = run(capsys, monkeypatch, "installations", "list", "--db", db, "--json")
    rows = json.loads(out)
    assert status == 0 and [(r["community_id"], r["cost_cny"], r["last_condition"]) for r in rows] == [
        ("C001", 48000, "needs_repair")
    ]
    status, out, _ = run(capsys, monkeypatch, "inspections", "list", "--db", db, "--installation", "1", "--json")
    rows = json.loads(out)
    assert status == 0 and [(r["condition"], r["findings"], r["photos"]) for r in rows] == [
        ("needs_repair", "单杠松动", 2)
    ]
    status, out, _ = run(capsys, monkeypatch, "inspections", "list", "--db", db, "--lang", "en")
    assert status == 0 and "单杠松动" in out


def test_a_district_office_lists_only_its_own_districts_installations(planned, capsys, monkeypatch):
    db, plan_id = planned
    store = open_store(db)
    add_user(store, Actor.local(), "chief", "a-long-password", "admin")
    add_user(store, ADMIN, "yufeng", "yufeng-password", "district", ["450203"])
    for community in ("C001", "C002"):
        status, _, err = run(capsys, monkeypatch, "installations", "add", "--db", db, "--user", "chief",
                             "--plan", str(plan_id), "--community", community, "--date", "2026-11-20",
                             password="a-long-password")  # fmt: skip
        assert status == 0, err
    status, out, _ = run(capsys, monkeypatch, "installations", "list", "--db", db, "--user", "yufeng", "--json",
                         password="yufeng-password")  # fmt: skip
    assert status == 0 and [r["community_id"] for r in json.loads(out)] == ["C002"]
    status, _, err = run(capsys, monkeypatch, "installations", "add", "--db", db, "--user", "yufeng",
                         "--plan", str(plan_id), "--community", "C002", "--date", "2026-11-20", "--lang", "en",
                         password="yufeng-password")  # fmt: skip
    assert status == 2 and "may not do this" in err


def test_the_export_holds_every_city_layer_and_store_table_and_reads_back_whole(planned, capsys, monkeypatch, tmp_path):
    db, plan_id = planned
    city = small_city()
    write_layers(
        tmp_path / "city.gpkg",
        {"districts": city.districts, "communities": city.communities, "fitness_paths": city.fitness_paths},
    )
    data = ("--db", db, "--data", str(tmp_path / "city.gpkg"))
    assert run(capsys, monkeypatch, "installations", "add", *data, "--plan", str(plan_id), "--community", "C001",
               "--date", "2026-11-20")[0] == 0  # fmt: skip
    (tmp_path / "a.jpg").write_bytes(JPEG)
    assert run(capsys, monkeypatch, "inspections", "add", *data, "--installation", "1", "--date", "2026-11-25",
               "--condition", "good", "--photo", str(tmp_path / "a.jpg"))[0] == 0  # fmt: skip
    status, out, err = run(capsys, monkeypatch, "store", "export", *data, "--out", str(tmp_path / "out.gpkg"),
                           "--lang", "en")  # fmt: skip
    assert (status, err) == (0, "") and "12 layers or tables" in out  # 3 city layers + 9 store tables
    out_file = tmp_path / "out.gpkg"
    counts = {name: len(read_table(out_file, name)) for name in gpkg_layers(out_file)}
    expected = {"districts": 2, "communities": 3, "fitness_paths": 2} | {f"store_{t}": 0 for t in STORE_TABLES}
    expected |= {
        "store_plans": 1,
        "store_plan_picks": 2,
        "store_installations": 1,
        "store_inspections": 1,
        "store_attachments": 1,
        "store_audit_log": 2,
    }
    assert counts == expected
    paths = read_table(out_file, "fitness_paths")
    assert list(paths["installation_id"].isna()) == [True, False]  # the installed set, marked
    assert "password_hash" not in read_table(out_file, "store_users").columns
    assert "content" not in read_table(out_file, "store_attachments").columns
    picks = read_table(out_file, "store_plan_picks")
    assert picks.crs == "EPSG:4326" and picks.geometry.geom_type.unique().tolist() == ["Point"]
