"""Email fallback for messages a person's channel could not bring to them in time.

A message kept for a person's next visit (their web page was closed) or refused by their channel
(Telegram blocked, a mail bounce) gets a ``fallback_at``; once it passes and the person has not come back,
the message is mailed to the ticket's verified address, the reference in the subject, in the language of the
ticket's conversation. Messages of one ticket sent close together (an officer writing three lines in a row)
go as one mail: a ticket's mail waits until its newest message is ``batch_window`` old (at most one more
``delay`` after the first was due). Rows are claimed
(``fallback_sent_at`` set, committed) before the mail goes out, so two processes never mail one twice; a
mail that fails is given back for a later try.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.channels import ChannelName
from bot.domain.clock import Clock, ensure_utc
from bot.domain.tickets import IdentityStatus
from bot.mail import MailDeliveryError, MailSender, mail_domain, message_id, plain_message
from bot.store.db import is_postgres
from bot.store.models import Ticket
from bot.store.officer_models import DeliveryRoute, PendingDelivery
from bot.tickets.handoff import requester_language
from responses import Responses

log = logging.getLogger(__name__)

SUBJECT_TEMPLATE = "email/offline_delivery_subject.txt.j2"
BODY_TEMPLATE = "email/offline_delivery.txt.j2"


@dataclass(frozen=True)
class _Claimed:
    """One mail to send: the rows it carries, in the order they were queued."""

    row_ids: tuple[int, ...]
    reference: str
    address: str
    texts: tuple[str, ...]
    lang: str


class EmailFallback:
    """Mails due fallbacks (:meth:`send_due`); :meth:`seen` cancels them when the person comes back."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        mail: MailSender,
        responses: Responses,
        mail_from: str,
        clock: Clock,
        delay: timedelta,
        batch_window: timedelta = timedelta(0),
        retry_delay: timedelta = timedelta(minutes=1),
        batch_size: int = 100,
    ) -> None:
        """Mail through ``mail`` ``delay`` after a message could not reach its person; the messages of one
        ticket queued less than ``batch_window`` apart go in one mail."""
        self._sessionmaker = sessionmaker
        self._mail = mail
        self._responses = responses
        self._from = mail_from
        self._clock = clock
        self.delay = delay
        self._window = batch_window
        self._retry_delay = retry_delay
        self._batch = batch_size

    async def seen(self, channel: ChannelName, recipient_id: str) -> None:
        """The person is back on ``channel`` and sees what was kept for them: no mail is needed."""
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                update(PendingDelivery)
                .where(
                    PendingDelivery.channel == channel,
                    PendingDelivery.recipient_id == recipient_id,
                    PendingDelivery.route == DeliveryRoute.KEPT_FOR_NEXT_VISIT,
                    PendingDelivery.fallback_sent_at.is_(None),
                )
                .values(fallback_at=None, route=DeliveryRoute.SEEN_ON_RETURN)
            )

    async def send_due(self) -> int:
        """Mail every fallback that is due, one mail per ticket; returns how many mails went out."""
        sent = 0
        for claimed in await self._claim():
            lang, reference = claimed.lang, claimed.reference
            subject = self._responses.render_in(lang, SUBJECT_TEMPLATE, reference=reference)
            body = self._responses.render_in(lang, BODY_TEMPLATE, reference=reference, texts=claimed.texts)
            now = self._clock.now()
            message = plain_message(
                sender=self._from, to=claimed.address, subject=subject, body=body, now=now
            )
            message.replace_header(  # names the ticket, so a reply to it joins the ticket's thread
                "Message-ID", message_id(domain=mail_domain(self._from), prefix=reference.lower())
            )
            try:
                await self._mail.send(message)
            except MailDeliveryError:
                log.warning(
                    "email fallback for %d delivery(ies) failed; retrying later", len(claimed.row_ids)
                )
                values: dict[str, object] = {"fallback_sent_at": None, "fallback_at": now + self._retry_delay}
            else:
                sent += 1
                values = {"route": DeliveryRoute.EMAIL_FALLBACK, "lease_until": None}
            ids = list(claimed.row_ids)
            async with self._sessionmaker() as session, session.begin():
                await session.execute(
                    update(PendingDelivery).where(PendingDelivery.id.in_(ids)).values(**values)
                )
                if "route" in values:  # the mail reached them: the channel need not try any more
                    await session.execute(
                        update(PendingDelivery)
                        .where(PendingDelivery.id.in_(ids), PendingDelivery.delivered_at.is_(None))
                        .values(delivered_at=now)
                    )
        if sent:
            log.info("%d mail(s) sent to requesters their channel could not reach", sent)
        return sent

    async def _claim(self) -> list[_Claimed]:
        now = self._clock.now()
        waiting = (
            PendingDelivery.fallback_at.is_not(None),
            PendingDelivery.fallback_sent_at.is_(None),
            or_(
                PendingDelivery.delivered_at.is_(None),
                PendingDelivery.route == DeliveryRoute.KEPT_FOR_NEXT_VISIT,
            ),
        )
        async with self._sessionmaker() as session, session.begin():
            due = select(PendingDelivery.ticket_reference).where(*waiting, PendingDelivery.fallback_at <= now)
            query = (
                select(PendingDelivery)
                .where(
                    *waiting,
                    or_(PendingDelivery.fallback_at <= now, PendingDelivery.ticket_reference.in_(due)),
                )
                .order_by(PendingDelivery.id)
                .limit(self._batch)
            )
            if is_postgres(session):
                query = query.with_for_update(skip_locked=True)
            rows = list((await session.scalars(query)).all())
            references = {row.ticket_reference for row in rows if row.ticket_reference}
            tickets = {
                ticket.reference: ticket
                for ticket in await session.scalars(select(Ticket).where(Ticket.reference.in_(references)))
            }
            groups: dict[tuple[str, str], list[PendingDelivery]] = defaultdict(list)
            for row in rows:
                ticket = tickets.get(row.ticket_reference or "")
                address = _fallback_address(ticket, row)
                if ticket is None or address is None:
                    if row.fallback_at is not None and row.fallback_at <= now:
                        row.fallback_at = None  # nowhere else to send it: the channel keeps trying
                    continue
                groups[(ticket.reference, address.lower())].append(row)
            claimed: list[_Claimed] = []
            for (reference, _), group in groups.items():
                if not self._group_due(group, now):
                    continue
                for row in group:
                    row.fallback_sent_at = now
                lang = await requester_language(session, tickets[reference])
                address = tickets[reference].requester_address or ""
                texts = tuple(row.text for row in group)
                claimed.append(_Claimed(tuple(row.id for row in group), reference, address, texts, lang))
        return claimed

    def _group_due(self, group: list[PendingDelivery], now: datetime) -> bool:
        """A ticket's mail goes once its first message is due and its newest is ``batch_window`` old (or
        the first has waited one more ``delay``: someone writing without pause still gets mail)."""
        first_due = min(row.fallback_at for row in group if row.fallback_at is not None)
        newest = max(row.created_at for row in group)
        if first_due > now:
            return False
        return ensure_utc(newest) + self._window <= now or ensure_utc(first_due) + self.delay <= now


def _fallback_address(ticket: Ticket | None, row: PendingDelivery) -> str | None:
    """The ticket's verified address, unless it is the very address that could not be reached."""
    if (
        ticket is None
        or ticket.identity_status is not IdentityStatus.VERIFIED
        or not ticket.requester_address
    ):
        return None
    if row.channel is ChannelName.EMAIL and row.recipient_id.lower() == ticket.requester_address.lower():
        return None
    return ticket.requester_address
