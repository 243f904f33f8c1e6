"""Locks that keep two sessions from taking the same write at once (a status step, an approval, an application).

A write that reads a row, checks it and then changes it must hold the row while it checks:
otherwise every session of a busy server reads the same "before" and each takes the step. SQLite:
the transaction starts as the writer (``BEGIN IMMEDIATE``), so the others wait (busy timeout) and
then read what the first wrote. PostgreSQL: the row is locked (``SELECT … FOR UPDATE``; a lock
changes no row, so triggers do not fire), or, for a row that does not exist yet (an application
of a community), a transaction-level advisory lock on its key.
"""

from __future__ import annotations

import zlib

from sqlalchemy import select, text

# The advisory locks' first key: which kind of thing is locked (the second is the thing's hash).
APPLICATION_COMMUNITY_LOCK = 1_403


def _sqlite(session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def begin_writer(session) -> None:
    """On SQLite, start ``session``'s transaction as the writer (before it reads anything); else nothing."""
    if _sqlite(session):
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def locked_row(session, model, row_id: int | None):
    """The ``model`` row of ``row_id`` held by this transaction until it ends (None when there is none).

    Call it first in the transaction: on SQLite it begins the transaction as the writer.
    """
    begin_writer(session)
    if row_id is None:
        return None
    query = select(model).where(model.id == row_id).execution_options(populate_existing=True)
    if not _sqlite(session):
        query = query.with_for_update()
    return session.scalar(query)


def lock_key(session, kind: int, key: str) -> None:
    """Hold the lock of ``key`` (e.g. a community id) of ``kind`` until the transaction ends.

    PostgreSQL: ``pg_advisory_xact_lock(kind, crc32(key))`` (two keys that share a hash wait for
    each other, which is safe). SQLite: nothing (the transaction began as the writer).
    """
    if _sqlite(session):
        return
    digest = zlib.crc32(key.encode("utf-8")) - 2**31  # a signed 32-bit int
    statement = text("SELECT pg_advisory_xact_lock(CAST(:kind AS integer), CAST(:key AS integer))")
    session.execute(statement, {"kind": kind, "key": digest})
