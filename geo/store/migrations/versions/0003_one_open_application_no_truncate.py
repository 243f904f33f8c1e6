"""One open application a community (a partial unique index); on PostgreSQL, TRUNCATE of the audit log refused.

The store's code checks for an open application before it adds one, holding the community's lock
(geo/store/applications.py); the index makes the database itself refuse a second, whatever writes.
An existing store that already holds two open applications of one community (written before
this revision, by sessions racing) is not changed: the upgrade stops and names the communities,
so that an administrator rejects the extra ones (``geo applications set-status ID rejected``) first.

PostgreSQL's row triggers of revision 0001 do not fire on TRUNCATE; a statement trigger refuses it
(with the same append-only message). SQLite has no TRUNCATE (DELETE fires the row trigger).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPEN_INDEX = "applications_one_open"
CLOSED = ("accepted", "rejected")
APPEND_ONLY = "the audit log is append-only: its rows cannot be changed or deleted"


def upgrade() -> None:
    bind = op.get_bind()
    closed = ", ".join(f"'{status}'" for status in CLOSED)
    doubled = bind.execute(
        sa.text(
            f"SELECT community_id, COUNT(*) FROM applications WHERE status NOT IN ({closed}) "
            "GROUP BY community_id HAVING COUNT(*) > 1 ORDER BY community_id"
        )
    ).all()
    if doubled:
        listed = ", ".join(f"{community} ({count})" for community, count in doubled[:20])
        raise RuntimeError(
            "the store holds more than one open application of these communities: "
            f"{listed}{' …' if len(doubled) > 20 else ''}; reject all but one of each with the version "
            "that wrote them (geo applications set-status ID rejected --reason …), then open the store again"
        )
    op.create_index(
        OPEN_INDEX,
        "applications",
        ["community_id"],
        unique=True,
        sqlite_where=sa.text(f"status NOT IN ({closed})"),
        postgresql_where=sa.text(f"status NOT IN ({closed})"),
    )
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_no_truncate() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_no_truncate()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_no_truncate()")
    op.drop_index(OPEN_INDEX, table_name="applications")
