"""The ``db_url`` fixture (tests/conftest.py): a fresh database on SQLite and on PostgreSQL + PostGIS.

The PostgreSQL cases need PLANNER_TEST_DB_URL (``eval "$(sudo scripts/test_postgres.sh)"``); without it
they skip on a developer machine and fail in CI.
"""

from __future__ import annotations

import os
import threading

import pytest
import sqlalchemy as sa

WRITERS = 8
ROWS_EACH = 25

_metadata = sa.MetaData()
_rows = sa.Table(
    "fixture_rows",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("writer", sa.Integer, nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
)

# The databases the distinctness test has seen in this session, in order.
_seen: list[str] = []


def _engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        # Writers wait for the file's lock (30 s) instead of failing with "database is locked".
        return sa.create_engine(url, connect_args={"timeout": 30}, pool_size=WRITERS)
    return sa.create_engine(url, pool_size=WRITERS)


def test_eight_concurrent_writers_every_row_stored_once(db_url):
    engine = _engine(db_url)
    try:
        _metadata.create_all(engine)
        start = threading.Barrier(WRITERS)
        errors: list[BaseException] = []

        def write(writer: int) -> None:
            try:
                with engine.connect() as conn:  # each thread its own connection
                    start.wait(timeout=30)
                    for n in range(ROWS_EACH):
                        with conn.begin():
                            conn.execute(_rows.insert().values(writer=writer, n=n))
            except BaseException as error:  # reported by the main thread below
                errors.append(error)

        threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors
        assert not any(thread.is_alive() for thread in threads)

        with engine.connect() as conn:
            got = conn.execute(sa.select(_rows.c.writer, _rows.c.n)).all()
        assert len(got) == WRITERS * ROWS_EACH
        assert sorted(got) == [(w, n) for w in range(WRITERS) for n in range(ROWS_EACH)]
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_database_has_postgis(db_url):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("SELECT postgis_version()")).scalar_one()
            # A geometry in WGS84 (EPSG:4326) round-trips: the extension's types and functions work.
            srid = conn.execute(sa.text("SELECT ST_SRID(ST_GeomFromText('POINT(109.4 24.3)', 4326))")).scalar_one()
    finally:
        engine.dispose()
    assert version.split()[0].startswith("3.")
    assert srid == 4326


@pytest.mark.parametrize("turn", [1, 2])
def test_each_test_gets_its_own_empty_database(db_url, turn):
    assert db_url not in _seen
    engine = sa.create_engine(db_url)
    try:
        # What an earlier test left behind is not here.
        assert "fixture_marker" not in sa.inspect(engine).get_table_names()
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE fixture_marker (turn integer)"))
            conn.execute(sa.text("INSERT INTO fixture_marker VALUES (:turn)"), {"turn": turn})
    finally:
        engine.dispose()

    earlier = [url for url in _seen if url.startswith("postgresql")]
    if db_url.startswith("postgresql") and earlier:
        # The earlier test's database was dropped at its teardown.
        server = sa.create_engine(os.environ["PLANNER_TEST_DB_URL"])
        try:
            with server.connect() as conn:
                names = set(conn.execute(sa.text("SELECT datname FROM pg_database")).scalars())
        finally:
            server.dispose()
        assert not {sa.make_url(url).database for url in earlier} & names
    _seen.append(db_url)


def test_many_sessions_and_processes_opening_a_new_store_at_once_upgrade_it_once(db_url):
    """The first opening of a store makes its schema; sessions (threads) and servers (processes) opening
    it at the same moment wait for that one upgrade and then find the schema made."""
    import subprocess
    import sys
    import threading

    from geo.store.db import head_revision, open_store, schema_revision

    child = "import sys; from geo.store.db import open_store; open_store(sys.argv[1])"
    processes = [subprocess.Popen([sys.executable, "-c", child, db_url], stderr=subprocess.PIPE) for _ in range(3)]
    failures = []

    def session():
        try:
            open_store(db_url)
        except Exception as error:
            failures.append(repr(error))

    threads = [threading.Thread(target=session, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a session never got the store"
    errors = [p.communicate(timeout=120)[1].decode() for p in processes]
    assert failures == [] and [p.returncode for p in processes] == [0, 0, 0], (failures, errors)
    assert schema_revision(open_store(db_url).engine) == head_revision()
