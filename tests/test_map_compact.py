"""The map's compact data (geo/render/compact.py) and a large city's grid cells (coverage_map shapes_at_once)."""

from __future__ import annotations

import json
import re
import time

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, box

from geo.render import maps
from geo.render.compact import (
    QUANTUM_DEG,
    decode_column,
    decode_shapes,
    encode_column,
    encode_shapes,
    grid_cells,
    layer_features,
)
from tests import hostile
from tests.helpers import map_data


def test_shapes_round_trip_within_half_a_quantum():
    rng = np.random.default_rng(7)
    shapes = []
    for _ in range(50):
        x, y = 109.3 + rng.random() * 0.2, 24.2 + rng.random() * 0.2
        shapes.append(
            shapely.Polygon(np.column_stack([x + rng.random(6) * 1e-3, y + rng.random(6) * 1e-3])).convex_hull
        )
    holed = box(109.5, 24.5, 109.51, 24.51).difference(box(109.502, 24.502, 109.503, 24.503))
    shapes.append(MultiPolygon([holed, box(109.52, 24.5, 109.53, 24.51)]))
    encoded = encode_shapes(shapes)
    assert all(isinstance(v, int) for v in encoded["coords"])
    decoded = decode_shapes(json.loads(json.dumps(encoded)))
    assert len(decoded) == len(shapes)
    for before, after in zip(shapes, decoded):
        assert after.geom_type == before.geom_type
        a, b = shapely.get_coordinates(before), shapely.get_coordinates(after)
        assert a.shape == b.shape and np.abs(a - b).max() <= QUANTUM_DEG / 2 + 1e-12
    assert len(decoded[-1].geoms[0].interiors) == 1  # the hole kept


def test_the_closing_vertex_is_not_sent():
    encoded = encode_shapes([box(0, 0, 1e-3, 1e-3)], origin=(0.0, 0.0))
    assert encoded["rings"] == [4] and len(encoded["coords"]) == 8
    assert encoded["polys"] == [1] and encoded["parts"] == [1]
    assert np.cumsum(np.reshape(encoded["coords"], (-1, 2)), axis=0).tolist() == [
        [1000, 0],
        [1000, 1000],
        [0, 1000],
        [0, 0],
    ]


def test_only_polygons_are_encoded():
    with pytest.raises(ValueError, match="polygons"):
        encode_shapes([Point(0, 0)])


def test_text_columns_dictionary_encoded_when_shorter():
    repeated = ["城中区"] * 9 + ["鱼峰区"]
    assert encode_column(repeated) == {"values": ["城中区", "鱼峰区"], "codes": [0] * 9 + [1]}
    assert decode_column(encode_column(repeated)) == repeated
    distinct = ["a", "b", "c"]
    assert encode_column(distinct) == distinct and decode_column(distinct) == distinct


def test_grid_cells_count_every_point_once_per_status():
    lon = [0.5, 0.6, 1.5, 1.4, -0.5]
    lat = [0.5, 0.5, 0.5, 1.5, 0.2]
    codes = [0, 1, 1, 2, 0]
    grid = grid_cells(lon, lat, codes, 3, (1.0, 1.0), (-1.0, 0.0))
    assert sorted(map(tuple, grid["cells"])) == [(0, 0, 1, 0, 0), (1, 0, 1, 1, 0), (2, 0, 0, 1, 0), (2, 1, 0, 0, 1)]
    totals = np.sum([cell[2:] for cell in grid["cells"]], axis=0)
    assert totals.tolist() == np.bincount(codes, minlength=3).tolist()


