"""Benchmark the app in headless Chromium: cold start to the first view, a weight change to the new list, memory.

Run from the repository: ``.venv/bin/python -m benchmarks.bench_app [--runs 3] [--communities 100000
--data /tmp/city100k.gpkg]`` (needs Debian's ``chromium`` and the ``playwright`` package; the browser helpers
come from ``tests.browser``). Each run starts a fresh server (``python scripts/serve.py``, as ``make run``
does), so caches are cold. ``--communities`` other than the sample's 2,500 generates that city once
(:func:`geo.data.sample.generate_sample`, as ``bench_pipeline.py`` does) into ``--data`` (kept there as a
cache: an existing file is reused) or a temporary folder, and the server reads it through ``$PLANNER_DATA``.
Prints a line per run and, last, one JSON line of medians.

* ``cold_start_headline_s`` — from ``page.goto`` on a freshly started server to the coverage page's
  headline (its first metric, the number of communities) shown.
* ``cold_start_s`` — the same start to the map drawn in its iframe with every community: the map's own
  report (``window.__mapStats``: drawn, communities counted, as shapes or, for a large city at low zoom,
  grid cells), else Leaflet's polygons counted (``COUNT_COMMUNITIES_JS``); null when the page draws no
  map (above ``[map] max_communities`` it asks for a district).
* ``first_weight_change_s`` — on the Priority & budget page, once its first run has finished, from
  setting a weight slider with the keyboard (population weight 25 → 0) to the new
  residents-newly-served figure shown: the first change after the page opened.
* ``weight_change_s`` — the median of the next three changes (0 → 50 → 45 → 44), each a weight
  not seen before, so nothing comes from the cache. Each change starts when the previous run has ended.
* ``server_peak_rss_mb`` — the server process's peak resident memory (``VmHWM``) after the run, MB.
* ``weight_change_compute_s`` — the same change measured in-process: the ranked plan of both
  programmes on cached coverage, coverage relation and weight-free basis, public sites included (what
  the server does for that rerun before the list).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import tests.browser as browser_helpers
from tests.browser import CHROMIUM, CHROMIUM_ARGS, COUNT_COMMUNITIES_JS

REPO = Path(__file__).resolve().parent.parent
RUNNING_JS = "() => document.querySelector('[data-test-script-state]')?.dataset.testScriptState === 'running'"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def city_file(communities: int, data: Path | None, folder: Path) -> Path | None:
    """The city file of ``communities`` communities: None for the sample (the server's default), else
    ``data`` when it exists, else generated once into ``data`` (or ``folder``)."""
    from geo.config import BOUNDARIES_PATH, load_config
    from geo.data.io import read_districts, write_layers
    from geo.data.sample import generate_sample

    config = load_config()
    if communities == config.sample_communities and data is None:
        return None
    path = data or folder / f"city_{communities}.gpkg"
    if not path.exists():
        start = time.perf_counter()
        layers = generate_sample(read_districts(BOUNDARIES_PATH), n_communities=communities, seed=config.sample_seed)
        write_layers(path, layers)
        print(f"generated {communities:,} communities into {path} in {time.perf_counter() - start:.1f} s", flush=True)
    return path


def start_server(port: int, data: Path | None, store_folder: Path) -> subprocess.Popen:
    env = dict(os.environ)
    if data is not None:
        env["PLANNER_DATA"] = str(data)
        env.setdefault("PLANNER_DB_URL", f"sqlite:///{store_folder / 'store.sqlite'}")
    server = subprocess.Popen(
        [sys.executable, "scripts/serve.py", "--server.port", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
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


def peak_rss_mb(pid: int) -> float:
    """The peak resident set size (``VmHWM``) of process ``pid``, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# The map's own report once drawn (geo.render.maps: window.__mapStats, drawn_ms set when every layer is on the
# map; at low zoom a large city is drawn as grid cells that count every community), else -1 for an older map.
MAP_STATS_JS = """() => {
  const stats = window.__mapStats;
  if (!stats) return -1;
  return stats.drawn_ms ? stats.communities : 0;
}"""


def map_drawn(page, expected: int) -> bool:
    """Whether a frame of ``page`` has the map drawn: ``MAP_DRAWN_JS`` when tests.browser has it (true once
    drawn), else the map's own report (``window.__mapStats``) counting ``expected`` communities, else
    ``expected`` community polygons counted."""
    hook = getattr(browser_helpers, "MAP_DRAWN_JS", None)
    for frame in page.frames:
        try:
            if hook is not None:
                if frame.evaluate(hook):
                    return True
                continue
            counted = frame.evaluate(MAP_STATS_JS)
            if counted < 0:
                counted = frame.evaluate(COUNT_COMMUNITIES_JS)
            if counted >= expected:
                return True
        except Exception:  # frames are replaced while the page renders
            continue
    return False


def wait_for_map(page, expected: int, timeout_s: float) -> bool:
    """Wait until the map is drawn; False when the page's run has ended without one (or on timeout)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if map_drawn(page, expected):
            return True
        if not page.evaluate(RUNNING_JS) and page.locator("iframe").count() == 0:
            time.sleep(0.5)  # the run ended: a map iframe is on its way, or there is none
            if page.locator("iframe").count() == 0:
                return False
        time.sleep(0.02)
    return False


def wait_idle(page, timeout_s: float) -> None:
    """Wait for the page's script run to end."""
    time.sleep(0.3)
    page.wait_for_function(f"() => !({RUNNING_JS})()", timeout=timeout_s * 1000)


# The residents-newly-served figure of this run is shown: its text changed, or its element, stale while the
# rerun had not reached it, is fresh again (the same figure for two weights).
RESET_JS = "() => { window.__benchSawStale = false; }"
NEW_FIGURE_JS = """before => {
  const value = document.querySelectorAll('[data-testid="stMetricValue"]')[2];
  if (!value) return false;
  const stale = value.closest('[data-testid="stElementContainer"]')?.dataset.stale === 'true';
  if (stale) window.__benchSawStale = true;
  return !stale && (value.innerText !== before || window.__benchSawStale);
}"""


def newly_served_text(page) -> str:
    return page.locator('[data-testid="stMetricValue"]').nth(2).inner_text()


def one_run(browser, data: Path | None, communities: int, folder: Path, timeout_s: float) -> dict:
    port = free_port()
    server = start_server(port, data, folder)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        start = time.perf_counter()
        page.goto(f"http://localhost:{port}/")
        page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=timeout_s * 1000)
        headline = time.perf_counter() - start
        cold = time.perf_counter() - start if wait_for_map(page, communities, timeout_s) else None
        wait_idle(page, timeout_s)

        page.goto(f"http://localhost:{port}/priority")
        page.locator('[data-testid="stMetricValue"]').nth(2).wait_for(timeout=timeout_s * 1000)
        wait_idle(page, timeout_s)  # the page's first run has finished (comparison, map)
        page.get_by_text("优先得分权重").click()
        slider = page.get_by_role("slider").first
        slider.wait_for(timeout=30_000)
        changes = []
        # Home: 25 → 0, End: 0 → 50, PageDown: 50 → 45, ArrowLeft: 45 → 44 — each a new, uncached weight.
        for key in ("Home", "End", "PageDown", "ArrowLeft"):
            slider.focus()
            page.evaluate(RESET_JS)
            start = time.perf_counter()
            page.keyboard.press(key)
            page.wait_for_function(NEW_FIGURE_JS, arg=newly_served_text(page), polling="raf", timeout=timeout_s * 1000)
            changes.append(time.perf_counter() - start)
            wait_idle(page, timeout_s)  # the rest of the page (comparison, map) before the next change
            time.sleep(0.5)
        page.close()
        return {
            "cold_start_headline_s": headline,
            "cold_start_s": cold,
            "first_weight_change_s": changes[0],
            "weight_change_s": statistics.median(changes[1:]),
            "server_peak_rss_mb": peak_rss_mb(server.pid),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def compute_only(data: Path | None) -> float:
    """In-process: a weight change as the app's rerun computes it, coverage, its relation and the plan's
    weight-free basis (:func:`geo.plan.plan_basis`) cached."""
    from geo.analysis.coverage import community_coverage
    from geo.config import DEFAULT_DATA_PATH, load_config, with_overrides
    from geo.pipeline import load_city
    from geo.plan import plan_basis, plan_relation, run_plan

    city = load_city(data or DEFAULT_DATA_PATH)
    config = load_config()
    covered = community_coverage(city.communities, city.fitness_paths, config.walk_radius_m)
    relation = plan_relation(covered, config)
    basis = plan_basis(
        city.communities, city.fitness_paths, config, city.applications, covered, city.public_sites, relation=relation
    )
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
        public_sites=city.public_sites,
        relation=relation,
        basis=basis,
    )
    return time.perf_counter() - start


def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def main() -> None:
    from geo.config import load_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--communities", type=int, default=load_config().sample_communities)
    parser.add_argument("--data", type=Path, help="the generated city's file: reused when it exists, else written")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for a page or a change")
    args = parser.parse_args()
    if CHROMIUM is None:
        raise SystemExit("needs Debian's chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        data = city_file(args.communities, args.data, Path(tmp))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for i in range(args.runs):
                with tempfile.TemporaryDirectory() as store_folder:  # a fresh store each run
                    result = one_run(browser, data, args.communities, Path(store_folder), args.timeout)
                shown = ", ".join(f"{k} {'-' if v is None else f'{v:.2f}'}" for k, v in result.items())
                print(f"run {i + 1}: {shown}", flush=True)
                runs.append(result)
            browser.close()
        compute = [compute_only(data) for _ in range(args.runs)]
    medians = {key: median(r[key] for r in runs) for key in runs[0]}
    medians["weight_change_compute_s"] = median(compute)
    print(json.dumps({"benchmark": "app", "runs": args.runs, "communities": args.communities, **medians}))


if __name__ == "__main__":
    main()
