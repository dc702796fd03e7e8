"""What the ticket services refuse, as exceptions that carry data."""

from __future__ import annotations

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
