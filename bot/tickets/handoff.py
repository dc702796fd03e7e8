"""Live handoff, officer side: whether a ticket's conversation is handed over, and handing it back.

The conversation engine starts a handoff (``DialogueState.step = HANDOFF``, ``handoff_reference``) and relays
each later message to the ticket's audit trail; the alert feed passes those to the officer. Ending the handoff
sets the conversation back to ``IDLE`` so the assistant answers again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.dialogue import DialogueState, Step
from bot.store.conversations import ConversationRepository
from bot.store.models import Conversation, Ticket
from nlu.language import DEFAULT_LANGUAGE

HANDOFF_ENDED_TEMPLATE = "officer/handoff_ended.txt.j2"


def state_of(conversation: Conversation) -> DialogueState:
    """The stored dialogue state of ``conversation``."""
    return DialogueState.from_json(conversation.state)


async def requester_language(session: AsyncSession, ticket: Ticket) -> str:
    """The language the ticket's conversation is held in (what the officer's messages to the requester are
    wrapped in); English when the ticket has no conversation or it never showed one."""
    if ticket.conversation_id is None:
        return DEFAULT_LANGUAGE
    conversation = await session.get(Conversation, ticket.conversation_id)
    lang = state_of(conversation).lang if conversation is not None else None
    return (lang or DEFAULT_LANGUAGE).value


async def handed_over(
    session: AsyncSession, ticket: Ticket, *, for_update: bool = False
) -> Conversation | None:
    """The ticket's conversation when it is in a live handoff to this ticket, else None; ``for_update``
    locks it as a turn would (see ``ConversationRepository.locked``), to change its state."""
    if ticket.conversation_id is None:
        return None
    if for_update:
        conversation = await ConversationRepository(session).locked(conversation_id=ticket.conversation_id)
    else:
        conversation = await session.get(Conversation, ticket.conversation_id)
    if conversation is None:
        return None
    state = state_of(conversation)
    if state.step is Step.HANDOFF and state.handoff_reference == ticket.reference:
        return conversation
    return None


def hand_back(conversation: Conversation, *, now: datetime) -> None:
    """Let the assistant answer the conversation again."""
    state = state_of(conversation).evolve(
        step=Step.IDLE,
        handoff_reference=None,
        misunderstood=0,
        offered_handoff=False,
        handoff_acked_at=None,
        follow_up_reference=None,
    )
    conversation.state = state.to_json()
    conversation.updated_at = now


async def expect_follow_up(session: AsyncSession, ticket: Ticket, *, now: datetime) -> None:
    """After an officer's answer: the person's next messages in the ticket's conversation go to the ticket
    (outside a handoff), and the next burst during a handoff is acknowledged again."""
    if ticket.conversation_id is None:
        return
    conversation = await ConversationRepository(session).locked(conversation_id=ticket.conversation_id)
    if conversation is None:
        return
    state = state_of(conversation)
    if state.step is Step.HANDOFF:
        state = state.evolve(handoff_acked_at=None)
    elif state.step is Step.IDLE:
        state = state.evolve(follow_up_reference=ticket.reference)
    else:
        return
    conversation.state = state.to_json()
    conversation.updated_at = now
