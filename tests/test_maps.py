"""Tests for geo.render.maps: offline assets, data sent to the browser, legend, labels, standalone HTML."""

import json
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from folium.elements import JSCSSMixin
from shapely.geometry import Point, box

from geo.errors import DataError, said
from geo.render import maps
from geo.render.compact import layer_features
from tests import hostile
from tests.helpers import map_data

ASSET_BASE = "/app/static/vendor"
VENDOR_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor"
HARMLESS_URLS = {"http://www.w3.org/2000/svg"}  # XML namespace, never fetched
URL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s\"'<>)\\]*")


def js_string(text):
    """How a string appears inside the page's JSON data (non-ASCII escaped)."""
    return json.dumps(text)[1:-1]


def layers_of(page, key=None):
    return [layer for layer in map_data(page)["layers"] if key is None or layer["key"] == key]


@pytest.fixture
def districts():
    return gpd.GeoDataFrame(
        {
            "district_code": ["450202", "450203"],
            "district_name": ["城中区", "鱼峰区"],
            "district_name_en": ["Chengzhong", "Yufeng"],
        },
        geometry=[box(109.40, 24.30, 109.42, 24.32), box(109.42, 24.30, 109.44, 24.32)],
        crs="EPSG:4326",
    )


@pytest.fixture
def communities():
    # One community per combination of (served_inside, served_within_radius).
    return gpd.GeoDataFrame(
        {
            "community_id": ["CZ-0001", "CZ-0002", "YF-0003", "YF-0004"],
            "name": ["柳南新村", "<b>河东</b>小区", "鱼峰花园", "驾鹤小区"],
            "district_name": ["城中区", "城中区", "鱼峰区", "鱼峰区"],
            "population": [1200, 3400, 15000, 800],
            "built_year": [1995, 2005, 1988, 2012],
            "n_sets_inside": [1, 2, 0, 0],
            "nearest_set_m": [0.0, 0.0, 320.4, float("inf")],
            "served_inside": [True, True, False, False],
            "served_within_radius": [True, False, True, False],
        },
        geometry=[
            box(109.401, 24.301, 109.405, 24.305),
            box(109.410, 24.310, 109.415, 24.315),
            box(109.425, 24.305, 109.430, 24.310),
            box(109.435, 24.312, 109.439, 24.318),
        ],
        crs="EPSG:4326",
    )


@pytest.fixture
def fitness_paths():
    return gpd.GeoDataFrame(
        {"path_id": ["P-1", "P-2", "P-3"], "name": ["柳南健身路径", "河东健身路径", None]},
        geometry=[Point(109.402, 24.302), Point(109.412, 24.312), Point(109.4311, 24.3012)],
        crs="EPSG:4326",
    )


@pytest.fixture
def page(districts, communities, fitness_paths):
    m = maps.coverage_map(districts, communities, fitness_paths, asset_base=ASSET_BASE)
    return m.get_root().render()


def asset_links(page):
    return re.findall(r"<script\b[^>]*\bsrc=\"([^\"]*)\"", page) + re.findall(r"<link\b[^>]*\bhref=\"([^\"]*)\"", page)


def test_page_links_no_outside_url(page):
    assert set(URL.findall(page)) - HARMLESS_URLS == set()


def test_every_asset_link_is_under_asset_base_and_vendored(page):
    links = asset_links(page)
    assert f"{ASSET_BASE}/leaflet-1.9.3/leaflet.js" in links
    assert f"{ASSET_BASE}/leaflet-1.9.3/leaflet.css" in links
    for link in links:
        assert link.startswith(ASSET_BASE + "/"), link
        assert (VENDOR_DIR / link[len(ASSET_BASE) + 1 :]).is_file(), link


def test_unused_folium_defaults_are_not_linked(page):
    for name in ("jquery", "bootstrap", "fontawesome", "awesome-markers", "glyphicons"):
        assert name not in page.lower()


