"""Replies belong to the ticket: after an officer answered, the person's next messages in that conversation
are added to the ticket and reach the officer, until the ticket closes or the person starts something else."""

from __future__ import annotations

from bot.domain.tickets import TicketStatus
from bot.officer.alerts import AlertFeed
from bot.store.models import TicketEventKind
from bot.store.officer_models import AlertKind
from tests.officer.conftest import Workspace
from tests.officer.test_handoff import CollectingSink
from tests.support.mail_servers import extract_code

QUESTION = "Will my course certificates also be deleted?"


async def open_erasure(workspace: Workspace, sender: str = "web-9") -> str:
    """A verified erasure request from the web chat; its reference."""
    await workspace.say("please delete my account", sender=sender)
    await workspace.say("lena@example.test", sender=sender)
    opened = await workspace.say(extract_code(workspace.mail.sent[-1]), sender=sender)
    assert opened.outcome is not None and opened.outcome.ticket_reference
    return opened.outcome.ticket_reference


async def test_the_answer_to_an_officer_reply_reaches_the_officer(workspace: Workspace) -> None:
    """The person's question after the officer's reply is added to the ticket, the bot says it passed it
    on (it does not answer it itself), and the officer is alerted with the text."""
    reference = await open_erasure(workspace)
    await workspace.desk.reply(reference, "We will delete the account within a week.", officer="o@x.test")
    follow_up = await workspace.say(QUESTION, sender="web-9")
    assert len(follow_up.replies) == 1
    assert f"added your message to your request {reference}" in follow_up.replies[0].text
    sink = CollectingSink()
    await AlertFeed(workspace.sessionmaker, sink=sink, clock=workspace.clock).poll_once()
    relayed = [a for a in sink.alerts if a.kind is AlertKind.REQUESTER_MESSAGE]
    assert [(a.reference, a.text) for a in relayed] == [(reference, QUESTION)]
    page = await workspace.desk.page(reference)
    assert page is not None
    assert [
        e.detail.get("text") for e in page.detail.audit if e.event is TicketEventKind.REQUESTER_MESSAGE
    ] == [QUESTION]


async def test_a_new_request_or_a_closed_ticket_ends_the_follow_up(workspace: Workspace) -> None:
    """A clear new request is answered by the assistant and ends the follow-up; after the ticket is
    resolved, messages are the assistant's again."""
    reference = await open_erasure(workspace)
    await workspace.desk.reply(reference, "Done soon.", officer="o@x.test")
    new_request = await workspace.say("I want a copy of all the data you hold about me", sender="web-9")
    assert new_request.outcome is not None and new_request.outcome.kind is not None
    assert all("added your message" not in r.text for r in new_request.replies)

    other = await open_erasure(workspace, sender="web-10")
    await workspace.desk.reply(other, "Working on it.", officer="o@x.test")
    await workspace.desk.set_status(other, TicketStatus.RESOLVED, officer="o@x.test")
    after = await workspace.say(QUESTION, sender="web-10")
    assert all("added your message" not in r.text for r in after.replies)
