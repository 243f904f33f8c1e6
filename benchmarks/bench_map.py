"""Benchmark the coverage map: where its cold start goes (server, payload, browser), for the sample or a big city.

Run from the repository: ``.venv/bin/python -m benchmarks.bench_map [--runs 5] [--data city.gpkg] [--app]``
(needs Debian's ``chromium`` and ``playwright``; the browser helpers come from ``tests.browser``).
Prints one line per figure and, last, one JSON line of medians.

* ``load_s``, ``score_s`` — reading the city and its coverage + eligibility + priority (a fresh process each run).
* ``build_s`` — :func:`geo.render.maps.coverage_map` and rendering its HTML, cold (a fresh process each run).
* ``html_bytes``, ``json_bytes`` — the map page and its one JSON data element (``[map] shapes_at_once`` in force).
* ``browser_parsed_ms``, ``browser_drawn_ms`` — in a fresh headless Chromium page opening the map as one file
  (scripts inlined, :func:`~geo.render.maps.standalone_html`): the page's ``performance`` marks
  ``fp-data-parsed`` (data read), ``fp-layers-drawn`` (every layer drawn) and ``fp-sets-drawn`` (the fitness
  paths added to their cluster, after the layers), from navigation start; ``browser_first_frame_ms``: the first
  animation frame after them (the canvas painted: the first view a user sees).
  ``svg_drawn_ms``: the same page with Leaflet's SVG renderer instead of canvas (``preferCanvas`` false).
* ``zoom_in_ms`` (a large city only) — from ``setView`` at zoom 16 on the densest cell to its shapes drawn;
  ``pan_ms`` — one pan of half a screen at that zoom (shapes in view replaced).
* With ``--app``: ``app_cold_start_s`` — a freshly started server (``scripts/serve.py``), from ``page.goto`` to
  the map drawn (``window.__mapStats``), and where it went: ``app_iframe_at_s`` (the map's frame created:
  Streamlit's page load and the server's run up to the map) and ``app_iframe_drawn_s`` (in the frame: assets
  loaded, data parsed, layers drawn); ``app_warm_s``: then a second page on that server (another session: the
  map's HTML from the shared cache).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_BUILD = r"""
import json, re, sys, time
start = time.perf_counter()
from geo.config import load_config
from geo.pipeline import load_city
from geo.analysis.coverage import community_coverage
from geo.analysis.priority import landless
from geo.plan import score_covered
from geo.render.maps import coverage_map, standalone_html
config = load_config()
t = time.perf_counter(); city = load_city(sys.argv[1]); load_s = time.perf_counter() - t
t = time.perf_counter()
covered = community_coverage(city.communities, city.fitness_paths, config.walk_radius_m)
scored = score_covered(covered, config, city.applications)
score_s = time.perf_counter() - t
t = time.perf_counter()
m = coverage_map(city.districts, scored, city.fitness_paths, lang="zh",
                 landless_ids=scored.loc[landless(scored), "community_id"].astype(str).tolist(),
                 distance="straight", walk_radius_m=config.walk_radius_m,
                 shapes_at_once=config.map_shapes_at_once, shapes_min_zoom=config.map_shapes_min_zoom)
html = m.get_root().render()
build_s = time.perf_counter() - t
data = re.search(r'<script type="application/json" id="fp-map-data-\w+">(.*?)</script>', html, re.S).group(1)
if len(sys.argv) > 2:
    Path = __import__("pathlib").Path
    Path(sys.argv[2]).write_text(standalone_html(m), encoding="utf-8")
print(json.dumps({"load_s": load_s, "score_s": score_s, "build_s": build_s,
                  "html_bytes": len(html.encode()), "json_bytes": len(data.encode()),
                  "communities": len(scored)}))
