"""Telling the officer: a new ticket, a message relayed during a handoff, an SLA reminder or breach.

Each notification goes by email (``PRIVACYBOT_OFFICER_EMAIL``) and to the officer's Telegram chat, with
buttons to open the ticket (a URL under ``PRIVACYBOT_PUBLIC_URL``) or take it. The chat is an
:class:`OfficerChat` Protocol: the wiring point passes one built on the Telegram channel's bot, so nothing
here imports a channel. :class:`OfficerNotifications` implements the SLA sweeper's ``OfficerNotifier``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.channels import ChannelName
from bot.domain.tickets import IdentityStatus, Priority, RequestKind, TicketStatus
from bot.mail import MailDeliveryError, MailSender, plain_message
from bot.sla.deadlines import SlaEventKind
from bot.sla.notifier import MailOfficerNotifier, NotificationFailed, SlaEvent
from bot.store.officer_models import AlertKind
from responses import Responses

log = logging.getLogger(__name__)

TAKE_ACTION = "officer:take:"
END_ACTION = "officer:end:"
CHAT_TEXT_LIMIT = 3500


@dataclass(frozen=True)
class ChatButton:
    """An inline button under a chat notification: a link (``url``) or an action sent back (``action``)."""

    label: str
    url: str | None = None
    action: str | None = None


MAIL_TARGET = "mail"
CHAT_TARGET = "chat"


class PartlyNotified(NotificationFailed):
    """Some targets failed; ``sent`` names those that got the notification (skip them on the retry)."""

    def __init__(self, reason: str, sent: frozenset[str]) -> None:
        super().__init__(reason)
        self.sent = sent


class OfficerChat(Protocol):
    """The officer's chat (Telegram): posts a notification with buttons."""

    async def post(self, text: str, buttons: Sequence[ChatButton]) -> None:
        """Post ``text``; raise NotificationFailed when the chat cannot be reached."""
        ...


@dataclass(frozen=True)
class TicketAlert:
    """A new ticket, or a message its requester wrote during a handoff (``text``)."""

    kind: AlertKind
    reference: str
    ticket_kind: RequestKind
    channel: ChannelName
    priority: Priority
    status: TicketStatus
    identity_status: IdentityStatus
    created_at: datetime
    first_response_due: datetime
    handoff: bool
    text: str | None = None


def ticket_url(public_url: str | None, reference: str) -> str | None:
    """The ticket's page in the dashboard, when the public URL is known."""
    return f"{public_url.rstrip('/')}/officer/tickets/{reference}" if public_url else None


class OfficerNotifications:
    """Email + chat notifier (either may be absent). A failure on either raises NotificationFailed so the
    caller retries; alerts say which target already got it (PartlyNotified) so a retry skips it, while an
    SLA event retried by the sweeper may reach the working target twice, which beats not at all."""

    def __init__(
        self,
        responses: Responses,
        *,
        mail: MailSender | None,
        officer_email: str | None,
        mail_from: str,
        chat: OfficerChat | None,
        public_url: str | None,
    ) -> None:
        """Mail ``officer_email`` through ``mail`` and post to ``chat``."""
        self._responses = responses
        self._mail = mail if officer_email else None
        self._to = officer_email or ""
        self._from = mail_from
        self._chat = chat
        self._public_url = public_url
        self._sla_mail = (
            MailOfficerNotifier(mail, responses, officer_email=self._to, mail_from=mail_from)
            if self._mail is not None and mail is not None
            else None
        )

    def buttons(self, reference: str, *, handoff: bool) -> tuple[ChatButton, ...]:
        """Open (when the public URL is set), Take, and End handoff during a live handoff."""
        label = self._label
        found: list[ChatButton] = []
        url = ticket_url(self._public_url, reference)
        if url:
            found.append(ChatButton(label("open"), url=url))
        found.append(ChatButton(label("take"), action=TAKE_ACTION + reference))
        if handoff:
            found.append(ChatButton(label("end_handoff"), action=END_ACTION + reference))
        return tuple(found)

    def _label(self, name: str) -> str:
        return self._responses.render("officer/chat_button.txt.j2", name=name)

    async def notify(self, event: SlaEvent) -> None:
        """An SLA reminder or breach, by email and chat. Raises NotificationFailed."""
        failures: list[str] = []
        if self._sla_mail is not None:
            try:
                await self._sla_mail.notify(event)
            except NotificationFailed as exc:
                failures.append(str(exc))
        if self._chat is not None:
            text = self._responses.render(
                "officer/sla_chat.txt.j2", event=event, breach=event.kind is SlaEventKind.BREACH
            )
            failures += await self._post(text, self.buttons(event.reference, handoff=False))
        _raise_if(failures)

    async def alert(self, alert: TicketAlert, *, skip: frozenset[str] = frozenset()) -> None:
        """A new ticket or a relayed message, by email and chat (except the targets in ``skip``).
        Raises PartlyNotified when a target failed."""
        failures: list[str] = []
        sent: set[str] = set()
        values = {"alert": alert, "url": ticket_url(self._public_url, alert.reference)}
        if self._mail is not None and MAIL_TARGET not in skip:
            subject = self._responses.render("officer/alert_subject.txt.j2", **values)
            body = self._responses.render("officer/alert_mail.txt.j2", **values)
            message = plain_message(sender=self._from, to=self._to, subject=subject, body=body)
            if alert.priority is Priority.URGENT:
                message["Importance"] = "high"
            try:
                await self._mail.send(message)
                sent.add(MAIL_TARGET)
            except MailDeliveryError as exc:
                failures.append(str(exc))
        if self._chat is not None and CHAT_TARGET not in skip:
            text = self._responses.render("officer/alert_chat.txt.j2", **values, limit=CHAT_TEXT_LIMIT)
            chat_failures = await self._post(text, self.buttons(alert.reference, handoff=alert.handoff))
            failures += chat_failures
            if not chat_failures:
                sent.add(CHAT_TARGET)
        if failures:
            log.warning("officer notification failed: %s", "; ".join(failures))
            raise PartlyNotified("; ".join(failures), frozenset(skip | sent))

    async def _post(self, text: str, buttons: Sequence[ChatButton]) -> list[str]:
        assert self._chat is not None
        try:
            await self._chat.post(text, buttons)
        except NotificationFailed as exc:
            return [str(exc)]
        return []


def _raise_if(failures: list[str]) -> None:
    if failures:
        log.warning("officer notification failed: %s", "; ".join(failures))
        raise NotificationFailed("; ".join(failures))
