"""A portable copy of the store: every table, row for row, in one zip that either database restores.

``backup`` writes ``manifest.json`` (the schema's migration, the tables, their row counts, when)
and one JSON-lines file per table, to a temporary file renamed into place when complete.
``restore`` reads it into an EMPTY store at the same migration (a store with any row is refused:
nothing is merged or overwritten), in one transaction, and checks the row counts against the
manifest. On PostgreSQL the id sequences are moved past the restored ids.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Boolean, Date, DateTime, LargeBinary, func, insert, select, text

from geo.errors import data_error
from geo.store.db import schema_revision
from geo.store.schema import Base

FORMAT = "fitness-path-planner store backup"
# Parents first (foreign keys). A photo's bytes go as base64 text (:func:`_cell`).
TABLES = (
    "users",
    "applications",
    "application_events",
    "audit_log",
    "plans",
    "plan_picks",
    "installations",
    "inspections",
    "attachments",
)


def _cell(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def backup(store, out) -> dict:
    """Write the store to the zip ``out``; returns the manifest (row counts per table)."""
    out = Path(out)
    manifest = {
        "format": FORMAT,
        "revision": schema_revision(store.engine),
        "created_utc": datetime.now(UTC).isoformat(),
        "tables": {},
    }
    handle, staging = tempfile.mkstemp(prefix=f".{out.stem}-", suffix=".zip", dir=out.parent)
    os.close(handle)
    try:
        with store.engine.connect() as connection, zipfile.ZipFile(staging, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in TABLES:
                table = Base.metadata.tables[name]
                rows = connection.execute(select(table).order_by(table.c.id)).mappings().all()
                lines = (json.dumps({k: _cell(v) for k, v in row.items()}, ensure_ascii=False) for row in rows)
                archive.writestr(f"{name}.jsonl", "\n".join(lines))
                manifest["tables"][name] = len(rows)
            archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        os.replace(staging, out)
    finally:
        Path(staging).unlink(missing_ok=True)
    return manifest


def _typed(table, row: dict) -> dict:
    """A backed-up row with dates, times and booleans as the column types want them."""
    typed = {}
    for name, value in row.items():
        kind = table.c[name].type
        if value is not None and isinstance(kind, DateTime):
            value = datetime.fromisoformat(value)
        elif value is not None and isinstance(kind, Date):
            value = date.fromisoformat(value)
        elif value is not None and isinstance(kind, Boolean):
            value = bool(value)
        elif value is not None and isinstance(kind, LargeBinary):
            value = base64.b64decode(value, validate=True)
        typed[name] = value
    return typed


def restore(store, source) -> dict:
    """Restore the backup ``source`` into ``store`` (empty, same migration); returns the manifest.

    Refused (DataError, nothing written): a file that is not such a backup; another migration;
    a store that holds any row; row counts that do not match the manifest.
    """
    try:
        with zipfile.ZipFile(source) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            if manifest.get("format") != FORMAT:
                raise KeyError("format")
            contents = {name: archive.read(f"{name}.jsonl").decode("utf-8") for name in TABLES}
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise data_error("backup_unreadable", path=str(source)) from None
    revision = schema_revision(store.engine)
    if manifest.get("revision") != revision:
        raise data_error("backup_revision", backup=str(manifest.get("revision")), store=str(revision))
    with store.engine.begin() as connection:
        for name in TABLES:
            if connection.execute(select(func.count()).select_from(Base.metadata.tables[name])).scalar():
                raise data_error("restore_not_empty", table=name)
        for name in TABLES:
            table = Base.metadata.tables[name]
            try:
                rows = [_typed(table, json.loads(line)) for line in contents[name].splitlines() if line.strip()]
            except ValueError:  # a damaged line, date or base64 (binascii.Error is one)
                raise data_error("backup_unreadable", path=str(source)) from None
            if len(rows) != manifest["tables"].get(name):
                raise data_error("backup_counts", table=name, rows=len(rows), expected=manifest["tables"].get(name))
            if rows:
                connection.execute(insert(table), rows)
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text(
                        # ``name`` is one of our own TABLES, never user text.
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"COALESCE(MAX(id), 0) + 1, false) FROM {name}"
                    )
                )
    return manifest
