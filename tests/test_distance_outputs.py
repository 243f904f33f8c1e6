"""Every output of a plan says which distance made it (issue 16): the exports (a column on every row, a row of
the parameters sheet), ``geo plan``'s JSON and text, the public notice (its rules and its map), the map legend,
and saved plans (recorded, listed, shown, compared, re-run the same way).

The river city (metre offsets from a point in Liuzhou, UTM 49N; 100 m squares): N (2,000 residents, no land) on
the north bank at (0, 300); S1 (500) straight across at (0, -100); S2 (700) 1 km east of S1. A street along each
bank from x = -1000 to 3000, the only bridge at x = 2000. One set to buy: in a straight line S1 is the pick (it
also serves N, 300 m across the water: 2,500 residents); on foot N is over 4 km from S1, so S2 (700) is.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest

from geo.analysis.network import WalkNetwork
from geo.cli import main
from geo.config import DEFAULT_CONFIG_PATH
from geo.data.city import CityData
from geo.data.crs import metric_crs_for
from geo.data.io import write_layers
from geo.i18n import column_label
from geo.plan import plan_sheets, run_plan
from geo.render import maps
from geo.render.export import explained_plan_sheets, export, parameter_rows
from geo.render.notice import publish_html
from geo.render.provenance import plan_parameters
from geo.store.actors import Actor
from geo.store.db import open_store
from geo.store.plans import compare_plans, get_plan, list_plans, plan_picks, rerun_saved, save_plan
from tests.helpers import map_data
from tests.network_helpers import one_district
from tests.network_helpers import river_city as river_layers
from tests.site_helpers import SET_CNY, config

DISTANCES = ("straight", "network")
PICK = {"straight": "C001", "network": "C002"}
SERVED = {"straight": 2500, "network": 700}
# How each output says the distance, in each language.
WORDS = {
    ("zh", "straight"): "直线距离",
    ("zh", "network"): "步行距离（沿道路）",
    ("en", "straight"): "In a straight line",
    ("en", "network"): "On foot along the roads",
}
RULES = {
    ("zh", "straight"): "覆盖按直线距离 500 米计",
    ("zh", "network"): "覆盖按步行距离（沿道路）500 米计",
    ("en", "straight"): "Coverage is counted within 500 m in a straight line",
    ("en", "network"): "Coverage is counted within a 500 m walk along the roads",
}
LEGENDS = {
    ("zh", "straight"): "健身路径覆盖情况 · 500 米内（直线距离）",
    ("zh", "network"): "健身路径覆盖情况 · 500 米内（步行，沿道路）",
    ("en", "straight"): "Fitness-path coverage · within 500 m (straight line)",
    ("en", "network"): "Fitness-path coverage · within 500 m (on foot along roads)",
}
CLI_LINES = {
    ("zh", "straight"): "距离：直线距离",
    ("zh", "network"): "距离：沿道路步行的距离",
    ("en", "straight"): "Distance: in a straight line",
    ("en", "network"): "Distance: on foot along the roads layer",
}
CASES = [(lang, distance) for lang in ("zh", "en") for distance in DISTANCES]
PLANNER = Actor("wang", "planner")
ADMIN = Actor("chief", "admin")
HASH = "b" * 64


def river_city() -> CityData:
    communities, paths, roads = river_layers()
    districts = one_district(name_en="Chengzhong District", bounds=(-3000, -3000, 4000, 3000))
    return CityData(districts, communities, paths, "river", roads=roads.assign(walkable=True))


def run(city: CityData, distance: str, mode: str = "rank"):
    cfg = dataclasses.replace(config(SET_CNY), distance=distance)
    network = WalkNetwork.from_roads(city.roads, metric_crs_for(city.communities)) if distance == "network" else None
    return run_plan(city.communities, city.fitness_paths, cfg, ["city"], mode, network=network)


@pytest.fixture(scope="module")
def city():
    return river_city()


@pytest.fixture(scope="module")
def plans(city):
    made = {distance: run(city, distance) for distance in DISTANCES}
    for distance, plan in made.items():  # the river case: the distances pick differently
        assert plan.selected["community_id"].tolist() == [PICK[distance]]
        assert plan.outcomes[0].summary("en")["population_newly_served"] == SERVED[distance]
    return made


def sheets(plan, lang):
    return explained_plan_sheets(plan_sheets(plan, lang), plan, lang)


# --------------------------------------------------------------------------- exports


@pytest.mark.parametrize(("lang", "distance"), CASES)
def test_a_csv_export_says_the_distance_on_every_row(plans, tmp_path, lang, distance):
    path = export(sheets(plans[distance], lang), tmp_path / "plan.csv", lang=lang)
    table = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    header = column_label("distance", lang)
    assert header == {"zh": "距离计算方式", "en": "Distance"}[lang]
    assert table[header].tolist() == [WORDS[lang, distance]]
    # beside the mode, which is as much the plan's as the distance is
    headers = list(table.columns)
    assert headers.index(header) == headers.index(column_label("mode", lang)) + 1


@pytest.mark.parametrize(("lang", "distance"), CASES)
def test_a_workbook_says_the_distance_on_its_rows_and_in_its_parameters_sheet(plans, tmp_path, lang, distance):
    plan = plans[distance]
    parameters = plan_parameters(plan)
    assert parameters["coverage_distance"] == distance
    path = export(sheets(plan, lang), tmp_path / "plan.xlsx", lang=lang, parameters=parameters)
    book = openpyxl.load_workbook(path)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    column = rows[0].index(column_label("distance", lang))
    assert [row[column] for row in rows[1:]] == [WORDS[lang, distance]]
    parameter_sheet = dict(list(book.worksheets[-1].iter_rows(values_only=True))[1:])
    said = {"zh": "距离计算方式", "en": "Distance measured"}[lang]
    assert parameter_sheet[said] == WORDS[lang, distance]
    assert (said, WORDS[lang, distance], None) in parameter_rows(parameters, lang)


@pytest.mark.parametrize("distance", DISTANCES)
def test_geodata_exports_keep_the_distance_code(plans, tmp_path, distance):
    path = export(sheets(plans[distance], "zh"), tmp_path / "plan.geojson", lang="zh")
    assert gpd.read_file(path)["distance"].tolist() == [distance]


# --------------------------------------------------------------------------- the notice and the map


def notice_map(page: str) -> dict:
    document = re.search(r"srcdoc='(.*?)'></iframe>", page, re.S).group(1)
    return map_data(html.unescape(document))


@pytest.mark.parametrize(("lang", "distance"), CASES)
def test_the_notice_says_the_distance_in_its_rules_map_and_appendix(plans, city, lang, distance):
    page = publish_html(plans[distance], city.districts, city.fitness_paths, lang=lang, synthetic_notice=False)
    rules = re.search(r'<div class="rules">(.*?)</div>', page, re.S).group(1)
    assert RULES[lang, distance] in html.unescape(rules)
    other = "network" if distance == "straight" else "straight"
    assert RULES[lang, other] not in html.unescape(page)
    assert notice_map(page)["legend"]["title"] == LEGENDS[lang, distance]
    appendix = html.unescape(page.split('<section class="appendix">')[1])
    assert f"<td><code>coverage_distance</code></td><td>{WORDS[lang, distance]}</td>" in appendix


@pytest.mark.parametrize(("lang", "distance"), CASES)
def test_the_map_legend_says_the_distance_and_the_radius(plans, city, lang, distance):
    scored = plans[distance].outcomes[0].scored
    page = maps.coverage_map(
        city.districts, scored, city.fitness_paths, lang=lang, distance=distance, walk_radius_m=500.0
    )
    assert map_data(page.get_root().render())["legend"]["title"] == LEGENDS[lang, distance]


def test_a_map_told_no_distance_keeps_its_plain_title_and_an_unknown_one_is_refused():
    assert maps.legend_title("zh") == "健身路径覆盖情况"
    assert maps.legend_title("en", "network") == "Fitness-path coverage"  # no radius, nothing to say
    assert maps.legend_title("zh", "network", 1200) == "健身路径覆盖情况 · 1,200 米内（步行，沿道路）"
    with pytest.raises(ValueError, match="distance must be one of"):
        maps.legend_title("zh", "crow", 500)


# --------------------------------------------------------------------------- geo plan


@pytest.fixture(scope="module")
def city_file(city, tmp_path_factory):
    folder = tmp_path_factory.mktemp("river")
    path = folder / "river.gpkg"
    layers = {"districts": city.districts, "communities": city.communities, "fitness_paths": city.fitness_paths}
    write_layers(path, {**layers, "roads": city.roads})
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    assert text.count('distance = "straight"') == 1
    for distance in DISTANCES:
        (folder / f"{distance}.toml").write_text(text.replace('distance = "straight"', f'distance = "{distance}"'))
    return path


def plan_cli(city_file, distance: str, *args: str) -> list[str]:
    configured = str(city_file.parent / f"{distance}.toml")
    command = ["--config", configured, "plan", "--data", str(city_file), "--program", "city"]
    return [*command, "--budget", f"city={SET_CNY}", *args]


@pytest.mark.parametrize(("lang", "distance"), CASES)
def test_geo_plan_says_the_distance_in_json_and_in_words(city_file, capsys, lang, distance):
    assert main(plan_cli(city_file, distance, "--lang", lang, "--json")) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["distance"] == distance
    assert printed["programs"][0]["population_newly_served"] == SERVED[distance]
    assert main(plan_cli(city_file, distance, "--lang", lang)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert CLI_LINES[lang, distance] in lines


@pytest.mark.parametrize(("lang", "distance"), CASES)
def test_geo_plan_writes_the_distance_into_its_file(city_file, tmp_path, lang, distance):
    out = tmp_path / "plan.csv"
    assert main(plan_cli(city_file, distance, "--lang", lang, "--out", str(out))) == 0
    table = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert table[column_label("distance", lang)].tolist() == [WORDS[lang, distance]]


# --------------------------------------------------------------------------- saved plans


@pytest.fixture
def store(db_url):
    return open_store(db_url)


def test_a_saved_plan_records_its_distance_and_the_list_shows_it(store, plans):
    saved = {d: save_plan(store, PLANNER, plans[d], f"方案-{d}", HASH) for d in DISTANCES}
    assert {d: saved[d]["distance"] for d in DISTANCES} == {d: d for d in DISTANCES}
    ids = {d: saved[d]["id"] for d in DISTANCES}
    listed = list_plans(store, PLANNER).set_index("id")
    assert {d: listed.loc[ids[d], "distance"] for d in DISTANCES} == {d: d for d in DISTANCES}
    for distance in DISTANCES:
        record, _ = get_plan(store, PLANNER, ids[distance])
        assert record["distance"] == distance == record["parameters"]["distance"]
        assert record["parameters"]["config"]["distance"] == distance
    compared = compare_plans(store, PLANNER, ids["straight"], ids["network"])
    assert (compared["a"]["distance"], compared["b"]["distance"]) == DISTANCES


def test_a_plan_saved_before_distances_on_foot_reads_as_straight(store, plans):
    saved = save_plan(store, PLANNER, plans["straight"], "旧方案", HASH)
    with store.session() as session, session.begin():  # as a store of issue 15 holds it: no distance anywhere
        from geo.store.schema import SavedPlan

        row = session.get(SavedPlan, saved["id"])
        parameters = json.loads(row.parameters)
        del parameters["distance"], parameters["config"]["distance"]
        row.parameters = json.dumps(parameters, ensure_ascii=False)
    assert list_plans(store, PLANNER)["distance"].tolist() == ["straight"]
    assert get_plan(store, PLANNER, saved["id"])[0]["distance"] == "straight"


@pytest.mark.parametrize("mode", ["rank", "optimal"])
def test_a_plan_saved_on_foot_reruns_on_foot(store, city, mode):
    plan = run(city, "network", mode)
    saved = save_plan(store, PLANNER, plan, f"步行方案-{mode}", HASH)
    again = rerun_saved(store, saved["id"], city, HASH)
    assert again.config.distance == "network"
    assert again.selected["community_id"].tolist() == ["C002"]  # not S1, the straight line's pick
    pd.testing.assert_frame_equal(get_plan(store, ADMIN, saved["id"])[1], plan_picks(again), check_dtype=False)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_geo_plans_lists_shows_and_compares_the_distance(store, plans, db_url, capsys, lang):
    ids = {d: save_plan(store, PLANNER, plans[d], f"方案-{d}", HASH)["id"] for d in DISTANCES}
    assert main(["plans", "list", "--db", db_url, "--lang", lang]) == 0
    listing = capsys.readouterr().out
    assert column_label("distance", lang) in listing.splitlines()[0]
    assert WORDS[lang, "straight"] in listing and WORDS[lang, "network"] in listing
    assert main(["plans", "show", str(ids["network"]), "--db", db_url, "--lang", lang]) == 0
    assert CLI_LINES[lang, "network"] in capsys.readouterr().out.splitlines()
    assert main(["plans", "compare", str(ids["straight"]), str(ids["network"]), "--db", db_url, "--lang", lang]) == 0
    said = {"zh": "两个方案的距离计算方式不同", "en": "the two plans measured distance differently"}[lang]
    assert said in capsys.readouterr().out


@pytest.mark.parametrize(("lang", "distance"), CASES)
def test_geo_plans_save_says_the_distance_it_saved(city_file, tmp_path, capsys, lang, distance):
    db = f"sqlite:///{tmp_path}/store.sqlite"
    command = plan_cli(city_file, distance)
    command[command.index("plan")] = "plans"
    command.insert(command.index("plans") + 1, "save")
    assert main([*command, "--name", "方案", "--db", db, "--lang", lang]) == 0
    assert CLI_LINES[lang, distance] in capsys.readouterr().out.splitlines()
    assert main([*command, "--name", "方案二", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["distance"] == distance
