"""An archive request in the web chat: the assistant mails the archived text and opens no ticket."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import Core
from bot.messages import POLICY_VERSION_META
from bot.settings import DEFAULT_POLICY
from bot.store.models import Message, MessageDirection
from tests.channels.web.conftest import ChatServer
from tests.support.mail_servers import SmtpServer


async def test_archive_request_mails_the_archived_text(
    chat_server: ChatServer, smtp_server: SmtpServer
) -> None:
    """Asked for the policy archive with an address, the assistant mails the archived text as a text
    attachment to that address, names the version in its reply, and opens no ticket."""
    session = await chat_server.new_session()
    status, answer = await chat_server.chat(
        session, "Please send an archived version of the privacy policy to anna@example.test"
    )
    assert status == 200, answer
    mails = await smtp_server.sink.wait_for(lambda m: "anna@example.test" in m.rcpt_tos, timeout=15)
    attachments = list(mails[0].message.iter_attachments())
    assert len(attachments) == 1
    assert attachments[0].get_filename().endswith(".txt")
    text = attachments[0].get_content()
    assert "Material changes will be communicated at least 30 days" in text
    assert text.strip().splitlines() == DEFAULT_POLICY.read_text(encoding="utf-8").strip().splitlines()
    replies = " ".join(str(m.get("text", "")) for m in await chat_server.history(session))
    assert "a***@example.test" in replies
    assert "PRV-" not in replies


async def test_stored_answers_name_the_policy_version(chat_server: ChatServer, core: Core) -> None:
    """An answer given in the web chat is stored with the id of the policy version it quoted."""
    session = await chat_server.new_session()
    status, answer = await chat_server.chat(session, "How long do you keep payment records?")
    assert status == 200, answer
    async with chat_server.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(Message.meta).where(Message.direction == MessageDirection.OUTBOUND)
            )
        ).all()
    versions = {(meta or {}).get(POLICY_VERSION_META) for (meta,) in rows}
    assert versions == {core.policy.id}
