"""One outbox for every channel: a delivery row holds the messages of one delivery (a turn's replies, a
notice, a code mail) with how many of them went out, a key that makes queuing it twice a no-op, and, for a
one-time code, that it is secret (blanked once sent) and when it stops being worth sending.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("delivery_outbox") as batch:
        batch.add_column(sa.Column("parts", JSON_DOCUMENT, nullable=True))
        batch.add_column(sa.Column("parts_sent", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("dedup_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("secret", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint("uq_delivery_outbox_dedup_key", ["dedup_key"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("delivery_outbox") as batch:
        batch.drop_constraint("uq_delivery_outbox_dedup_key", type_="unique")
        batch.drop_column("expires_at")
        batch.drop_column("secret")
        batch.drop_column("dedup_key")
        batch.drop_column("parts_sent")
        batch.drop_column("parts")
