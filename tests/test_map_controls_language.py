"""Leaflet's own controls speak the page's language (issue 16 review): on a Chinese page the zoom buttons' and the
Leaflet credit's tooltips were English ("Zoom in", "Zoom out", "A JavaScript library for interactive maps"), on the
coverage map and on the comparison map alike. Both maps drawn from disk in headless Chromium (no server)."""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo.i18n import labels
from geo.render import maps
from geo.render.walk_map import walk_comparison_map
from tests.browser import SEEN_TEXT_JS, foreign
from tests.helpers import map_data
from tests.walk_helpers import compared, river_districts

CONTROLS_JS = """() => {
  const q = s => document.querySelector(s);
  return {zoom_in: [q('.leaflet-control-zoom-in').title, q('.leaflet-control-zoom-in').getAttribute('aria-label')],
          zoom_out: [q('.leaflet-control-zoom-out').title, q('.leaflet-control-zoom-out').getAttribute('aria-label')],
          credit: q('.leaflet-control-attribution a').title,
          credit_text: q('.leaflet-control-attribution').textContent.trim(),
          scale: [...document.querySelectorAll('.leaflet-control-scale-line')].map(line => line.textContent)};
}"""


def coverage(lang: str):
    districts = gpd.GeoDataFrame(
        {"district_code": ["450202"], "district_name": ["城中区"], "district_name_en": ["Chengzhong"]},
        geometry=[box(109.40, 24.30, 109.44, 24.34)],
        crs="EPSG:4326",
    )
    communities = gpd.GeoDataFrame(
        {
            "community_id": ["A"],
            "name": ["柳南新村"],
            "district_name": "城中区",
            "population": 1200,
            "built_year": 1995,
            "n_sets_inside": 0,
            "nearest_set_m": 320.0,
            "served_inside": False,
            "served_within_radius": False,
        },
        geometry=[box(109.401, 24.301, 109.405, 24.305)],
        crs="EPSG:4326",
    )
    paths = gpd.GeoDataFrame({"path_id": ["P-1"], "name": ["一号"]}, geometry=[Point(109.43, 24.33)], crs="EPSG:4326")
    return maps.coverage_map(districts, communities, paths, lang=lang)


def comparison(lang: str):
    table, routes, paths = compared()
    return walk_comparison_map(river_districts(), table, routes, paths, 500, lang=lang)


MAPS = {"coverage": coverage, "comparison": comparison}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("which", list(MAPS))
def test_the_maps_carry_leaflets_words_in_the_language(which, lang):
    words = labels("map", lang)
    controls = map_data(MAPS[which](lang).get_root().render())["controls"]
    assert controls == {"zoom_in": words["zoom_in"], "zoom_out": words["zoom_out"], "leaflet": words["leaflet_title"]}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("which", list(MAPS))
def test_zoom_buttons_and_credit_say_their_tooltips_in_the_pages_language(browser, tmp_path, which, lang):
    target = tmp_path / f"{which}_{lang}.html"
    target.write_text(maps.standalone_html(MAPS[which](lang)), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(target.as_uri())
    page.wait_for_function("() => document.querySelectorAll('.fp-legend').length == 1")
    said = page.evaluate(CONTROLS_JS)
    expected = {"zh": ("放大", "缩小", "Leaflet：开源的网页地图程序库"), "en": ("Zoom in", "Zoom out", None)}[lang]
    assert said["zoom_in"] == [expected[0]] * 2 and said["zoom_out"] == [expected[1]] * 2
    assert said["credit"] == labels("map", lang)["leaflet_title"]
    if expected[2] is not None:
        assert said["credit"] == expected[2]
    assert said["credit_text"] == "Leaflet"  # the credit itself is kept, only its tooltip is translated
    assert len(said["scale"]) == 1 and re.fullmatch(r"\d+ k?m", said["scale"][0]), said["scale"]  # no feet or miles
    assert foreign(page.evaluate(SEEN_TEXT_JS), lang) == set()  # no word of the other language is seen
    page.close()
