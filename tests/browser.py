"""Helpers for the browser tests: Debian's Chromium through Playwright, the app as `make run` starts it.

Chromium is Debian's (`apt-get install chromium`, done by .ci/run); Playwright drives it through
``executable_path`` because its own browser download cannot work here. Without Chromium the tests
skip with a message on a developer machine, and fail in CI (``CI=true``), where they must run.
Screenshots go to ``test-output/e2e/``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from geo.i18n import catalogue, text

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "test-output" / "e2e"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Count the community polygons Leaflet drew (they sit on a canvas, so count layers, not DOM nodes).
COUNT_COMMUNITIES_JS = """() => {
  const map = Object.values(window).find(v => v && window.L && v instanceof window.L.Map);
  if (!map) return -1;
  const ids = new Set();
  map.eachLayer(layer => {
    const p = layer.feature && layer.feature.properties;
    if (p && p.community_id && layer instanceof window.L.Polygon) ids.add(p.community_id);
  });
  return ids.size;
}"""


def need_browser():
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing in CI: .ci/run must install the Debian package 'chromium'")
        pytest.skip("Chromium not installed (apt-get install chromium); browser tests skipped on this machine")
    return pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(log_name: str = "streamlit.log", env: dict | None = None):
    """The app started with the command `make run` uses, on a free port; yields (url, port)."""
    need_browser()
    port = free_port()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with open(OUTPUT / log_name, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "scripts/serve.py", "--server.port", str(port)],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
        try:
            url = f"http://localhost:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                        break
                except OSError:
                    time.sleep(0.3)
            else:
                pytest.fail(f"the app did not start within 60 s; see test-output/e2e/{log_name}")
            yield url, port
        finally:
            server.terminate()
            server.wait(timeout=20)


def open_page(browser, url: str):
    """A page that records every request and websocket it makes."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    outside = []

    def check(address: str) -> None:
        own = address.startswith((url, url.replace("localhost", "127.0.0.1"), url.replace("http", "ws")))
        if not own and not address.startswith(("data:", "blob:", "about:")):
            outside.append(address)

    page.on("request", lambda request: check(request.url))
    page.on("websocket", lambda socket: check(socket.url))
    return page, outside


def map_frame(page, timeout_s: float = 60.0):
    """The frame holding the Leaflet map, once its community polygons are drawn."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                if frame.evaluate(COUNT_COMMUNITIES_JS) > 0:
                    return frame
            except Exception:  # frames come and go while Streamlit renders; try again
                continue
        time.sleep(0.2)
    raise AssertionError("no map with community polygons appeared")


# What a reader sees of a page, and the words of the other language in it (tests of the UI language).
ENGLISH = re.compile(r"[A-Za-z]{3,}")


CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")


DATA_WORDS = {"liuzhou", "sample", "gpkg", "sanjiang", "geojson"}  # file names, shown as the data's name


# What a reader sees: text nodes that are drawn (not hidden, not of size 0), generated ::after text,
# placeholders shown in empty inputs, and tooltips. Icons are ligatures of a font (their names are not
# seen), the live region is for screen readers, and the status widget is Streamlit's developer notice.
SEEN_TEXT_JS = """() => {
  const ignored = '[data-testid="stIconMaterial"], [role="log"], [data-testid="stStatusWidget"], script, style';
  const drawn = el => {  // shown, of a readable size, and not a screen reader's 1-pixel label
    const box = el.getBoundingClientRect();
    return el.checkVisibility({visibilityProperty: true}) && parseFloat(getComputedStyle(el).fontSize) > 0
      && box.width > 1 && box.height > 1;
  };
  const seen = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (el && node.textContent.trim() && !el.closest(ignored) && drawn(el)) seen.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll('body *')) {
    const box = getComputedStyle(el).display === 'contents' ? el.parentElement : el;  // drawn by its parent
    if (el.closest(ignored) || !box.checkVisibility({visibilityProperty: true})) continue;
    const after = getComputedStyle(el, '::after').content;
    if (after && after.startsWith('"')) seen.push(after.slice(1, -1));
    if (el.title && el.tagName !== 'IFRAME') seen.push(el.title);  // a frame's title is for screen readers
    if (el.placeholder && !el.value && getComputedStyle(el, '::placeholder').color !== 'rgba(0, 0, 0, 0)') {
      seen.push(el.placeholder);
    }
  }
  return seen;
}"""


# The cells of every table (st.dataframe draws on a canvas, and keeps its visible cells in an
# accessible grid of the page): what a missing value must not read as.
GRID_CELLS_JS = """() => [...document.querySelectorAll('[role="gridcell"], [role="columnheader"]')]
  .map(cell => cell.textContent.trim())"""


def allowed_words(lang: str) -> set[str]:
    """Runs of the foreign script the page's own catalogue uses (Excel, GeoJSON, 中文 …), and the language names."""
    pattern = ENGLISH if lang == "zh" else CHINESE
    found: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, str):
            found.update(pattern.findall(value))

    walk(catalogue(lang))
    for name in (text("language_name", "zh"), text("language_name", "en")):
        found.update(pattern.findall(name))
    return found | (DATA_WORDS if lang == "zh" else set())


def foreign(seen: list[str], lang: str) -> set[str]:
    pattern = ENGLISH if lang == "zh" else CHINESE
    allowed = allowed_words(lang)
    return {run for piece in seen for run in pattern.findall(piece) if run not in allowed}


# --------------------------------------------------------------------------- waiting for a page

# The page titles' catalogue keys, by the path a sidebar link ends with.
TITLES = {
    "coverage": "page_coverage",
    "eligibility": "page_eligibility",
    "priority": "page_priority",
    "publish": "page_publish",
    "intake": "page_intake",
    "new-city": "page_new_city",
}


def settle_run(page) -> None:
    """Wait until the app has finished the run the last action started (its "running" sign is gone)."""
    time.sleep(0.5)
    page.wait_for_function(
        '() => !document.querySelector(\'[data-testid="stStatusWidgetRunningIcon"], '
        '[data-testid="stStatusWidgetRunningManIcon"]\')',
        timeout=60_000,
    )


def settle_on(page, title: str) -> None:
    """Wait for the page's heading and for its script run to end."""
    page.locator("h1", has_text=title).first.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector('[data-test-script-state]')?.dataset.testScriptState !== 'running'",
        timeout=120_000,
    )
    time.sleep(1.0)


def go_to(page, name: str, lang: str) -> None:
    """Follow the sidebar link to page ``name`` (a key of :data:`TITLES`) and wait for it in ``lang``."""
    links = page.locator('[data-testid="stSidebarNavLink"]')
    (links.first if name == "coverage" else page.locator(f'[data-testid="stSidebarNavLink"][href$="/{name}"]')).click()
    settle_on(page, text(TITLES[name], lang))


def whole_page_shot(page, file_name: str) -> None:
    """A screenshot of the whole page into ``OUTPUT/file_name``: Streamlit scrolls inside its main block, so the
    window is made as tall as it for the shot (at most 6,000 px), then set back to 1400 × 1000."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('section, div')].map(e => e.scrollHeight), 1000)"
    )
    page.set_viewport_size({"width": 1400, "height": min(int(height), 6000)})
    time.sleep(1.0)
    page.screenshot(path=str(OUTPUT / file_name), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})
