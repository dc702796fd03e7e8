"""The officer loop: a marketing opt-out flag on directory accounts; where each message for a person went
and when it falls back to email.

Revision ID: 0005
Revises: 0003 (0002 -> 0004 -> 0003 -> 0005)
Create Date: 2026-12-02 05:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"  # after the hardening (revision ids are names, not an order)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("marketing_opt_out_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("delivery_outbox") as batch:
        batch.add_column(sa.Column("route", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("fallback_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("fallback_sent_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_delivery_outbox_fallback", "delivery_outbox", ["fallback_at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_delivery_outbox_fallback", table_name="delivery_outbox")
    with op.batch_alter_table("delivery_outbox") as batch:
        batch.drop_column("fallback_sent_at")
        batch.drop_column("fallback_at")
        batch.drop_column("route")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("marketing_opt_out_at")
