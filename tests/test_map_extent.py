"""Pages that agree (issue 13): the map opens at the shown communities, its legend counts what it
draws, a base map that cannot load says so, and "missing data" names the missing field."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.analysis.eligibility import reason_labels
from geo.config import DEFAULT_DATA_PATH, load_config
from geo.pipeline import load_city
from geo.plan import score_communities
from geo.render import maps
from geo.render.compact import layer_features
from tests import hostile

URBAN = ("450202", "450203", "450204", "450205", "450206")  # the sample's five urban districts


@pytest.fixture(scope="module")
def city():
    return load_city(DEFAULT_DATA_PATH)


@pytest.fixture(scope="module")
def scored(city):
    return score_communities(city.communities, city.fitness_paths, load_config(), city.applications)


def map_data(page: str) -> dict:
    found = re.findall(r'<script type="application/json" id="fp-map-data-[0-9a-f]+">(.*?)</script>', page, re.S)
    assert len(found) == 1
    return json.loads(found[0])


def fitted(page: str) -> list[float]:
    """``[south, west, north, east]`` the map opens at (its one fitBounds call)."""
    calls = re.findall(r"map_[0-9a-f]+\.fitBounds\(\s*(\[\[.*?\]\])", page, re.S)  # not Leaflet's own (inlined)
    assert len(calls) == 1
    (south, west), (north, east) = json.loads(calls[0])
    return [south, west, north, east]


def legend(page: str) -> dict[str, int]:
    return {row["status"]: row["count"] for row in map_data(page)["legend"]["rows"]}


def render(districts, communities, paths, **kwargs) -> str:
    return maps.coverage_map(districts, communities, paths, **kwargs).get_root().render()


# --------------------------------------------------------------------------- a hand-made city


def grid_city(outlier: bool):
    """A 6 × 8 grid of 100 m squares 0.01° apart (109.40–109.4701, 24.30–24.3501), plus one far away.

    The outlier is 1.5° (~150 km) east; a district outline 2° wide holds them all.
    """
    squares = [
        box(109.40 + 0.01 * i, 24.30 + 0.01 * j, 109.401 + 0.01 * i, 24.301 + 0.01 * j)
        for i in range(8)
        for j in range(6)
    ]
    if outlier:
        squares.append(box(110.90, 24.90, 110.901, 24.901))
    n = len(squares)
    communities = gpd.GeoDataFrame(
        {
            "community_id": [f"C{k:02d}" for k in range(n)],
            "name": [f"小区{k}" for k in range(n)],
            "district_code": "450299",
            "district_name": "测试区",
            "population": 1000,
            "built_year": 2000,
            "n_sets_inside": 0,
            "nearest_set_m": 800.0,
            "served_inside": False,
            "served_within_radius": False,
        },
        geometry=squares,
        crs="EPSG:4326",
    )
    districts = gpd.GeoDataFrame(
        {"district_code": ["450299"], "district_name": ["测试区"], "district_name_en": ["Test"]},
        geometry=[box(109.0, 24.0, 111.0, 25.0)],
        crs="EPSG:4326",
    )
    paths = gpd.GeoDataFrame(
        {"path_id": ["P-1", "P-2"], "name": ["一号", "界外"]},
        geometry=[Point(109.45, 24.32), Point(112.0, 24.5)],  # the second outside every district
        crs="EPSG:4326",
    )
    return districts, communities, paths


GRID_BOUNDS = (109.40, 24.30, 109.471, 24.351)


def test_a_far_outlier_does_not_set_the_extent():
    _, communities, _ = grid_city(outlier=True)
    assert maps.community_extent(communities) == pytest.approx(GRID_BOUNDS)
    assert communities.total_bounds[2] == pytest.approx(110.901)  # it would have been 1.5° wider


def test_without_an_outlier_the_extent_is_every_community():
    _, communities, _ = grid_city(outlier=False)
    assert maps.community_extent(communities) == pytest.approx(tuple(communities.total_bounds))
    assert maps.community_extent(communities) == pytest.approx(GRID_BOUNDS)


def test_a_tight_cluster_keeps_its_edge_and_one_community_is_its_own_extent():
    _, communities, _ = grid_city(outlier=False)
    # 48 squares within 300 m: an interquartile range far under 0.01°, yet none is an outlier.
    tight = communities.set_geometry(communities.geometry.scale(0.05, 0.05, origin=(109.40, 24.30)))
    assert maps.community_extent(tight) == pytest.approx(tuple(tight.total_bounds))
    assert maps.community_extent(communities.iloc[[5]]) == pytest.approx(tuple(communities.iloc[[5]].total_bounds))
    assert maps.community_extent(communities.iloc[:0]) is None


def test_the_map_opens_at_the_communities_not_at_the_district_outline():
    districts, communities, paths = grid_city(outlier=True)
    page = render(districts, communities, paths)
    assert fitted(page) == pytest.approx([24.30, 109.40, 24.351, 109.471])
    outline = next(layer for layer in map_data(page)["layers"] if layer["key"] == "districts")
    assert len(layer_features(outline)) == 1  # the outline still draws
    # With no community to show, the outline is all there is to open at.
    assert fitted(render(districts, communities.iloc[:0], paths)) == [24.0, 109.0, 25.0, 111.0]


def test_the_legend_counts_the_sets_inside_the_districts_shown():
    districts, communities, paths = grid_city(outlier=True)
    counts = legend(render(districts, communities, paths))
    assert counts["fitness_paths"] == 1  # P-2 lies outside the district
    assert counts["unserved"] == 49
    assert len(map_data(render(districts, communities, paths))["fitness_paths"]) == 2  # both drawn


# --------------------------------------------------------------------------- the sample


def test_the_sample_city_opens_at_its_urban_core(city):
    communities = city.communities
    core = communities[communities["district_code"].isin(URBAN)]
    assert maps.community_extent(communities) == pytest.approx(tuple(core.total_bounds))
    west, south, east, north = maps.community_extent(communities)
    assert (east - west, north - south) == pytest.approx((0.244, 0.248), abs=0.001)  # ~25 × 27 km
    assert tuple(city.districts.total_bounds) != pytest.approx((west, south, east, north), abs=0.5)


@pytest.mark.parametrize("code", ["450204", "450222", "450226"])
def test_a_district_opens_at_its_communities(city, code):
    mine = city.communities[city.communities["district_code"] == code]
    outline = city.districts[city.districts["district_code"] == code]
    west, south, east, north = maps.community_extent(mine)
    assert (west, south, east, north) == pytest.approx(tuple(mine.total_bounds))  # none is far out
    o_west, o_south, o_east, o_north = outline.total_bounds
    # The outline of a rural county is ~10 times wider and taller than its communities' extent.
    assert (east - west) * (north - south) < (o_east - o_west) * (o_north - o_south) / 4


def test_the_map_of_a_district_opens_at_its_communities_and_counts_its_own(city, scored):
    code = "450204"
    mine = scored[scored["district_code"] == code]
    outline = city.districts[city.districts["district_code"] == code]
    page = render(outline, mine, city.fitness_paths)
    west, south, east, north = np.round(mine.total_bounds, 6)
    assert fitted(page) == pytest.approx([south, west, north, east])
    counts = legend(page)
    expected = maps._community_status(mine).value_counts().to_dict()
    assert {k: v for k, v in counts.items() if k != "fitness_paths"} == {
        k: expected.get(k, 0) for k in counts if k != "fitness_paths"
    }
    assert sum(v for k, v in counts.items() if k != "fitness_paths") == len(mine) == 617
    # Sets counted by a spatial join of their own: those inside 柳南区's outline.
    inside = gpd.sjoin(city.fitness_paths, outline[["geometry"]], predicate="within")
    assert counts["fitness_paths"] == len(inside) == 249
    whole = legend(render(city.districts, scored, city.fitness_paths))
    assert whole["fitness_paths"] == 1086 and sum(v for k, v in whole.items() if k != "fitness_paths") == 2500


# --------------------------------------------------------------------------- base map note


@pytest.mark.parametrize(
    "lang, note",
    [
        ("zh", "底图无法加载（无网络连接或底图服务不可用），仅显示本地图层"),
        ("en", "Base map unavailable (no internet connection, or the tile service refused): local layers only"),
    ],
)
def test_the_offline_note_is_in_the_map_data_in_the_page_language(lang, note):
    districts, communities, paths = grid_city(outlier=False)
    page = render(districts, communities, paths, lang=lang, base_layer="osm")
    data = map_data(page)
    assert data["base_note"] == note and data["base_note_after_ms"] == maps.BASE_NOTE_AFTER_MS
    assert note not in page.replace(json.dumps(note, ensure_ascii=False)[1:-1], "")  # only inside the data
    assert re.search(r"var tiles = \[tile_layer_[0-9a-f]+\];", page)
    assert 'layer.on("tileerror", show)' in page


def test_no_base_map_no_note():
    districts, communities, paths = grid_city(outlier=False)
    page = render(districts, communities, paths)
    assert map_data(page)["base_note"] is None
    assert "var tiles = [];" in page


def test_the_note_is_carried_as_text_even_when_hostile(monkeypatch):
    districts, communities, paths = grid_city(outlier=False)
    for text in hostile.MARKUP + hostile.TEMPLATE:
        monkeypatch.setitem(maps.LABELS["en"], "base_unavailable", text)
        page = render(districts, communities, paths, lang="en", base_layer="osm")
        assert map_data(page)["base_note"] == text
        if "<" in text:
            assert text not in page
    assert "div.textContent = data.base_note" in page  # set as text, never as markup


# --------------------------------------------------------------------------- missing data


def test_missing_data_names_the_missing_fields():
    reasons = pd.Series(["missing_data", "missing_data", "to_survey", "no_open_space;missing_data", ""])
    fields = pd.Series(["population", "population;open_space_m2", "open_space_m2", "population", None])
    assert reason_labels(reasons, "zh", fields).tolist() == [
        "数据缺失（人口）",
        "数据缺失（人口、可用空地面积）",
        "待现场核查（可用空地未知）",
        "可用空地不足一套健身路径占地；数据缺失（人口）",
        "",
    ]
    assert reason_labels(reasons, "en", fields)[1] == "Missing data (population, open space)"
    assert reason_labels(reasons, "en")[0] == "Missing data"  # without the fields, as before


def test_the_map_tooltip_names_the_missing_field():
    districts, communities, paths = grid_city(outlier=False)
    communities = communities.assign(eligible=False, reasons="", missing_fields="")
    communities.loc[3, ["reasons", "missing_fields"]] = ["missing_data", "population"]
    page = render(districts, communities, paths, lang="en")
    features = [f for layer in map_data(page)["layers"] for f in layer_features(layer)]
    tip = next(f["properties"] for f in features if f["properties"].get("community_id") == "C03")
    assert tip["reasons"] == "Missing data (population)"


# --------------------------------------------------------------------------- the eligibility page


def page_map(app) -> str:
    frames = app.get("iframe")
    assert len(frames) == 1
    return frames[0].proto.srcdoc


def drawn_ids(page: str) -> set[str]:
    return {
        f["properties"]["community_id"]
        for layer in map_data(page)["layers"]
        if layer["key"] not in ("districts", "focus")
        for f in layer_features(layer)
    }


def test_the_eligibility_map_draws_and_counts_only_the_rows_the_filters_show(scored):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file("../app.py", default_timeout=120)
    app.run()
    app.switch_page("views/eligibility.py").run()
    app.selectbox(key="widget_eligibility_district").set_value("450202").run()
    mine = scored[scored["district_code"] == "450202"]
    page = page_map(app)
    assert drawn_ids(page) == set(mine["community_id"])

    app.radio(key="widget_eligibility_status").set_value("eligible").run()
    assert not app.exception
    eligible = mine[mine["eligible"]]
    assert 0 < len(eligible) < len(mine)
    assert len(app.dataframe[0].value) == len(eligible)
    page = page_map(app)
    assert drawn_ids(page) == set(eligible["community_id"])
    counts = legend(page)
    assert sum(v for k, v in counts.items() if k != "fitness_paths") == len(eligible)

    one = eligible.iloc[0]
    app.text_input[0].set_value(one["name"]).run()
    named = eligible[eligible["name"].str.contains(one["name"], regex=False)]
    page = page_map(app)
    assert drawn_ids(page) == set(named["community_id"])
    west, south, east, north = maps.community_extent(named)
    assert fitted(page) == pytest.approx([south, west, north, east], abs=1e-6)
