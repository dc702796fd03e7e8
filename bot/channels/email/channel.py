"""The email channel: read the privacy mailbox, hand each mail to the conversation, answer in its thread.

Order per mail, so that a crash never loses a mail nor handles it twice: fetch → parse (malformed: quarantine)
→ guards (no answer: mark done) → ``handle`` (the conversation stores the turn, deduplicated by sender and
Message-ID, and queues the reply in the delivery outbox in the same transaction) → the mail is marked done.
The outbox's drain sends the reply (one mail, threaded, its Message-ID derived from the turn) and retries it
while the SMTP server refuses. A crash before the turn is stored leaves the mail unmarked, so it is handled
on restart; after it, the conversation recognises the Message-ID and does nothing twice, and the queued
reply goes out once. A mail over a cap is answered the same way: the notice is queued (under a key derived
from the mail, so queuing it again is a no-op) before the mail moves to quarantine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bot.channels.base import HandleInbound
from bot.channels.email.authentication import verify_sender
from bot.channels.email.compose import (
    META_ATTACHMENTS,
    META_AUTH,
    mail_domain,
    thread_meta,
    thread_reference,
)
from bot.channels.email.guards import SkipReason, hash_address, skip_reason
from bot.channels.email.imap import CONNECTION_ERRORS, ImapAccount, Mailbox
from bot.channels.email.outgoing import OutgoingMail
from bot.channels.email.parsing import (
    PARSE_ERRORS,
    MalformedMail,
    OversizedMail,
    ParsedMail,
    dedup_key,
    message_ids,
    parse_bytes,
    parse_mail,
    sender_address,
)
from bot.cluster.ratelimit import RateLimiter
from bot.conversation.engine import TurnResult
from bot.domain.channels import ChannelName
from bot.domain.errors import StoreUnavailable
from bot.mail import MailSender
from bot.messages import InboundMessage, OutboundMessage
from bot.store.db import store_unavailable
from bot.store.outbox import DeliveryQueue
from responses import Responses

log = logging.getLogger(__name__)

MAX_HANDLE_ATTEMPTS = 5


class EmailChannel:
    """A running mailbox reader; ``deliver`` and ``deliver_together`` mail what the delivery outbox hands it
    (a turn's replies, an officer's reply) into the thread."""

    name = ChannelName.EMAIL

    def __init__(
        self,
        *,
        account: ImapAccount,
        handle: HandleInbound,
        mail_sender: MailSender,
        queue: DeliveryQueue,
        responses: Responses,
        limiter: RateLimiter,
        mail_from: str,
        own_addresses: tuple[str, ...],
        authserv_id: str | None,
        trusted_auth_headers: int = 1,
        attachment_max_bytes: int,
        poll_seconds: float,
        mail_max_bytes: int = 10_000_000,
        mail_max_parts: int = 50,
        max_backoff_seconds: float = 60.0,
        mailbox_factory: Callable[[ImapAccount], Mailbox] = Mailbox,
    ) -> None:
        """Everything arrives as a parameter; nothing connects until :meth:`start`."""
        self._account = account
        self._handle = handle
        self._outgoing = OutgoingMail(mail_sender, mail_from=mail_from, responses=responses)
        self._queue = queue
        self._responses = responses
        self._limiter = limiter
        self._mail_from = mail_from
        self._own_addresses = own_addresses
        self._authserv_id = authserv_id
        self._trusted_auth_headers = trusted_auth_headers
        self._attachment_max_bytes = attachment_max_bytes
        self._mail_max_bytes = mail_max_bytes
        self._mail_max_parts = mail_max_parts
        self._poll_seconds = poll_seconds
        self._max_backoff = max_backoff_seconds
        self._mailbox_factory = mailbox_factory
        self._domain = mail_domain(mail_from)
        self._stopping = asyncio.Event()
        self._busy = False
        self._task: asyncio.Task[None] | None = None
        self._attempts: dict[int, int] = {}

    async def start(self) -> None:
        """Start reading the mailbox in the background."""
        if self._task is not None and not self._task.done():
            return
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="email-channel")

    async def stop(self) -> None:
        """Stop after the mail in hand (never in the middle of one) and log out."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is None:
            return
        if not self._busy:
            task.cancel()
        try:
            await asyncio.wait_for(task, timeout=60)
        except (asyncio.CancelledError, TimeoutError):
            log.debug("email channel stopped")

    async def deliver(self, message: OutboundMessage) -> None:
        """Mail ``message`` to ``recipient_id``, in its ticket's thread when ``meta`` has the thread ids."""
        await self._outgoing.deliver(message)

    async def deliver_together(self, messages: Sequence[OutboundMessage], *, key: str | None) -> None:
        """Mail ``messages`` (a turn's replies) as one reply mail, its Message-ID derived from ``key``."""
        await self._outgoing.deliver_together(messages, key=key)

    async def _run(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            mailbox = self._mailbox_factory(self._account)
            try:
                await mailbox.open()
                log.info("email channel reading %s", self._account.folder)
                while not self._stopping.is_set():
                    self._busy = True  # stop() now waits instead of cancelling mid-mail
                    await self._process_pending(mailbox)
                    self._busy = False
                    backoff = 1.0  # only a pass that went through resets the wait
                    if self._stopping.is_set():
                        break
                    await mailbox.wait_for_mail(self._poll_seconds)
            except CONNECTION_ERRORS as exc:
                log.warning("email channel: mailbox connection failed (%s); retrying in %.0f s", exc, backoff)
            except StoreUnavailable as exc:
                log.warning("email channel: %s; the mail stays in the inbox, retry in %.0f s", exc, backoff)
            except Exception:  # the reader survives any failure: logged, retried
                log.exception("email channel: processing failed; retrying in %.0f s", backoff)
            finally:
                self._busy = False
                await mailbox.close()
            if self._stopping.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), backoff)
            backoff = min(backoff * 2, self._max_backoff)

    async def _process_pending(self, mailbox: Mailbox) -> None:
        uids = await mailbox.pending_uids()
        for uid in uids:
            if self._stopping.is_set():
                return
            await self._process_one(mailbox, uid)

    async def _process_one(self, mailbox: Mailbox, uid: int) -> None:
        size = await mailbox.size(uid)
        if size is not None and size > self._mail_max_bytes:  # checked before a byte of it is fetched
            await self._refuse_oversized(mailbox, uid, await mailbox.fetch_header(uid), "size")
            return
        raw = await mailbox.fetch(uid)
        if raw is None:
            return
        if len(raw) > self._mail_max_bytes:  # the server's size was missing or wrong
            await self._refuse_oversized(mailbox, uid, raw, "size")
            return
        try:
            mail = parse_mail(
                raw, attachment_max_bytes=self._attachment_max_bytes, max_parts=self._mail_max_parts
            )
        except OversizedMail as exc:
            await self._refuse_oversized(mailbox, uid, raw, exc.reason)
            return
        except MalformedMail as exc:
            log.warning("mail uid %s is malformed (%s): moved to quarantine", uid, exc.reason)
            await mailbox.quarantine(uid)
            return
        reason = skip_reason(mail.message, mail.sender, self._own_addresses)
        if reason is None and not await self._limiter.allows(hash_address(mail.sender)):
            reason = SkipReason.RATE_LIMITED
        if reason is not None:
            log.info("mail uid %s from %s not answered: %s", uid, hash_address(mail.sender), reason.value)
            await mailbox.mark_done(uid)
            return
        result = await self._handle_guarded(mailbox, uid, self._inbound(mail))
        if result is None:
            return
        if not result.duplicate and result.replies:  # queued with the turn; the outbox sends it
            await self._limiter.record(hash_address(mail.sender))
        await mailbox.mark_done(uid)

    async def _refuse_oversized(self, mailbox: Mailbox, uid: int, raw: bytes | None, reason: str) -> None:
        """Quarantine a mail over a cap and tell its sender once, in its thread (unless it must get no
        answer). The notice is queued before the mail moves, under a key derived from the mail's
        Message-ID, so a crash in between still sends one notice."""
        log.warning("mail uid %s is over the %s cap: moved to quarantine", uid, reason)
        notice = await self._oversized_reply(raw, reason) if raw else None
        if notice is not None:
            message, key = notice
            if await self._queue.queue([message], key=key):
                await self._limiter.record(hash_address(message.recipient_id))
        await mailbox.quarantine(uid)

    async def _oversized_reply(self, raw: bytes, reason: str) -> tuple[OutboundMessage, str] | None:
        """The notice for a mail over a cap and its delivery key, or None when it gets no answer."""
        try:
            message = parse_bytes(raw)
            sender = sender_address(message)
            subject = str(message.get("Subject", ""))[:200]
            ids = message_ids(str(message.get("Message-ID", "")))
        except (MalformedMail, *PARSE_ERRORS):
            return None
        if skip_reason(message, sender, self._own_addresses) or not await self._limiter.allows(
            hash_address(sender)
        ):
            return None
        text = self._responses.render(
            "email/mail_over_cap.txt.j2",
            reason=reason,
            max_megabytes=max(1, self._mail_max_bytes // 1_000_000),
            max_parts=self._mail_max_parts,
        )
        meta = thread_meta(message_id=ids[0] if ids else "", references=(), subject=subject)
        notice = OutboundMessage(channel=ChannelName.EMAIL, recipient_id=sender, text=text, meta=meta)
        return notice, f"over-cap:{dedup_key(sender, ids[0] if ids else subject)}"

    async def _handle_guarded(self, mailbox: Mailbox, uid: int, inbound: InboundMessage) -> TurnResult | None:
        """``handle``; a mail that fails again and again while the database works is quarantined instead of
        blocking the mailbox. A failure to reach the database is not the mail's fault: it is not counted,
        and the mail stays in the inbox (unmarked) until the store is back."""
        try:
            result = await self._handle(inbound)
        except Exception as exc:  # counted and re-raised
            if store_unavailable(exc):
                raise StoreUnavailable(type(exc).__name__) from exc
            attempts = self._attempts[uid] = self._attempts.get(uid, 0) + 1
            if attempts < MAX_HANDLE_ATTEMPTS:
                raise
            log.exception("mail uid %s failed %s times: moved to quarantine", uid, attempts)
            await mailbox.quarantine(uid)
            self._attempts.pop(uid, None)
            return None
        self._attempts.pop(uid, None)
        return result

    def _inbound(self, mail: ParsedMail) -> InboundMessage:
        verdict = verify_sender(
            mail.message, mail.sender, self._authserv_id, trusted_headers=self._trusted_auth_headers
        )
        meta = thread_meta(
            message_id=mail.message_id, references=mail.references or mail.in_reply_to, subject=mail.subject
        )
        meta[META_AUTH] = verdict.value
        if mail.attachments:
            meta[META_ATTACHMENTS] = "; ".join(a.note() for a in mail.attachments)
        proven = verdict.proves_address
        return InboundMessage(
            channel=ChannelName.EMAIL,
            sender_id=mail.sender,
            text=mail.text,
            received_at=datetime.now(UTC),
            message_id=dedup_key(mail.sender, mail.message_id),
            verified_address=mail.sender if proven else None,
            claimed_address=None if proven else mail.sender,
            thread_reference=thread_reference(
                mail.subject, (*mail.in_reply_to, *reversed(mail.references)), self._domain
            ),
            meta=meta,
        )
