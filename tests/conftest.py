"""Fixtures and markers shared by the test modules (helper functions are in tests/helpers.py).

Markers (registered in pyproject.toml; `make test` runs everything):

* ``e2e`` — drives the app or a page in headless Chromium: every test of tests/test_e2e*.py and
  tests/test_map_browser.py, and any test that uses the ``browser`` fixture (marked here, so a new
  browser test is marked without anyone remembering to). ``pytest -m "not e2e"`` skips them.
* ``slow`` — measured at more than about 5 s on the standard machine (``--durations``); marked in
  the test modules. ``pytest -m "not slow and not e2e"`` is the quick loop.
"""

from __future__ import annotations

import os
import secrets

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, need_browser

_E2E_MODULES = ("test_e2e", "test_map_browser")


@pytest.fixture(autouse=True)
def _own_store(monkeypatch, tmp_path_factory):
    """Every test its own empty store (``PLANNER_DB_URL``), so no test writes beside the repository's
    sample (``data/<city>.store.sqlite``) or sees another test's accounts; a test that sets the
    variable itself, or deletes it to test the default location, overrides this."""
    folder = tmp_path_factory.mktemp("store")
    monkeypatch.setenv("PLANNER_DB_URL", f"sqlite:///{folder}/store.sqlite")


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (skips without it, fails in CI)."""
    sync_api = need_browser()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The SQLAlchemy URL of a fresh, empty database, once on each backend the store supports.

    ``sqlite``: a file in the test's tmp_path. ``postgresql``: a database made for this test alone
    (``planner_t_<random>``, PostGIS in it) on the server PLANNER_TEST_DB_URL names, dropped afterwards,
    so no test sees another's rows. Without PLANNER_TEST_DB_URL the PostgreSQL case skips on a developer
    machine and fails in CI (``CI=true``), where .ci/run starts the server (scripts/test_postgres.sh).
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/store.sqlite"
    else:
        yield from _fresh_postgres_database()


def _fresh_postgres_database():
    server = os.environ.get("PLANNER_TEST_DB_URL")
    if not server:
        if os.environ.get("CI") == "true":
            pytest.fail("PLANNER_TEST_DB_URL is unset in CI: .ci/run must start PostgreSQL (scripts/test_postgres.sh)")
        pytest.skip('PostgreSQL not configured: run eval "$(sudo scripts/test_postgres.sh)" to test the store on it')
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    server_url = sa.make_url(server)
    name = f"planner_t_{secrets.token_hex(6)}"  # [0-9a-f] only: safe to quote as an identifier
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = server_url.set(database=name)
        fresh = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with fresh.connect() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        fresh.dispose()
        yield url.render_as_string(hide_password=False)
    finally:
        _drop_database(admin, name)
        admin.dispose()


def _drop_database(admin, name: str, attempts: int = 10) -> None:
    """Drop a test's database, ending its connections; a connection the role may not end (a server
    process that just opened it) is waited for and the drop tried again."""
    import time

    import sqlalchemy as sa

    for attempt in range(attempts):
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except sa.exc.DBAPIError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.path.stem
        if module.startswith(_E2E_MODULES) or "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)
