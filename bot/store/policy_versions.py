"""Policy versions in the store: recording the text the assistant runs on, reading the archive, the
announcements and the archive mailings. Keyword-only, frozen values out; never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.policy_versions import PolicyVersion
from bot.store.db import dialect_insert
from bot.store.policy_models import (
    PolicyAnnouncement,
    PolicyAnnouncementRecipient,
    PolicyArchiveMailing,
    PolicyVersionRow,
)
from policy.versions import PolicyText


@dataclass(frozen=True)
class ArchivedText:
    """A version with its text."""

    version: PolicyVersion
    text: str


@dataclass(frozen=True)
class AnnouncementRecord:
    """A recorded announcement of a version."""

    version_id: str
    previous_version_id: str | None
    effective_on: datetime
    minor: bool
    announced_at: datetime
    recipients: int


def _version(row: PolicyVersionRow, current_id: str | None) -> PolicyVersion:
    return PolicyVersion(row.id, row.sha256, row.first_seen, row.effective_from, row.id == current_id)


def _announcement(row: PolicyAnnouncement) -> AnnouncementRecord:
    return AnnouncementRecord(
        row.version_id, row.previous_version_id, row.effective_on, row.minor, row.announced_at, row.recipients
    )


class PolicyVersionRepository:
    """The policy archive in one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Bind to ``session``."""
        self.session = session

    async def record(self, *, policy: PolicyText, now: datetime) -> None:
        """Archive ``policy`` unless its text is archived already (then nothing changes: same version)."""
        stated = policy.stated_effective
        effective = datetime.combine(stated, time.min, tzinfo=UTC) if stated else now
        statement = dialect_insert(self.session, PolicyVersionRow).values(
            id=policy.id,
            sha256=policy.sha256,
            text=policy.text,
            first_seen=now,
            effective_from=effective,
            stated_effective=stated is not None,
        )
        await self.session.execute(statement.on_conflict_do_nothing())

    async def versions(self, *, current_id: str | None) -> list[PolicyVersion]:
        """Every version, the oldest in effect first (first seen breaks ties)."""
        rows = await self.session.scalars(
            select(PolicyVersionRow).order_by(PolicyVersionRow.effective_from, PolicyVersionRow.first_seen)
        )
        return [_version(row, current_id) for row in rows]

    async def text_of(self, *, version_id: str, current_id: str | None) -> ArchivedText | None:
        """The version whose id (or SHA-256) starts with ``version_id`` (at least 6 hex digits, one match
        only), with its text."""
        wanted = version_id.strip().lower()
        if len(wanted) < 6:
            return None
        rows = list(
            await self.session.scalars(
                select(PolicyVersionRow).where(PolicyVersionRow.sha256.startswith(wanted, autoescape=True))
            )
        )
        if len(rows) != 1:
            return None
        return ArchivedText(_version(rows[0], current_id), rows[0].text)

    async def announcement(self, *, version_id: str) -> AnnouncementRecord | None:
        """The announcement of ``version_id``, if it was announced."""
        row = await self._announcement_row(version_id)
        return _announcement(row) if row else None

    async def _announcement_row(self, version_id: str) -> PolicyAnnouncement | None:
        query = select(PolicyAnnouncement).where(PolicyAnnouncement.version_id == version_id)
        return (await self.session.scalars(query)).one_or_none()

    async def record_announcement(self, record: AnnouncementRecord, *, address_hashes: list[str]) -> int:
        """Record the announcement of a version (once: a repeat keeps the first record) and the accounts it
        was queued for now; returns how many of ``address_hashes`` had not been queued before."""
        row = await self._announcement_row(record.version_id)
        if row is None:
            row = PolicyAnnouncement(
                version_id=record.version_id,
                previous_version_id=record.previous_version_id,
                effective_on=record.effective_on,
                minor=record.minor,
                announced_at=record.announced_at,
                recipients=0,
            )
            self.session.add(row)
            await self.session.flush()
        known = set(
            await self.session.scalars(
                select(PolicyAnnouncementRecipient.address_hash).where(
                    PolicyAnnouncementRecipient.announcement_id == row.id
                )
            )
        )
        new = [h for h in dict.fromkeys(address_hashes) if h not in known]
        self.session.add_all(
            PolicyAnnouncementRecipient(announcement_id=row.id, address_hash=h, queued_at=record.announced_at)
            for h in new
        )
        row.recipients += len(new)
        await self.session.flush()
        return len(new)

    async def announced_to(self, *, version_id: str) -> set[str]:
        """The address hashes the announcement of ``version_id`` was queued for."""
        row = await self._announcement_row(version_id)
        if row is None:
            return set()
        query = select(PolicyAnnouncementRecipient.address_hash).where(
            PolicyAnnouncementRecipient.announcement_id == row.id
        )
        return set(await self.session.scalars(query))

    async def mailings(
        self, *, conversation_id: str, since: datetime, version_id: str | None = None, address_hash: str = ""
    ) -> int:
        """How many archive mails the conversation queued since ``since`` (of that version to that address
        only, when given)."""
        query = select(func.count(PolicyArchiveMailing.id)).where(
            PolicyArchiveMailing.conversation_id == conversation_id, PolicyArchiveMailing.mailed_at >= since
        )
        if version_id is not None:
            query = query.where(
                PolicyArchiveMailing.version_id == version_id,
                PolicyArchiveMailing.address_hash == address_hash,
            )
        return int(await self.session.scalar(query) or 0)

    def add_mailing(self, *, conversation_id: str, version_id: str, address_hash: str, now: datetime) -> None:
        """Record an archive mail queued for the conversation."""
        self.session.add(
            PolicyArchiveMailing(
                conversation_id=conversation_id,
                version_id=version_id,
                address_hash=address_hash,
                mailed_at=now,
            )
        )
