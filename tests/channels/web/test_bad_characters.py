"""Characters a database cannot store and addresses that hide or carry something, through POST /api/chat on
SQLite and PostgreSQL (issue #26)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Core
from bot.store.db import create_sessionmaker
from bot.store.models import Message, MessageDirection, VerificationCode
from tests.channels.web.conftest import running_chat_server, web_settings
from tests.support.mail_servers import SmtpServer


async def _inbound_texts(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessionmaker() as session:
        query = select(Message.text).where(Message.direction == MessageDirection.INBOUND)
        return list((await session.scalars(query.order_by(Message.id))).all())


async def test_nul_and_lone_surrogate_gave_a_500(
    tmp_path: Path, core: Core, smtp_server: SmtpServer, database_url: str
) -> None:
    """Regression: a NUL or a lone surrogate in /api/chat ended in asyncpg's UntranslatableCharacterError
    (a 500). Both are answered; NUL is dropped and the surrogate stored as U+FFFD, in the transcript and
    in the history the page reads back."""
    settings = web_settings(tmp_path, smtp_server, database_url=database_url)
    async with running_chat_server(settings, core) as server:
        session_id = await server.new_session()
        nul = await server.chat(session_id, "For how long is\x00 my data kept?")
        surrogate = await server.chat(session_id, "hello \ud800 there")
        assert nul[0] == 200 and surrogate[0] == 200
        assert nul[1]["replies"] and surrogate[1]["replies"]
        texts = await _inbound_texts(create_sessionmaker(server.engine))
        history = [m["text"] for m in await server.history(session_id) if m["author"] == "person"]
    assert texts == history == ["For how long is my data kept?", "hello \ufffd there"]


async def test_zero_width_address_got_its_code_at_a_truncated_address(
    tmp_path: Path, core: Core, smtp_server: SmtpServer, database_url: str
) -> None:
    """Regression: an address with a zero-width space in it was read from the character after it, and the
    code went to that truncated address. The code goes to the whole address, zero-width character removed."""
    settings = web_settings(tmp_path, smtp_server, database_url=database_url)
    async with running_chat_server(settings, core) as server:
        session_id = await server.new_session()
        await server.chat(session_id, "Please delete my account")
        status, _ = await server.chat(session_id, "jo\u200bhn.smith@example.test")
        assert status == 200
        mail = (await smtp_server.sink.wait_for(lambda m: bool(m.rcpt_tos)))[0]
    assert list(mail.rcpt_tos) == ["john.smith@example.test"]


async def test_formula_prefixed_address_is_refused(
    tmp_path: Path, core: Core, smtp_server: SmtpServer, database_url: str
) -> None:
    """An address typed with a spreadsheet formula prefix (``=``) gets no code: the reply says why and asks
    again, and the request goes on when the address is typed as it is."""
    settings = web_settings(tmp_path, smtp_server, database_url=database_url)
    async with running_chat_server(settings, core) as server:
        sessionmaker = create_sessionmaker(server.engine)
        session_id = await server.new_session()
        await server.chat(session_id, "Please delete my account")
        status, body = await server.chat(session_id, "=carol@example.test")
        assert status == 200
        assert 'cannot start with "="' in body["replies"][0]
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(VerificationCode)) == 0
        await server.chat(session_id, "carol@example.test")
        mail = (await smtp_server.sink.wait_for(lambda m: bool(m.rcpt_tos)))[0]
    assert list(mail.rcpt_tos) == ["carol@example.test"]
