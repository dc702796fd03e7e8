"""Status notices in the law's words: every status change the officer makes is told to the person; an
extension only within the first month, with its reason and new date; a rejection with its reasons and the
right to complain to a supervisory authority and to seek a judicial remedy."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Core
from bot.channels.email.compose import META_MESSAGE_ID, META_REFERENCES, META_SUBJECT
from bot.domain.channels import ChannelName
from bot.domain.errors import ExtensionTooLate
from bot.domain.tickets import TicketStatus
from bot.store.models import TicketEventKind
from tests.officer.conftest import Workspace, email_workspace
from tests.officer.test_service import open_handoff
from tests.support.database import FrozenClock
from tests.support.mail_servers import SmtpServer

PERSON = "person@example.test"


async def test_rejection_mail_states_the_reasons_and_the_right_to_complain(
    tmp_path: Path,
    core: Core,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    smtp_server: SmtpServer,
) -> None:
    """A person who wrote by email gets the rejection by mail, in their thread: the reasons, the right to
    lodge a complaint with a supervisory authority and the right to a judicial remedy."""
    workspace = email_workspace(tmp_path, core, sessionmaker, clock, smtp_server)
    meta = {META_MESSAGE_ID: "<r1@example.test>", META_REFERENCES: "<r1@example.test>", META_SUBJECT: "Hi"}
    result = await workspace.say(
        "/human", sender=PERSON, channel=ChannelName.EMAIL, meta=meta, claimed_address=PERSON
    )
    assert result.outcome is not None and result.outcome.ticket_reference
    reference = result.outcome.ticket_reference
    await workspace.desk.set_status(
        reference,
        TicketStatus.REJECTED,
        officer="o@x.test",
        reason="The address you wrote from holds no ZynorLink account.",
    )
    [mail] = await smtp_server.sink.wait_for(lambda m: "The reasons" in m.text)
    assert mail.rcpt_tos == (PERSON,)
    assert reference in mail.subject and mail.message["In-Reply-To"] == "<r1@example.test>"
    text = " ".join(mail.text.split())
    assert "The reasons: The address you wrote from holds no ZynorLink account." in text
    assert "lodge a complaint with a supervisory authority" in text
    assert "seek a judicial remedy" in text


async def test_each_status_change_is_told_once(workspace: Workspace) -> None:
    """In progress, waiting on the requester (with what is needed) and resolved each reach the person on
    their channel; setting the same status again tells nothing more."""
    reference = await open_handoff(workspace, "77", ChannelName.TELEGRAM)
    await workspace.desk.set_status(reference, TicketStatus.IN_PROGRESS, officer="o@x.test")
    await workspace.desk.set_status(reference, TicketStatus.IN_PROGRESS, officer="o@x.test")
    await workspace.desk.set_status(
        reference, TicketStatus.WAITING_ON_REQUESTER, officer="o@x.test", reason="a copy of your invoice"
    )
    await workspace.desk.set_status(reference, TicketStatus.RESOLVED, officer="o@x.test")
    texts = [m.text for m in workspace.channels[ChannelName.TELEGRAM].from_officer]
    assert len(texts) == 3
    assert "is now being worked on" in texts[0]
    assert "What we need: a copy of your invoice" in texts[1]
    assert "is now resolved" in texts[2]
    assert all(reference in text for text in texts)


async def test_extension_within_the_first_month_tells_the_reason_and_the_new_date(
    workspace: Workspace,
) -> None:
    """Three weeks after intake the deadline may still be extended; the person reads why and until when."""
    reference = await open_handoff(workspace, "78", ChannelName.TELEGRAM)
    workspace.clock.advance(days=21)
    await workspace.desk.extend(reference, 2, "Records are spread over three systems", officer="o@x.test")
    told = workspace.channels[ChannelName.TELEGRAM].sent[-1].text
    assert "The reason: Records are spread over three systems" in told
    assert "extending the deadline by 2 months" in told
    assert "The new deadline is Monday 1 June 2026 (it was Wednesday 1 April 2026)" in told


async def test_extension_is_refused_after_the_first_month(workspace: Workspace) -> None:
    """A month and a day after intake an extension is refused (GDPR Art. 12(3)): nothing is recorded and
    nothing is sent."""
    reference = await open_handoff(workspace, "79", ChannelName.TELEGRAM)
    workspace.clock.advance(days=32)
    with pytest.raises(ExtensionTooLate) as refused:
        await workspace.desk.extend(reference, 1, "We are busy", officer="o@x.test")
    assert "Art. 12(3)" in str(refused.value)
    page = await workspace.desk.page(reference)
    assert page is not None and page.detail.ticket.extended_until is None
    assert TicketEventKind.DEADLINE_EXTENDED not in [entry.event for entry in page.detail.audit]
    assert workspace.channels[ChannelName.TELEGRAM].from_officer == []
