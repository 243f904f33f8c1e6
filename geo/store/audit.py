"""The audit trail: every change appended with who, when, what, before and after.

:func:`record` adds its row to the caller's session, so the change and its audit row commit or
roll back together. The table refuses UPDATE and DELETE (database triggers, migration 0001);
nothing in the product offers either.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.store.schema import AuditEntry

AUDIT_COLUMNS = ("id", "at", "actor", "action", "entity", "entity_id", "before", "after")


def as_json(record: dict | None) -> str | None:
    """``record`` as JSON text (dates ISO 8601, non-ASCII kept), None for None."""
    if record is None:
        return None
    return json.dumps(record, ensure_ascii=False, sort_keys=True, default=_iso)


def _iso(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot record a {type(value).__name__} in the audit log")


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """Append one audit row in ``session``'s transaction."""
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=as_json(before),
            after=as_json(after),
        )
    )


def audit_entries(store, since: date | None = None) -> pd.DataFrame:
    """The audit log (oldest first) from ``since`` (a date, UTC) on, as a table of :data:`AUDIT_COLUMNS`."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if since is not None:
        query = query.where(AuditEntry.at >= datetime(since.year, since.month, since.day))
    with store.session() as session:
        rows = session.scalars(query).all()
    return pd.DataFrame([{c: getattr(r, c) for c in AUDIT_COLUMNS} for r in rows], columns=list(AUDIT_COLUMNS))


def record_upload(store, actor: str, file_name: str, sha256: str, layers: dict[str, int]) -> None:
    """Append a ``data_upload`` row: ``actor`` loaded the file ``file_name`` (as the user named it; data,
    never a path) whose SHA-256 is ``sha256``, with ``layers`` (layer name → rows), in its own transaction."""
    after = {"file": str(file_name), "sha256": sha256, "layers": {str(k): int(v) for k, v in layers.items()}}
    with store.session() as session, session.begin():
        record(session, actor, "data_upload", "data", sha256, None, after)
