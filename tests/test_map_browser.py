"""The coverage map as a browser draws it (standalone page from disk, no server): tooltips readable and text-only."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo.render import maps
from tests import hostile

OPEN_TOOLTIPS_JS = """() => {
  const map = Object.values(window).find(v => v && window.L && v instanceof window.L.Map);
  const out = {};
  map.eachLayer(layer => {
    const p = layer.feature && layer.feature.properties;
    if (p && p.community_id && layer instanceof L.Polygon) {
      layer.openTooltip(layer.getBounds().getCenter());
      const element = layer.getTooltip().getElement();
      const box = element.getBoundingClientRect();
      out[p.community_id] = {width: box.width, height: box.height, text: element.querySelector("td").textContent,
                             markup: element.querySelectorAll("td *:not(.fp-value)").length};
      layer.closeTooltip();
    }
  });
  return out;
}"""


@pytest.fixture
def page_file(tmp_path):
    long_name = "很长的小区名称" * 43  # 301 characters
    districts = gpd.GeoDataFrame(
        {"district_code": ["450202"], "district_name": ["城中区"], "district_name_en": ["Chengzhong"]},
        geometry=[box(109.40, 24.30, 109.44, 24.34)],
        crs="EPSG:4326",
    )
    names = ["柳南新村", long_name, hostile.MARKUP[1], hostile.TEMPLATE[1]]
    communities = gpd.GeoDataFrame(
        {
            "community_id": ["A", "B", "C", "D"],
            "name": names,
            "district_name": "城中区",
            "population": 1200,
            "built_year": 1995,
            "n_sets_inside": 0,
            "nearest_set_m": 320.0,
            "served_inside": False,
            "served_within_radius": False,
        },
        geometry=[box(109.401 + 0.01 * i, 24.301, 109.405 + 0.01 * i, 24.305) for i in range(4)],
        crs="EPSG:4326",
    )
    paths = gpd.GeoDataFrame({"path_id": ["P-1"], "name": ["一号"]}, geometry=[Point(109.43, 24.33)], crs="EPSG:4326")
    target = tmp_path / "map.html"
    target.write_text(maps.standalone_html(maps.coverage_map(districts, communities, paths)), encoding="utf-8")
    return target, dict(zip("ABCD", names))


def test_tooltips_are_readable_and_hold_text_only(browser, page_file):
    """Regression: CJK text may break after any character, and the tooltips shrank to one character a line."""
    target, names = page_file
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(target.as_uri())
    page.wait_for_function("() => document.querySelectorAll('.fp-legend').length == 1")
    tips = page.evaluate(OPEN_TOOLTIPS_JS)
    assert {cid: tip["text"] for cid, tip in tips.items()} == names
    assert all(tip["markup"] == 0 for tip in tips.values())  # no element made of a name
    normal = tips["A"]
    assert 180 <= normal["width"] <= 500 and normal["height"] <= 260, normal
    long = tips["B"]
    assert long["width"] <= 700 and long["height"] <= 500, long  # wrapped at ~28em, not one character a line
    assert dialogs == []
    page.close()
