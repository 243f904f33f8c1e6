"""`make run`'s server builds its first page once before anyone visits (scripts/serve.py's warm-up visit)."""

from __future__ import annotations

import importlib.util
import time

import pytest

from tests.browser import OUTPUT, REPO, running_app

spec = importlib.util.spec_from_file_location("serve", REPO / "scripts" / "serve.py")
serve = importlib.util.module_from_spec(spec)
spec.loader.exec_module(serve)


def wait_for_line(log_name: str, phrase: str, timeout_s: float = 120.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lines = [line for line in (OUTPUT / log_name).read_text().splitlines() if phrase in line]
        if lines:
            return lines[0]
        time.sleep(0.2)
    pytest.fail(f"no {phrase!r} in test-output/e2e/{log_name}")


def test_the_server_runs_its_first_page_once_by_itself_and_a_visit_runs_it_again():
    with running_app("serve_warm_up.log") as (url, _):
        line = wait_for_line("serve_warm_up.log", "warm-up:")
        assert "first page built (FINISHED_SUCCESSFULLY)" in line, line
        assert serve.visit(url) == "FINISHED_SUCCESSFULLY"  # the same visit, as a second session


def test_no_warm_up_when_switched_off():
    with running_app("serve_no_warm_up.log", env={serve.WARM_UP_ENV: "0"}) as (url, _):
        assert serve.visit(url) == "FINISHED_SUCCESSFULLY"
        time.sleep(1.0)  # a warm-up would have reported by now: the server answered and a page ran
        assert "warm-up:" not in (OUTPUT / "serve_no_warm_up.log").read_text()


FREEZE_IN_A_FRESH_PROCESS = """
import gc, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("serve", sys.argv[1])
serve = importlib.util.module_from_spec(spec)
spec.loader.exec_module(serve)  # the server's imports: GeoPandas, SciPy, folium, Streamlit ...
before = len(gc.get_objects())
frozen = serve.freeze_imports()
scanned = len(gc.get_objects())
made_later = [[index] for index in range(1000)]  # a session's objects, after the start
print(json.dumps({"before": before, "frozen": frozen, "scanned": scanned, "later": len(gc.get_objects())}))
"""


def test_the_servers_imports_are_frozen_out_of_the_collectors_scans_and_nothing_later():
    """What the imports made lives as long as the server: a full collection no longer rescans it. Objects made
    afterwards (sessions, cached data) stay collectable."""
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", FREEZE_IN_A_FRESH_PROCESS, str(REPO / "scripts" / "serve.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["frozen"] > 100_000  # the libraries' functions, classes, constants
    assert counts["scanned"] < 1_000 < counts["before"]  # a full collection scans next to nothing of them
    assert counts["later"] >= counts["scanned"] + 1_000  # what is made after the start is scanned as before