def test_assets_st_folium_would_load_are_under_asset_base(districts, communities, fitness_paths):
    # streamlit_folium.st_folium loads the default_js/default_css of each JSCSSMixin element
    # itself rather than the page header, so check those lists too.
    m = maps.coverage_map(districts, communities, fitness_paths, asset_base="/x/vendor")
    stack, urls = [m], []
    while stack:
        element = stack.pop()
        stack.extend(element._children.values())
        if isinstance(element, JSCSSMixin):
            urls += [url for _, url in element.default_js + element.default_css]
    assert len(urls) == 5
    for url in urls:
        assert url.startswith("/x/vendor/")
        assert (VENDOR_DIR / url[len("/x/vendor/") :]).is_file()


def test_folium_class_defaults_are_left_alone(page):
    assert folium.Map.default_js == folium.folium._default_js
    assert any("cdn" in url for _, url in folium.Map.default_js)
    assert any("cdn" in url for _, url in folium.plugins.MarkerCluster.default_js)


def test_icon_image_path_points_at_vendored_images(page):
    assert f'L.Icon.Default.imagePath = "{ASSET_BASE}/leaflet-1.9.3/images/"' in page
    assert (VENDOR_DIR / "leaflet-1.9.3" / "images" / "marker-icon.png").is_file()


def test_no_base_tiles_but_a_max_zoom(page):
    assert "tileLayer" not in page
    # Regression: with no tile layer and no maxZoom, markercluster threw and the legend,
    # the layer control and fitBounds never ran (seen in headless Chromium).
    assert '"maxZoom": 19' in page


def test_each_community_appears_once(page, communities):
    ids = [
        f["properties"]["community_id"]
        for layer in layers_of(page)
        if layer["key"] != "districts"
        for f in layer_features(layer)
    ]
    assert sorted(ids) == sorted(communities["community_id"])
    for community_id in communities["community_id"]:
        assert page.count(community_id) == 1


def test_only_display_properties_are_sent(page):
    props = next(f["properties"] for f in features_of(page) if f["properties"].get("community_id") == "CZ-0001")
    assert props == {
        "community_id": "CZ-0001",
        "name": "柳南新村",
        "district_name": "城中区",
        "population": "1,200",
        "built_year": "1995",
        "n_sets_inside": "1",
        "nearest_set_m": "0",
        "approximate": False,
    }


def test_tooltip_values_are_formatted_and_kept_as_text(page):
    props = {
        f["properties"]["community_id"]: f["properties"] for f in features_of(page) if "community_id" in f["properties"]
    }
    assert props["YF-0003"]["population"] == "15,000"
    assert props["YF-0003"]["nearest_set_m"] == "320"
    assert props["YF-0004"]["nearest_set_m"] == "—"  # infinite distance
    # The name travels unchanged as data; no markup character reaches the page's HTML.
    assert props["CZ-0002"]["name"] == "<b>河东</b>小区"
    assert "<b>河东" not in page and "&lt;b&gt;" not in page
    assert r"\u003cb\u003e河东\u003c/b\u003e小区" in page


def test_legend_counts(page):
    counts = legend_counts(page)
    assert counts == {
        "served_inside": 2,
        "served_within_radius": 1,
        "unserved": 1,
        "fitness_paths": 3,
    }


def test_one_layer_per_status(page):
    for label in ("小区内已有健身路径", "步行范围内有健身路径", "未覆盖小区"):
        assert f'"{js_string(label)}" : feature_group_' in page
    assert page.count("L.control.layers(") == 1


