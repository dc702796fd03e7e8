"""Announcing a new policy version to every account in the directory, through the delivery outbox: a summary
of the sections that changed since the version before it, and the date it takes effect.

The policy promises material changes 30 days ahead: a nearer date is refused unless the change is minor.
The announcement and each account it was queued for are recorded in the same transaction as the mails, so
repeating the command queues nothing twice (only accounts added to the directory since get it).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.channels import ChannelName
from bot.domain.clock import Clock
from bot.messages import MAIL_SUBJECT_META, OutboundMessage
from bot.store.accounts import AccountRepository
from bot.store.outbox import OutboxRepository
from bot.store.policy_versions import AnnouncementRecord, PolicyVersionRepository
from policy.versions import PolicyText, SectionChange, section_changes
from responses import DEFAULT_LANGUAGE, Responses

log = logging.getLogger(__name__)

MIN_NOTICE = timedelta(days=30)
ANNOUNCEMENT_TEMPLATE = "email/policy_announcement.txt.j2"
ANNOUNCEMENT_SUBJECT_TEMPLATE = "email/policy_announcement_subject.txt.j2"


class AnnouncementRefused(ValueError):
    """The announcement was not made; the message says why."""


@dataclass(frozen=True)
class AnnouncementReport:
    """What an announcement did: the version, the one it was compared with, the changes, the date, how
    many accounts it was queued for now (``delivery_ids``: their outbox rows) and whether it was a repeat."""

    version_id: str
    previous_version_id: str | None
    effective_on: date
    changes: tuple[SectionChange, ...]
    queued: int
    repeat: bool
    delivery_ids: tuple[int, ...]


def _address_hash(version_id: str, address: str) -> str:
    return hashlib.sha256(f"policy-announcement:{version_id}:{address}".encode()).hexdigest()


def check_notice(effective: date, *, today: date, minor: bool) -> None:
    """Raise AnnouncementRefused for a date in the past, or less than 30 days ahead for a material change."""
    if effective < today:
        raise AnnouncementRefused(f"the effective date {effective:%Y-%m-%d} is in the past")
    if not minor and effective < today + MIN_NOTICE:
        raise AnnouncementRefused(
            f"material changes are announced at least {MIN_NOTICE.days} days ahead: the earliest effective "
            f"date is {today + MIN_NOTICE:%Y-%m-%d} (give --minor for a minor update)"
        )


async def announce_policy(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    policy: PolicyText,
    effective: date,
    minor: bool,
    clock: Clock,
    responses: Responses,
) -> AnnouncementReport:
    """Queue the announcement of ``policy`` (archived first) to every account in the directory. Raises
    AnnouncementRefused."""
    now = clock.now()
    check_notice(effective, today=now.date(), minor=minor)
    async with sessionmaker() as session, session.begin():
        versions = PolicyVersionRepository(session)
        await versions.record(policy=policy, now=now)
        announced = await versions.announcement(version_id=policy.id)
        if announced is not None and announced.effective_on.date() != effective:
            raise AnnouncementRefused(
                f"version {policy.id} was announced on {announced.announced_at:%Y-%m-%d} as effective from "
                f"{announced.effective_on:%Y-%m-%d}"
            )
        previous_id = announced.previous_version_id if announced else await _previous(versions, policy)
        changes: tuple[SectionChange, ...] = ()
        if previous_id is not None:
            before = await versions.text_of(version_id=previous_id, current_id=policy.id)
            changes = tuple(section_changes(before.text, policy.text)) if before else ()
        done = await versions.announced_to(version_id=policy.id)
        accounts = [
            entry.email
            for entry in await AccountRepository(session).entries()
            if _address_hash(policy.id, entry.email) not in done
        ]
        outbox = OutboxRepository(session)
        subject = responses.render_in(DEFAULT_LANGUAGE, ANNOUNCEMENT_SUBJECT_TEMPLATE, effective=effective)
        body = responses.render_in(
            DEFAULT_LANGUAGE, ANNOUNCEMENT_TEMPLATE, effective=effective, minor=minor, changes=changes
        )
        rows = [
            outbox.enqueue(
                messages=[
                    OutboundMessage(
                        channel=ChannelName.EMAIL,
                        recipient_id=address,
                        text=body,
                        meta={MAIL_SUBJECT_META: subject},
                    )
                ],
                now=now,
                key=f"policy-announcement:{_address_hash(policy.id, address)}",
            )
            for address in accounts
        ]
        await versions.record_announcement(
            AnnouncementRecord(
                version_id=policy.id,
                previous_version_id=previous_id,
                effective_on=datetime.combine(effective, time.min, tzinfo=UTC),
                minor=minor,
                announced_at=now,
                recipients=len(rows),
            ),
            address_hashes=[_address_hash(policy.id, address) for address in accounts],
        )
        delivery_ids = tuple(row.id for row in rows)  # flushed by the record above
    log.info("policy version %s announced to %d account(s)", policy.id, len(rows))
    return AnnouncementReport(
        version_id=policy.id,
        previous_version_id=previous_id,
        effective_on=effective,
        changes=changes,
        queued=len(rows),
        repeat=announced is not None,
        delivery_ids=delivery_ids,
    )


async def _previous(versions: PolicyVersionRepository, policy: PolicyText) -> str | None:
    """The version in effect before ``policy``: the newest other one first seen before it."""
    every = await versions.versions(current_id=policy.id)
    current = next(v for v in every if v.current)
    earlier = [v for v in every if not v.current and v.first_seen <= current.first_seen]
    return max(earlier, key=lambda v: v.first_seen).id if earlier else None
