"""The archive of policy versions: recording the text the assistant runs on, and mailing an archived version
on request (queued in the delivery outbox with the turn, so it goes out once the turn commits).

An archived version is public text, so no code is asked for; a conversation still gets at most
``MAILS_PER_HOUR`` archive mails an hour, and the same version to the same address once a day.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.channels import ChannelName
from bot.domain.clock import Clock
from bot.domain.policy_versions import ArchiveMailResult, PolicyVersion
from bot.identity.codes import InvalidAddress, normalise_address
from bot.messages import ATTACHMENT_NAME_META, ATTACHMENT_TEXT_META, MAIL_SUBJECT_META, OutboundMessage
from bot.store.outbox import OutboxRepository
from bot.store.policy_versions import PolicyVersionRepository
from policy.versions import PolicyText
from responses import Responses

log = logging.getLogger(__name__)

ARCHIVE_TEMPLATE = "email/policy_archive.txt.j2"
ARCHIVE_SUBJECT_TEMPLATE = "email/policy_archive_subject.txt.j2"
MAILS_PER_HOUR = 3
SAME_MAIL_AGAIN_AFTER = timedelta(days=1)


def address_hash(address: str) -> str:
    """What the archive keeps of an address it mailed: a hash of its normalised form."""
    return hashlib.sha256(f"policy-archive:{address}".encode()).hexdigest()


def attachment_name(version: PolicyVersion) -> str:
    """``privacy-policy-2025-03-01-3f2a9c1b0d4e.txt``."""
    return f"privacy-policy-{version.effective_from:%Y-%m-%d}-{version.id}.txt"


async def record_policy(
    sessionmaker: async_sessionmaker[AsyncSession], policy: PolicyText, *, clock: Clock
) -> PolicyVersion:
    """Archive the text the assistant runs on (nothing changes when it is archived already) and return its
    version; called at start."""
    async with sessionmaker() as session, session.begin():
        repository = PolicyVersionRepository(session)
        await repository.record(policy=policy, now=clock.now())
        versions = await repository.versions(current_id=policy.id)
    log.info("running on policy version %s (%d archived)", policy.id, len(versions))
    return next(v for v in versions if v.current)


class PolicyArchiveDesk:
    """The archive within one turn's session; never commits."""

    def __init__(
        self, session: AsyncSession, *, policy: PolicyText, clock: Clock, responses: Responses
    ) -> None:
        """Work in ``session``; ``policy`` is the text the assistant runs on (the current version)."""
        self._versions = PolicyVersionRepository(session)
        self._outbox = OutboxRepository(session)
        self._policy = policy
        self._clock = clock
        self._responses = responses

    async def versions(self) -> list[PolicyVersion]:
        """Every archived version, the oldest in effect first; the current one is archived if it was not."""
        versions = await self._versions.versions(current_id=self._policy.id)
        if not any(v.current for v in versions):
            await self._versions.record(policy=self._policy, now=self._clock.now())
            versions = await self._versions.versions(current_id=self._policy.id)
        return versions

    async def mail(
        self, *, conversation_id: str, version_id: str, address: str, lang: str
    ) -> ArchiveMailResult:
        """Queue the mail of ``version_id`` (attached as a text file) to ``address``, within the caps."""
        try:
            address = normalise_address(address)
        except InvalidAddress:
            return ArchiveMailResult.INVALID_ADDRESS
        archived = await self._versions.text_of(version_id=version_id, current_id=self._policy.id)
        if archived is None:
            return ArchiveMailResult.UNKNOWN_VERSION
        now = self._clock.now()
        hashed = address_hash(address)
        version = archived.version
        if await self._versions.mailings(
            conversation_id=conversation_id,
            since=now - SAME_MAIL_AGAIN_AFTER,
            version_id=version.id,
            address_hash=hashed,
        ):
            return ArchiveMailResult.ALREADY_SENT
        if (
            await self._versions.mailings(conversation_id=conversation_id, since=now - timedelta(hours=1))
            >= MAILS_PER_HOUR
        ):
            return ArchiveMailResult.TOO_MANY
        self._outbox.enqueue(
            messages=[self._message(version, archived.text, address, lang, now)],
            now=now,
            key=f"policy-archive:{uuid.uuid4().hex}",
        )
        self._versions.add_mailing(
            conversation_id=conversation_id, version_id=version.id, address_hash=hashed, now=now
        )
        log.info("policy version %s queued for conversation %s", version.id, conversation_id)
        return ArchiveMailResult.SENT

    def _message(
        self, version: PolicyVersion, text: str, address: str, lang: str, now: datetime
    ) -> OutboundMessage:
        body = self._responses.render_in(lang, ARCHIVE_TEMPLATE, version=version)
        subject = self._responses.render_in(lang, ARCHIVE_SUBJECT_TEMPLATE, version=version)
        return OutboundMessage(
            channel=ChannelName.EMAIL,
            recipient_id=address,
            text=body,
            meta={
                MAIL_SUBJECT_META: subject,
                ATTACHMENT_NAME_META: attachment_name(version),
                ATTACHMENT_TEXT_META: text,
            },
            lang=lang,
        )
