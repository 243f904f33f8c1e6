"""Installations against approved plans, inspections with photos, and the city the store's records make."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from geo.data.city import CityData
from geo.errors import DataError, said
from geo.pipeline import coverage_report
from geo.store.actors import Actor
from geo.store.applications import add_application, history, list_applications, set_status
from geo.store.audit import audit_entries
from geo.store.db import open_store
from geo.store.installations import (
    add_inspection,
    add_installation,
    attachment,
    city_with_records,
    installed_fitness_paths,
    list_inspections,
    list_installations,
    plan_progress,
    planned_vs_installed,
    records_version,
)
from tests.store_helpers import JPEG, PNG, WEBP, centre, seed_plan, small_city

ADMIN = Actor("chief", "admin")
PLANNER = Actor("planner1", "planner")
ANALYST = Actor("analyst1", "analyst")
CHENGZHONG = Actor("chengzhong", "district", ("450202",))
YUFENG = Actor("yufeng", "district", ("450203",))
TODAY = date(2026, 11, 30)


@pytest.fixture
def store(db_url):
    return open_store(db_url)


def refused(key: str, call, *args, **kwargs) -> DataError:
    with pytest.raises(DataError) as caught:
        call(*args, **kwargs)
    assert caught.value.args[0].key == key, said(caught.value, "en")
    return caught.value


def install(store, plan_id, community="C001", actor=PLANNER, **kwargs):
    kwargs.setdefault("installed_on", date(2026, 11, 20))
    return add_installation(store, actor, plan_id, community, today=TODAY, **kwargs)


def test_a_community_unserved_before_an_installation_is_served_after(store):
    city = small_city()
    plan_id = seed_plan(store, city)
    before = coverage_report(city_with_records(city, store), 500).communities.set_index("community_id")
    assert list(before["served_within_radius"]) == [True, False, False]
    version = records_version(store)

    row = install(store, plan_id, site="东门广场", pieces=8, cost_cny=48_000)
    assert records_version(store) != version
    installed = installed_fitness_paths(store)
    assert installed.crs == "EPSG:4326" and list(installed["installation_id"]) == [row["id"]]
    assert installed.geometry.iloc[0].x == pytest.approx(centre(city, "C001")[0])
    assert {"path_id", "name", "install_year", "n_pieces", "condition", "funding_source"} <= set(installed.columns)
    assert installed["install_year"].iloc[0] == 2026 and installed["n_pieces"].iloc[0] == 8

    with_records = city_with_records(city, store)
    assert len(with_records.fitness_paths) == 2 and len(city.fitness_paths) == 1  # the file's city untouched
    after = coverage_report(with_records, 500).communities.set_index("community_id")
    assert list(after["served_within_radius"]) == [True, True, False]
    assert after.at["C001", "n_sets_inside"] == 1


def test_an_installed_set_the_file_already_has_is_not_counted_twice(store):
    city = small_city()
    plan_id = seed_plan(store, city, picks=("C000", "C001"))
    file_path = city.fitness_paths.geometry.iloc[0]  # at (50, 50) m: the centre of C000
    install(store, plan_id, community="C000", lon=file_path.x, lat=file_path.y + 0.00005)  # 5.5 m north
    assert len(city_with_records(city, store).fitness_paths) == 1
    install(store, plan_id, community="C001")
    paths = city_with_records(city, store).fitness_paths
    assert len(paths) == 2 and paths["installation_id"].notna().sum() == 1


def test_store_applications_join_the_files_earliest_date_per_community(store):
    city = small_city()
    city = CityData(
        city.districts,
        city.communities,
        city.fitness_paths,
        "test",
        applications=pd.DataFrame({"community_id": ["C001"], "application_date": pd.to_datetime(["2026-10-01"])}),
    )
    add_application(store, ADMIN, city.communities, "C001", date(2026, 11, 2), today=TODAY)
    add_application(store, ADMIN, city.communities, "C002", date(2026, 11, 3), today=TODAY)
    rejected = add_application(store, ADMIN, city.communities, "C000", date(2026, 9, 1), today=TODAY)
    set_status(store, ADMIN, rejected["id"], "rejected", "已有健身路径")
    table = city_with_records(city, store).applications.set_index("community_id")["application_date"]
    assert table.to_dict() == {"C001": pd.Timestamp("2026-10-01"), "C002": pd.Timestamp("2026-11-03")}


def test_an_empty_store_leaves_the_city_as_it_is(store):
    city = small_city()
    assert city_with_records(city, store) is city
    assert len(installed_fitness_paths(store)) == 0


def test_an_installation_moves_the_in_plan_application_to_installed_with_its_event_and_audit(store):
    city = small_city()
    plan_id = seed_plan(store, city)
    application = add_application(store, ADMIN, city.communities, "C001", date(2026, 11, 2), today=TODAY)
    for status in ("district_review", "city_review", "in_plan"):
        set_status(store, ADMIN, application["id"], status)
    audit_before = len(audit_entries(store))
    row = install(store, plan_id, cost_cny=48_000)
    assert list_applications(store, ADMIN).set_index("id").at[application["id"], "status"] == "installed"
    last = history(store, ADMIN, application["id"]).iloc[-1]
    assert (last["from_status"], last["to_status"], last["actor"]) == ("in_plan", "installed", "planner1")
    actions = list(audit_entries(store)["action"])[audit_before:]
    assert actions == ["installation_add", "application_status"]
    assert row["cost_cny"] == 48_000 and row["district_code"] == "450202" and row["created_by"] == "planner1"


def test_an_installation_is_refused_unless_it_fits_an_approved_plan(store):
    city = small_city()
    plan_id = seed_plan(store, city)
    proposed = seed_plan(store, city, name="草案", status="proposed")
    refused("installation_plan_unknown", install, store, 999)
    refused("installation_plan_not_approved", install, store, proposed)
    refused("installation_not_picked", install, store, plan_id, community="C000")
    refused("installation_date_future", install, store, plan_id, installed_on=date(2026, 12, 1))
    refused("installation_negative", install, store, plan_id, cost_cny=-1)
    refused("role_not_allowed", install, store, plan_id, actor=ANALYST)
    refused("role_not_allowed", install, store, plan_id, actor=CHENGZHONG)
    lon, lat = centre(city, "C001")
    refused("installation_site_not_degrees", install, store, plan_id, lon=2_690_000.0, lat=338_000.0)  # metres
    refused("installation_site_far", install, store, plan_id, lon=lon + 0.03, lat=lat)  # about 3 km east
    assert len(list_installations(store, ADMIN)) == 0 and len(audit_entries(store)) == 0
    moved = install(store, plan_id, lon=lon + 0.01, lat=lat)  # about 1 km: a site nearby is fine
    assert moved["lon"] == pytest.approx(lon + 0.01)
    refused("installation_duplicate", install, store, plan_id)
    assert len(list_installations(store, ADMIN)) == 1


def test_inspections_keep_their_photos_and_refuse_what_is_not_an_image(store):
    city = small_city()
    plan_id = seed_plan(store, city)
    installation = install(store, plan_id)
    photos = [("东门.jpg", JPEG), ("../../etc/passwd.png", PNG), ("c.webp", WEBP)]
    row = add_inspection(
        store, PLANNER, installation["id"], date(2026, 11, 25), "needs_repair", "单杠松动", photos, today=TODAY
    )
    assert [p["media_type"] for p in row["photos"]] == ["image/jpeg", "image/png", "image/webp"]
    table = list_inspections(store, ADMIN, installation["id"])
    assert list(table["photos"]) == [3] and table["condition"].iloc[0] == "needs_repair"
    name, kind, content = attachment(store, ADMIN, table["attachment_ids"].iloc[0][1])
    assert (name, kind, content) == ("../../etc/passwd.png", "image/png", PNG)  # the name is data, kept as given
    assert installed_fitness_paths(store)["condition"].iloc[0] == "fair"

    bad = refused(
        "photo_not_image",
        add_inspection,
        store,
        PLANNER,
        installation["id"],
        date(2026, 11, 26),
        "good",
        photos=[("ok.jpg", JPEG), ("report.pdf", b"%PDF-1.7")],
        today=TODAY,
    )
    assert "report.pdf" in said(bad, "zh")
    big = JPEG + b"\x00" * (10 * 1024 * 1024)
    refused("photo_too_large", add_inspection, store, PLANNER, installation["id"], date(2026, 11, 26), "good",
            photos=[("big.jpg", big)], today=TODAY)  # fmt: skip
    refused("inspection_condition_unknown", add_inspection, store, PLANNER, installation["id"], TODAY, "fine")
    refused("inspection_date_future", add_inspection, store, PLANNER, installation["id"], date(2026, 12, 1), "good",
            today=TODAY)  # fmt: skip
    refused("inspection_before_installation", add_inspection, store, PLANNER, installation["id"],
            date(2026, 11, 1), "good", today=TODAY)  # fmt: skip
    assert len(list_inspections(store, ADMIN)) == 1

    add_inspection(store, ADMIN, installation["id"], date(2026, 11, 28), "removed", today=TODAY)
    assert len(installed_fitness_paths(store)) == 0  # a removed set serves nobody
    assert list_installations(store, ADMIN)["last_condition"].iloc[0] == "removed"


def test_a_district_office_reads_only_its_own_districts_rows(store):
    city = small_city()
    plan_id = seed_plan(store, city)
    first = install(store, plan_id, community="C001")
    second = install(store, plan_id, community="C002")
    add_inspection(store, PLANNER, first["id"], TODAY, "good", photos=[("a.jpg", JPEG)], today=TODAY)
    add_inspection(store, PLANNER, second["id"], TODAY, "damaged", photos=[("b.jpg", JPEG)], today=TODAY)
    assert list(list_installations(store, CHENGZHONG)["community_id"]) == ["C001"]
    assert list(list_installations(store, YUFENG)["community_id"]) == ["C002"]
    assert list(list_inspections(store, CHENGZHONG)["community_id"]) == ["C001"]
    refused("not_your_district", list_inspections, store, CHENGZHONG, second["id"])
    theirs = list_inspections(store, ADMIN, second["id"])["attachment_ids"].iloc[0][0]
    refused("not_your_district", attachment, store, CHENGZHONG, theirs)
    assert list(plan_progress(store, CHENGZHONG, plan_id)["community_id"]) == ["C001"]
    assert list(planned_vs_installed(store, YUFENG)["district_code"]) == ["450203"]


def test_planned_against_installed_per_district_counts_sets_and_money(store):
    city = small_city()
    plan_id = seed_plan(store, city, picks=("C000", "C001", "C002"), cost=50_000)
    seed_plan(store, city, picks=("C000",), name="草案", status="proposed")  # not approved: not planned
    install(store, plan_id, community="C001", cost_cny=47_500)
    table = planned_vs_installed(store, ADMIN).set_index("district_code")
    assert table.loc["450202"].to_dict() == {
        "planned_sets": 2,
        "planned_cny": 100_000,
        "installed_sets": 1,
        "installed_cny": 47_500,
    }
    assert table.loc["450203"].to_dict() == {
        "planned_sets": 1,
        "planned_cny": 50_000,
        "installed_sets": 0,
        "installed_cny": 0,
    }
    progress = plan_progress(store, ADMIN, plan_id)
    assert list(progress["installed"]) == [False, True, False]


def test_a_backup_carries_plans_installations_inspections_and_the_photos_bytes(db_url, tmp_path):
    import sqlalchemy as sa

    from geo.store.backup import backup, restore

    store = open_store(db_url)
    city = small_city()
    plan_id = seed_plan(store, city)
    installation = install(store, plan_id, site="东门", cost_cny=48_000)
    photo = JPEG + bytes(range(256)) * 4  # every byte value
    add_inspection(store, PLANNER, installation["id"], TODAY, "good", "完好", [("东门.jpg", photo)], today=TODAY)
    manifest = backup(store, tmp_path / "store.zip")
    assert {
        k: manifest["tables"][k] for k in ("plans", "plan_picks", "installations", "inspections", "attachments")
    } == {
        "plans": 1,
        "plan_picks": 2,
        "installations": 1,
        "inspections": 1,
        "attachments": 1,
    }
    copy = open_store(f"sqlite:///{tmp_path}/copy.sqlite")
    restore(copy, tmp_path / "store.zip")
    attachment_id = list_inspections(copy, ADMIN)["attachment_ids"].iloc[0][0]
    assert attachment(copy, ADMIN, attachment_id) == ("东门.jpg", "image/jpeg", photo)
    assert list(list_installations(copy, ADMIN)["cost_cny"]) == [48_000]
    assert len(installed_fitness_paths(copy)) == 1
    with copy.engine.connect() as connection:  # the approved plan is still frozen after a restore
        status = connection.execute(sa.text("SELECT status FROM plans")).scalar()
    assert status == "approved"


def test_eight_sessions_installing_one_pick_at_once_store_it_once(db_url):
    import threading

    store = open_store(db_url)
    plan_id = seed_plan(store, small_city())
    results, start = [], threading.Barrier(8)

    def attempt() -> None:
        own = open_store(db_url)  # each session its own engine, as app servers are
        start.wait(timeout=60)
        try:
            results.append(install(own, plan_id)["id"])
        except DataError as error:
            results.append(error.args[0].key)
        except Exception as error:  # collected and asserted below
            results.append(repr(error))
        finally:
            own.engine.dispose()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, results)) == sorted(["1"] + ["installation_duplicate"] * 7), results
    assert len(list_installations(store, ADMIN)) == 1