"""

STATS_JS = "() => window.__mapStats || null"
MAP_JS = "Object.values(window).find(v => v && window.L && v instanceof window.L.Map)"


def build_once(data: Path, page: Path | None = None) -> dict:
    """One fresh process: read, score and build the map; optionally write the standalone page."""
    args = [sys.executable, "-c", _BUILD, str(data)] + ([str(page)] if page else [])
    out = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def browser_once(browser, url: str, big: bool) -> dict:
    """A fresh page opening the standalone map: its performance marks (and, for a big city, a zoom and a pan)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_function("() => window.__mapStats && window.__mapStats.first_frame_ms > 0", timeout=120_000)
    marks = page.evaluate(
        "() => Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, m.startTime]))"
    )
    result = {
        "browser_parsed_ms": marks["fp-data-parsed"],
        "browser_drawn_ms": marks["fp-layers-drawn"],
        "browser_sets_drawn_ms": marks["fp-sets-drawn"],
        "browser_first_frame_ms": page.evaluate("() => window.__mapStats.first_frame_ms"),
    }
    if big:
        result["zoom_in_ms"] = page.evaluate(
            f"""() => {{
              const map = {MAP_JS};
              const level = JSON.parse(document.querySelector('script[type="application/json"]').textContent)
                .detail.levels[0];
              const sum = c => c.slice(2).reduce((s, x) => s + x, 0);
              const top = level.cells.reduce((a, c) => (sum(c) > sum(a) ? c : a));
              const start = performance.now();
              map.setView([level.origin[1] + (top[1] + 0.5) * level.size[1],
                           level.origin[0] + (top[0] + 0.5) * level.size[0]], 16, {{animate: false}});
              return new Promise(r => requestAnimationFrame(() => r(performance.now() - start)));
            }}"""
        )
        result["shapes_in_view"] = page.evaluate(STATS_JS)["shapes"]
        result["pan_ms"] = page.evaluate(
            f"""() => {{ const map = {MAP_JS}; const start = performance.now();
              map.panBy([700, 0], {{animate: false}});
              return new Promise(r => requestAnimationFrame(() => r(performance.now() - start))); }}"""
        )
    page.close()
    return result


def app_once(browser, data: Path | None) -> dict:
    """A freshly started server: page.goto to the coverage map drawn, and where the time went."""
    from benchmarks.bench_app import free_port, start_server  # the server as bench_app starts it

    with tempfile.TemporaryDirectory() as store:
        port = free_port()
        server = start_server(port, data, Path(store))
        try:
            cold = open_map(browser, port)
            warm = open_map(browser, port)  # another session: the map's HTML from the shared cache
            return {**cold, "app_warm_s": warm["app_cold_start_s"]}
        finally:
            server.terminate()
            server.wait(timeout=20)


def open_map(browser, port: int) -> dict:
    """A new page on the app: from ``page.goto`` to the coverage map drawn, and where the time went."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    start = time.perf_counter()
    page.goto(f"http://localhost:{port}/")
    frame = None
    deadline = time.monotonic() + 180
    while frame is None and time.monotonic() < deadline:
        for candidate in page.frames[1:]:
            try:
                stats = candidate.evaluate(STATS_JS)
            except Exception:  # frames come and go while Streamlit renders
                continue
            if stats and stats.get("drawn_ms") and stats.get("communities"):
                frame = candidate
                break
        page.wait_for_timeout(10)  # lets Playwright take in the frames Streamlit adds
    elapsed = time.perf_counter() - start
    if frame is None:
        raise SystemExit("the map was not drawn")
    main_origin = page.evaluate("() => performance.timeOrigin")
    frame_origin, drawn = frame.evaluate("() => [performance.timeOrigin, window.__mapStats.drawn_ms]")
    page.close()
    return {
        "app_cold_start_s": elapsed,
        "app_iframe_at_s": (frame_origin - main_origin) / 1000,
        "app_iframe_drawn_s": drawn / 1000,
    }


def median(rows: list[dict]) -> dict:
    return {key: round(statistics.median(row[key] for row in rows), 3) for key in rows[0]}


def main() -> None:
    from geo.config import DEFAULT_DATA_PATH
    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data", type=Path, default=None, help="a city GeoPackage (default: the sample)")
    parser.add_argument("--app", action="store_true", help="also measure the app's cold start (fresh servers)")
    args = parser.parse_args()
    data = args.data or DEFAULT_DATA_PATH
    if CHROMIUM is None:
        raise SystemExit("needs Debian's chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        page_file = Path(folder) / "map.html"
        builds = [build_once(data, page_file if i == 0 else None) for i in range(args.runs)]
        result = median(builds)
        print("server:", json.dumps(result), flush=True)
        big = result["communities"] > 20_000
        svg_file = Path(folder) / "map_svg.html"
        svg_file.write_text(
            page_file.read_text(encoding="utf-8").replace('"preferCanvas": true', '"preferCanvas": false'),
            encoding="utf-8",
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = median([browser_once(browser, page_file.as_uri(), big) for _ in range(args.runs)])
            print("browser (canvas):", json.dumps(pages), flush=True)
            result.update(pages)
            svg = median([browser_once(browser, svg_file.as_uri(), False) for _ in range(args.runs)])
            print("browser (svg):", json.dumps(svg), flush=True)
            result["svg_drawn_ms"] = svg["browser_drawn_ms"]
            if args.app:
                runs = []
                for i in range(args.runs):
                    runs.append(app_once(browser, args.data))
                    print(f"app run {i + 1}:", json.dumps({k: round(v, 3) for k, v in runs[-1].items()}), flush=True)
                result.update(median(runs))
            browser.close()
    load = os.getloadavg()[0]
    print(json.dumps({"benchmark": "map", "data": str(data), "runs": args.runs, "load_avg_1min": load, **result}))


if __name__ == "__main__":
    main()
