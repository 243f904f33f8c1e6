"""End to end in a real browser: the app as `make run` starts it, in headless Chromium, offline.

Chromium is Debian's (`apt-get install chromium`, done by .ci/run); Playwright drives it through
``executable_path`` because its own browser download cannot work here. Without Chromium the tests
skip with a message on a developer machine, and fail in CI (``CI=true``), where they must run.
Screenshots go to ``test-output/e2e/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "test-output" / "e2e"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
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


def _need_browser():
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing in CI: .ci/run must install the Debian package 'chromium'")
        pytest.skip("Chromium not installed (apt-get install chromium); browser tests skipped on this machine")
    return pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    """Start the app with the command `make run` uses, on a free port; stop it afterwards."""
    _need_browser()
    port = _free_port()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log = open(OUTPUT / "streamlit.log", "w")
    server = subprocess.Popen(
        [sys.executable, "scripts/serve.py", "--server.port", str(port)],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.3)
    else:
        server.terminate()
        pytest.fail("the app did not start within 60 s; see test-output/e2e/streamlit.log")
    yield url
    server.terminate()
    server.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = _need_browser()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open(browser, url: str):
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


def _map_frame(page, timeout_s: float = 60.0):
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


def test_coverage_map_draws_every_community_offline(app_url, browser):
    page, outside = _open(browser, app_url)
    page.goto(app_url)
    frame = _map_frame(page)
    time.sleep(1.0)  # let the last layers settle before counting
    assert frame.evaluate(COUNT_COMMUNITIES_JS) == 2500
    legend = frame.locator("text=小区内已有健身路径").first
    assert legend.is_visible()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "coverage_zh.png"), full_page=True)
    assert outside == [], f"requests left the machine: {outside[:5]}"
    page.close()


def test_language_switch_and_other_pages(app_url, browser):
    page, outside = _open(browser, app_url)
    page.goto(app_url)
    _map_frame(page)
    page.get_by_text("English", exact=True).click()
    page.locator("h1", has_text="Coverage map").wait_for(timeout=30_000)
    assert page.get_by_text("Communities", exact=True).first.is_visible()
    english_map = None
    deadline = time.monotonic() + 60
    while english_map is None and time.monotonic() < deadline:
        for frame in page.frames:
            try:
                if frame.locator("text=Set inside the community").count():
                    english_map = frame
            except Exception:  # a frame being replaced
                continue
        time.sleep(0.2)
    assert english_map is not None, "the map's legend did not switch to English"
    page.screenshot(path=str(OUTPUT / "coverage_en.png"), full_page=True)

    page.goto(f"{app_url}/priority")
    page.locator("h1", has_text="优先排序与预算").wait_for(timeout=30_000)
    time.sleep(0.5)
    assert page.get_by_text("Page not found").count() == 0  # a direct link opens its page
    _map_frame(page)
    page.screenshot(path=str(OUTPUT / "priority.png"), full_page=True)
    page.goto(f"{app_url}/eligibility")
    _map_frame(page)
    page.screenshot(path=str(OUTPUT / "eligibility.png"), full_page=True)
    assert outside == [], f"requests left the machine: {outside[:5]}"
    page.close()


def test_publish_page_downloads_a_self_contained_notice(app_url, browser):
    page, outside = _open(browser, app_url)
    page.goto(f"{app_url}/publish")
    button = page.get_by_role("button", name="下载公示页面（HTML）")
    button.wait_for(timeout=60_000)
    with page.expect_download(timeout=60_000) as download:
        button.click()
    target = OUTPUT / "notice.html"
    download.value.save_as(str(target))
    html = target.read_text(encoding="utf-8")
    assert "柳州市健身路径建设计划（公示）" in html and "市本级" in html and "自治区补助" in html
    assert "<script src=" not in html
    # Open the saved notice from disk, offline: it must draw its map with no request at all.
    notice, notice_outside = _open(browser, "file://")
    notice.goto(target.as_uri())
    frame = _map_frame(notice)
    assert frame.evaluate(COUNT_COMMUNITIES_JS) == 2500
    notice.screenshot(path=str(OUTPUT / "notice.png"), full_page=True)
    assert outside == [] and [u for u in notice_outside if not u.startswith("file://")] == []
    page.close()
    notice.close()
