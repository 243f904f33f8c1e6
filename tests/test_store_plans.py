"""Saved plans (issue 14): save, list, open, compare, approve (then frozen) and re-run exactly, on both databases."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa

from geo.config import DEFAULT_DATA_PATH, Program, load_config
from geo.errors import DataError
from geo.pipeline import load_city
from geo.plan import run_plan
from geo.store.actors import Actor
from geo.store.applications import add_application, history, list_applications, set_status
from geo.store.audit import audit_entries
from geo.store.db import open_store
from geo.store.plans import (
    approve_plan,
    compare_plans,
    data_sha256,
    get_plan,
    list_plans,
    plan_metrics,
    plan_picks,
    rename_plan,
    rerun_saved,
    save_plan,
)
from tests.store_helpers import SET_CNY, config_with, handmade_city, handmade_plan

ADMIN = Actor("chief", "admin")
PLANNER = Actor("wang", "planner")
ANALYST = Actor("li", "analyst")
OFFICE_A = Actor("east", "district", ("450202",))
OFFICE_B = Actor("west", "district", ("450203",))
HASH = "a" * 64


@pytest.fixture
def store(db_url):
    return open_store(db_url)


def test_a_saved_plan_keeps_its_parameters_metrics_picks_and_audit_row(store):
    plan = handmade_plan()
    saved = save_plan(store, PLANNER, plan, " 二〇二七年方案 ", HASH, "city.gpkg", notes="第一稿")
    assert saved["name"] == "二〇二七年方案" and saved["status"] == "proposed" and saved["picks"] == 2
    listed = list_plans(store, ANALYST)
    assert listed[["name", "status", "created_by", "sets", "spent_cny"]].to_dict("records") == [
        {"name": "二〇二七年方案", "status": "proposed", "created_by": "wang", "sets": 2, "spent_cny": 100_000}
    ]
    record, picks = get_plan(store, ANALYST, saved["id"])
    assert record["data_sha256"] == HASH and record["data_name"] == "city.gpkg" and record["notes"] == "第一稿"
    parameters = record["parameters"]
    assert parameters["mode"] == "rank" and parameters["program_keys"] == ["city"]
    assert parameters["walk_radius_m"] == 500 and parameters["standard"] == "walk"
    assert parameters["programs"][0]["budget_cny"] == 100_000 and parameters["set_cost_cny"] == SET_CNY
    assert parameters["applications"] == [["C003", "2020-01-02T00:00:00"]]
    city_figures = record["metrics"]["programs"][0]
    assert city_figures["sets"] == 2 and city_figures["spent_cny"] == 100_000 and city_figures["unspent_cny"] == 0
    assert city_figures["stop_reason"] == "budget_spent"
    # the most populous community, then the one that applied (its application outweighs 1,600 residents)
    assert list(picks["community_id"]) == ["C002", "C003"] and list(picks["rank"]) == [1, 2]
    assert list(picks["district_code"]) == ["450203", "450203"] and list(picks["cost_cny"]) == [SET_CNY] * 2
    assert [d["population_newly_served"] for d in picks["details"]] == [3000, 400]
    assert record["metrics"]["total"]["population_newly_served"] == 3400
    communities = handmade_city().communities.set_index("community_id")
    for row in picks.itertuples():  # each site (WGS84) stands inside its community
        assert communities.geometry[row.community_id].contains(shapely.Point(row.lon, row.lat))
    audit = audit_entries(store)
    assert list(audit["action"]) == ["plan_save"] and audit["entity_id"].iloc[0] == str(saved["id"])
    assert json.loads(audit["after"].iloc[0])["picks"] == 2


def test_who_may_save_and_what_name_is_refused_changing_nothing(store):
    plan = handmade_plan()
    for actor in (ANALYST, OFFICE_A):
        with pytest.raises(DataError, match="may not do this"):
            save_plan(store, actor, plan, "方案", HASH)
    for name in ("", "   "):
        with pytest.raises(DataError, match="give the plan a name"):
            save_plan(store, PLANNER, plan, name, HASH)
    with pytest.raises(DataError, match="at most 200"):
        save_plan(store, PLANNER, plan, "长" * 201, HASH)
    first = save_plan(store, ADMIN, plan, "方案", HASH)
    with pytest.raises(DataError, match=f'a plan named "方案" already exists \\(number {first["id"]}\\)'):
        save_plan(store, PLANNER, handmade_plan(SET_CNY), "方案", HASH)
    assert len(list_plans(store, ADMIN)) == 1 and len(audit_entries(store)) == 1
    with store.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM plan_picks")) == 2


def test_an_administrator_approves_once_and_the_approved_plan_is_frozen(store):
    saved = save_plan(store, PLANNER, handmade_plan(), "方案", HASH)
    for actor in (PLANNER, ANALYST, OFFICE_A):
        with pytest.raises(DataError, match="may not do this"):
            approve_plan(store, actor, saved["id"])
    with pytest.raises(DataError, match="no saved plan number 99"):
        approve_plan(store, ADMIN, 99)
    renamed = rename_plan(store, PLANNER, saved["id"], "方案（修改）")  # a proposed plan may still change
    assert renamed["name"] == "方案（修改）"
    approved = approve_plan(store, ADMIN, saved["id"])
    assert approved["status"] == "approved" and approved["approved_by"] == "chief" and approved["approved_at"]
    with pytest.raises(DataError, match="approved by chief already"):
        approve_plan(store, ADMIN, saved["id"])
    with pytest.raises(DataError, match=f"plan {saved['id']} is approved; an approved plan cannot be changed"):
        rename_plan(store, ADMIN, saved["id"], "别的名字")
    with pytest.raises(sa.exc.DBAPIError, match="frozen"), store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM plan_picks WHERE plan_id = :id"), {"id": saved["id"]})
    audit = audit_entries(store)
    assert list(audit["action"]) == ["plan_save", "plan_rename", "plan_approve"]
    before, after = json.loads(audit["before"].iloc[2]), json.loads(audit["after"].iloc[2])
    assert before["status"] == "proposed" and before["approved_by"] is None
    assert after["status"] == "approved" and after["approved_by"] == "chief"
    record, picks = get_plan(store, ADMIN, saved["id"])
    assert record["name"] == "方案（修改）" and len(picks) == 2


def test_a_district_office_sees_only_the_picks_of_its_districts(store):
    saved = save_plan(store, PLANNER, handmade_plan(3 * SET_CNY), "方案", HASH)  # C002, C003 | C001
    record, picks = get_plan(store, OFFICE_A, saved["id"])
    assert list(picks["community_id"]) == ["C001"] and record["scope"] == "districts"
    assert record["metrics"]["total"] == {"sets": 1, "spent_cny": SET_CNY, "population_newly_served": 2000}
    assert list_plans(store, OFFICE_B)[["sets", "spent_cny"]].to_dict("records") == [
        {"sets": 2, "spent_cny": 2 * SET_CNY}
    ]
    other = save_plan(store, PLANNER, handmade_plan(4 * SET_CNY), "多一些", HASH)  # + C000 (450202)
    compared = compare_plans(store, OFFICE_A, saved["id"], other["id"])
    assert compared["picks"][["change", "community_id", "district_code"]].to_dict("records") == [
        {"change": "added", "community_id": "C000", "district_code": "450202"},
        {"change": "kept", "community_id": "C001", "district_code": "450202"},
    ]
    sets = compared["metrics"].set_index(["program", "metric"]).loc[("", "sets")]
    assert sets.tolist() == [1, 2, 1]  # the office's own picks, not the city's 3 and 4


def test_compare_names_picks_added_removed_kept_and_the_money_both_ways(store):
    one = save_plan(store, PLANNER, handmade_plan(SET_CNY), "一套", HASH)
    three = save_plan(store, PLANNER, handmade_plan(3 * SET_CNY + 20_000), "三套", "b" * 64)
    compared = compare_plans(store, ANALYST, one["id"], three["id"])
    assert compared["same_data"] is False
    picks = compared["picks"]
    assert picks[["change", "community_id", "rank_a", "rank_b"]].astype(object).to_dict("records") == [
        {"change": "added", "community_id": "C003", "rank_a": None, "rank_b": 2},
        {"change": "added", "community_id": "C001", "rank_a": None, "rank_b": 3},
        {"change": "kept", "community_id": "C002", "rank_a": 1, "rank_b": 1},
    ]
    backwards = compare_plans(store, ANALYST, three["id"], one["id"])["picks"]
    assert list(backwards["change"]) == ["removed", "removed", "kept"]
    metrics = compared["metrics"].set_index(["program", "metric"])
    assert metrics.loc[("city", "sets")].tolist() == [1, 3, 2]
    assert metrics.loc[("", "population_newly_served")].tolist() == [3000, 5400, 2400]
    assert pd.isna(metrics.loc[("city", "stop_reason"), "difference"])  # a reason, not a number
    money = compared["money"].set_index("program")
    assert money.loc["city", ["spent_cny_a", "spent_cny_b", "spent_cny_difference"]].tolist() == [
        50_000,
        150_000,
        100_000,
    ]
    assert money.loc["city", ["unspent_cny_a", "unspent_cny_b", "unspent_cny_difference"]].tolist() == [
        0,
        20_000,
        20_000,
    ]


def test_a_saved_plan_is_not_rerun_on_other_data(store, tmp_path):
    saved = save_plan(store, PLANNER, handmade_plan(), "方案", HASH)
    with pytest.raises(DataError, match=f"SHA-256 was {HASH} when it was saved, it is {'c' * 64} now"):
        rerun_saved(store, saved["id"], handmade_city(), "c" * 64)
    target = tmp_path / "file.bin"
    target.write_bytes(b"x" * (3 << 20))
    assert data_sha256(target) == hashlib.sha256(b"x" * (3 << 20)).hexdigest()


def _reproduced(store, plan, city, digest):
    saved = save_plan(store, PLANNER, plan, f"方案-{plan.mode}", digest)
    approve_plan(store, ADMIN, saved["id"])
    record, stored = get_plan(store, ADMIN, saved["id"])
    again = rerun_saved(store, saved["id"], city, digest)
    rerun_picks = plan_picks(again)
    assert len(stored) == len(plan.selected) > 0
    pd.testing.assert_frame_equal(stored, rerun_picks, check_dtype=False)  # ids, order, sites, costs, details
    assert plan_metrics(again) == record["metrics"]


@pytest.mark.parametrize("mode", ["rank", "optimal"])
def test_an_approved_plan_rerun_on_its_own_data_is_the_same_plan_handmade(store, mode):
    city = handmade_city()
    plan = run_plan(city.communities, city.fitness_paths, config_with(3 * SET_CNY), ["city"], mode, city.applications)
    _reproduced(store, plan, city, HASH)


@pytest.mark.parametrize("mode", ["rank", "optimal"])
def test_an_approved_plan_rerun_on_its_own_data_is_the_same_plan_sample(store, mode):
    city, config = load_city(DEFAULT_DATA_PATH), load_config()
    keys = [p.key for p in config.programs]
    plan = run_plan(city.communities, city.fitness_paths, config, keys, mode, city.applications)
    _reproduced(store, plan, city, data_sha256(DEFAULT_DATA_PATH))


def test_the_saved_applications_not_todays_make_the_rerun(store):
    """An application arriving after the save changes nothing in the re-run (its priority is the saved one)."""
    city = handmade_city()
    plan = run_plan(city.communities, city.fitness_paths, config_with(SET_CNY), ["city"], "rank", city.applications)
    saved = save_plan(store, PLANNER, plan, "方案", HASH)
    later = replace(city, applications=pd.DataFrame({"community_id": ["C000"], "application_date": ["2021-01-01"]}))
    again = rerun_saved(store, saved["id"], later, HASH)
    pd.testing.assert_frame_equal(get_plan(store, ADMIN, saved["id"])[1], plan_picks(again), check_dtype=False)


def test_sets_installed_when_the_plan_was_saved_count_in_its_rerun_and_later_ones_do_not(store):
    """A plan run on the city with the store's installed sets (a fitness path with an installation_id,
    as geo.store.installations.city_with_records gives) is re-run on the file's city with those sets."""
    city = handmade_city()
    site = city.communities.geometry.iloc[2].representative_point()  # a set installed in C002
    installed = gpd.GeoDataFrame(
        {"path_id": ["I7"], "installation_id": pd.array([7], dtype="Int64")}, geometry=[site], crs="EPSG:4326"
    )
    with_records = replace(
        city, fitness_paths=gpd.GeoDataFrame(pd.concat([city.fitness_paths, installed]), crs="EPSG:4326")
    )
    plan = run_plan(
        with_records.communities, with_records.fitness_paths, config_with(SET_CNY), ["city"], "rank", city.applications
    )
    assert list(plan.selected["community_id"]) == ["C003"]  # C002 has its set: the applicant comes first
    saved = save_plan(store, PLANNER, plan, "方案", HASH, city=with_records)
    record, picks = get_plan(store, ADMIN, saved["id"])
    assert record["parameters"]["installed_sets"] == [[7, site.x, site.y]]
    again = rerun_saved(store, saved["id"], city, HASH)  # the file's city, without the installed set
    pd.testing.assert_frame_equal(picks, plan_picks(again), check_dtype=False)
    assert plan_metrics(again) == record["metrics"]


