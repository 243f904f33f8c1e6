"""The app's choice of distance (issue 16): straight lines or on foot along the roads, on a river city whose
answer is worked on paper.

The Liu River runs between y = 0 and y = 300 m (offsets from a point in Liuzhou, UTM 49N); a street on each
bank, one bridge at x = 800, and a set on the south bank's street at (-40, 0). Six communities, 100 m squares:

* N (-50, 300): across the river, its edge 300 m from the set in a straight line, 1,900 m on foot (bridge).
* N2 (200, 300): across the river too, 384 m in a straight line, about 1,660 m on foot.
* S1 (-50, -110) and S2 (300, -110): the set's own bank, 10 m and 340 m away, on foot barely more.
* FAR (-50, -900): 800 m away, no street within 50 m of it (listed without a street).
* ISLAND (1,550, 1,010): on a street of its own, not joined to the rest (a second piece of the network).

Within 500 m: in a straight line N, N2, S1, S2 (4); on foot S1, S2 (2).
"""

from __future__ import annotations

import os

import geopandas as gpd
import pytest
from shapely.geometry import LineString, box
from streamlit.testing.v1 import AppTest

from geo.config import DEFAULT_CONFIG_PATH
from geo.data.gpkg import write_layers
from geo.i18n import text
from tests.helpers import map_data, square_city

APP = "../app.py"
UTM, X0, Y0 = "EPSG:32649", 338_000.0, 2_690_000.0
STREETS = {
    "南岸路": [(-1000, 0), (1000, 0)],
    "北岸路": [(-1000, 300), (1000, 300)],
    "柳江桥": [(800, 0), (800, 300)],
    "岛上路": [(1500, 1000), (1700, 1000)],
}
SERVED_STRAIGHT, SERVED_ON_FOOT = 4, 2
WITHIN = {lang: text("metric_secondary", lang, what=text("metric_served_within_radius", lang)) for lang in ("zh", "en")}


def river_city(path, roads: bool = True):
    """The river city above as a city GeoPackage (with or without its roads layer)."""
    communities, paths = square_city(
        [(-50, 300), (200, 300), (-50, -110), (300, -110), (-50, -900), (1550, 1010)],
        [800, 700, 600, 500, 400, 300],
        [(-40, 0)],
    )
    outline = gpd.GeoSeries([box(X0 - 2000, Y0 - 2000, X0 + 2000, Y0 + 2000)], crs=UTM).to_crs("EPSG:4326")
    districts = gpd.GeoDataFrame(
        {"district_code": ["450202"], "district_name": ["城中区"], "district_name_en": ["Chengzhong"]},
        geometry=outline.values,
        crs="EPSG:4326",
    )
    layers = {"districts": districts, "communities": communities, "fitness_paths": paths}
    if roads:
        layers["roads"] = gpd.GeoDataFrame(
            {
                "road_id": [f"R{k}" for k in range(len(STREETS))],
                "name": list(STREETS),
                "kind": "residential",
                "walkable": True,
                "bridge": [name.endswith("桥") for name in STREETS],
            },
            geometry=[LineString([(X0 + x, Y0 + y) for x, y in line]) for line in STREETS.values()],
            crs=UTM,
        ).to_crs("EPSG:4326")
    write_layers(path, layers)
    return path


