"""Fixtures and markers shared by the test modules (helper functions are in tests/helpers.py).

Markers (registered in pyproject.toml; `make test` runs everything):

* ``e2e`` — drives the app or a page in headless Chromium: every test of tests/test_e2e*.py and
  tests/test_map_browser.py, and any test that uses the ``browser`` fixture (marked here, so a new
  browser test is marked without anyone remembering to). ``pytest -m "not e2e"`` skips them.
* ``slow`` — measured at more than about 5 s on the standard machine (``--durations``); marked in
  the test modules. ``pytest -m "not slow and not e2e"`` is the quick loop.
"""

from __future__ import annotations

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, need_browser

_E2E_MODULES = ("test_e2e", "test_map_browser")


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (skips without it, fails in CI)."""
    sync_api = need_browser()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.path.stem
        if module.startswith(_E2E_MODULES) or "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)
