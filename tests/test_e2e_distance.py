"""Distance on foot in a real browser (issue 16): switching the sidebar's distance to 步行距离（沿道路） changes the
coverage map (its legend's counts) and the headline, in both languages, offline.

The city is the bundled sample with its synthetic street network (the Liu River crossed only at bridges), copied
to a temporary folder (the app's store is made beside it, not in the repository); the expected counts are the pipeline's
(:func:`geo.pipeline.coverage_report`) for each distance. The service standard is ``walk`` (a set within the
walk radius serves: the 15-minute circle), under which the map colours communities by the distance chosen.
Screenshots go to ``test-output/e2e/``.
"""

from __future__ import annotations

import shutil
import time

import pytest

from geo.config import DEFAULT_CONFIG_PATH, DEFAULT_DATA_PATH, load_config
from geo.i18n import label, text
from geo.pipeline import coverage_report, load_city
from tests.browser import OUTPUT, map_frame, open_page, running_app, settle_run, whole_page_shot

# A map's legend rows by status, with their counts, and its title (the map draws it with textContent); the
# coverage map's has a served_inside row, the comparison map's a walk_lost row.
LEGEND_JS = """(status) => {
  const legend = document.querySelector('.fp-legend');
  if (!legend || !legend.querySelector(`.fp-legend-row[data-status="${status}"]`)) return null;
  const rows = {};
  legend.querySelectorAll('.fp-legend-row').forEach(row => { rows[row.dataset.status] = Number(row.dataset.count); });
  return {title: legend.querySelector('.fp-legend-title').textContent, rows: rows};
}"""


# On the comparison map: the longest walk drawn (a route: a line with the set walked to), the map centred on its
# middle vertex at zoom 16 (clear of the controls and of the clustered sets), where that lies in the map's frame
# (CSS pixels) and what its tooltip will say.
ROUTE_POINT_JS = """() => {
  const map = Object.values(window).find(v => v && window.L && v instanceof window.L.Map);
  if (!map) return null;
  let best = null;
  map.eachLayer(layer => {
    const p = layer.feature && layer.feature.properties;
    if (!p || p.walk_nearest_set === undefined || !(layer instanceof L.Polyline) || layer instanceof L.Polygon) return;
    const length = Number(String(p.walk_on_foot_m).replace(/,/g, ''));
    if (!best || length > best.length) best = {layer: layer, length: length, name: p.name, on_foot: p.walk_on_foot_m};
  });
  if (!best) return null;
  const points = best.layer.getLatLngs();
  const middle = points[Math.floor(points.length / 2)];
  map.setView(middle, 16, {animate: false});
  const at = map.latLngToContainerPoint(middle);
  const box = map.getContainer().getBoundingClientRect();
  return {x: box.left + at.x, y: box.top + at.y, length: best.length, name: best.name, on_foot: best.on_foot};
}"""


@pytest.fixture(scope="module")
def city_with_roads(tmp_path_factory):
    """A copy of the sample city file (with its roads layer), and the pipeline's coverage per distance."""
    config = load_config()
    path = tmp_path_factory.mktemp("city") / DEFAULT_DATA_PATH.name
    shutil.copy(DEFAULT_DATA_PATH, path)
    city = load_city(path)
    assert city.roads is not None and len(city.roads)
    expected = {
        distance: coverage_report(city, config.walk_radius_m, distance).communities
        for distance in ("straight", "network")
    }
    return path, expected


@pytest.fixture(scope="module")
def app_url(city_with_roads, tmp_path_factory):
    """The app on the city with roads, under the walk standard (config.toml otherwise as it is)."""
    path, _ = city_with_roads
    config = tmp_path_factory.mktemp("config") / "config.toml"
    said = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    assert said.count('standard = "inside"') == 1
    config.write_text(said.replace('standard = "inside"', 'standard = "walk"'), encoding="utf-8")
    env = {"PLANNER_DATA": str(path), "PLANNER_CONFIG": str(config)}
    with running_app("streamlit_distance.log", env=env) as (url, _):
        yield url


def legend(page, before: dict | None = None, timeout_s: float = 60.0, status: str = "served_inside") -> dict:
    """The legend of the map with a ``status`` row (default: the coverage map) once drawn (and, given ``before``,
    once it differs from it)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                found = frame.evaluate(LEGEND_JS, status)
            except Exception:  # frames come and go while Streamlit renders
                continue
            if found and found != before:
                return found
        time.sleep(0.3)
    raise AssertionError(f"the map's legend did not change from {before}")


def headline(page, lang: str) -> int:
    """The page's served-within-radius figure (the standard's own under the walk standard)."""
    label = text("metric_served_within_radius", lang)
    metric = page.locator('[data-testid="stMetric"]', has_text=label).first
    return int(metric.locator('[data-testid="stMetricValue"]').inner_text().replace(",", ""))


def within_not_inside(communities) -> int:
    """The map's 'within the walk radius' status under the walk standard: served within it, no set inside."""
    return int((communities["served_within_radius"] & ~communities["served_inside"]).sum())


