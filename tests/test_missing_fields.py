"""A bureau's own file without open space, built year or shares, and with estimated populations (issue 12).

Hand-made city: four 100 m squares 2 km apart (each a set's walk radius away from no other), one
set inside C0. Residents 100, 200, 300, 400; C1's population estimated from households, C2's from
area. With no open-space column, C1–C3 are "to be surveyed on site" (C0 already has a set).
"""

import json
import re
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.analysis.eligibility import (
    ELIGIBILITY_COLUMNS,
    eligibility_columns,
    eligibility_counts,
    eligibility_summary,
    filter_assessed,
    reason_labels,
)
from geo.analysis.priority import OLD_UNKNOWN
from geo.config import ConfigError, load_config, parse_config, with_overrides
from geo.plan import plan_sheets, run_plan, score_communities
from geo.render import maps
from geo.render.compact import layer_features
from geo.render.export import export

UTM = "EPSG:32649"
X0, Y0 = 338_000.0, 2_690_000.0


def city(**columns):
    """The four communities (every optional field absent unless given) and the one set in C0."""
    data = {
        "community_id": ["C0", "C1", "C2", "C3"],
        "name": ["甲小区", "乙小区", "丙小区", "丁小区"],
        "district_code": ["450202", "450202", "450203", "450203"],
        "district_name": ["城中区", "城中区", "鱼峰区", "鱼峰区"],
        "population": pd.array([100, 200, 300, 400], dtype="Int64"),
        "population_source": pd.array(["surveyed", "households", "area", "surveyed"], dtype="string"),
    }
    data.update(columns)
    squares = [box(X0 + 2000 * k, Y0, X0 + 2000 * k + 100, Y0 + 100) for k in range(4)]
    communities = gpd.GeoDataFrame(data, geometry=squares, crs=UTM).to_crs("EPSG:4326")
    paths = gpd.GeoDataFrame({"path_id": ["P0"]}, geometry=gpd.points_from_xy([X0 + 50], [Y0 + 50]), crs=UTM)
    return communities, paths.to_crs("EPSG:4326")


def config(unknown_open_space="survey_first", budget=100_000):
    base = with_overrides(load_config(), budgets={"city": budget})
    return replace(base, unknown_open_space=unknown_open_space)


# --------------------------------------------------------------------------- open space unknown


def test_a_city_without_an_open_space_column_is_to_be_surveyed_not_missing_data():
    communities, paths = city()
    assert "open_space_m2" not in communities
    scored = score_communities(communities, paths, config())
    assert scored["reasons"].tolist() == ["served_inside", "to_survey", "to_survey", "to_survey"]
    assert scored["eligible"].tolist() == [False, False, False, False]
    assert scored["needs_site_check"].tolist() == [False, True, True, True]  # C0 is excluded by its set
    assert scored["missing_fields"].tolist() == ["open_space_m2"] * 4  # named, whichever reason it led to
    assert scored["open_space_m2"].isna().all()  # the absent column reads as all empty
    assert reason_labels(scored["reasons"], "zh")[1] == "待现场核查（可用空地未知）"
    assert reason_labels(scored["reasons"], "en")[1] == "To be surveyed on site (open space unknown)"


def test_another_reason_comes_before_the_survey():
    communities, paths = city(
        open_space_m2=[np.nan, np.nan, 50.0, np.nan],
        population=pd.array([100, None, 300, 400], dtype="Int64"),
    )
    communities["residential"] = pd.array([True, True, True, False], dtype="boolean")
    scored = score_communities(communities, paths, config())
    # C0: a set inside; C1: population missing; C2: known, too small; C3: not residential.
    assert scored["reasons"].tolist() == ["served_inside", "missing_data", "no_open_space", "not_residential"]
    assert not scored["needs_site_check"].any()
    assert scored["missing_fields"].tolist() == ["open_space_m2", "population;open_space_m2", "", "open_space_m2"]


