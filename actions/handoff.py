"""Hand the conversation to the privacy officer: a handoff ticket opens and the person's next messages
go to the officer until the officer hands back."""

from __future__ import annotations

from actions.context import ActionKind, ActionServices, Outcome, Turn, TurnReplies, identity_method
from bot.domain.channels import ChannelName
from bot.domain.dialogue import Step
from bot.domain.tickets import HandoffReason, IdentityStatus, RequestKind

# Channels that cannot carry a later message to the person: the officer answers there by email.
_ANSWERED_BY_EMAIL = frozenset({ChannelName.CLI})


async def hand_off(
    turn: Turn, replies: TurnReplies, services: ActionServices, *, reason: HandoffReason = HandoffReason.ASKED
) -> Outcome:
    """Open a handoff ticket and tell the person when to expect a person's answer."""
    desk = services.desk
    state = turn.state.evolve(misunderstood=0, offered_handoff=False)
    if desk is None:
        replies.say("chat/handoff_offline.txt.j2", terms=services.terms)
        return Outcome(ActionKind.HANDOFF, state)
    address = turn.verified_address or state.verified_address
    ticket = await desk.open_request(
        turn.requester,
        RequestKind.HANDOFF,
        address=address,
        # A conversation with a person needs no proof of identity; a request made in it will.
        identity=IdentityStatus.VERIFIED if address else IdentityStatus.NOT_REQUIRED,
        method=identity_method(turn, address),
    )
    by_email = turn.requester.channel in _ANSWERED_BY_EMAIL
    replies.say(
        "chat/handoff_started_by_email.txt.j2" if by_email else "chat/handoff_started.txt.j2",
        ticket=ticket,
        reason=reason,
        address=address,
        terms=services.terms,
        ticket_reference=ticket.reference,
    )
    return Outcome(
        ActionKind.HANDOFF,
        state.evolve(step=Step.HANDOFF, handoff_reference=ticket.reference),
        ticket_reference=ticket.reference,
    )
