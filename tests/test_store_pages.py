"""The pages of the system of record (issue 14), page side of the review: upload limits said per uploader,
the publish page's approved plan, the saved plan's figures, the save and installation forms."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box
from streamlit.testing.v1 import AppTest

from geo.config import DEFAULT_DATA_PATH, load_config
from geo.data.gpkg import write_layers
from geo.i18n import text
from geo.pipeline import load_city
from geo.plan import run_plan
from geo.store.actors import Actor
from geo.store.db import open_store
from geo.store.installations import add_installation
from geo.store.plans import approve_plan, data_sha256, get_plan, save_plan
from views import shared

PLANNER = Actor("planner", "planner")
BOSS = Actor("boss", "admin")


def test_an_uploaders_own_limit_is_a_rule_more_specific_than_the_one_for_every_uploader():
    general = shared.ui_stylesheet("zh", 200)
    own = shared.uploader_limit_css("inspections_photos", "zh", 10)
    assert shared.css_string(text("uploader_limit", "zh", limit="200")) in general
    assert own.startswith('[class*="st-key-inspections_photos"] [data-testid="stFileUploaderDropzoneInstructions"]')
    assert own.endswith(f"::after {{ content: {shared.css_string(text('uploader_limit', 'zh', limit='10'))}; }}")
    assert shared.css_string(text("uploader_limit", "en", limit="20")) in shared.uploader_limit_css("a-", "en", 20.0)


@pytest.mark.parametrize("key", ['x"] body', "a b", "", "ä"])
def test_an_uploaders_key_that_could_break_out_of_the_selector_is_refused(key):
    with pytest.raises(ValueError):
        shared.uploader_limit_css(key, "zh", 10)


# --------------------------------------------------------------------------- the installation form


def test_the_installation_forms_cost_is_the_chosen_picks_planned_cost(tmp_path, monkeypatch):
    from sqlalchemy import update

    from geo.config import DEFAULT_DATA_PATH
    from geo.pipeline import load_city
    from geo.store.actors import Actor
    from geo.store.db import open_store
    from geo.store.plans import approve_plan
    from geo.store.schema import PlanPick
    from tests.store_helpers import seed_plan

    url = f"sqlite:///{tmp_path}/store.sqlite"
    monkeypatch.setenv("PLANNER_DB_URL", url)
    store = open_store(url)
    sample = load_city(DEFAULT_DATA_PATH)
    first, second = (str(c) for c in sample.communities["community_id"].iloc[:2])
    plan_id = seed_plan(store, sample, picks=(first, second), status="proposed", cost=50_000)
    with store.session() as session, session.begin():  # the second pick planned dearer (before approval freezes it)
        session.execute(update(PlanPick).where(PlanPick.community_id == second).values(cost_cny=61_500))
    approve_plan(store, Actor("chief", "admin"), plan_id)

    app = AppTest.from_file("../views/installations.py", default_timeout=120)
    app.session_state["actor"] = Actor("wang", "planner")
    app.session_state["lang"] = "zh"
    app.run()

    def offered():
        [cost] = [n for n in app.number_input if n.label == "实际费用（元）"]
        return cost.value, cost.help

    assert offered() == (50_000, text("installations_cost_help", "zh", planned="50,000"))
    app.selectbox(key="installations_community").set_value(second).run()
    assert offered() == (61_500, text("installations_cost_help", "zh", planned="61,500"))
    assert not app.exception and not app.error


# --------------------------------------------------------------------------- the publish page's plan

LIUBEI = "450205"
PLAN_SECTION = re.compile(r'<section class="plan">.*?</section>', re.DOTALL)
RESULTS_SECTION = re.compile(r'<section class="results">.*?</section>', re.DOTALL)


def three_communities(folder: Path) -> Path:
    """Three eligible 100 m squares of 柳北区 1 km apart (no set serves any), the sample's districts."""
    sample = load_city(DEFAULT_DATA_PATH)
    district = sample.districts[sample.districts["district_code"] == LIUBEI]
    inside = district.to_crs("EPSG:32649").geometry.representative_point().iloc[0]
    squares = [box(inside.x + 1000 * k - 50, inside.y - 50, inside.x + 1000 * k + 50, inside.y + 50) for k in range(3)]
    communities = gpd.GeoDataFrame(
        pd.DataFrame(
            {
                "community_id": [f"{LIUBEI}-{k + 1:04d}" for k in range(3)],
                "name": [f"柳北区{k + 1}号小区" for k in range(3)],
                "district_code": LIUBEI,
                "district_name": "柳北区",
                "population": [1000, 900, 800],
                "built_year": 1995,
                "open_space_m2": 500.0,
                "public_space_used_for_parking": False,
                "share_60plus": 0.2,
                "share_under14": 0.1,
            }
        ).astype({"population": "Int64", "built_year": "Int64"}),
        geometry=squares,
        crs="EPSG:32649",
    )
    far = inside.x + 50_000, inside.y  # an existing set far from every community
    paths = gpd.GeoDataFrame(
        {"path_id": ["P1"], "name": ["远处"], "funding_source": ["city"]},
        geometry=[Point(*far)],
        crs="EPSG:32649",
    )
    path = folder / "three.gpkg"
    write_layers(
        path,
        {
            "districts": sample.districts,
            "communities": communities.to_crs("EPSG:4326"),
            "fitness_paths": paths.to_crs("EPSG:4326"),
        },
    )
    return path


