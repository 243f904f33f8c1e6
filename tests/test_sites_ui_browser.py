"""Public sites on the priority page's map, as Chromium draws it (issue 15): the sites, the picks on sites, the lines
to the communities they serve and the land-less outlines, with their legend rows, in both languages; offline.

Screenshots (tall page, and the map zoomed on a site pick) go to test-output/e2e/sites_priority_*.png.
"""

from __future__ import annotations

import time

import pytest

from geo.i18n import label, text
from tests.browser import OUTPUT, go_to, map_frame, open_page, running_app
from tests.browser import settle_on as settle

# What the map holds: legend rows, and Leaflet layers by kind (lines are polylines that are not polygons).
MAP_STATE_JS = """() => {
  const map = Object.values(window).find(v => v && window.L && v instanceof window.L.Map);
  const rows = [...document.querySelectorAll('.fp-legend-row')].map(r => [r.dataset.status, r.dataset.count]);
  let lines = 0, picks = [];
  map.eachLayer(layer => {
    const p = layer.feature && layer.feature.properties;
    if (!p) return;
    if (layer instanceof L.Polyline && !(layer instanceof L.Polygon) && p.line) lines += 1;
    if (layer instanceof L.CircleMarker && p.selected_program && p.site_name) picks.push(layer.getLatLng());
  });
  const overlays = [...document.querySelectorAll('.leaflet-control-layers-overlays label')]
    .map(l => l.textContent.trim());
  return {rows, lines, picks, overlays};
}"""

ZOOM_ON_FIRST_PICK_JS = """() => {
  const map = Object.values(window).find(v => v && window.L && v instanceof window.L.Map);
  let target = null;
  map.eachLayer(layer => {
    const p = layer.feature && layer.feature.properties;
    const pick = layer instanceof L.CircleMarker && p && p.selected_program && p.site_name;
    if (!target && pick) target = layer.getLatLng();
  });
  map.setView(target, 16, {animate: false});
  return [target.lat, target.lng];
}"""


@pytest.mark.slow
def test_the_priority_map_draws_sites_picks_lines_and_landless_in_both_languages(browser):
    with running_app("sites_priority.log") as (url, _):
        page, outside = open_page(browser, url)
        page.set_viewport_size({"width": 1400, "height": 4600})
        page.goto(url)
        settle(page, text("page_coverage", "zh"))
        for lang in ("zh", "en"):
            if lang == "en":
                page.get_by_text("English", exact=True).click()
                settle(page, text("page_coverage", "en"))
            frame = map_frame(page)
            state = frame.evaluate(MAP_STATE_JS)
            statuses = {status for status, _ in state["rows"]}
            assert {"sites_eligible", "sites_ineligible", "landless"} <= statuses  # the coverage page too
            for key in ("sites_eligible", "sites_ineligible", "landless"):
                assert label("map", key, lang) in state["overlays"]
            go_to(page, "priority", lang)
            frame = map_frame(page, 120)
            time.sleep(1.0)
            state = frame.evaluate(MAP_STATE_JS)
            counts = dict(state["rows"])
            assert {"sites_selected", "service_lines", "landless", "sites_eligible"} <= set(counts)
            assert int(counts["sites_selected"]) == len(state["picks"]) > 0
            assert int(counts["service_lines"]) == state["lines"] > 0
            for key in ("sites_selected", "service_lines", "landless", "sites_eligible", "sites_ineligible"):
                assert label("map", key, lang) in state["overlays"]
            page.screenshot(path=str(OUTPUT / f"sites_priority_{lang}.png"), full_page=True)
            frame.evaluate(ZOOM_ON_FIRST_PICK_JS)
            time.sleep(1.0)
            frame.frame_element().screenshot(path=str(OUTPUT / f"sites_priority_map_zoomed_{lang}.png"))
            if lang == "zh":
                go_to(page, "coverage", lang)
        assert outside == [], outside  # offline: nothing fetched from any other host