def test_english_labels(districts, communities, fitness_paths, page):
    english = (
        maps.coverage_map(districts, communities, fitness_paths, lang="en", asset_base=ASSET_BASE).get_root().render()
    )
    assert "Fitness-path coverage" in english and "Not served" in english
    assert map_data(english)["legend"]["title"] == "Fitness-path coverage"
    assert "Population" in layers_of(english, "unserved")[0]["tooltip_aliases"]
    assert [f["properties"]["label"] for f in layer_features(layers_of(english, "districts")[0])] == [
        "Chengzhong",
        "Yufeng",
    ]
    assert {f["properties"]["district_name"] for f in features_of(english) if "district_name" in f["properties"]} == {
        "Chengzhong",
        "Yufeng",
    }
    assert "健身路径覆盖情况" not in english and "健身路径覆盖情况" in page
    assert "人口" not in english and "人口" in page


def community_shape(page, community_id):
    feature = next(f for f in features_of(page) if f["properties"].get("community_id") == community_id)
    return shapely.geometry.shape(feature["geometry"])


def test_coordinates_are_rounded(districts, communities, fitness_paths):
    # Sent as whole steps of 1e-6 degree (~0.1 m) from the layer's origin: each within half a step.
    communities = communities.copy()
    communities.loc[0, "geometry"] = box(109.40112345678, 24.301, 109.405, 24.30598765432)
    page = maps.coverage_map(districts, communities, fitness_paths).get_root().render()
    vertices = shapely.get_coordinates(community_shape(page, "CZ-0001"))
    assert np.abs(vertices - [109.40112345678, 24.30598765432]).min(axis=0).max() <= 0.5e-6 + 1e-12
    assert "109.4011234" not in page
    layer = next(layer for layer in layers_of(page) if "ids" in layer and "CZ-0001" in layer["ids"])
    assert all(isinstance(step, int) for step in layer["shapes"]["coords"])


def test_simplification_drops_vertices_closer_than_tolerance(districts, communities, fitness_paths):
    # A vertex 1 m off a straight edge goes; the corners stay.
    communities = communities.copy()
    bump = 1.0 / 111_320
    communities.loc[0, "geometry"] = box(109.401, 24.301, 109.405, 24.305).union(
        box(109.403, 24.305 - 1e-9, 109.4031, 24.305 + bump)
    )
    page = maps.coverage_map(districts, communities, fitness_paths).get_root().render()
    shape = community_shape(page, "CZ-0001")
    assert shapely.get_num_coordinates(shape) == 5  # four corners and the closing one
    assert shape.equals_exact(box(109.401, 24.301, 109.405, 24.305), tolerance=1e-6) or shape.normalize().equals_exact(
        box(109.401, 24.301, 109.405, 24.305).normalize(), tolerance=1e-6
    )


def test_empty_status_layer_still_renders(districts, communities, fitness_paths):
    served = communities.assign(served_inside=True)
    page = maps.coverage_map(districts, served, fitness_paths).get_root().render()
    counts = legend_counts(page)
    assert counts["served_inside"] == 4 and counts["unserved"] == 0
    assert layer_features(layers_of(page, "unserved")[0]) == []


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d, c, p: (d, c.drop(columns="population"), p), "population"),
        (lambda d, c, p: (d.to_crs(32649), c, p), "EPSG:4326"),
        (lambda d, c, p: (d, c, p.set_geometry([box(109.4, 24.3, 109.41, 24.31)] * 3)), "points only"),
    ],
)
def test_invalid_input_is_reported(districts, communities, fitness_paths, change, message):
    with pytest.raises(ValueError, match=message):
        maps.coverage_map(*change(districts, communities, fitness_paths))


def test_unknown_language(districts, communities, fitness_paths):
    with pytest.raises(ValueError, match="lang"):
        maps.coverage_map(districts, communities, fitness_paths, lang="fr")


def test_unvendored_plugin_is_refused(districts, communities, fitness_paths):
    m = maps.coverage_map(districts, communities, fitness_paths)
    folium.plugins.Fullscreen().add_to(m)
    with pytest.raises(ValueError, match="not vendored"):
        maps._check_assets(m, ASSET_BASE)