def test_a_programme_only_one_plan_ran_counts_as_nothing_bought_in_the_other(store):
    city = handmade_city()
    two = replace(
        config_with(SET_CNY),
        programs=(Program("city", "市本级", "City", SET_CNY), Program("region", "区", "Region", SET_CNY)),
    )
    both = run_plan(city.communities, city.fitness_paths, two, ["city", "region"], "rank", city.applications)
    one = save_plan(store, PLANNER, handmade_plan(SET_CNY), "一项", HASH)
    other = save_plan(store, PLANNER, both, "两项", HASH)
    compared = compare_plans(store, ANALYST, one["id"], other["id"])
    metrics = compared["metrics"].set_index(["program", "metric"])
    assert metrics.loc[("region", "sets"), ["a", "b", "difference"]].tolist() == [None, 1, 1]
    money = compared["money"].set_index("program")
    region = money.loc["region"]
    assert pd.isna(region["spent_cny_a"]) and region["spent_cny_b"] == region["spent_cny_difference"] == SET_CNY
    assert money.loc["", ["budget_cny_a", "budget_cny_b", "budget_cny_difference"]].tolist() == [
        SET_CNY,
        2 * SET_CNY,
        SET_CNY,
    ]


def test_a_community_bought_from_another_programme_is_kept_not_added_and_removed(store):
    """The reviewer's case: plan B buys with a custom budget the same sets plan A bought with the city's
    budget; the comparison keeps them (naming both programmes) instead of adding and removing them."""
    city = handmade_city()
    custom = replace(
        config_with(2 * SET_CNY), programs=(Program("custom", "自定义预算", "Custom budget", 2 * SET_CNY),)
    )
    by_custom = run_plan(city.communities, city.fitness_paths, custom, ["custom"], "rank", city.applications)
    a = save_plan(store, PLANNER, handmade_plan(3 * SET_CNY), "市本级三套", HASH)
    b = save_plan(store, PLANNER, by_custom, "自定义两套", HASH)
    picks = compare_plans(store, ANALYST, a["id"], b["id"])["picks"]
    assert picks[["change", "community_id", "program_a", "program_b"]].to_dict("records") == [
        {"change": "removed", "community_id": "C001", "program_a": "city", "program_b": None},
        {"change": "kept", "community_id": "C002", "program_a": "city", "program_b": "custom"},
        {"change": "kept", "community_id": "C003", "program_a": "city", "program_b": "custom"},
    ]