def test_survey_first_plan_buys_nothing_and_says_why_in_both_languages():
    communities, paths = city()
    plan = run_plan(communities, paths, config("survey_first"), ["city"], mode="rank")
    outcome = plan.outcomes[0]
    assert len(plan.selected) == 0
    zh, en = outcome.summary("zh"), outcome.summary("en")
    assert zh["sets"] == 0 and zh["left_out_to_survey"] == 3 == en["left_out_to_survey"]
    assert zh["population_newly_served"] == 0
    assert (
        "3 个小区未纳入考虑：可用空地待现场核查；如需纳入，可在“优先排序与预算”页面选择“假定有空地”，"
        '或在 config.toml [eligibility] 中设置 unknown_open_space = "assume_room"' in zh["messages"]
    )
    assert (
        "3 communities were not considered: open space to be surveyed on site; to consider them, choose "
        "'Assume they have room' on the priority page, or set unknown_open_space = \"assume_room\" in "
        "config.toml [eligibility]" in en["messages"]
    )
    json.dumps(zh, ensure_ascii=False)  # the CLI prints it as JSON


@pytest.mark.parametrize("mode", ["rank", "optimal"])
def test_assume_room_buys_sets_and_flags_them(mode):
    communities, paths = city()
    plan = run_plan(communities, paths, config("assume_room", budget=100_000), ["city"], mode=mode)
    scored, selected = plan.outcomes[0].scored, plan.selected
    assert scored["eligible"].tolist() == [False, True, True, True]
    assert scored["reasons"].tolist() == ["served_inside", "", "", ""]
    assert scored["needs_site_check"].tolist() == [False, True, True, True]
    # Two sets of 50,000: each serves its own community only (2 km apart).
    assert len(selected) == 2 and selected["needs_site_check"].all()
    assert plan.outcomes[0].allocation.population_newly_served == selected["population"].sum()
    if mode == "optimal":
        assert sorted(selected["community_id"]) == ["C2", "C3"]  # 300 + 400 residents
        assert plan.outcomes[0].allocation.population_newly_served == 700
    summary = plan.outcomes[0].summary("zh")
    assert "left_out_to_survey" not in summary  # none left out
    assert "入选的小区中有 2 个可用空地未知（假定有空地），建设前须现场核查" in summary["messages"]
    sheet = next(iter(plan_sheets(plan, "zh").values()))
    assert sheet["needs_site_check"].tolist() == [True, True]


def test_a_city_with_every_open_space_known_keeps_its_lists_and_summary():
    communities, paths = city(open_space_m2=[500.0] * 4, population_source=None)
    communities = communities.drop(columns="population_source")
    plan = run_plan(communities, paths, config(budget=100_000), ["city"], mode="optimal")
    summary = plan.outcomes[0].summary("en")
    assert "left_out_to_survey" not in summary and summary["messages"] == []
    assert list(eligibility_columns(plan.outcomes[0].scored)) == [
        c for c in ELIGIBILITY_COLUMNS if c not in ("needs_site_check", "population_source", "reason_text")
    ]  # reason_text is added by the doors
    sheet = next(iter(plan_sheets(plan, "en").values()))
    assert "needs_site_check" not in sheet and "population_source" not in sheet


def test_district_counts_and_the_filter_list_the_communities_to_survey():
    communities, paths = city()
    scored = score_communities(communities, paths, config())
    summary = eligibility_summary(scored).set_index("district_code")
    assert summary["needs_site_check"].to_dict() == {"450202": 1, "450203": 2}
    assert summary["reason_to_survey"].to_dict() == {"450202": 1, "450203": 2}
    assert eligibility_counts(scored)["needs_site_check"] == 3
    assert filter_assessed(scored, site_check_only=True)["community_id"].tolist() == ["C1", "C2", "C3"]
    assert filter_assessed(scored, reasons=["to_survey"])["community_id"].tolist() == ["C1", "C2", "C3"]
    roomy = score_communities(communities, paths, config("assume_room"))
    assert filter_assessed(roomy, "eligible", site_check_only=True)["community_id"].tolist() == ["C1", "C2", "C3"]


