"""Live handoff end to end over the real store: a person asks for a human, their next messages go to the
ticket (and the officer), the officer's replies reach them, and ending the handoff gives the assistant
back."""

from __future__ import annotations

import pytest

from bot.domain.channels import ChannelName
from bot.domain.dialogue import DialogueState, Step
from bot.domain.errors import HandoffNotActive
from bot.domain.tickets import RequestKind, TicketStatus
from bot.officer.alerts import AlertFeed
from bot.officer.notifications import TicketAlert
from bot.store.models import Conversation, TicketEventKind
from bot.store.officer_models import AlertKind
from tests.officer.conftest import Workspace


class CollectingSink:
    """Keeps the alerts the feed sends."""

    def __init__(self) -> None:
        """Start empty."""
        self.alerts: list[TicketAlert] = []

    async def alert(self, alert: TicketAlert, *, skip: frozenset[str] = frozenset()) -> None:
        """Keep ``alert``."""
        self.alerts.append(alert)


async def state_of(workspace: Workspace, sender: str) -> DialogueState:
    """The stored dialogue state of the web conversation of ``sender``."""
    async with workspace.sessionmaker() as session:
        from sqlalchemy import select

        row = (await session.scalars(select(Conversation).where(Conversation.sender_id == sender))).one()
        return DialogueState.from_json(row.state)


async def test_handoff_start_relay_reply_and_end(workspace: Workspace) -> None:
    """/human opens a handoff ticket and says when to expect an answer; the next message is relayed (no bot
    reply) and alerts the officer with its text; the officer's reply is delivered; ending the handoff tells
    the person, resolves the ticket, and the assistant answers again."""
    sink = CollectingSink()
    feed = AlertFeed(workspace.sessionmaker, sink=sink, clock=workspace.clock)
    started = await workspace.say("/human")
    assert started.outcome is not None
    reference = started.outcome.ticket_reference
    assert reference and reference in started.replies[0].text
    assert (await state_of(workspace, "web-1")).step is Step.HANDOFF

    relayed = await workspace.say("My account was hacked, please help")
    assert relayed.replies == ()
    await feed.poll_once()
    assert [(a.kind, a.reference) for a in sink.alerts] == [
        (AlertKind.NEW_TICKET, reference),
        (AlertKind.REQUESTER_MESSAGE, reference),
    ]
    assert sink.alerts[0].ticket_kind is RequestKind.HANDOFF
    assert sink.alerts[1].text == "My account was hacked, please help" and sink.alerts[1].handoff

    await workspace.desk.reply(reference, "I'm looking into it now.", officer="o@x.test")
    assert "I'm looking into it now." in workspace.channels[ChannelName.WEB].sent[-1].text
    page = await workspace.desk.page(reference)
    assert page is not None and page.handoff_active
    assert TicketEventKind.REQUESTER_MESSAGE in [e.event for e in page.detail.audit]

    ended = await workspace.desk.end_handoff(reference, officer="o@x.test")
    assert ended.status is TicketStatus.RESOLVED
    told = workspace.channels[ChannelName.WEB].sent[-1]
    assert "assistant again" in told.text and told.ticket_reference == reference
    state = await state_of(workspace, "web-1")
    assert state.step is Step.IDLE and state.handoff_reference is None
    answered = await workspace.say("How long do you keep my data?")
    assert answered.replies, "the assistant answers again after the handoff"
    with pytest.raises(HandoffNotActive):
        await workspace.desk.end_handoff(reference, officer="o@x.test")


async def test_closing_a_handoff_ticket_hands_the_conversation_back(workspace: Workspace) -> None:
    """Resolving the ticket of a live handoff also gives the conversation back to the assistant."""
    started = await workspace.say("/human", sender="web-2")
    assert started.outcome is not None and started.outcome.ticket_reference
    await workspace.desk.set_status(
        started.outcome.ticket_reference, TicketStatus.RESOLVED, officer="o@x.test"
    )
    assert (await state_of(workspace, "web-2")).step is Step.IDLE


async def test_alerts_are_sent_once_and_a_failed_one_is_retried(workspace: Workspace) -> None:
    """An alert whose sending failed is retried after the delay; a sent one is never sent again."""
    from bot.sla.notifier import NotificationFailed

    class FlakySink(CollectingSink):
        fail = True

        async def alert(self, alert: TicketAlert, *, skip: frozenset[str] = frozenset()) -> None:
            if self.fail:
                raise NotificationFailed("down")
            await super().alert(alert)

    sink = FlakySink()
    feed = AlertFeed(workspace.sessionmaker, sink=sink, clock=workspace.clock)
    await workspace.say("/human")
    first = await feed.poll_once()
    assert (first.claimed, first.sent, first.failed) == (1, 0, 1)
    sink.fail = False
    assert (await feed.poll_once()).sent == 0  # still leased for the retry delay
    workspace.clock.advance(minutes=2)
    assert (await feed.poll_once()).sent == 1
    assert (await feed.poll_once()).sent == 0
    assert len(sink.alerts) == 1


async def test_the_officer_s_messages_reach_the_person_in_the_conversation_s_language(
    workspace: Workspace,
) -> None:
    """A person who asked for a human in Russian gets the officer's signature and the end of the handoff in
    Russian; the officer's own words pass through as written."""
    started = await workspace.say("Соедините меня, пожалуйста, с живым сотрудником")
    assert started.outcome is not None and started.outcome.ticket_reference
    reference = started.outcome.ticket_reference
    assert "Я передал этот разговор" in started.replies[0].text
    await workspace.desk.reply(reference, "Hello, I am on it.", officer="o@x.test")
    signed = workspace.channels[ChannelName.WEB].sent[-1].text
    assert signed.startswith("Hello, I am on it.") and "ответственный за защиту данных ZynorLink" in signed
    await workspace.desk.end_handoff(reference, officer="o@x.test")
    assert "С вами снова помощник" in workspace.channels[ChannelName.WEB].sent[-1].text