@pytest.fixture
def river(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANNER_DATA", str(river_city(tmp_path / "river.gpkg")))


@pytest.fixture
def dry_river(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANNER_DATA", str(river_city(tmp_path / "dry.gpkg", roads=False)))


def config_saying(tmp_path, monkeypatch, distance: str) -> None:
    """config.toml with ``[coverage] distance = distance``, as the server's configuration."""
    config = tmp_path / "config.toml"
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    assert 'distance = "straight"' in text
    config.write_text(text.replace('distance = "straight"', f'distance = "{distance}"'), encoding="utf-8")
    monkeypatch.setenv("PLANNER_CONFIG", str(config))


def open_app(lang: str = "zh") -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    if lang == "en":
        app.sidebar.radio(key="language_choice").set_value("English").run()
    assert not app.exception, app.exception
    return app


def within(app: AppTest, lang: str = "zh") -> int:
    return int({m.label: m.value for m in app.metric}[WITHIN[lang]].replace(",", ""))


def table_with(app: AppTest, header: str):
    """The one table of the page with the column ``header``."""
    found = [frame.value for frame in app.dataframe if header in frame.value.columns]
    assert len(found) == 1, header
    return found[0]


def captions(app: AppTest) -> list[str]:
    return [c.value for c in app.caption]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_on_foot_the_community_across_the_river_is_no_longer_served(river, lang):
    app = open_app(lang)
    choice = app.sidebar.radio(key="widget_distance")
    assert choice.value == "straight" and choice.options == (
        ["直线距离", "步行距离（沿道路）"] if lang == "zh" else ["Straight line", "On foot (along roads)"]
    )
    assert within(app, lang) == SERVED_STRAIGHT
    straight = "距离：直线距离" if lang == "zh" else "Distance: straight line"
    assert any(c.startswith(straight) for c in captions(app))

    choice.set_value("network").run()
    assert not app.exception and not app.error
    assert within(app, lang) == SERVED_ON_FOOT
    on_foot = "距离：步行距离（沿道路）" if lang == "zh" else "Distance: on foot along roads"
    assert any(c.startswith(on_foot) for c in captions(app))
    table = app.dataframe[0].value
    assert list(table.iloc[-1][["小区数" if lang == "zh" else "Communities"]]) == [6]

    choice.set_value("straight").run()
    assert within(app, lang) == SERVED_STRAIGHT


def test_the_choice_is_kept_across_pages_and_every_page_says_it(river):
    app = open_app()
    app.sidebar.radio(key="widget_distance").set_value("network").run()
    for page in ("views/eligibility.py", "views/priority_budget.py", "views/publish.py"):
        app.switch_page(page)
        app.run()
        assert not app.exception and not app.error, page
        assert app.sidebar.radio(key="widget_distance").value == "network"
        assert any(c.startswith("距离：步行距离（沿道路）") for c in captions(app)), page


def test_the_plan_follows_the_distance(river):
    """On foot the set across the river does not serve N: a plan's relation is walked too (its figures change)."""
    app = open_app()
    app.switch_page("views/priority_budget.py")
    app.run()
    straight = [m.value for m in app.metric]
    app.sidebar.radio(key="widget_distance").set_value("network").run()
    assert not app.exception and not app.error
    assert any(c.startswith("距离：步行距离（沿道路）") for c in captions(app))
    assert [m.value for m in app.metric] != straight


def test_a_city_without_roads_offers_straight_lines_only_and_says_why(dry_river):
    app = open_app()
    assert not app.exception and not app.error
    choice = app.sidebar.radio(key="distance_unavailable")
    assert choice.disabled and choice.value == "straight"
    assert any("没有道路图层" in c.value for c in app.sidebar.caption)
    assert within(app) == SERVED_STRAIGHT


def test_a_network_config_on_a_city_without_roads_falls_back_to_straight_lines(dry_river, tmp_path, monkeypatch):
    """config.toml says on foot, the city has no roads: straight lines, said, never a traceback."""
    config_saying(tmp_path, monkeypatch, "network")
    app = open_app("en")
    assert not app.exception and not app.error
    assert any("has no roads layer" in c.value for c in app.sidebar.caption)
    assert within(app, "en") == SERVED_STRAIGHT
    assert any(c.startswith("Distance: straight line") for c in captions(app))


def test_the_default_is_config_tomls_distance(river, tmp_path, monkeypatch):
    config_saying(tmp_path, monkeypatch, "network")
    app = open_app()
    assert app.sidebar.radio(key="widget_distance").value == "network"
    assert within(app) == SERVED_ON_FOOT


def test_the_comparison_lists_the_communities_across_the_river(river):
    """Served in a straight line, not on foot: N and N2 (800 + 700 residents), in the counts, the table, the list."""
    app = open_app()
    shown = {m.label: m.value for m in app.metric}
    assert [shown[text(f"metric_{key}", "zh")] for key in ("served_straight", "served_on_foot", "lost_on_foot")] == [
        "4",
        "2",
        "2",
    ]
    assert shown[text("metric_population_lost_on_foot", "zh")] == "1,500"
    by_district = table_with(app, "直线距离内覆盖、步行未覆盖")
    assert by_district.iloc[-1]["区县"] == "合计" and by_district.iloc[-1]["直线距离内覆盖、步行未覆盖"] == 2
    assert by_district.iloc[-1]["其中居民"] == 1500
    lost = table_with(app, "到最近健身路径步行距离（米）")
    assert list(lost["小区编号"]) == ["C000", "C001"]  # N: 1,900 m on foot; N2 less
    assert (lost["到最近健身路径步行距离（米）"] > 500).all() and (lost["到最近健身路径直线距离（米）"] <= 500).all()


def test_the_walks_map_is_drawn_when_asked(river):
    """The comparison's map (the streets and every walk) only once its switch is on: the coverage map alone before."""
    app = open_app()
    assert len(app.get("iframe")) == 1  # the coverage map
    app.toggle(key="compare_map_shown").set_value(True).run()
    assert not app.exception, app.exception
    frames = app.get("iframe")
    assert len(frames) == 2
    walks = map_data(frames[1].proto.srcdoc)
    assert {row["status"]: row["count"] for row in walks["legend"]["rows"]}["walk_lost"] == 2  # N and N2
    assert "walk_lost" not in {row["status"] for row in map_data(frames[0].proto.srcdoc)["legend"]["rows"]}


def test_no_comparison_without_roads(dry_river):
    app = open_app()
    assert text("compare_title", "zh") not in [s.value for s in app.subheader]


def test_on_foot_the_coverage_page_reports_the_network_problems(river):
    """The island's street is a second piece: ISLAND (C005) is only reachable within it; FAR (C004) has no street
    within 50 m (its edge is 800 m from the south bank's street). Shown on foot only."""
    app = open_app()
    assert text("network_check_title", "zh") not in [s.value for s in app.subheader]
    app.sidebar.radio(key="widget_distance").set_value("network").run()
    assert not app.exception and not app.error
    assert text("network_check_title", "zh") in [s.value for s in app.subheader]
    report = table_with(app, "问题")
    counts = dict(zip(report["问题"], report["数量"]))
    assert counts[text("network_problem_islands", "zh")] == 1
    assert counts[text("network_problem_cut_off", "zh")] == 1
    assert counts[text("network_problem_without_street", "zh", access="50")] == 1
    labels = [e.label for e in app.expander]
    assert text("network_cut_off_list", "zh", count="1") in labels
    assert text("network_without_street_list", "zh", access="50", count="1") in labels
    cut_off, far = table_with(app, "部分"), table_with(app, "到最近道路（米）")
    assert list(cut_off["小区编号"]) == ["C005"] and list(cut_off["区县"]) == ["城中区"]
    assert list(far["小区编号"]) == ["C004"] and far["到最近道路（米）"].iloc[0] == pytest.approx(800, abs=1)


def test_saved_plans_say_how_they_measured_and_comparing_two_ways_warns(tmp_path, monkeypatch):
    """A plan saved in straight lines and one on foot: the list and the plan say which; comparing them warns."""
    from dataclasses import replace

    from geo.config import load_config
    from geo.pipeline import load_city, walk_network
    from geo.plan import run_plan
    from geo.store.actors import Actor
    from geo.store.db import open_store
    from geo.store.plans import data_sha256, save_plan

    path = river_city(tmp_path / "river.gpkg")
    monkeypatch.setenv("PLANNER_DATA", str(path))
    city = load_city(path)
    store = open_store(os.environ["PLANNER_DB_URL"])
    for distance, name in (("straight", "直线方案"), ("network", "步行方案")):
        config = replace(load_config(), distance=distance)
        network = walk_network(city, config) if distance == "network" else None
        plan = run_plan(city.communities, city.fitness_paths, config, ["city"], "rank", network=network)
        save_plan(store, Actor("wang", "planner"), plan, name, data_sha256(path), path.name)
    app = open_app()
    app.switch_page("views/plans.py")
    app.run()
    assert not app.exception and not app.error
    listed = table_with(app, "记录人")
    assert dict(zip(listed["名称"], listed["距离计算方式"])) == {
        "直线方案": "直线距离",
        "步行方案": "步行距离（沿道路）",
    }
    assert any(c.startswith("距离：步行距离（沿道路）") for c in captions(app))  # the newest, opened first
    assert [w.value for w in app.warning] == [
        text("plans_compare_other_distance", "zh", a="直线距离", b="步行距离（沿道路）")
    ]


def test_a_district_office_sees_its_own_communities_in_the_comparison_and_the_network_check():
    """The sample (with its streets) as 城中区's office sees it: every row and list of the two sections is its own."""
    from geo.store.actors import Actor

    app = AppTest.from_file("../views/coverage_map.py", default_timeout=120)
    app.session_state["actor"] = Actor("chengzhong", "district", ("450202",))
    app.session_state["keep_distance"] = "network"
    app.run()
    assert not app.exception and not app.error
    assert text("network_check_title", "zh") in [s.value for s in app.subheader]
    by_district = table_with(app, "直线距离内覆盖、步行未覆盖")
    assert list(by_district["区县"]) == ["城中区", "合计"]
    lost = table_with(app, "到最近健身路径步行距离（米）")
    assert len(lost) and lost["小区编号"].str.startswith("450202-").all()
    for frame in app.dataframe:
        if "小区编号" in frame.value.columns:
            assert frame.value["小区编号"].str.startswith("450202-").all()


def test_an_uploads_walk_network_stays_in_its_session(tmp_path):
    """A user's uploaded city is measured on foot along its own roads, and its walk graph is kept in that session's
    memo (views.shared.per_data), never in the cache every session shares."""
    upload = river_city(tmp_path / "upload.gpkg")
    app = AppTest.from_file(APP, default_timeout=120)
    app.session_state["uploaded_data"] = str(upload)
    app.session_state["uploaded_name"] = "river.gpkg"
    app.session_state["keep_distance"] = "network"
    app.run()
    assert not app.exception and not app.error
    assert within(app) == SERVED_ON_FOOT
    memo = app.session_state["_session_memo"]
    assert any(key[0] == "cached_network" and key[1] == str(upload) for key in memo)