def test_unknown_open_space_setting_is_typed_and_defaults_to_survey_first():
    import tomllib

    from geo.config import DEFAULT_CONFIG_PATH

    raw = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    assert parse_config(raw).unknown_open_space == "survey_first"
    del raw["eligibility"]["unknown_open_space"]
    assert parse_config(raw).unknown_open_space == "survey_first"  # an older file keeps its meaning
    raw["eligibility"]["unknown_open_space"] = "assume_room"
    assert parse_config(raw).unknown_open_space == "assume_room"
    raw["eligibility"]["unknown_open_space"] = "assume"
    with pytest.raises(
        ConfigError, match=r"'eligibility.unknown_open_space' must be \"survey_first\" or \"assume_room\""
    ):
        parse_config(raw)


# --------------------------------------------------------------------------- built year unknown


def test_an_unknown_built_year_scores_exactly_the_neutral_value():
    communities, paths = city(open_space_m2=[500.0] * 4, built_year=pd.array([1990, 2005, None, 2000], dtype="Int64"))
    weights = dict.fromkeys(load_config().priority_weights, 0.0) | {"old_community": 1.0}
    scored = score_communities(communities, paths, replace(config(), priority_weights=weights))
    assert OLD_UNKNOWN == 0.5
    assert scored["c_old_community"].tolist() == [1.0, 0.0, 0.5, 0.0]  # 2000 is not before 2000
    eligible = scored["eligible"].to_numpy(bool)
    expected = np.where(eligible, [100.0, 0.0, 50.0, 0.0], np.nan)  # a score only where it can be picked
    np.testing.assert_array_equal(scored["priority_score"].to_numpy(float), expected)
    assert eligible[1:].all()


def test_no_built_year_or_share_columns_at_all():
    communities, paths = city(open_space_m2=[500.0] * 4)
    assert not {"built_year", "share_60plus", "share_under14"} & set(communities.columns)
    scored = score_communities(communities, paths, config())
    assert scored["c_old_community"].tolist() == [0.5] * 4  # never old, never new
    assert scored["c_elderly_and_children"].tolist() == [0.0] * 4
    assert scored["built_year"].isna().all()


def test_tooltips_say_unknown_built_year_and_mark_estimated_populations():
    communities, paths = city(open_space_m2=[500.0] * 4, built_year=pd.array([1990, None, 2005, None], dtype="Int64"))
    scored = score_communities(communities, paths, config())
    districts = gpd.GeoDataFrame(
        {"district_code": ["450202", "450203"], "district_name": ["城中区", "鱼峰区"]},
        geometry=[box(109, 24, 110, 25)] * 2,
        crs="EPSG:4326",
    )
    zh = maps._community_tooltip_values(scored, districts, maps.LABELS["zh"], "zh")
    en = maps._community_tooltip_values(scored, districts, maps.LABELS["en"], "en")
    assert zh["built_year"].tolist() == ["1990", "未知", "2005", "未知"]
    assert en["built_year"].tolist() == ["1990", "unknown", "2005", "unknown"]
    assert zh["population"].tolist() == ["100", "200（估算）", "300（估算）", "400"]
    assert en["population"].tolist() == ["100", "200 (estimated)", "300 (estimated)", "400"]
    page = maps.coverage_map(districts, scored, paths.assign(name="甲"), lang="zh").get_root().render()
    data = json.loads(re.search(r'<script type="application/json" id="fp-map-data-\w+">(.*?)</script>', page).group(1))
    shown = {
        f["properties"]["community_id"]: f["properties"]["population"]
        for layer in data["layers"]
        for f in layer_features(layer)
        if "population" in f["properties"]
    }
    assert sorted(shown.values()) == ["100", "200（估算）", "300（估算）", "400"]  # what each tooltip says


# --------------------------------------------------------------------------- estimated population in exports


