"""Benchmark the system of record (issue 14): what the store costs the people who write to it and the pages.

Run: ``.venv/bin/python benchmarks/bench_store.py [--db URL ...] [--runs 3]``
(default: a SQLite file in a temporary folder; add ``--db postgresql+psycopg://…`` for a PostgreSQL
server; every run uses a fresh, empty database: a SQLite file, or a PostgreSQL database it creates and drops).

Cases, each the median of ``--runs``:
- ``apply_serial``: 200 applications entered one after another (seconds per application);
- ``apply_concurrent``: 50 applications from 50 threads at once, each its own session (wall seconds);
- ``save_plan``: the sample's two programmes (rank, 112 picks) saved with its parameters (seconds);
- ``save_big_plan``: a plan of up to 3,000 picks (a generated 24,000-community city without sets, the walk
  standard; ``big_plan_picks`` says how many it bought) saved (seconds);
- ``records``: with 100 installed sets and the 200 applications, ``records_version`` (what every page
  rerun asks) and ``city_with_records`` (what a cache miss adds to loading the sample).
Prints a line per case and, last, one JSON line with every median.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from datetime import date

import sqlalchemy as sa

from geo.config import BOUNDARIES_PATH, DEFAULT_DATA_PATH, Program, load_config
from geo.data.io import read_districts
from geo.data.sample import generate_sample
from geo.pipeline import load_city
from geo.plan import run_plan
from geo.store.actors import Actor
from geo.store.applications import add_application
from geo.store.db import open_store
from geo.store.installations import add_installation, city_with_records, records_version
from geo.store.plans import approve_plan, get_plan, save_plan

ADMIN = Actor.local()
TODAY = date(2026, 11, 30)


class FreshDatabase:
    """A new empty database for one run: a SQLite file, or a PostgreSQL database made and dropped."""

    def __init__(self, url: str | None):
        self.server, self.name = url, None

    def __enter__(self) -> str:
        if self.server is None:
            self.folder = tempfile.TemporaryDirectory()
            return f"sqlite:///{self.folder.name}/bench.sqlite"
        self.name = f"bench_{secrets.token_hex(4)}"
        with sa.create_engine(self.server, isolation_level="AUTOCOMMIT").connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {self.name}")
        return sa.make_url(self.server).set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *_):
        if self.server is None:
            self.folder.cleanup()
            return
        sa.create_engine(self.server).dispose()
        with sa.create_engine(self.server, isolation_level="AUTOCOMMIT").connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {self.name} WITH (FORCE)")


def big_plan(count: int = 3000):
    """A plan buying ``count`` sets: a generated city without fitness paths, the walk standard, a budget of
    exactly ``count`` sets."""
    layers = generate_sample(read_districts(BOUNDARIES_PATH), n_communities=8 * count)
    config = replace(load_config(), standard="walk", programs=(Program("city", "市本级", "City", count * 50_000),))
    paths = layers["fitness_paths"].iloc[0:0]
    return run_plan(layers["communities"], paths, config, ["city"], "rank")


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def one_run(url: str | None, city, plan, big) -> dict:
    figures = {}
    communities = city.communities[["community_id", "district_code"]]
    ids = list(communities["community_id"].astype(str))
    with FreshDatabase(url) as db:
        store = open_store(db)
        figures["apply_serial"] = (
            timed(lambda: [add_application(store, ADMIN, communities, i, TODAY, today=TODAY) for i in ids[:200]]) / 200
        )

        def submit(community_id):
            add_application(open_store(db), ADMIN, communities, community_id, TODAY, today=TODAY)

        threads = [threading.Thread(target=submit, args=(i,)) for i in ids[200:250]]
        figures["apply_concurrent"] = timed(lambda: ([t.start() for t in threads], [t.join() for t in threads]))
        saved = {}
        figures["save_plan"] = timed(lambda: saved.update(save_plan(store, ADMIN, plan, "sample", "0" * 64)))
        figures["save_big_plan"] = timed(lambda: save_plan(store, ADMIN, big, "big", "1" * 64))
        figures["big_plan_picks"] = sum(len(outcome.selected) for outcome in big.outcomes)
        approve_plan(store, ADMIN, saved["id"])
        _, picks = get_plan(store, ADMIN, saved["id"])
        for community_id in picks["community_id"].head(100):
            add_installation(store, ADMIN, saved["id"], community_id, TODAY, today=TODAY)
        figures["records_version"] = statistics.median(timed(lambda: records_version(store)) for _ in range(50))
        figures["city_with_records"] = timed(lambda: city_with_records(city, store))
        store.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", default=[], help="a PostgreSQL server URL (repeatable)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    city = load_city(DEFAULT_DATA_PATH)
    plan = run_plan(city.communities, city.fitness_paths, load_config(), ["city", "region"], "rank", city.applications)
    big = big_plan(3000)
    results = {}
    for url in [None, *args.db]:
        backend = "sqlite" if url is None else "postgresql"
        runs = [one_run(url, city, plan, big) for _ in range(args.runs)]
        results[backend] = {key: round(statistics.median(r[key] for r in runs), 4) for key in runs[0]}
        for key, value in results[backend].items():
            print(f"{backend:10s} {key:18s} {value:.4f} s")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