@pytest.fixture
def approved_and_one_installed(tmp_path, monkeypatch):
    """The three communities' plan saved and approved (all three picked); the first installed since, so
    today's settings would pick only the other two."""
    path = three_communities(tmp_path)
    url = f"sqlite:///{tmp_path}/store.sqlite"
    monkeypatch.setenv("PLANNER_DB_URL", url)
    monkeypatch.setenv("PLANNER_DATA", str(path))
    store = open_store(url)
    city = load_city(path)
    plan = run_plan(city.communities, city.fitness_paths, load_config(), ["city", "region"])
    saved = save_plan(store, PLANNER, plan, "2026年第一批", data_sha256(path), path.name)
    approve_plan(store, BOSS, saved["id"])
    _, picks = get_plan(store, BOSS, saved["id"])
    first = picks["community_id"].iloc[0]
    add_installation(store, BOSS, saved["id"], first, date.today(), cost_cny=48_000)
    return store, path, saved["id"], list(picks["community_id"]), first


def publish_page(monkeypatch, **state) -> tuple[AppTest, list]:
    """The publish page run alone by the administrator; the notices its download button would give."""
    import streamlit

    notices, original = [], streamlit.download_button

    def spy(*args, **kwargs):
        data = kwargs.get("data")
        notices.append(data() if callable(data) else data)
        return original(*args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", spy)
    app = AppTest.from_file("../views/publish.py", default_timeout=120)
    app.session_state["actor"] = BOSS
    app.session_state["lang"] = "zh"
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    return app, notices


def picks_of(notice: bytes) -> list[str]:
    return re.findall(r'data-community-id="([^"]+)"', PLAN_SECTION.search(notice.decode("utf-8")).group(0))


def test_the_notice_publishes_the_approved_plan_not_todays_rerun(approved_and_one_installed, monkeypatch):
    _, _, plan_id, saved_picks, first = approved_and_one_installed
    assert len(saved_picks) == 3
    app, notices = publish_page(monkeypatch)
    choice = app.selectbox(key="publish_plan")
    assert choice.value == plan_id and choice.options[-1] == "当前设置的计算结果"
    assert choice.options[0] == f"已批准方案 {plan_id}“2026年第一批”（boss，{date.today().isoformat()} 批准）"
    html = notices[-1].decode("utf-8")
    assert picks_of(notices[-1]) == saved_picks  # the approved picks, the installed one among them
    approved = re.search(r'<p class="approved" data-plan-id="(\d+)">(.*?)</p>', html)
    assert approved.group(1) == str(plan_id)
    assert approved.group(2) == f"本整改方案为已批准的方案“2026年第一批”（方案 {plan_id}），由 boss 于 " + (
        f"{date.today().year}年{date.today().month}月{date.today().day}日批准。"
    )
    results = RESULTS_SECTION.search(html).group(0)
    assert "48,000" in results  # 整改成效 of the same plan: its one installation

    # Today's settings: the installed community is served now, so the re-run picks the other two.
    choice.set_value(0).run()
    assert not app.error and sorted(picks_of(notices[-1])) == sorted(set(saved_picks) - {first})
    assert 'class="approved"' not in notices[-1].decode("utf-8")


def test_a_changed_data_file_falls_back_to_the_current_settings_with_a_warning(approved_and_one_installed, monkeypatch):
    _, path, plan_id, saved_picks, first = approved_and_one_installed
    with open(path, "ab") as handle:  # the same layers, another file: the hash differs
        handle.write(b"\0")
    app, notices = publish_page(monkeypatch)
    assert app.selectbox(key="publish_plan").value == plan_id
    warned = " ".join(w.value for w in app.warning)
    assert f"数据文件自方案 {plan_id} 批准以来已改变" in warned and "SHA" in warned
    assert sorted(picks_of(notices[-1])) == sorted(set(saved_picks) - {first})  # today's re-run
    assert 'class="approved"' not in notices[-1].decode("utf-8")