def test_standalone_html_inlines_everything(districts, communities, fitness_paths):
    m = maps.coverage_map(districts, communities, fitness_paths)
    page = maps.standalone_html(m)
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link\b[^>]*\bhref\s*=", page, re.IGNORECASE)
    assert ASSET_BASE not in page.replace(f'imagePath = "{ASSET_BASE}', "")
    assert "Leaflet 1.9.3, a JS library for interactive maps" in page
    assert "markerClusterGroup=function" in page or "L.markerClusterGroup=" in page
    assert "url(data:image/png;base64," in page  # layer-control icon
    assert "sourceMappingURL" not in page
    # Only links a person may click (Leaflet's attribution) and comments remain.
    assert set(URL.findall(page)) - HARMLESS_URLS <= {
        "https://leafletjs.com",
        "https://bugzilla.mozilla.org/show_bug.cgi?id=888319",
    }
    for _, relative in (*maps._MAP_JS, *maps._CLUSTER_JS):
        code = (VENDOR_DIR / relative).read_text(encoding="utf-8")
        assert maps._strip_source_map(code).strip()[-200:] in page


def test_vendored_files_have_licences():
    for folder in ("leaflet-1.9.3", "leaflet.markercluster-1.5.3"):
        names = {p.name for p in (VENDOR_DIR / folder).iterdir()}
        assert names & {"LICENSE", "MIT-LICENCE.txt"}, folder
    readme = (VENDOR_DIR / "README.md").read_text(encoding="utf-8")
    for path in sorted(VENDOR_DIR.rglob("*")):
        if path.is_file() and path.name != "README.md":
            assert f"`{path.relative_to(VENDOR_DIR).as_posix()}`" in readme, path


# --------------------------------------------------------------------------- five statuses, plan


@pytest.fixture
def assessed(communities):
    """The four communities plus one unserved-ineligible one, with eligibility and priority."""
    extra = gpd.GeoDataFrame(
        {
            "community_id": ["YF-0005"],
            "name": ["立新小区"],
            "district_name": ["鱼峰区"],
            "population": [2600],
            "built_year": [1983],
            "n_sets_inside": [0],
            "nearest_set_m": [910.0],
            "served_inside": [False],
            "served_within_radius": [False],
        },
        geometry=[box(109.431, 24.302, 109.433, 24.304)],
        crs="EPSG:4326",
    )
    frame = gpd.GeoDataFrame(pd.concat([communities, extra], ignore_index=True), crs="EPSG:4326")
    # CZ-0001 inside, CZ-0002 inside, YF-0003 within radius, YF-0004 unserved eligible,
    # YF-0005 unserved not eligible (no open space, parking).
    return frame.assign(
        eligible=[False, False, True, True, False],
        reasons=["served_inside", "served_inside", "", "", "no_open_space;parking_no_space"],
        priority_score=[10.0, 12.25, 55.0, 87.54, 40.0],
    )


def features_of(page):
    """Every feature of the page's GeoJSON layers, in the order the layers are drawn."""
    return [feature for layer in layers_of(page) for feature in layer_features(layer)]


def legend_counts(page):
    return {row["status"]: row["count"] for row in map_data(page)["legend"]["rows"]}


def render(*args, **kwargs):
    return maps.coverage_map(*args, asset_base=ASSET_BASE, **kwargs).get_root().render()


def test_five_statuses_with_counts_in_legend(districts, assessed, fitness_paths):
    page = render(districts, assessed, fitness_paths, selected_ids=["YF-0004"])
    assert legend_counts(page) == {
        "served_inside": 2,
        "served_within_radius": 1,
        "unserved_eligible": 0,  # its only member is selected
        "unserved_ineligible": 1,
        "selected": 1,
        "fitness_paths": 3,
    }
    for label in ("未覆盖，符合建设条件", "未覆盖，不符合建设条件", "本次计划选中"):
        assert f'"{js_string(label)}" : feature_group_' in page
    # The undivided status is replaced, not added: neither a layer nor a legend row.
    assert js_string("未覆盖小区") not in page and "未覆盖小区" not in page


