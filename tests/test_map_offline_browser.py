"""The coverage page in a real browser, offline (issue 13): a base map that cannot load says so on
the map, and choosing a district moves the map to that district's communities."""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest

from geo.config import DEFAULT_DATA_PATH
from geo.i18n import label, text
from geo.pipeline import load_city
from geo.render import maps
from tests.browser import COUNT_COMMUNITIES_JS, OUTPUT, map_frame, open_page, running_app

BOUNDS_JS = """() => {
  const map = Object.values(window).find(v => v && window.L && v instanceof window.L.Map);
  const b = map.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
}"""
DISTRICT = "450222"  # 柳城县: 60 communities in a county outline ~75 × 45 km


@pytest.fixture(scope="module")
def app_url():
    with running_app("map_offline.log") as (url, _):
        yield url


def choose(page, box: int, option: str) -> None:
    """Pick ``option`` in the page's ``box``-th select box (0: district, 2: base map)."""
    page.locator('[data-testid="stSelectbox"]').nth(box).click()
    page.get_by_role("option", name=option, exact=True).click()


def frame_with(page, communities: int, timeout_s: float = 60.0):
    """The map frame once it draws exactly ``communities`` communities (the old map may linger)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                if frame.evaluate(COUNT_COMMUNITIES_JS) == communities:
                    return frame
            except Exception:  # frames come and go while Streamlit renders
                continue
        time.sleep(0.2)
    raise AssertionError(f"no map with {communities} communities appeared")


def contains(outer, inner) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]


def area(bounds) -> float:
    return (bounds[2] - bounds[0]) * (bounds[3] - bounds[1])


def test_offline_base_map_says_so_and_a_district_moves_the_map(app_url, browser):
    city = load_city(DEFAULT_DATA_PATH)
    page, outside = open_page(browser, app_url)
    page.goto(app_url)
    frame = map_frame(page)
    assert frame.locator(".fp-base-note").count() == 0  # no base map: nothing to say
    whole = frame.evaluate(BOUNDS_JS)
    core = maps.community_extent(city.communities)
    assert contains(whole, core)
    # The urban core, not the prefecture (~1.6° × 2.1°): the view is a small part of its outline.
    assert area(whole) < area(city.districts.total_bounds) / 4

    choose(page, 2, text("base_osm", "zh"))
    frame = frame_with(page, len(city.communities))
    note = frame.locator(".fp-base-note")
    note.wait_for(state="visible", timeout=maps.BASE_NOTE_AFTER_MS + 20_000)
    assert note.inner_text() == label("map", "base_unavailable", "zh")
    box = note.bounding_box()
    assert box["width"] > 50 and box["height"] > 10  # on the map, readable

    name = city.districts.set_index("district_code").loc[DISTRICT, "district_name"]
    mine = city.communities[city.communities["district_code"] == DISTRICT]
    choose(page, 0, name)
    frame = frame_with(page, len(mine))
    district = frame.evaluate(BOUNDS_JS)
    assert district != whole
    assert contains(district, maps.community_extent(mine))
    outline = city.districts[city.districts["district_code"] == DISTRICT].total_bounds
    assert area(district) < area(outline) / 4  # the communities fill the view, not a speck in a corner
    frame.locator(".fp-base-note").wait_for(state="visible", timeout=maps.BASE_NOTE_AFTER_MS + 20_000)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "map_offline_district.png"), full_page=True)
    # The only requests that left the machine are the tiles asked for (and they failed).
    assert outside and {urlparse(address).hostname for address in outside} == {"tile.openstreetmap.org"}
    page.close()