@pytest.fixture
def city():
    districts = gpd.GeoDataFrame(
        {"district_code": ["450202"], "district_name": ["城中区"], "district_name_en": ["Chengzhong"]},
        geometry=[box(109.39, 24.29, 109.45, 24.35)],
        crs="EPSG:4326",
    )
    n = 60
    names = [hostile.ALL[i % len(hostile.ALL)] for i in range(n)]
    communities = gpd.GeoDataFrame(
        {
            "community_id": [f"C{i:03d}" for i in range(n)],
            "name": names,
            "district_name": "城中区",
            "population": 1000 + 10 * np.arange(n),
            "built_year": 1995,
            "n_sets_inside": [1 if i % 3 == 0 else 0 for i in range(n)],
            "nearest_set_m": 100.0,
            "served_inside": [i % 3 == 0 for i in range(n)],
            "served_within_radius": [i % 3 != 2 for i in range(n)],
        },
        geometry=[
            box(
                109.40 + 0.004 * (i % 10),
                24.30 + 0.004 * (i // 10),
                109.402 + 0.004 * (i % 10),
                24.302 + 0.004 * (i // 10),
            )
            for i in range(n)
        ],
        crs="EPSG:4326",
    )
    paths = gpd.GeoDataFrame({"path_id": ["P-1"], "name": ["一号"]}, geometry=[Point(109.401, 24.301)], crs="EPSG:4326")
    return districts, communities, paths


def test_a_small_city_is_drawn_whole(city):
    data = map_data(maps.coverage_map(*city).get_root().render())
    assert data["detail"] is None


def test_a_large_city_opens_on_cells_that_count_every_community(city):
    districts, communities, paths = city
    data = map_data(maps.coverage_map(districts, communities, paths, shapes_at_once=10).get_root().render())
    detail = data["detail"]
    assert detail["min_zoom"] == maps.SHAPES_MIN_ZOOM and detail["key"] == maps.GRID_LAYER
    legend = {row["status"]: row["count"] for row in data["legend"]["rows"]}
    assert legend == {"served_inside": 20, "served_within_radius": 20, "unserved": 20, "fitness_paths": 1}
    for level in detail["levels"]:
        totals = np.sum([cell[2:] for cell in level["cells"]], axis=0)
        assert dict(zip(detail["statuses"], totals.tolist())) == {k: legend[k] for k in detail["statuses"]}
    assert [detail["statuses"][code] for code in detail["served"]] == ["served_inside", "served_within_radius"]
    # The communities still travel whole (shapes drawn when zoomed in), names exact.
    names = {f["properties"]["community_id"]: f["properties"]["name"] for f in _community_features(data)}
    assert names == dict(zip(communities["community_id"], communities["name"]))


def test_hostile_names_stay_data_in_the_compact_layers(city):
    districts, communities, paths = city
    page = maps.coverage_map(districts, communities, paths, shapes_at_once=10).get_root().render()
    raw = re.search(r'<script type="application/json" id="fp-map-data-\w+">(.*?)</script>', page, re.S).group(1)
    assert "<" not in raw and "</script" not in raw.lower()
    assert "42" not in {f["properties"]["name"] for f in _community_features(map_data(page))}


def _community_features(data):
    return [f for layer in data["layers"] if "ids" in layer for f in layer_features(layer)]


CELL_TOOLTIP_JS = """() => {
  const map = Object.values(window).find(v => v && window.L && v instanceof window.L.Map);
  const out = [];
  map.eachLayer(layer => {
    if (layer instanceof L.Rectangle && layer.getTooltip()) {
      layer.openTooltip(layer.getBounds().getCenter());
      const element = layer.getTooltip().getElement();
      out.push([...element.querySelectorAll("tr")].map(tr => [tr.cells[0].textContent, tr.cells[1].textContent]));
      layer.closeTooltip();
    }
  });
  return out;
}"""


def test_browser_cells_at_low_zoom_shapes_in_view_when_zoomed(browser, city, tmp_path):
    districts, communities, paths = city
    target = tmp_path / "map.html"
    m = maps.coverage_map(districts, communities, paths, lang="en", shapes_at_once=10, shapes_min_zoom=18)
    target.write_text(maps.standalone_html(m), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(target.as_uri())
    page.wait_for_function("() => window.__mapStats && window.__mapStats.drawn_ms > 0")
    time.sleep(0.3)  # the map is fitted to the communities (zoom 15 here) after the first drawing
    stats = page.evaluate("() => window.__mapStats")
    assert stats["mode"] == "cells" and stats["shapes"] == 1 and stats["communities"] == 60  # the district only
    tips = page.evaluate(CELL_TOOLTIP_JS)
    assert sum(int(rows[0][1]) for rows in tips) == 60
    assert all(rows[0][0] == "Communities" and rows[1][0] == "Share served" for rows in tips)
    page.evaluate(
        """() => { const map = Object.values(window).find(v => v && window.L && v instanceof window.L.Map);
                   map.setView([24.301, 109.401], 18, {animate: false}); }"""
    )
    page.wait_for_function("() => window.__mapStats.mode === 'shapes' && window.__mapStats.zoom === 18")
    stats = page.evaluate("() => window.__mapStats")
    assert stats["cells"] == 0 and 1 < stats["shapes"] < 61  # some communities, those in view
    names = page.evaluate(
        """() => { const map = Object.values(window).find(v => v && window.L && v instanceof window.L.Map);
                   const out = [];
                   map.eachLayer(l => { const p = l.feature && l.feature.properties;
                     if (p && p.community_id && l instanceof L.Polygon) {
                       l.openTooltip(l.getBounds().getCenter());
                       out.push(l.getTooltip().getElement().querySelector("td").textContent);
                       l.closeTooltip(); } });
                   return out; }"""
    )
    assert names and set(names) <= set(hostile.ALL)
    assert dialogs == []
    page.close()
