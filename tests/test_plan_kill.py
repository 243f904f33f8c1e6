"""Killing the server in the middle of a save loses nothing committed and leaves no half-written plan (issue 14).

A child process saves a plan of 3,000 picks and is SIGKILLed inside the save's transaction: once
its plans row and the first batches of picks are written, or once every pick and the audit row
are written but before the commit. Afterwards the plan saved before is whole, no plan row exists
without all its picks, no audit row tells of the killed save, and the store takes the next save
(under the same name). On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from geo.store.actors import Actor
from geo.store.audit import audit_entries
from geo.store.db import open_store
from geo.store.plans import PICKS_PER_INSERT, get_plan, list_plans, save_plan
from tests.store_helpers import PICKS, big_plan

REPO = Path(__file__).resolve().parent.parent
PLANNER = Actor("wang", "planner")


# The child: save a big plan, pausing for ever inside the transaction at the statement named.
CHILD = """
import sys, time
from pathlib import Path
from sqlalchemy import event
from geo.store.actors import Actor
from geo.store.db import open_store
from geo.store.plans import save_plan
from tests.store_helpers import big_plan

url, marker, table, nth = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
store = open_store(url)
plan = big_plan()
seen = 0

@event.listens_for(store.engine, "after_cursor_execute")
def pause(connection, cursor, statement, parameters, context, executemany):
    global seen
    if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
        seen += 1
        if seen == nth:
            marker.write_text("in the transaction")
            time.sleep(600)

save_plan(store, Actor("wang", "planner"), plan, "killed", "b" * 64)
print("saved: the kill came too late")
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "table, nth",
    [("plan_picks", 3), ("audit_log", 1)],
    ids=["amid-the-picks", "before-the-commit"],
)
def test_a_save_killed_mid_transaction_leaves_no_trace(db_url, tmp_path, table, nth):
    store = open_store(db_url)
    earlier = save_plan(store, PLANNER, big_plan(50), "earlier", "a" * 64)
    before = get_plan(store, PLANNER, earlier["id"])
    marker = tmp_path / "paused"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url, str(marker), table, str(nth)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        if child.poll() is not None:
            pytest.fail(f"the child ended before the pause: {child.communicate()}")
        assert time.monotonic() < deadline, "the child never reached the pause"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    store.engine.dispose()

    after = open_store(db_url)
    assert list(list_plans(after, PLANNER)["name"]) == ["earlier"]
    record, picks = get_plan(after, PLANNER, earlier["id"])
    assert record == before[0] and picks.equals(before[1])
    with after.engine.connect() as connection:
        counts = connection.execute(
            sa.text("SELECT p.id, p.metrics, (SELECT count(*) FROM plan_picks k WHERE k.plan_id = p.id) FROM plans p")
        ).all()
        assert connection.scalar(sa.text("SELECT count(*) FROM plan_picks")) == 50
    for _, metrics, stored in counts:  # every plan row has every one of its picks
        assert stored == json.loads(metrics)["total"]["sets"]
    audit = audit_entries(after)
    assert list(audit["action"]) == ["plan_save"] and list(audit["entity_id"]) == [str(earlier["id"])]

    again = save_plan(after, PLANNER, big_plan(), "killed", "b" * 64)  # the name was never taken
    assert again["picks"] == PICKS > 2 * PICKS_PER_INSERT
    assert list(list_plans(after, PLANNER)["name"]) == ["killed", "earlier"]
