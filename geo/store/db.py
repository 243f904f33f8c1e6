"""Open the store: the database URL, the engine, and the schema brought up to date.

The URL is ``PLANNER_DB_URL`` when set (``postgresql+psycopg://user:pass@host/db``), else a SQLite
file beside the city data (``<folder>/<stem>.store.sqlite``), created on first use. SQLite runs in
WAL mode with a 30 s busy timeout and foreign keys on, so several app sessions and the CLI can
write at once (one writer at a time, the others wait).
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

DB_ENV = "PLANNER_DB_URL"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
MIGRATION_LOCK = 1_404
"""PostgreSQL advisory lock key held while a store's schema is upgraded (one server at a time)."""
_UPGRADING = threading.Lock()  # Alembic's context is global to a process: one upgrade at a time in it


def store_url(data_path: Path | None = None) -> str:
    """``PLANNER_DB_URL`` if set, else the SQLite file beside ``data_path`` (the city's GeoPackage)."""
    url = os.environ.get(DB_ENV, "").strip()
    if url:
        return url
    if data_path is None:
        raise ValueError(f"no store: set {DB_ENV} or give the city data's path")
    data_path = Path(data_path)
    return f"sqlite:///{data_path.with_name(data_path.stem + '.store.sqlite')}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections in WAL mode with a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record):
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


@dataclass(frozen=True)
class Store:
    """An open store: its URL, engine and a session factory (``with store.session() as s, s.begin(): …``)."""

    url: str
    engine: Engine
    sessions: sessionmaker

    def session(self) -> Session:
        return self.sessions()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def open_store(url: str | None = None, data_path: Path | None = None) -> Store:
    """Open the store at ``url`` (default :func:`store_url`) and upgrade its schema to the newest migration."""
    url = url or store_url(data_path)
    engine = make_engine(url)
    if schema_revision(engine) != head_revision():  # only the first opening writes (many sessions open at once)
        with _UPGRADING:
            upgrade(engine)
    return Store(url, engine, sessionmaker(engine, expire_on_commit=False))


def existing_store(url: str | None = None, data_path: Path | None = None) -> Store | None:
    """The store of ``data_path`` if there is one, else None (nothing is created).

    ``url`` (``--db``) or ``PLANNER_DB_URL`` names one; otherwise it is the SQLite file beside the
    city data, when that file exists. The analysis commands read a city's records through this:
    a city file without a store is analysed as it is.
    """
    url = url or os.environ.get(DB_ENV, "").strip()
    if url:
        return open_store(url)
    if data_path is None:
        return None
    beside = store_url(data_path).removeprefix("sqlite:///")
    return open_store(f"sqlite:///{beside}") if Path(beside).exists() else None


@functools.cache
def head_revision() -> str:
    """The newest migration of this version of the software (read once a process: 5 ms a read)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config_for(None)).get_current_head()


def alembic_config_for(engine: Engine | None):
    """Alembic's configuration: our migrations, run on a connection we give it (``engine``'s)."""
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (Alembic); a store already there is left as it is."""
    from alembic import command

    config = alembic_config_for(engine)
    with engine.begin() as connection:
        # Hold the database's write lock first, so a second process (or server) that opens the store at
        # the same time waits, then finds the schema already upgraded and leaves it (Alembic re-reads it).
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def schema_revision(engine: Engine) -> str | None:
    """The store's current migration (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