def test_approving_a_plan_puts_its_communities_applications_at_city_review_in_the_plan(store):
    """列入计划 follows the approval: C002 and C003 (picked) at city review move, with who and which plan;
    C001 (picked too) waits at 区县审核 for the district; C000 (not picked) cannot be put in the plan."""
    city = handmade_city()
    communities = city.communities[["community_id", "district_code"]]
    today = pd.Timestamp("2026-11-30").date()
    ids = {}
    for community in ("C000", "C001", "C002", "C003"):
        ids[community] = add_application(store, ADMIN, communities, community, today, today=today)["id"]
    for community in ("C000", "C002", "C003"):
        set_status(store, ADMIN, ids[community], "district_review")
        set_status(store, ADMIN, ids[community], "city_review")
    set_status(store, ADMIN, ids["C001"], "district_review")
    saved = save_plan(store, PLANNER, handmade_plan(3 * SET_CNY), "三套", HASH)  # C002, C003 | C001
    assert list_applications(store, ADMIN).set_index("community_id")["status"].to_dict() == {
        "C000": "city_review", "C001": "district_review", "C002": "city_review", "C003": "city_review"}  # fmt: skip
    assert approve_plan(store, ADMIN, saved["id"])["applications_in_plan"] == 2
    statuses = list_applications(store, ADMIN).set_index("community_id")["status"].to_dict()
    assert statuses == {"C000": "city_review", "C001": "district_review", "C002": "in_plan", "C003": "in_plan"}
    last = history(store, ADMIN, ids["C002"]).iloc[-1]
    assert (last["actor"], last["from_status"], last["to_status"], last["reason"]) == (
        "chief", "city_review", "in_plan", f"plan {saved['id']}")  # fmt: skip
    with pytest.raises(DataError) as refusal:
        set_status(store, ADMIN, ids["C000"], "in_plan")
    assert refusal.value.args[0].key == "application_not_in_plan"
    moves = audit_entries(store).query("action == 'application_status'")
    assert moves["after"].str.contains('"status": "in_plan"').sum() == 2  # each move its audit row
