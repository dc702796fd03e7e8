"""What the officer workspace refuses, as exceptions that carry data (ticket errors come from bot.tickets)."""

from __future__ import annotations


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