def test_without_selection_unserved_splits_by_eligibility(districts, assessed, fitness_paths):
    page = render(districts, assessed, fitness_paths)
    assert legend_counts(page) == {
        "served_inside": 2,
        "served_within_radius": 1,
        "unserved_eligible": 1,
        "unserved_ineligible": 1,
        "fitness_paths": 3,
    }
    assert "selected" not in legend_counts(page)


def test_missing_eligibility_counts_as_not_eligible(districts, assessed, fitness_paths):
    frame = assessed.assign(eligible=pd.array([False, False, True, None, False], dtype="boolean"))
    page = render(districts, frame, fitness_paths)
    counts = legend_counts(page)
    assert counts["unserved_eligible"] == 0 and counts["unserved_ineligible"] == 2
    props = {
        f["properties"]["community_id"]: f["properties"] for f in features_of(page) if "community_id" in f["properties"]
    }
    assert props["YF-0004"]["eligible"] == "—"


def test_selected_drawn_on_top_with_outline_dot_and_programme(districts, assessed, fitness_paths):
    page = render(
        districts,
        assessed,
        fitness_paths,
        selected_ids=["YF-0004", "NOT-THERE"],
        selected_program={"YF-0004": "市本级"},
    )
    features = features_of(page)
    communities = [f for f in features if "population" in f["properties"]]
    # Polygon and dot of the selected community come last of the communities: drawn on top.
    assert [f["properties"]["community_id"] for f in communities[-2:]] == ["YF-0004"] * 2
    assert [f["geometry"]["type"] for f in communities[-2:]] == ["Polygon", "Point"]
    assert communities[-1]["properties"]["selected_program"] == "市本级"
    assert all("selected_program" not in f["properties"] for f in communities[:-2])
    polygons, dots = layers_of(page, "selected")
    assert polygons["style"] == {
        "color": maps.SELECTED_OUTLINE_COLOR,
        "weight": 3,
        "fillColor": maps.STATUS_COLORS["selected"],
        "fillOpacity": 0.8,
    }
    assert dots["pane"] == "fp-selected" and dots["point_radius"] == maps.SELECTED_DOT_RADIUS_PX
    assert 'createPane(\n                "fp-selected")' in page
    assert legend_counts(page)["selected"] == 1


def test_tooltip_shows_eligibility_reasons_and_priority(districts, assessed, fitness_paths):
    page = render(districts, assessed, fitness_paths)
    props = {
        f["properties"]["community_id"]: f["properties"] for f in features_of(page) if "community_id" in f["properties"]
    }
    assert props["YF-0005"]["eligible"] == "否"
    assert props["YF-0005"]["reasons"] == "可用空地不足一套健身路径占地；公共空间已用于停车，无其他空地"
    assert props["YF-0004"]["eligible"] == "是" and props["YF-0004"]["reasons"] == "—"
    assert props["YF-0004"]["priority_score"] == "87.5"
    aliases = layers_of(page, "unserved_ineligible")[0]["tooltip_aliases"]
    for alias in ("符合建设条件", "不符合原因", "优先得分"):
        assert alias in aliases
    english = render(districts, assessed, fitness_paths, lang="en")
    props = {
        f["properties"]["community_id"]: f["properties"]
        for f in features_of(english)
        if "community_id" in f["properties"]
    }
    assert props["YF-0005"]["eligible"] == "No"
    assert props["YF-0005"]["reasons"] == (
        "Open space smaller than one set's footprint; Public space used for parking, no other open space"
    )
    assert "Reasons not eligible" in layers_of(english, "unserved_ineligible")[0]["tooltip_aliases"]
    assert "Not served, not eligible" in english


