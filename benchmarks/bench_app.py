"""Benchmark the app in headless Chromium: cold start to the map drawn, and a weight change to the new list.

Run from the repository: ``.venv/bin/python -m benchmarks.bench_app [--runs 3]`` (needs Debian's
``chromium`` and the ``playwright`` package; the browser helpers come from ``tests.browser``).
Each run starts a fresh server (``python -m streamlit run app.py``, as ``make run`` does), so
caches are cold. Prints a line per run and, last, one JSON line of medians.

* ``cold_start_s`` — from ``page.goto`` on a freshly started server to all 2,500 community
  polygons drawn by Leaflet in the map iframe.
* ``first_weight_change_s`` — on the Priority & budget page, once its first run has finished
  (map drawn), from setting a weight slider with the keyboard (population weight 25 → 0) to the
  new residents-newly-served figure shown: the first change after the page opened.
* ``weight_change_s`` — the median of the next three changes (0 → 50 → 45 → 44), each a weight
  not seen before, so nothing comes from the cache.
* ``weight_change_compute_s`` — the same change measured in-process: eligibility + priority +
  both programmes on cached coverage (what the server does for that rerun).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.browser import CHROMIUM, CHROMIUM_ARGS, COUNT_COMMUNITIES_JS

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "scripts/serve.py", "--server.port", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2).status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("server did not start")


def wait_for_map(page, expected: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                if frame.evaluate(COUNT_COMMUNITIES_JS) >= expected:
                    return
            except Exception:  # frames are replaced while the page renders
                continue
        time.sleep(0.02)
    raise SystemExit("map not drawn")


def newly_served_text(page) -> str:
    return page.locator('[data-testid="stMetricValue"]').nth(2).inner_text()


def one_run(browser) -> dict:
    port = free_port()
    server = start_server(port)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        start = time.perf_counter()
        page.goto(f"http://localhost:{port}/")
        wait_for_map(page, 2500)
        cold = time.perf_counter() - start

        page.goto(f"http://localhost:{port}/priority")
        page.locator('[data-testid="stMetricValue"]').nth(2).wait_for(timeout=60_000)
        wait_for_map(page, 2500)  # the page's first run has finished (its map is drawn)
        page.get_by_text("优先得分权重").click()
        slider = page.get_by_role("slider").first
        slider.wait_for(timeout=30_000)
        changes = []
        # Home: 25 → 0, End: 0 → 50, PageDown: 50 → 45, ArrowLeft: 45 → 44 — each a new, uncached weight.
        for key in ("Home", "End", "PageDown", "ArrowLeft"):
            before = newly_served_text(page)
            slider.focus()
            start = time.perf_counter()
            page.keyboard.press(key)
            deadline = time.monotonic() + 30
            while newly_served_text(page) == before and time.monotonic() < deadline:
                time.sleep(0.005)
            changes.append(time.perf_counter() - start)
            time.sleep(2.0)  # let the rest of the page (comparison, map) finish before the next change
        page.close()
        return {
            "cold_start_s": cold,
            "first_weight_change_s": changes[0],
            "weight_change_s": statistics.median(changes[1:]),
        }
    finally:
        server.terminate()
        server.wait(timeout=20)


def compute_only() -> float:
    """In-process: a weight change with coverage cached, as the app's rerun does."""
    from geo.analysis.coverage import community_coverage
    from geo.config import DEFAULT_DATA_PATH, load_config, with_overrides
    from geo.pipeline import load_city
    from geo.plan import run_plan

    city = load_city(DEFAULT_DATA_PATH)
    config = load_config()
    covered = community_coverage(city.communities, city.fitness_paths, config.walk_radius_m)
    weights = dict(config.priority_weights, population=0.0)
    start = time.perf_counter()
    run_plan(
        city.communities,
        city.fitness_paths,
        with_overrides(config, weights=weights),
        ["city", "region"],
        "rank",
        city.applications,
        covered=covered,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if CHROMIUM is None:
        raise SystemExit("needs Debian's chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for i in range(args.runs):
            result = one_run(browser)
            print(f"run {i + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in result.items()), flush=True)
            runs.append(result)
        browser.close()
    compute = [compute_only() for _ in range(args.runs)]
    medians = {key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]}
    medians["weight_change_compute_s"] = round(statistics.median(compute), 3)
    print(json.dumps({"benchmark": "app", "runs": args.runs, **medians}))


if __name__ == "__main__":
    main()
