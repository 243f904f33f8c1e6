"""Helpers for the browser tests: Debian's Chromium through Playwright, the app as `make run` starts it.

Chromium is Debian's (`apt-get install chromium`, done by .ci/run); Playwright drives it through
``executable_path`` because its own browser download cannot work here. Without Chromium the tests
skip with a message on a developer machine, and fail in CI (``CI=true``), where they must run.
Screenshots go to ``test-output/e2e/``.
"""

from __future__ import annotations

import contextlib
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