def comparison_frame(page, timeout_s: float = 60.0):
    """The frame of the comparison map (its legend has a 'lost on foot' row)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                if frame.evaluate(LEGEND_JS, "walk_lost"):
                    return frame
            except Exception:  # frames come and go while Streamlit renders
                continue
        time.sleep(0.3)
    raise AssertionError("no comparison map")


def comparison_frames(page) -> int:
    """How many frames of the page hold a comparison map (a legend with a 'lost on foot' row)."""
    count = 0
    for frame in page.frames:
        try:
            count += bool(frame.evaluate(LEGEND_JS, "walk_lost"))
        except Exception:  # frames come and go while Streamlit renders
            continue
    return count


def choose(page, option: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(option, exact=True).click()
    settle_run(page)


def test_switching_to_on_foot_changes_the_map_and_the_counts(app_url, browser, city_with_roads):
    _, expected = city_with_roads
    straight, on_foot = (int(expected[d]["served_within_radius"].sum()) for d in ("straight", "network"))
    assert on_foot < straight  # the river: sets across it no longer count
    page, outside = open_page(browser, app_url)
    page.goto(app_url)
    map_frame(page)
    drawn = legend(page)
    assert headline(page, "zh") == straight
    assert drawn["rows"]["served_within_radius"] == within_not_inside(expected["straight"])
    assert drawn["title"] == label("map", "legend_title_straight", "zh", radius="500")
    assert page.get_by_text("距离：直线距离", exact=False).first.is_visible()
    # The comparison below: the communities served in a straight line but not on foot, on their own map (shown
    # on demand: it carries the streets and every walk).
    assert page.get_by_text("直线距离与步行距离对比").first.is_visible()
    time.sleep(0.5)
    assert comparison_frames(page) == 0
    page.get_by_text(text("compare_map_toggle", "zh")).click()
    lost = int((expected["straight"]["served_within_radius"] & ~expected["network"]["served_within_radius"]).sum())
    assert legend(page, status="walk_lost")["rows"]["walk_lost"] == lost
    # Hovering a walk names the community and says both distances and the set walked to.
    frame = comparison_frame(page)
    frame.frame_element().scroll_into_view_if_needed()
    time.sleep(1.0)
    route = frame.evaluate(ROUTE_POINT_JS)
    assert route is not None and route["length"] > 500
    time.sleep(1.0)  # the canvas redrawn at the new view
    offset = frame.frame_element().bounding_box()
    page.mouse.move(offset["x"] + route["x"], offset["y"] + route["y"])
    tooltip = frame.locator(".leaflet-tooltip").first
    tooltip.wait_for(timeout=10_000)
    said = tooltip.inner_text()
    assert route["name"] in said and route["on_foot"] in said, said
    assert label("map", "walk_on_foot_m", "zh") in said and label("map", "walk_nearest_set", "zh") in said, said
    page.screenshot(path=str(OUTPUT / "distance_route_tooltip_zh.png"))
    page.mouse.move(5, 5)
    whole_page_shot(page, "distance_straight_zh.png")

    choose(page, text("distance_option_network", "zh"))
    walked = legend(page, drawn)
    assert headline(page, "zh") == on_foot
    assert walked["rows"]["served_within_radius"] == within_not_inside(expected["network"])
    assert walked["rows"]["served_inside"] == drawn["rows"]["served_inside"]  # a set inside is inside either way
    assert "步行，沿道路" in walked["title"]
    assert page.get_by_text("距离：步行距离（沿道路）", exact=False).first.is_visible()
    whole_page_shot(page, "distance_on_foot_zh.png")

    # English: the choice is kept; the headline, the caption and the map say on foot.
    page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
    page.locator("h1", has_text=text("page_coverage", "en")).wait_for(timeout=60_000)
    settle_run(page)
    english = legend(page, walked)
    assert headline(page, "en") == on_foot
    assert english["rows"]["served_within_radius"] == within_not_inside(expected["network"])
    assert "on foot" in english["title"]
    assert page.get_by_text("Distance: on foot along roads", exact=False).first.is_visible()
    whole_page_shot(page, "distance_on_foot_en.png")

    choose(page, text("distance_option_straight", "en"))
    back = legend(page, english)
    assert headline(page, "en") == straight
    assert back["rows"]["served_within_radius"] == within_not_inside(expected["straight"])
    whole_page_shot(page, "distance_straight_en.png")
    assert outside == [], f"requests left the machine: {outside[:5]}"
    page.close()
    assert (OUTPUT / "distance_on_foot_zh.png").exists()
