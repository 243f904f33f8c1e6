"""The notice's results section (整改成效, issue 14): installed against planned per district, the inspection record."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest

from geo.config import DEFAULT_DATA_PATH, load_config
from geo.pipeline import load_city
from geo.plan import run_plan
from geo.render.notice import publish_html

ISSUED = date(2026, 11, 30)
RESULTS = re.compile(r'<section class="results">.*?</section>', re.DOTALL)


@pytest.fixture(scope="module")
def sample():
    city = load_city(DEFAULT_DATA_PATH)
    plan = run_plan(city.communities, city.fitness_paths, load_config(), ["city"])
    return city, plan


def results(sample, lang="zh", **frames) -> str:
    city, plan = sample
    page = publish_html(plan, city.districts, city.fitness_paths, lang=lang, issued=ISSUED, **frames)
    return RESULTS.search(page).group(0)


def test_two_planned_in_a_district_and_one_installed_reads_one_of_two(sample):
    city, _ = sample
    code, other = city.districts["district_code"].astype(str).iloc[:2]
    name = city.districts.set_index("district_code").at[code, "district_name"]
    installed = pd.DataFrame(
        {
            "district_code": [code, other],
            "planned_sets": [2, 1],
            "planned_cny": [100_000, 50_000],
            "installed_sets": [1, 0],
            "installed_cny": [48_000, 0],
        }
    )
    inspections = pd.DataFrame(
        {
            "inspected_on": [date(2026, 11, 25)],
            "community_id": ["450202-0001"],
            "district_code": [code],
            "condition": ["needs_repair"],
            "findings": ["单杠松动 <b>"],
            "photos": [2],
        }
    )
    section = results(sample, installed=installed, inspections=inspections)
    assert f'data-district="{code}"' in section and f"<td>{name}</td>" in section
    assert 'data-installed="1" data-planned="2">1/2</td>' in section
    assert 'data-installed="0" data-planned="1">0/1</td>' in section
    assert 'data-installed="1" data-planned="3">1/3</td>' in section  # the total row
    assert 'data-value="100000">100,000</td>' in section and 'data-value="48000">48,000</td>' in section
    assert "2026年11月25日" in section and "需维修" in section and "单杠松动 &lt;b&gt;" in section
    assert 'data-key="photos" data-value="2"' in section and "<img" not in section
    assert "尚无安装记录" not in section and "待健身路径安装情况录入后填写" not in section
    english = results(sample, "en", installed=installed, inspections=inspections)
    assert "needs repair" in english and "Installed / planned (sets)" in english


def test_no_installation_says_so_and_without_records_the_section_waits(sample):
    city, _ = sample
    code = str(city.districts["district_code"].iloc[0])
    planned = pd.DataFrame(
        {
            "district_code": [code],
            "planned_sets": [2],
            "planned_cny": [100_000],
            "installed_sets": [0],
            "installed_cny": [0],
        }
    )
    section = results(sample, installed=planned, inspections=pd.DataFrame())
    assert "尚无安装记录。" in section and ">0/2</td>" in section
    nothing = results(sample, installed=planned.iloc[:0], inspections=pd.DataFrame())
    assert "尚无安装记录。" in nothing and "<table" not in nothing
    assert "No installation recorded yet." in results(sample, "en", installed=planned.iloc[:0])
    assert "待健身路径安装情况录入后填写。" in results(sample)  # no store behind it: as before


def test_the_publish_page_reads_the_results_from_the_store(tmp_path, monkeypatch):
    """Two sets planned in one district of the sample, one installed and inspected: the page passes 1/2."""
    from streamlit.testing.v1 import AppTest

    from geo.store import installations
    from geo.store.actors import Actor
    from geo.store.db import open_store
    from tests.store_helpers import seed_plan

    url = f"sqlite:///{tmp_path}/store.sqlite"
    monkeypatch.setenv("PLANNER_DB_URL", url)
    store = open_store(url)
    city = load_city(DEFAULT_DATA_PATH)
    district = city.communities["district_code"].astype(str).iloc[0]
    ours = city.communities[city.communities["district_code"].astype(str) == district]
    first, second = ours["community_id"].astype(str).iloc[:2]
    plan_id = seed_plan(store, city, picks=(first, second))
    planner = Actor("wang", "planner")
    row = installations.add_installation(store, planner, plan_id, first, date(2026, 11, 20), cost_cny=48_000)
    installations.add_inspection(
        store, planner, row["id"], date(2026, 11, 25), "good", "完好", today=date(2026, 11, 30)
    )

    seen = {}
    for name in ("planned_vs_installed", "inspection_record"):
        original = getattr(installations, name)

        def spy(*args, _original=original, _name=name):
            seen[_name] = _original(*args)
            return seen[_name]

        monkeypatch.setattr(installations, name, spy)
    app = AppTest.from_file("../views/publish.py", default_timeout=120)
    app.session_state["actor"] = Actor("li", "analyst")
    app.run()
    assert not app.exception, app.exception
    progress = seen["planned_vs_installed"].set_index("district_code")
    assert progress.loc[district, ["installed_sets", "planned_sets", "installed_cny"]].tolist() == [1, 2, 48_000]
    assert list(seen["inspection_record"]["community_id"]) == [first]