@pytest.mark.parametrize(
    "lang, header, words",
    [
        ("zh", "人口来源", ["调查", "由户数估算", "由面积估算", "调查"]),
        ("en", "Population source", ["surveyed", "estimated from households", "estimated from area", "surveyed"]),
    ],
)
def test_eligibility_and_plan_exports_carry_the_population_source(tmp_path, lang, header, words):
    communities, paths = city()
    scored = score_communities(communities, paths, config("assume_room")).assign(reason_text="")
    table = scored[eligibility_columns(scored) + ["geometry"]]
    export(table, tmp_path / "eligibility.csv", lang=lang)
    read = pd.read_csv(tmp_path / "eligibility.csv", encoding="utf-8-sig", dtype=str)
    assert read[header].tolist() == words
    export(table, tmp_path / "eligibility.geojson")
    assert gpd.read_file(tmp_path / "eligibility.geojson")["population_source"].tolist() == [
        "surveyed",
        "households",
        "area",
        "surveyed",
    ]  # machine formats keep the codes

    plan = run_plan(communities, paths, config("assume_room", budget=200_000), ["city"], mode="optimal")
    export(plan_sheets(plan, lang), tmp_path / "plan.xlsx", lang=lang, parameters={})
    sheet = pd.read_excel(tmp_path / "plan.xlsx", sheet_name=0, dtype=str)
    by_id = dict(zip(sheet[{"zh": "小区编号", "en": "Community ID"}[lang]], sheet[header]))
    assert by_id == {"C1": words[1], "C2": words[2], "C3": words[3]}


# --------------------------------------------------------------------------- the pages, on a city without open space


@pytest.fixture(scope="module")
def city_without_open_space(tmp_path_factory):
    """The sample with its open-space column removed, every fifth built year unknown, some populations estimated."""
    import shutil

    from geo.config import DEFAULT_DATA_PATH

    path = tmp_path_factory.mktemp("nofields") / "city.gpkg"
    shutil.copy(DEFAULT_DATA_PATH, path)
    communities = gpd.read_file(DEFAULT_DATA_PATH, layer="communities").drop(columns="open_space_m2")
    communities["built_year"] = communities["built_year"].astype("Int64").mask(communities.index % 5 == 0)
    communities["population_source"] = np.where(communities.index % 7 == 0, "households", "surveyed")
    communities.to_file(path, layer="communities", driver="GPKG")
    return path


def test_the_pages_say_what_is_to_be_surveyed_and_why_nothing_is_bought(city_without_open_space, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from geo.pipeline import load_city

    monkeypatch.setenv("PLANNER_DATA", str(city_without_open_space))
    loaded = load_city(city_without_open_space)
    scored = score_communities(loaded.communities, loaded.fitness_paths, load_config(), loaded.applications)
    mine = scored[scored["district_code"] == "450202"]

    app = AppTest.from_file("../app.py", default_timeout=180)
    app.run()
    app.switch_page("views/eligibility.py")
    app.run()
    assert not app.exception
    assert app.metric[5].label == "待现场核查"
    assert app.metric[5].value == f"{int(mine['needs_site_check'].sum()):,}" != "0"
    table = app.dataframe[0].value
    assert "未知" in table["建成年份"].tolist() and table["人口"].str.endswith("（估算）").any()
    next(box for box in app.checkbox if box.label.startswith("仅看待现场核查")).check().run()
    assert len(app.dataframe[0].value) == int(mine["needs_site_check"].sum())

    app.switch_page("views/priority_budget.py")
    app.run()
    # No community can be picked before its survey: only the public sites are bought, each on a site.
    assert not app.exception and app.metric[0].value != "0 套"
    assert set(app.dataframe[0].value["点位类型"]) <= {
        "公共场地·" + word for word in ("口袋公园", "公园", "广场", "绿道", "学校操场（对外开放）", "街角空地", "其他")
    }
    app.checkbox(key="widget_use_sites").uncheck().run()
    assert not app.exception and app.metric[0].value == "0 套"
    left_out = int(scored["reasons"].str.contains("to_survey").sum())  # every district, as the plan sees them
    assert any(f"{left_out} 个小区未纳入考虑" in warning.value for warning in app.warning)
