"""What an action receives and what it gives back (rasa-sdk's Tracker and CollectingDispatcher, our way)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.domain.dialogue import DialogueState
from bot.domain.memo import Memo
from bot.domain.tickets import IdentityMethod, RequestDesk, Requester, RequestKind
from nlu.clauses import RequestsFound
from nlu.language import DEFAULT_LANGUAGE, Language
from nlu.result import ParseResult
from policy.answers import NoAnswer, PolicyAnswer, PolicyAnswerer

# An answer as given for (the question, the sure topic, whether it is in the policy's language).
AnswerKey = tuple[str, str | None, bool]


class ActionKind(StrEnum):
    """The kind of thing the assistant did with a message (the `action` key of `privacybot ask --json`)."""

    ANSWER = "answer"
    NOT_COVERED = "not_covered"
    REQUEST = "request"
    HANDOFF = "handoff"
    SMALLTALK = "smalltalk"
    FALLBACK = "fallback"
    CLARIFY = "clarify"


@dataclass(frozen=True)
class ServiceTerms:
    """The promises the replies state, from settings (the SLA), never from templates."""

    first_response_hours: int
    resolution_days: int
    officer_email: str
    code_valid_minutes: int = 10


class Choice(StrEnum):
    """Quick-reply payloads that are steps rather than intents (every intent's value is a payload too).
    Labels come from ``chat/_labels.j2``; a tapped or typed label comes back as its payload."""

    RESEND_CODE = "resend_code"
    CANCEL = "cancel"
    SEND_TICKET_CODE = "send_ticket_code"


# The buttons under a reply that waits for a one-time code.
CODE_CHOICES: tuple[str, ...] = (Choice.RESEND_CODE, Choice.CANCEL)


@dataclass(frozen=True)
class Reply:
    """One message to send: a template name, the values it needs, and the payloads of its quick replies
    (intent or :class:`Choice` values; the conversation renders their labels)."""

    template: str
    values: Mapping[str, Any] = field(default_factory=dict)
    quick_replies: tuple[str, ...] = ()
    ticket_reference: str | None = None
    other_references: tuple[str, ...] = ()


class TurnReplies:
    """Collects the replies of one turn, in order."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []

    def say(
        self,
        template: str,
        /,
        *,
        quick_replies: tuple[str, ...] = (),
        ticket_reference: str | None = None,
        other_references: tuple[str, ...] = (),
        **values: Any,
    ) -> None:
        """Queue the reply rendered from ``template`` with ``values``."""
        self.replies.append(Reply(template, values, quick_replies, ticket_reference, other_references))


@dataclass(frozen=True)
class Turn:
    """One understood message and where the conversation stood before it.

    ``requests`` are the rights requests found in the message's clauses (wanted and declined); ``choice``
    is the payload of the quick reply the person tapped or typed, if any; ``lang`` the language the replies
    are written in.
    """

    parse: ParseResult
    state: DialogueState
    requester: Requester
    verified_address: str | None = None
    claimed_address: str | None = None
    requests: RequestsFound = field(default_factory=RequestsFound)
    choice: str | None = None
    lang: Language = DEFAULT_LANGUAGE


def mask_address(address: str) -> str:
    """``anna.k@example.com`` → ``a***@example.com``: enough to recognise, not to harvest."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def identity_method(turn: Turn, address: str | None) -> IdentityMethod:
    """How ``address`` was proved in this conversation: by the channel (DMARC), by a code, or not at all."""
    if turn.verified_address:
        return IdentityMethod.EMAIL_DMARC
    return IdentityMethod.EMAIL_CODE if address else IdentityMethod.NONE


@dataclass(frozen=True)
class ActionServices:
    """What actions may use. ``desk`` is None where no ticket may open (`privacybot ask`)."""

    answerer: PolicyAnswerer
    terms: ServiceTerms
    desk: RequestDesk | None
    # The answerer's answers to questions asked before (one memo per answerer: one policy).
    answers: Memo[AnswerKey, PolicyAnswer | NoAnswer] | None = None


@dataclass(frozen=True)
class Outcome:
    """What an action did: its kind, the new state, and what it touched.

    ``kinds`` are every request kind the turn is about, in order; ``kind`` is the first of them.
    """

    action: ActionKind
    state: DialogueState
    kind: RequestKind | None = None
    section: str | None = None
    ticket_reference: str | None = None
    kinds: tuple[RequestKind, ...] = ()
    # The policy's answer the reply gave, if it gave one (its coverage and quoted passages).
    answer: PolicyAnswer | NoAnswer | None = None

    def __post_init__(self) -> None:
        if self.kinds and self.kind is not self.kinds[0]:
            raise ValueError("an outcome's kind is the first of its kinds")
        if self.kind is not None and not self.kinds:
            object.__setattr__(self, "kinds", (self.kind,))
