"""Saved plans and their picks (approved ones frozen), installations, inspections and their attachments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FROZEN = "an approved plan is frozen: it and its picks cannot be changed or deleted"


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="proposed"),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("data_name", sa.Text, nullable=False, server_default=""),
        sa.Column("data_sha256", sa.String(64), nullable=False),
        sa.Column("parameters", sa.Text, nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(64)),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "plan_picks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("program", sa.String(64), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("community_id", sa.String(128), nullable=False),
        sa.Column("district_code", sa.String(32), nullable=False, server_default=""),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("cost_cny", sa.Integer, nullable=False),
        sa.Column("details", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_table(
        "installations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("pick_id", sa.Integer, sa.ForeignKey("plan_picks.id")),
        sa.Column("community_id", sa.String(128), nullable=False, index=True),
        sa.Column("district_code", sa.String(32), nullable=False, server_default=""),
        sa.Column("installed_on", sa.Date, nullable=False),
        sa.Column("site", sa.Text, nullable=False, server_default=""),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("pieces", sa.Integer, nullable=False, server_default="0"),
        sa.Column("supplier", sa.Text, nullable=False, server_default=""),
        sa.Column("cost_cny", sa.Integer, nullable=False, server_default="0"),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("installation_id", sa.Integer, sa.ForeignKey("installations.id"), nullable=False, index=True),
        sa.Column("inspected_on", sa.Date, nullable=False),
        sa.Column("condition", sa.String(32), nullable=False),
        sa.Column("findings", sa.Text, nullable=False, server_default=""),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("inspection_id", sa.Integer, sa.ForeignKey("inspections.id"), nullable=False, index=True),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("media_type", sa.String(128), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION plans_frozen() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN IF OLD.status = 'approved' THEN RAISE EXCEPTION '{FROZEN}'; END IF; "
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER plans_frozen BEFORE UPDATE OR DELETE ON plans FOR EACH ROW EXECUTE FUNCTION plans_frozen()"
        )
        op.execute(
            "CREATE FUNCTION plan_picks_frozen() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF EXISTS (SELECT 1 FROM plans WHERE id = OLD.plan_id AND status = 'approved') "
            f"THEN RAISE EXCEPTION '{FROZEN}'; END IF; "
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER plan_picks_frozen BEFORE UPDATE OR DELETE ON plan_picks "
            "FOR EACH ROW EXECUTE FUNCTION plan_picks_frozen()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER plans_frozen_{event.lower()} BEFORE {event} ON plans "
                f"WHEN OLD.status = 'approved' BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END"
            )
            op.execute(
                f"CREATE TRIGGER plan_picks_frozen_{event.lower()} BEFORE {event} ON plan_picks "
                "WHEN EXISTS (SELECT 1 FROM plans WHERE id = OLD.plan_id AND status = 'approved') "
                f"BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS plan_picks_frozen ON plan_picks")
        op.execute("DROP FUNCTION IF EXISTS plan_picks_frozen()")
        op.execute("DROP TRIGGER IF EXISTS plans_frozen ON plans")
        op.execute("DROP FUNCTION IF EXISTS plans_frozen()")
    for table in ("attachments", "inspections", "installations", "plan_picks", "plans"):
        op.drop_table(table)