def test_selected_ids_as_one_string_is_refused(districts, communities, fitness_paths):
    with pytest.raises(ValueError, match="selected_ids"):
        maps.coverage_map(districts, communities, fitness_paths, selected_ids="CZ-0001")


# --------------------------------------------------------------------------- focus


def test_focus_fits_that_community_and_outlines_it(districts, communities, fitness_paths):
    page = render(districts, communities, fitness_paths, focus_id="YF-0003")
    fit = re.search(r"fitBounds\(\s*(\[\[.*?\]\]),\s*(\{.*?\})\s*\)", page, re.DOTALL)
    assert json.loads(fit.group(1)) == [[24.305, 109.425], [24.31, 109.43]]
    assert json.loads(fit.group(2)) == {"maxZoom": maps.FOCUS_MAX_ZOOM}
    assert page.count("fitBounds(") == 1
    outline = features_of(page)[-1]
    assert outline["properties"] == {"community_id": "YF-0003"}
    focus = layers_of(page, "focus")[0]
    assert focus["style"]["color"] == maps.FOCUS_OUTLINE_COLOR and focus["style"]["fill"] is False
    assert focus["interactive"] is False
    assert f'"{js_string("定位小区")}" : feature_group_' in page


def test_without_focus_the_map_fits_the_communities_not_the_districts(page):
    fit = re.search(r"fitBounds\(\s*(\[\[.*?\]\]),\s*(\{.*?\})\s*\)", page, re.DOTALL)
    assert json.loads(fit.group(1)) == [[24.301, 109.401], [24.318, 109.439]]  # districts: 24.30–24.32, 109.40–109.44
    assert json.loads(fit.group(2)) == {"maxZoom": maps.FOCUS_MAX_ZOOM}


def test_unknown_focus_is_refused(districts, communities, fitness_paths):
    with pytest.raises(ValueError, match="focus_id 'XX-9999'"):
        maps.coverage_map(districts, communities, fitness_paths, focus_id="XX-9999")


# --------------------------------------------------------------------------- base layers


def test_no_base_layer_references_no_tile_host(page):
    assert "tileLayer" not in page and "{z}" not in page
    for host in ("openstreetmap", "autonavi", "amap", "tianditu"):
        assert host not in page.lower()


def test_osm_base_layer(districts, communities, fitness_paths):
    page = render(districts, communities, fitness_paths, base_layer="osm")
    assert page.count("L.tileLayer(") == 1
    assert '"https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in page
    assert "OpenStreetMap\\u003c/a\\u003e contributors" in page
    # Drawn as given: WGS84 tiles, no shift.
    assert "[109.401,24.301]" in page


def test_amap_shifts_every_layer_to_gcj02(districts, communities, fitness_paths):
    from geo.data.crs import wgs84_to_gcj02

    before = communities.copy()
    page = render(districts, communities, fitness_paths, base_layer="amap")
    assert "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn" in page
    assert '"subdomains": "1234"' in page
    assert js_string("高德地图") in page
    features = features_of(page)

    def vertices(feature):
        return np.asarray(feature["geometry"]["coordinates"], dtype=float).reshape(-1, 2)

    community = next(f for f in features if f["properties"].get("community_id") == "CZ-0001")
    expected = np.array(wgs84_to_gcj02(109.401, 24.301), dtype=float)
    assert np.abs(vertices(community) - expected).max(axis=1).min() <= 1e-6
    assert "[109.401,24.301]" not in page
    district = next(f for f in features if f["properties"].get("district_code") == "450203")
    expected = np.array(wgs84_to_gcj02(109.44, 24.32), dtype=float)
    assert np.abs(vertices(district) - expected).max(axis=1).min() <= 1e-6
    lon, lat = wgs84_to_gcj02(109.402, 24.302)
    assert map_data(page)["fitness_paths"][0][:2] == [round(float(lat), 6), round(float(lon), 6)]  # a set
    # The shift moves ~500 m at Liuzhou, so a forgotten layer could not pass for shifted.
    assert abs(expected[0] - 109.44) > 0.003
    assert_frame_unchanged(communities, before)


