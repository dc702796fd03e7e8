"""Email fallback for messages a person's channel could not bring to them in time.

A message kept for a person's next visit (their web page was closed) or refused by their channel
(Telegram blocked, a mail bounce) gets a ``fallback_at``; once it passes and the person has not come back,
the message is mailed to the ticket's verified address, the reference in the subject, in the language of the
ticket's conversation. Rows are claimed
(``fallback_sent_at`` set, committed) before the mail goes out, so two processes never mail one twice; a
mail that fails is given back for a later try.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.channels import ChannelName
from bot.domain.clock import Clock
from bot.domain.tickets import IdentityStatus
from bot.mail import MailDeliveryError, MailSender, plain_message
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
    row_id: int
    reference: str
    address: str
    text: str
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
        retry_delay: timedelta = timedelta(minutes=1),
        batch_size: int = 100,
    ) -> None:
        """Mail through ``mail`` ``delay`` after a message could not reach its person."""
        self._sessionmaker = sessionmaker
        self._mail = mail
        self._responses = responses
        self._from = mail_from
        self._clock = clock
        self.delay = delay
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
        """Mail every fallback that is due; returns how many went out."""
        sent = 0
        for claimed in await self._claim():
            lang, reference = claimed.lang, claimed.reference
            subject = self._responses.render_in(lang, SUBJECT_TEMPLATE, reference=reference)
            body = self._responses.render_in(lang, BODY_TEMPLATE, reference=reference, text=claimed.text)
            message = plain_message(sender=self._from, to=claimed.address, subject=subject, body=body)
            now = self._clock.now()
            try:
                await self._mail.send(message)
            except MailDeliveryError:
                log.warning("email fallback for delivery %s failed; retrying later", claimed.row_id)
                values: dict[str, object] = {"fallback_sent_at": None, "fallback_at": now + self._retry_delay}
            else:
                sent += 1
                values = {"route": DeliveryRoute.EMAIL_FALLBACK, "lease_until": None}
            async with self._sessionmaker() as session, session.begin():
                await session.execute(
                    update(PendingDelivery).where(PendingDelivery.id == claimed.row_id).values(**values)
                )
                if "route" in values:  # the mail reached them: the channel need not try any more
                    await session.execute(
                        update(PendingDelivery)
                        .where(PendingDelivery.id == claimed.row_id, PendingDelivery.delivered_at.is_(None))
                        .values(delivered_at=now)
                    )
        if sent:
            log.info("%d message(s) mailed to requesters their channel could not reach", sent)
        return sent

    async def _claim(self) -> list[_Claimed]:
        now = self._clock.now()
        due = (
            PendingDelivery.fallback_at <= now,
            PendingDelivery.fallback_sent_at.is_(None),
            or_(
                PendingDelivery.delivered_at.is_(None),
                PendingDelivery.route == DeliveryRoute.KEPT_FOR_NEXT_VISIT,
            ),
        )
        async with self._sessionmaker() as session, session.begin():
            query = select(PendingDelivery).where(*due).order_by(PendingDelivery.id).limit(self._batch)
            if is_postgres(session):
                query = query.with_for_update(skip_locked=True)
            rows = list((await session.scalars(query)).all())
            references = {row.ticket_reference for row in rows if row.ticket_reference}
            tickets = {
                ticket.reference: ticket
                for ticket in await session.scalars(select(Ticket).where(Ticket.reference.in_(references)))
            }
            claimed: list[_Claimed] = []
            for row in rows:
                ticket = tickets.get(row.ticket_reference or "")
                address = _fallback_address(ticket, row)
                if ticket is None or address is None:
                    row.fallback_at = None  # nowhere else to send it: the channel keeps trying
                    continue
                row.fallback_sent_at = now
                lang = await requester_language(session, ticket)
                claimed.append(_Claimed(row.id, ticket.reference, address, row.text, lang))
        return claimed


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
