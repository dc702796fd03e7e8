"""Hardening: the officer sign-in throttle; the retention purge's audit entries; one open ticket per
requester and kind (a partial unique index); replies linked to the inbound message they answer (a retried
message gets them back); on PostgreSQL, triggers refusing TRUNCATE on the audit trail and the tables it
hangs from (``TRUNCATE tickets CASCADE`` emptied it: the append-only row triggers do not fire on TRUNCATE).

Revision ID: 0003
Revises: 0004
Create Date: 2026-12-02 05:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# The audit table and its parents (ticket_events -> tickets -> conversations, accounts).
AUDIT_TABLES = ("ticket_events", "tickets", "conversations", "accounts")
_OPEN = "status IN ('new', 'awaiting_verification', 'open', 'in_progress', 'waiting_on_requester')"

revision: str = "0003"
down_revision: str | None = "0004"  # after the leases (revision ids are names, not an order)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "sign_in_throttle",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_allowed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_hash"),
    )
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("periods", JSON_DOCUMENT, nullable=False),
        sa.Column("removed", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.add_column("messages", sa.Column("in_reply_to", sa.String(length=512), nullable=True))
    op.create_index("ix_messages_in_reply_to", "messages", ["channel", "in_reply_to"], unique=False)
    op.add_column("tickets", sa.Column("requester_key", sa.String(length=340), nullable=True))
    op.execute(
        "UPDATE tickets SET requester_key = CASE "
        "WHEN identity_status = 'verified' AND requester_address IS NOT NULL "
        "THEN 'address:' || requester_address "
        "WHEN conversation_id IS NOT NULL THEN 'conversation:' || conversation_id "
        "ELSE 'ticket:' || reference END"
    )
    # Duplicates opened before the rule keep their own key (the oldest keeps the requester's).
    op.execute(
        "UPDATE tickets SET requester_key = 'ticket:' || reference "
        f"WHERE {_OPEN} AND id NOT IN "
        f"(SELECT min(id) FROM tickets WHERE {_OPEN} GROUP BY kind, requester_key)"
    )
    op.create_index(
        "uq_tickets_open_per_requester",
        "tickets",
        ["kind", "requester_key"],
        unique=True,
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_trail_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'TRUNCATE of % refused: it would empty the audit trail', TG_TABLE_NAME; "
            "END $$"
        )
        for table in AUDIT_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_no_truncate()"
            )


def downgrade() -> None:
    """Revert this revision."""
    if op.get_context().dialect.name == "postgresql":
        for table in AUDIT_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_trail_no_truncate()")
    op.drop_index("uq_tickets_open_per_requester", table_name="tickets")
    op.drop_column("tickets", "requester_key")  # SQLite 3.35+ drops a column in place
    op.drop_index("ix_messages_in_reply_to", table_name="messages")
    op.drop_column("messages", "in_reply_to")
    op.drop_table("retention_runs")
    op.drop_table("sign_in_throttle")
