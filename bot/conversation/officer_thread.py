"""Messages that belong to the officer rather than to the assistant.

During a live handoff every message is relayed to the ticket, and a burst of them gets one short
acknowledgement with the officer's presence and expected reply time. After an officer answered a ticket in
this conversation, the person's next messages are added to that ticket (the officer is told through the
alert feed) until it is closed or the person clearly starts something else, such as a new request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from actions.context import Reply, ServiceTerms
from bot.domain.dialogue import DialogueState
from bot.domain.tickets import RequestDesk, Requester
from nlu.intents import Intent
from nlu.result import ParseResult

# Messages closer together than this are one burst: one acknowledgement.
BURST = timedelta(minutes=10)
# A follow-up ends only when the person clearly starts something else.
CLEARLY = 0.6
_SOMETHING_ELSE = frozenset({Intent.HUMAN_HANDOFF, Intent.TICKET_STATUS})


@dataclass(frozen=True)
class Relayed:
    """A message passed to the officer: what to say (maybe nothing) and the state after it."""

    replies: tuple[Reply, ...]
    state: DialogueState
    reference: str


async def relay_in_handoff(
    desk: RequestDesk, requester: Requester, state: DialogueState, text: str, *, at: datetime
) -> Relayed:
    """Pass the message to the handoff's ticket; acknowledge it unless this burst already was."""
    reference = state.handoff_reference or ""
    await desk.relay_to_officer(requester, reference, text)
    last = datetime.fromisoformat(state.handoff_acked_at) if state.handoff_acked_at else None
    if last is not None and at - last < BURST:
        return Relayed((), state, reference)
    ticket = await desk.ticket_status(requester, reference)
    presence = await desk.officer_presence()
    reply = Reply(
        "chat/handoff_relayed.txt.j2",
        {"ticket": ticket, "presence": presence},
        ticket_reference=reference,
    )
    return Relayed((reply,), state.evolve(handoff_acked_at=at.isoformat()), reference)


def starts_something_else(parse: ParseResult) -> bool:
    """A confident new request, a handoff or a status question: not a follow-up to the officer's answer."""
    intent = parse.intent
    if intent.confidence < CLEARLY:
        return False
    return intent.intent.request_kind is not None or intent.intent in _SOMETHING_ELSE


async def relay_follow_up(
    desk: RequestDesk,
    requester: Requester,
    state: DialogueState,
    text: str,
    parse: ParseResult,
    terms: ServiceTerms,
) -> Relayed | DialogueState:
    """Add the message to the ticket the officer answered, or give back the state without the follow-up
    (the ticket is closed or gone, or the person starts something else) for the assistant to answer."""
    reference = state.follow_up_reference or ""
    released = state.evolve(follow_up_reference=None)
    if starts_something_else(parse):
        return released
    ticket = await desk.ticket_status(requester, reference)
    if ticket is None or ticket.status.is_closed:
        return released
    await desk.relay_to_officer(requester, reference, text)
    reply = Reply(
        "chat/follow_up_added.txt.j2", {"ticket": ticket, "terms": terms}, ticket_reference=reference
    )
    return Relayed((reply,), state, reference)
