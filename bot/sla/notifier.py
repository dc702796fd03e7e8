"""What the sweeper tells the officer, the Protocol it tells it through, and the email implementation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.tickets import Priority, RequestKind, TicketStatus
from bot.mail import MailDeliveryError, MailSender, plain_message
from bot.sla.deadlines import SlaEventKind
from responses import Responses

REMINDER_TEMPLATE = "email/sla_reminder.txt.j2"


@dataclass(frozen=True)
class SlaEvent:
    """A first-response reminder (``hours_before`` the deadline) or the breach escalation of one ticket.

    It names the ticket, never the requester: notifications carry no addresses or message text.
    """

    kind: SlaEventKind
    key: str
    ticket_id: int
    reference: str
    ticket_kind: RequestKind
    priority: Priority
    status: TicketStatus
    created_at: datetime
    first_response_due: datetime
    due_at: datetime
    hours_before: int | None
    assignee: str | None
    at: datetime


class NotificationFailed(Exception):
    """The officer could not be notified now; the sweeper tries again later."""


class OfficerNotifier(Protocol):
    """Delivers SLA events to the officer (email now; the officer workspace adds Telegram)."""

    async def notify(self, event: SlaEvent) -> None:
        """Deliver ``event``; raise NotificationFailed to have it retried."""
        ...


def reminder_subject(event: SlaEvent) -> str:
    """``[SLA breach] PRV-…`` or ``[SLA reminder] PRV-…: first response due in 4 h``."""
    if event.kind is SlaEventKind.BREACH:
        return f"[SLA breach] {event.reference}: first response overdue"
    return f"[SLA reminder] {event.reference}: first response due in {event.hours_before} h"


class MailOfficerNotifier:
    """Mails each SLA event to the officer's address."""

    def __init__(
        self, mail_sender: MailSender, responses: Responses, *, officer_email: str, mail_from: str
    ) -> None:
        """Send through ``mail_sender`` to ``officer_email``."""
        self._mail = mail_sender
        self._responses = responses
        self._to = officer_email
        self._from = mail_from

    async def notify(self, event: SlaEvent) -> None:
        """Mail the reminder or escalation; a mail failure becomes NotificationFailed."""
        body = self._responses.render(REMINDER_TEMPLATE, event=event)
        message = plain_message(sender=self._from, to=self._to, subject=reminder_subject(event), body=body)
        if event.kind is SlaEventKind.BREACH or event.priority is Priority.URGENT:
            message["Importance"] = "high"
        try:
            await self._mail.send(message)
        except MailDeliveryError as exc:
            raise NotificationFailed(str(exc)) from exc
