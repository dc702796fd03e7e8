"""Fixtures for the web channel: a real chat server (aiohttp on a free loopback port) over the real SQL store
on a SQLite file, mailing codes to the test SMTP server, and an HTTP client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Core
from bot.channels.web import WebChannel, build_web_channel
from bot.channels.web.history import SqlWebHistory
from bot.cluster.health import WorkerHealth
from bot.cluster.shared import local_state
from bot.domain.clock import SystemClock
from bot.mail.smtp import SmtpMailSender
from bot.settings import Settings
from bot.store.db import create_sessionmaker, engine_from_settings
from bot.store.migrate import upgrade_database
from bot.tickets.desk import sql_turn_store_factory
from tests.support.browser import serving_page
from tests.support.core import make_settings
from tests.support.mail_servers import SmtpServer
from tests.support.outbox import mail_outbox


def web_settings(data_dir: Path, smtp: SmtpServer | None = None, **overrides: object) -> Settings:
    """Test settings: SQLite under ``data_dir``, any free port, SMTP at the test server when given."""
    values: dict[str, object] = {"web_port": 0}
    if smtp is not None:
        values.update(smtp_host=smtp.host, smtp_port=smtp.port)
    values.update(overrides)
    return make_settings(data_dir, **values)


@dataclass
class ChatServer:
    """A running web channel and a client session for it."""

    channel: WebChannel
    engine: AsyncEngine
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self.channel.url

    async def new_session(self) -> str:
        """POST /api/sessions and return the id."""
        async with self.http.post(f"{self.url}/api/sessions") as response:
            assert response.status == 201
            return str((await response.json())["session_id"])

    async def chat(self, session_id: str, text: str, **extra: Any) -> tuple[int, dict[str, Any]]:
        """POST /api/chat; the status and the JSON answer."""
        payload = {"session_id": session_id, "text": text, **extra}
        async with self.http.post(f"{self.url}/api/chat", json=payload) as response:
            return response.status, await response.json()

    async def history(self, session_id: str) -> list[dict[str, Any]]:
        """The session's messages as GET /api/sessions/{id}/messages returns them."""
        async with self.http.get(f"{self.url}/api/sessions/{session_id}/messages") as response:
            assert response.status == 200, await response.text()
            return list((await response.json())["messages"])


@asynccontextmanager
async def running_chat_server(settings: Settings, core: Core) -> AsyncIterator[ChatServer]:
    """Migrate the database, start the web channel over the SQL store, and stop it all afterwards."""
    engine = engine_from_settings(settings)
    await upgrade_database(engine)
    sessionmaker = create_sessionmaker(engine)
    mail = mail_outbox(
        sessionmaker,
        SystemClock(),
        SmtpMailSender.from_settings(settings),
        core.responses,
        mail_from=settings.mail_from,
    )
    stores = sql_turn_store_factory(
        sessionmaker, SystemClock(), settings, core.responses, after_commit=mail.flush
    )
    shared = local_state()
    health = WorkerHealth(shared, engine)
    channel = build_web_channel(
        settings,
        core.conversation(stores).handle,
        SqlWebHistory(sessionmaker),
        core.responses,
        shared=shared,
        health=health,
    )
    await channel.start()
    health.mark_started()
    try:
        async with aiohttp.ClientSession() as http:
            yield ChatServer(channel, engine, http)
    finally:
        await channel.stop()
        await engine.dispose()


@pytest_asyncio.fixture
async def chat_server(tmp_path: Path, core: Core, smtp_server: SmtpServer) -> AsyncIterator[ChatServer]:
    """A chat server on a fresh SQLite database, mailing to the test SMTP server."""
    async with running_chat_server(web_settings(tmp_path, smtp_server), core) as server:
        yield server


@pytest_asyncio.fixture
async def shop_site(chat_server: ChatServer) -> AsyncIterator[str]:
    """Another site (another origin) whose page embeds the widget with one script tag."""
    html = (
        f'<!doctype html><html lang="en"><head>'
        f"<title>Shop</title></head><body><h1>A shop</h1>"
        f'<script src="{chat_server.url}/widget.js" async></script></body></html>'
    )

    async with serving_page(html) as url:
        yield url
