"""Policy versions: every policy text the assistant ran on (keyed by its SHA-256), the announcements of a
new version to the accounts (and which accounts each was queued for), and the archived versions mailed on
request.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-08 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stated_effective", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256", name="uq_policy_versions_sha256"),
    )
    op.create_table(
        "policy_announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.String(length=12), nullable=False),
        sa.Column("previous_version_id", sa.String(length=12), nullable=True),
        sa.Column("effective_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("minor", sa.Boolean(), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["policy_versions.id"]),
        sa.ForeignKeyConstraint(["previous_version_id"], ["policy_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version_id", name="uq_policy_announcements_version"),
    )
    op.create_table(
        "policy_announcement_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["announcement_id"], ["policy_announcements.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("announcement_id", "address_hash", name="uq_policy_announcement_recipients"),
    )
    op.create_table(
        "policy_archive_mailings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.String(length=12), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["policy_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_policy_archive_mailings_conversation",
        "policy_archive_mailings",
        ["conversation_id", "mailed_at"],
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_policy_archive_mailings_conversation", table_name="policy_archive_mailings")
    op.drop_table("policy_archive_mailings")
    op.drop_table("policy_announcement_recipients")
    op.drop_table("policy_announcements")
    op.drop_table("policy_versions")