def assert_frame_unchanged(frame, before):
    from geopandas.testing import assert_geodataframe_equal

    assert_geodataframe_equal(frame, before)


def test_amap_focus_fits_the_shifted_community(districts, communities, fitness_paths):
    from geo.data.crs import wgs84_to_gcj02

    page = render(districts, communities, fitness_paths, base_layer="amap", focus_id="CZ-0001")
    fit = re.search(r"fitBounds\(\s*(\[\[.*?\]\])", page, re.DOTALL)
    (south, west), _ = json.loads(fit.group(1))
    lon, lat = wgs84_to_gcj02(109.401, 24.301)
    assert abs(west - lon) <= 1e-6 and abs(south - lat) <= 1e-6


def test_tianditu_base_layer_uses_key_without_shift(districts, communities, fitness_paths):
    page = render(districts, communities, fitness_paths, base_layer="tianditu", tianditu_key="abc123DEF")
    assert page.count("L.tileLayer(") == 2
    assert "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS" in page
    assert "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS" in page
    assert page.count('\\u0026tk=abc123DEF"') == 2
    assert '"subdomains": "01234567"' in page
    assert js_string("天地图") in page
    assert "[109.401,24.301]" in page


@pytest.mark.parametrize("key", [None, ""])
def test_tianditu_without_key_is_refused(districts, communities, fitness_paths, key):
    with pytest.raises(DataError, match="Tianditu key") as refused:
        maps.coverage_map(districts, communities, fitness_paths, base_layer="tianditu", tianditu_key=key)
    assert "天地图密钥" in said(refused.value, "zh")


def test_tianditu_key_must_be_letters_and_digits(districts, communities, fitness_paths):
    with pytest.raises(DataError, match="letters and digits"):
        maps.coverage_map(districts, communities, fitness_paths, base_layer="tianditu", tianditu_key="a&b=c")


def test_unknown_base_layer_is_refused(districts, communities, fitness_paths):
    with pytest.raises(ValueError, match="base_layer"):
        maps.coverage_map(districts, communities, fitness_paths, base_layer="google")


def test_approximate_footprints_are_dashed_and_said_so(districts, communities, fitness_paths):
    from geo.render.maps import APPROXIMATE_DASH, coverage_map

    flagged = communities.copy()
    flagged["geometry_approximate"] = [True] + [False] * (len(flagged) - 1)
    html = coverage_map(districts, flagged, fitness_paths).get_root().render()
    props = {
        f["properties"]["community_id"]: f["properties"] for f in features_of(html) if "community_id" in f["properties"]
    }
    # The one flagged community is dashed (its layer's dash applies where approximate is true) and says so.
    assert [cid for cid, p in props.items() if p["approximate"]] == ["CZ-0001"]
    assert props["CZ-0001"]["geometry_approximate"] == "近似（仅有坐标，按占地面积画出，虚线）"
    assert props["CZ-0002"]["geometry_approximate"] == "实测边界"
    assert {layer["dash"] for layer in layers_of(html) if "dash" in layer} == {APPROXIMATE_DASH}
    plain = coverage_map(districts, communities, fitness_paths).get_root().render()
    assert not any(f["properties"].get("approximate") for f in features_of(plain))
    assert "geometry_approximate" not in plain


# --------------------------------------------------------------------------- hostile text


