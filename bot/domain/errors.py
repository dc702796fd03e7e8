"""Every error the layers below the channels raise for a channel to turn into a reply, carrying data."""

from __future__ import annotations

from datetime import datetime

from bot.domain.channels import ChannelName
from bot.domain.tickets import TicketStatus


class TicketError(Exception):
    """Base of the ticket services' errors."""


class TicketNotFound(TicketError):
    """No ticket has this reference (or the asker may not see it)."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"no ticket {reference}")
        self.reference = reference


class TicketClosed(TicketError):
    """The ticket is resolved or rejected; the change makes no sense any more."""

    def __init__(self, reference: str, status: TicketStatus) -> None:
        super().__init__(f"ticket {reference} is {status.value}")
        self.reference = reference
        self.status = status


class ExtensionNotAllowed(TicketError):
    """The deadline may be extended by one or two months in total, with a reason."""

    def __init__(self, reference: str, months_left: int, why: str) -> None:
        super().__init__(f"cannot extend {reference}: {why}")
        self.reference = reference
        self.months_left = months_left
        self.why = why


class ExtensionTooLate(ExtensionNotAllowed):
    """An extension must be decided and told within one month of receiving the request (GDPR Art. 12(3));
    ``window_closed_at`` is when that month ended."""

    def __init__(self, reference: str, months_left: int, window_closed_at: datetime) -> None:
        super().__init__(
            reference,
            months_left,
            f"the first month after intake ended {window_closed_at:%Y-%m-%d %H:%M} UTC (GDPR Art. 12(3))",
        )
        self.window_closed_at = window_closed_at


class DeskError(Exception):
    """Base for errors the desk raises that the conversation turns into a reply."""


class ResendTooSoon(DeskError):
    """A new code was asked for before the rate limit allows."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class CodeCoolingOff(DeskError):
    """Too many wrong codes for this address or conversation lately: no code for a while."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"cooling off for {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class OfficerError(Exception):
    """Base of the workspace's own errors."""


class EmptyReply(OfficerError):
    """A reply with no text."""

    def __init__(self) -> None:
        super().__init__("the reply is empty")


class RejectionNeedsReason(OfficerError):
    """A ticket is rejected only with a reason the requester is told."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"rejecting {reference} needs a reason")
        self.reference = reference


class HandoffNotActive(OfficerError):
    """The ticket's conversation is not handed to the officer (never was, or was handed back)."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"no live handoff on {reference}")
        self.reference = reference


class DuplicateMessage(Exception):
    """An inbound message with this channel message id was stored meanwhile (a redelivery raced us)."""

    def __init__(self, channel: ChannelName, message_id: str) -> None:
        super().__init__(f"{channel.value} message already stored")
        self.channel = channel
        self.message_id = message_id


class DeliveryFailed(Exception):
    """A message could not be delivered on its channel; the caller keeps it to retry. ``retry_after`` is how
    many seconds the channel asked us to wait first (Telegram's flood control), when it said."""

    def __init__(self, channel: ChannelName, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{channel.value}: {reason}")
        self.channel = channel
        self.reason = reason
        self.retry_after = retry_after


class StoreUnavailable(RuntimeError):
    """The database could not be reached (refused, cut, shutting down, timed out) while a message was
    handled: nothing of it was stored, and the channel waits the outage out instead of blaming the message.
    ``cause`` names the underlying error's type."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"the database is unreachable ({cause})")
        self.cause = cause
