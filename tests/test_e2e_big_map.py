"""A 100,000-community city in the app's coverage map (issue 17): grid cells at first, full shapes when zoomed in.

The city is generated in the test session (geo.data.sample.generate_sample, as benchmarks/bench_pipeline.py
does; about 10 s, cached per session under pytest's tmp dir), written to a GeoPackage and served by the app
with ``PLANNER_DATA``. The map reports what it drew in ``window.__mapStats`` (geo/render/maps.py).
"""

from __future__ import annotations

import time

import pytest

from geo.config import BOUNDARIES_PATH, load_config
from geo.data.gpkg import write_layers
from geo.data.io import read_districts
from geo.data.sample import generate_sample
from geo.i18n import label, text
from geo.render import maps
from tests.browser import OUTPUT, open_page, running_app

N_COMMUNITIES = 100_000

STATUSES = {*maps.ELIGIBILITY_STATUSES, maps.TO_SURVEY_STATUS}  # the communities, one status each
STATS_JS = "() => window.__mapStats || null"


@pytest.fixture(scope="session")
def city_100k(tmp_path_factory):
    path = tmp_path_factory.mktemp("city100k") / "city100k.gpkg"
    layers = generate_sample(
        read_districts(BOUNDARIES_PATH), n_communities=N_COMMUNITIES, seed=load_config().sample_seed
    )
    write_layers(path, layers)
    return path


def map_stats(page, timeout_s: float = 120.0, lang: str | None = None):
    """The coverage map's frame and its ``__mapStats`` once it has drawn (in ``lang``'s legend, when given)."""
    word = None if lang is None else label("map", "served_inside", lang)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                stats = frame.evaluate(STATS_JS)
            except Exception:  # frames come and go while Streamlit renders
                continue
            if stats and stats.get("drawn_ms") and stats["communities"] == N_COMMUNITIES:
                legend = frame.evaluate("() => document.querySelector('.fp-legend')?.textContent || ''")
                if word is None or word in legend:
                    return frame, stats
        page.wait_for_timeout(200)
    raise AssertionError("the 100k city's map did not draw")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_100k_city_map_draws_cells_then_shapes_when_zoomed(browser, city_100k, tmp_path, lang):
    env = {"PLANNER_DATA": str(city_100k), "PLANNER_DB_URL": f"sqlite:///{tmp_path / 'store.sqlite'}"}
    with running_app(f"big_map_{lang}.log", env=env) as (url, _):
        page, outside = open_page(browser, url)
        page.goto(url)
        if lang == "en":
            map_stats(page)
            page.get_by_text("English", exact=True).click()
            page.locator("h1", has_text=text("page_coverage", "en")).wait_for(timeout=120_000)
            time.sleep(1.0)
        frame, stats = map_stats(page, lang=lang)
        # Opened on cells: every community in a cell, no community shape drawn (the districts are 10 shapes).
        assert stats["mode"] == "cells" and stats["cells"] > 0
        legend = frame.evaluate(
            "() => [...document.querySelectorAll('.fp-legend-row')].map(r => [r.dataset.status, +r.dataset.count])"
        )
        counted = sum(count for status, count in legend if status in STATUSES)
        assert counted == N_COMMUNITIES  # the legend counts the whole city
        frame.locator(".leaflet-container").first.screenshot(path=str(OUTPUT / f"i17_100k_low_{lang}.png"))

        # Zoom into the densest cell: shapes, only those in view.
        frame.evaluate(
            """() => {
              const map = Object.values(window).find(v => v && window.L && v instanceof window.L.Map);
              const level = JSON.parse(document.querySelector('script[type="application/json"]').textContent)
                .detail.levels[0];
              const top = level.cells.reduce((a, c) => (c.slice(2).reduce((s, x) => s + x, 0) >
                                                        a.slice(2).reduce((s, x) => s + x, 0) ? c : a));
              const lon = level.origin[0] + (top[0] + 0.5) * level.size[0];
              const lat = level.origin[1] + (top[1] + 0.5) * level.size[1];
              map.setView([lat, lon], 16, {animate: false});
            }"""
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stats = frame.evaluate(STATS_JS)
            if stats["mode"] == "shapes" and stats["shapes"] > 10:
                break
            time.sleep(0.2)
        assert stats["mode"] == "shapes" and stats["cells"] == 0
        assert 10 < stats["shapes"] < N_COMMUNITIES / 4  # some communities drawn in full, not the city
        frame.locator(".leaflet-container").first.screenshot(path=str(OUTPUT / f"i17_100k_high_{lang}.png"))
        assert outside == []  # offline: everything served by the app
        page.close()