def test_folium_itself_still_compiles_layer_data_as_a_template():
    """Why the maps hand folium no user text: this is folium 0.20 / branca 0.8.2's behaviour.

    If this starts failing, folium stopped rendering its output twice; the remedy in
    :class:`geo.render.maps._MapLayers` is still right, but the note in docs/security.md should change.
    """
    m = folium.Map(tiles=None)
    frame = gpd.GeoDataFrame({"name": ["{{ 6*7 }}"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:4326")
    folium.GeoJson(frame, tooltip=folium.GeoJsonTooltip(fields=["name"])).add_to(m)
    page = m.get_root().render()
    assert '"name": "42"' in page and "6*7" not in page


@pytest.mark.parametrize("text", hostile.ALL)
def test_hostile_names_travel_as_data_and_nothing_is_evaluated(
    districts, assessed, fitness_paths, text, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # a payload that ran would create its marker file here
    communities = assessed.assign(name=[text] * len(assessed), district_name=text)
    districts = districts.assign(district_name=[text, "鱼峰区"], district_name_en=[text, "Yufeng"])
    paths = fitness_paths.assign(name=[text, None, text])
    for lang in ("zh", "en"):
        m = maps.coverage_map(
            districts,
            communities,
            paths,
            lang=lang,
            selected_ids=["YF-0004"],
            selected_program={"YF-0004": text},
            focus_id="YF-0003",
        )
        page = m.get_root().render()
        data = map_data(page)
        names = {f["properties"]["name"] for f in features_of(page) if "name" in f["properties"]}
        assert names == {text}
        assert {f["properties"]["label"] for f in layer_features(layers_of(page, "districts")[0])} == {
            text,
            "鱼峰区" if lang == "zh" else "Yufeng",
        }
        assert [row[2] for row in data["fitness_paths"]] == [text, "P-2", text]
        dot = layer_features(layers_of(page, "selected")[1])[0]["properties"]
        assert dot["selected_program"] == text
        # Outside the JSON element, the page is the same whatever the names are.
        outside = re.sub(r'<script type="application/json".*?</script>', "", page, flags=re.S)
        assert text not in outside or text in ("..",)
        assert "\n" not in maps.map_data_json({"t": text}) and "<" not in maps.map_data_json({"t": text})
        standalone = maps.standalone_html(m)
        assert map_data(standalone) == data
    assert not (tmp_path / hostile.MARKER_NAME).exists()


def test_unbalanced_template_syntax_in_every_name_still_draws(districts, communities, fitness_paths):
    broken = communities.assign(name=["{{", "{%", "{#", "}}"])
    page = maps.coverage_map(districts, broken, fitness_paths).get_root().render()
    assert sorted(f["properties"]["name"] for f in features_of(page) if "name" in f["properties"]) == [
        "{#",
        "{%",
        "{{",
        "}}",
    ]


def test_data_json_cannot_end_its_script_element():
    text = "</script><script>alert(1)</script><!-- \u2028 & >"
    encoded = maps.map_data_json({"name": text})
    assert "</" not in encoded and "<!--" not in encoded and "\u2028" not in encoded
    assert json.loads(encoded) == {"name": text}


def test_district_names_follow_the_code_and_a_city_without_english_names_still_maps(
    districts, communities, fitness_paths
):
    """A community names its district by code (its own spelling may differ, e.g. '城中' for '城中区');
    a districts layer without ``district_name_en`` draws its Chinese names on the English map."""
    communities = communities.assign(
        district_code=["450202", "450202", "450203", "450203"], district_name=["城中", "城中", "鱼峰", "鱼峰"]
    )
    english = maps.coverage_map(districts, communities, fitness_paths, lang="en").get_root().render()
    assert {f["properties"]["district_name"] for f in features_of(english) if "district_name" in f["properties"]} == {
        "Chengzhong",
        "Yufeng",
    }
    chinese_only = districts.drop(columns="district_name_en")
    english = maps.coverage_map(chinese_only, communities, fitness_paths, lang="en").get_root().render()
    assert [f["properties"]["label"] for f in layer_features(layers_of(english, "districts")[0])] == [
        "城中区",
        "鱼峰区",
    ]
    assert {f["properties"]["district_name"] for f in features_of(english) if "district_name" in f["properties"]} == {
        "城中区",
        "鱼峰区",
    }
