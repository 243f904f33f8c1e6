"""The analysis commands count the store's records (issue 14): a set installed against an approved plan
is a fitness path for `geo coverage`, `geo eligibility` and `geo plan`, as in the app; a city file
without a store is analysed as it is, and nothing is created beside it."""

from __future__ import annotations

import json
from datetime import date

import pytest

from geo.data.gpkg import write_layers
from geo.store.actors import Actor
from geo.store.db import existing_store, open_store, store_url
from geo.store.installations import add_installation
from tests.store_helpers import run, seed_plan, small_city

ADMIN = Actor("chief", "admin")


@pytest.fixture
def city_file(tmp_path):
    city = small_city()
    path = tmp_path / "city.gpkg"
    write_layers(
        path, {"districts": city.districts, "communities": city.communities, "fitness_paths": city.fitness_paths}
    )
    return path, city


def served_inside(capsys, monkeypatch, *args) -> tuple[int, str]:
    status, out, err = run(capsys, monkeypatch, "coverage", "--json", *args)
    assert status == 0, err
    return json.loads(out)["total"]["served_inside"], err


def newly_equipped(capsys, monkeypatch, path) -> int:
    status, out, err = run(capsys, monkeypatch, "plan", "--json", "--data", str(path), "--program", "city")
    assert status == 0, err
    return json.loads(out)["programs"][0]["communities_newly_equipped"]


def test_the_default_store_is_the_sqlite_file_beside_the_data_unless_planner_db_url_names_one(monkeypatch, tmp_path):
    monkeypatch.delenv("PLANNER_DB_URL")
    assert store_url(tmp_path / "city.gpkg") == f"sqlite:///{tmp_path}/city.store.sqlite"
    assert existing_store(None, tmp_path / "city.gpkg") is None and not (tmp_path / "city.store.sqlite").exists()
    monkeypatch.setenv("PLANNER_DB_URL", "postgresql+psycopg://u:p@db.example/planner")
    assert store_url(tmp_path / "city.gpkg") == "postgresql+psycopg://u:p@db.example/planner"


def test_an_installed_set_is_counted_by_the_analysis_commands(city_file, capsys, monkeypatch):
    path, city = city_file
    monkeypatch.delenv("PLANNER_DB_URL")
    # No store beside the file: the file alone (C000 has a set), and no store is made.
    assert served_inside(capsys, monkeypatch, "--data", str(path)) == (1, "")
    assert not path.with_name("city.store.sqlite").exists()
    equipped_before = newly_equipped(capsys, monkeypatch, path)

    store = open_store(data_path=path)  # the default store, beside the file
    plan_id = seed_plan(store, city)
    add_installation(store, ADMIN, plan_id, "C001", date(2026, 11, 20), today=date(2026, 11, 30))
    served, said = served_inside(capsys, monkeypatch, "--data", str(path), "--lang", "en")
    assert served == 2 and "1 installed fitness path set(s)" in said

    status, out, _ = run(
        capsys, monkeypatch, "eligibility", "--data", str(path), "--lang", "en", "--district", "450202"
    )
    assert status == 0 and "C001" in out
    assert newly_equipped(capsys, monkeypatch, path) == equipped_before - 1 >= 0  # C001 needs no set now


def test_db_names_another_store_and_its_records_are_the_ones_counted(city_file, capsys, monkeypatch, db_url):
    path, city = city_file
    store = open_store(db_url)
    plan_id = seed_plan(store, city, picks=("C002",))
    add_installation(store, ADMIN, plan_id, "C002", date(2026, 11, 20), today=date(2026, 11, 30))
    monkeypatch.delenv("PLANNER_DB_URL")
    assert served_inside(capsys, monkeypatch, "--data", str(path))[0] == 1  # no store beside the file
    assert served_inside(capsys, monkeypatch, "--data", str(path), "--db", db_url)[0] == 2
    monkeypatch.setenv("PLANNER_DB_URL", db_url)
    assert served_inside(capsys, monkeypatch, "--data", str(path))[0] == 2
