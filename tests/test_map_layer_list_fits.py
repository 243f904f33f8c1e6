"""On a short map the layer list (top right) scrolls above the legend (bottom right) instead of running under it
(issue 16 review: the priority page's 560 px map with a plan has 12 layers and a 12-row legend; the legend hid
the last two layer switches, 本次计划选中的公共场地 and 健身路径, so they could not be clicked). Drawn from disk in
headless Chromium at several heights."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo.render import maps

BOXES_JS = """() => {
  const list = document.querySelector('.leaflet-control-layers-expanded');
  const key = document.querySelector('.fp-legend');
  const a = list.getBoundingClientRect(), b = key.getBoundingClientRect();
  const last = [...list.querySelectorAll('label')].pop();
  last.scrollIntoView({block: 'nearest'});
  const c = last.getBoundingClientRect();
  return {list_bottom: a.bottom, legend_top: b.top, scrolls: list.scrollHeight > list.clientHeight,
          last_reachable: c.bottom <= b.top, last_text: last.textContent.trim()};
}"""


@pytest.fixture
def map_file(tmp_path):
    districts = gpd.GeoDataFrame(
        {"district_code": ["450202"], "district_name": ["城中区"], "district_name_en": ["Chengzhong"]},
        geometry=[box(109.40, 24.30, 109.48, 24.34)],
        crs="EPSG:4326",
    )
    n = 6
    communities = gpd.GeoDataFrame(
        {
            "community_id": [f"C{i}" for i in range(n)],
            "name": [f"小区{i}" for i in range(n)],
            "district_name": "城中区",
            "population": 1200,
            "built_year": 1995,
            "n_sets_inside": [1, 0, 0, 0, 0, 0],
            "nearest_set_m": [0.0, 300.0, 900.0, 900.0, 900.0, 900.0],
            "served_inside": [True, False, False, False, False, False],
            "served_within_radius": [True, True, False, False, False, False],
            "eligible": [False, False, True, False, True, False],
            "needs_land_solution": [False, False, False, True, False, False],
        },
        geometry=[box(109.401 + 0.01 * i, 24.301, 109.405 + 0.01 * i, 24.305) for i in range(n)],
        crs="EPSG:4326",
    )
    paths = gpd.GeoDataFrame({"path_id": ["P-1"], "name": ["一号"]}, geometry=[Point(109.403, 24.303)], crs="EPSG:4326")
    target = tmp_path / "map.html"
    target.write_text(maps.standalone_html(maps.coverage_map(districts, communities, paths)), encoding="utf-8")
    return target


@pytest.mark.parametrize("height", [260, 320, 900])
def test_the_layer_list_ends_above_the_legend_and_its_last_switch_can_be_reached(browser, map_file, height):
    page = browser.new_page(viewport={"width": 1000, "height": height})
    page.goto(map_file.as_uri())
    page.wait_for_function("() => document.querySelectorAll('.fp-legend').length == 1")
    page.wait_for_timeout(300)
    said = page.evaluate(BOXES_JS)
    assert said["list_bottom"] <= said["legend_top"], said
    assert said["last_reachable"] and said["last_text"] == "健身路径", said
    assert said["scrolls"] == (height < 900), said  # a tall map leaves the list as it is
    page.close()
