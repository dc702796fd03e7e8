"""Messages for the person behind a ticket, queued in the transaction of the change that causes them: threaded
like the ticket on its channel, waiting in the delivery outbox, and kept in the conversation; and the outbox
seam that hands them to their channels once that transaction commits. A status change is told with one
template per status, in the law's words where the law has some (a rejection names the right to complain to a
supervisory authority and to seek a judicial remedy, GDPR Art. 12(4))."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.channels import ChannelName
from bot.domain.tickets import TicketStatus
from bot.messages import AUTHOR_META, OFFICER_AUTHOR, OutboundMessage
from bot.store.conversations import ConversationRepository
from bot.store.models import MessageDirection, Ticket
from bot.store.officer_models import PendingDelivery
from bot.store.outbox import OutboxRepository
from responses import Responses

REPLY_TEMPLATE = "officer/reply.txt.j2"
EXTENDED_TEMPLATE = "officer/deadline_extended.txt.j2"
NOTICE_TEMPLATES = {
    TicketStatus.IN_PROGRESS: "officer/ticket_in_progress.txt.j2",
    TicketStatus.WAITING_ON_REQUESTER: "officer/ticket_waiting_on_requester.txt.j2",
    TicketStatus.RESOLVED: "officer/ticket_resolved.txt.j2",
    TicketStatus.REJECTED: "officer/ticket_rejected.txt.j2",
}


class DeliveryReport(Protocol):
    """What handing queued messages to their channels did."""

    @property
    def delivered(self) -> int:
        """How many a channel accepted."""
        ...

    @property
    def kept(self) -> int:
        """How many a channel holds for the person's next visit."""
        ...


class Outbox(Protocol):
    """Hands just-committed delivery-outbox rows to their channels (``bot.officer.outbox.DeliveryOutbox``)."""

    async def deliver_now(self, ids: Sequence[int]) -> DeliveryReport:
        """Try the rows ``ids`` at once; a refused one stays queued for the retry loop."""
        ...


async def queue_notice(
    session: AsyncSession, ticket: Ticket, text: str, *, now: datetime, keep_in_conversation: bool
) -> PendingDelivery:
    """Queue ``text`` for the requester (threaded like the ticket) and, when ``keep_in_conversation``, keep it
    in the ticket's conversation (a channel that stores delivered messages itself does not need that)."""
    meta = await thread_meta(session, ticket)
    channel, recipient = ticket.channel, ticket.requester_sender_id
    if channel is ChannelName.CLI and ticket.requester_address:
        # A terminal conversation ends when the person quits: the answer goes by email, as promised.
        channel, recipient = ChannelName.EMAIL, ticket.requester_address
    message = OutboundMessage(
        channel=channel,
        recipient_id=recipient,
        text=text,
        ticket_reference=ticket.reference,
        meta={**meta, AUTHOR_META: OFFICER_AUTHOR},
    )
    row = OutboxRepository(session).enqueue(messages=[message], now=now, ticket_reference=ticket.reference)
    if ticket.conversation_id and keep_in_conversation:
        ConversationRepository(session).add_message(
            conversation_id=ticket.conversation_id,
            direction=MessageDirection.OUTBOUND,
            channel=ticket.channel,
            text=text,
            at=now,
            ticket_reference=ticket.reference,
            meta={AUTHOR_META: OFFICER_AUTHOR},
        )
    await session.flush()
    return row


async def thread_meta(session: AsyncSession, ticket: Ticket) -> dict[str, str]:
    """The channel's thread details: the ticket's own, else its conversation's latest."""
    stored = ticket.thread_meta
    if not stored and ticket.conversation_id:
        conversation = await ConversationRepository(session).get(conversation_id=ticket.conversation_id)
        stored = conversation.thread_meta if conversation else None
    return {key: str(value) for key, value in (stored or {}).items() if isinstance(value, str | int)}


def status_notice(
    responses: Responses, lang: str, ticket: Ticket, *, previous: TicketStatus, reason: str | None
) -> str | None:
    """The notice of the ticket's new status in ``lang``, or None when the status did not change or has
    none."""
    template = NOTICE_TEMPLATES.get(ticket.status)
    if template is None or ticket.status is previous:
        return None
    return responses.render_in(
        lang,
        template,
        reference=ticket.reference,
        kind=ticket.kind,
        reason=reason,
        due=ticket.extended_until or ticket.due_at,
    )
