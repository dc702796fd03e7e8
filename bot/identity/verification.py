"""Sending and checking one-time codes for a conversation, within the caller's transaction. A code mail is
queued in the delivery outbox with the rest of the turn and goes out after the turn commits (a slow mail
server never holds the turn's transaction); its row is secret: blanked once sent, never sent expired."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.channels import ChannelName
from bot.domain.clock import Clock
from bot.domain.errors import CodeCoolingOff, ResendTooSoon
from bot.domain.tickets import CodeCheck, CodeResult, CodeSent
from bot.identity.codes import (
    CodePolicy,
    HashedCode,
    code_matches,
    cooling_off_seconds,
    generate_code,
    hash_code,
    normalise_address,
    resend_wait_seconds,
)
from bot.messages import MAIL_SUBJECT_META, OutboundMessage
from bot.store.accounts import AccountRepository
from bot.store.codes import CodeRepository
from bot.store.outbox import OutboxRepository
from responses import Responses

log = logging.getLogger(__name__)

CODE_TEMPLATE = "email/verification_code.txt.j2"
CODE_SUBJECT_TEMPLATE = "email/verification_subject.txt.j2"


class IdentityVerifier:
    """Codes for one session: rate-limited sending and attempt-limited checking. Never commits."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        clock: Clock,
        responses: Responses,
        policy: CodePolicy | None = None,
    ) -> None:
        """Bind to ``session``; code mails are queued in its delivery outbox."""
        self._codes = CodeRepository(session)
        self._accounts = AccountRepository(session)
        self._outbox = OutboxRepository(session)
        self._clock = clock
        self._responses = responses
        self.policy = policy or CodePolicy()

    async def send_code(self, *, conversation_id: str, address: str, lang: str = "en") -> CodeSent:
        """Queue a mail with a fresh code to ``address`` (sent once the caller's transaction commits);
        earlier codes of the conversation stop counting.

        When the accounts directory holds any accounts, only its addresses get a mail; for any other address
        a code is stored all the same and never mailed, so the answer (and every later one) is the same
        whether or not the address has an account: nobody learns who is a customer.

        Raises ResendTooSoon when the conversation (or the address) had a code too recently or too often,
        CodeCoolingOff after too many wrong codes. A mail server refusing the mail later only delays it
        (the outbox retries while the code is valid).
        """
        address = normalise_address(address)
        now = self._clock.now()
        cooling = await self._cooling_off(conversation_id=conversation_id, address=address)
        if cooling > 0:
            raise CodeCoolingOff(cooling)
        hour_ago = now - timedelta(hours=1)
        wait = max(
            resend_wait_seconds(
                await self._codes.sent_since(since=hour_ago, conversation_id=conversation_id),
                now,
                self.policy,
            ),
            resend_wait_seconds(
                await self._codes.sent_since(since=hour_ago, address=address),
                now,
                replace(self.policy, resend_interval=timedelta(0)),  # per address: the hourly cap only
            ),
        )
        if wait > 0:
            raise ResendTooSoon(wait)
        code = generate_code()
        hashed = await asyncio.to_thread(hash_code, code)
        expires_at = now + self.policy.valid_for
        await self._codes.add(
            conversation_id=conversation_id,
            address=address,
            code_hash=hashed.digest,
            salt=hashed.salt,
            sent_at=now,
            expires_at=expires_at,
        )
        if not await self._may_receive(address):
            log.info(
                "verification code for conversation %s not mailed: not a directory address", conversation_id
            )
            return CodeSent(address=address, expires_at=expires_at)
        body = self._responses.render_in(lang, CODE_TEMPLATE, code=code, minutes=self.policy.valid_minutes)
        mail = OutboundMessage(
            channel=ChannelName.EMAIL,
            recipient_id=address,
            text=body,
            meta={MAIL_SUBJECT_META: self._responses.render_in(lang, CODE_SUBJECT_TEMPLATE)},
            lang=lang,
        )
        self._outbox.enqueue(
            messages=[mail], now=now, key=f"code:{uuid.uuid4().hex}", secret=True, expires_at=expires_at
        )
        log.info("verification code queued for conversation %s", conversation_id)
        return CodeSent(address=address, expires_at=expires_at)

    async def check_code(self, *, conversation_id: str, code: str) -> CodeCheck:
        """Check ``code`` against the last one sent in the conversation.

        After ``max_attempts`` tries every further try is LOCKED, even with the right code.
        """
        row = await self._codes.latest(conversation_id=conversation_id)
        limit = self.policy.max_attempts
        if row is None or row.verified_at is not None:
            return CodeCheck(CodeResult.MISSING, 0)
        cooling = await self._cooling_off(conversation_id=conversation_id, address=row.address)
        if cooling > 0:
            return CodeCheck(CodeResult.COOLING_OFF, 0, retry_after_seconds=cooling)
        if row.attempts >= limit:
            return CodeCheck(CodeResult.LOCKED, 0)
        now = self._clock.now()
        if now >= row.expires_at:
            return CodeCheck(CodeResult.EXPIRED, limit - row.attempts)
        attempt = await self._codes.take_attempt(code_id=row.id, max_attempts=limit)
        if attempt is None:
            return CodeCheck(CodeResult.LOCKED, 0)
        matches = await asyncio.to_thread(code_matches, code, HashedCode(row.salt, row.code_hash))
        if not matches:
            log.info("wrong code in conversation %s (attempt %d of %d)", conversation_id, attempt, limit)
            cooling = await self._cooling_off(conversation_id=conversation_id, address=row.address)
            if cooling > 0:
                log.info("conversation %s cooling off for %d s after wrong codes", conversation_id, cooling)
                return CodeCheck(CodeResult.COOLING_OFF, 0, retry_after_seconds=cooling)
            return CodeCheck(CodeResult.WRONG, limit - attempt)
        await self._codes.mark_verified(code_id=row.id, at=now)
        return CodeCheck(CodeResult.ACCEPTED, limit - attempt, address=row.address)

    async def _cooling_off(self, *, conversation_id: str, address: str) -> int:
        """Seconds of cooling-off left for this conversation or this address (the longer of the two)."""
        since = self._clock.now() - self.policy.failure_window
        now = self._clock.now()
        return max(
            cooling_off_seconds(
                await self._codes.failures_since(since=since, conversation_id=conversation_id),
                now,
                self.policy,
            ),
            cooling_off_seconds(
                await self._codes.failures_since(since=since, address=address), now, self.policy
            ),
        )

    async def _may_receive(self, address: str) -> bool:
        """An empty directory lets every address get codes; a filled one only its own addresses."""
        if await self._accounts.count() == 0:
            return True
        return await self._accounts.by_email(email=address) is not None
