"""A running web server with the chat and the officer workspace over the real SQL store (SQLite file), an
officer account, and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Core
from bot.channels.email.outgoing import OutgoingMail
from bot.channels.web import WebChannel, build_web_channel
from bot.channels.web.handlers import SERVICES_KEY
from bot.channels.web.history import SqlWebHistory
from bot.deliveries import Deliveries
from bot.domain.channels import ChannelName
from bot.domain.clock import SystemClock
from bot.officer.workspace import OfficerWorkspace, build_officer_workspace
from bot.store.db import create_sessionmaker, engine_from_settings
from bot.store.migrate import upgrade_database
from bot.tickets.desk import sql_turn_store_factory
from tests.officer.conftest import RecordingChannel
from tests.support.core import make_settings
from tests.tickets.helpers import RecordingMailSender

OFFICER_EMAIL = "ana@zynorlink.example"
OFFICER_PASSWORD = "correct horse battery staple"


@dataclass
class OfficerServer:
    """The server, the officer workspace on it, and a client."""

    channel: WebChannel
    workspace: OfficerWorkspace
    http: aiohttp.ClientSession
    token: str
    sessionmaker: async_sessionmaker[AsyncSession]
    mail: RecordingMailSender

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self.channel.url

    async def open_handoff(self, text: str = "/human") -> tuple[str, str]:
        """A web-chat person asks for a human; returns (session id, ticket reference)."""
        async with self.http.post(f"{self.url}/api/sessions") as response:
            session_id = str((await response.json())["session_id"])
        async with self.http.post(
            f"{self.url}/api/chat", json={"session_id": session_id, "text": text}
        ) as response:
            return session_id, str((await response.json())["ticket_reference"])

    async def chat(self, session_id: str, text: str) -> dict[str, Any]:
        """One web-chat message from the person of ``session_id``; the JSON answer."""
        async with self.http.post(
            f"{self.url}/api/chat", json={"session_id": session_id, "text": text}
        ) as response:
            answer: dict[str, Any] = await response.json()
            return answer

    async def new_session(self) -> str:
        """A fresh web-chat session id."""
        async with self.http.post(f"{self.url}/api/sessions") as response:
            return str((await response.json())["session_id"])

    async def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> tuple[int, Any]:
        """Call the officer API with the officer's token (or ``token``)."""
        headers = {"Authorization": f"Bearer {token or self.token}"}
        async with self.http.request(
            method, f"{self.url}/api/officer{path}", headers=headers, **kwargs
        ) as response:
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.text()


@pytest_asyncio.fixture
async def officer_server(tmp_path: Path, core: Core) -> AsyncIterator[OfficerServer]:
    """Chat + officer workspace on a fresh SQLite database; one officer with an API token."""
    settings = make_settings(tmp_path, web_port=0)
    engine = engine_from_settings(settings)
    await upgrade_database(engine)
    sessionmaker = create_sessionmaker(engine)
    clock = SystemClock()
    mail = RecordingMailSender()

    async def deliver_queued() -> None:  # what a turn queued (a code mail) goes out before it answers
        await workspace.outbox.flush()

    stores = sql_turn_store_factory(
        sessionmaker, clock, settings, core.responses, after_commit=deliver_queued
    )
    conversation = core.conversation(stores)
    channel = build_web_channel(settings, conversation.handle, SqlWebHistory(sessionmaker), core.responses)
    deliveries = Deliveries()
    deliveries.register(channel)
    deliveries.register(RecordingChannel(ChannelName.TELEGRAM))
    deliveries.register(OutgoingMail(mail, mail_from=settings.mail_from, responses=core.responses))
    workspace = build_officer_workspace(
        settings,
        sessionmaker=sessionmaker,
        clock=clock,
        responses=core.responses,
        deliveries=deliveries,
        mail_sender=mail,
        web_app=channel.app,
        openapi_document=channel.app[SERVICES_KEY].openapi,
    )
    await workspace.accounts.add(OFFICER_EMAIL, OFFICER_PASSWORD, name="Ana Officer")
    token = await workspace.accounts.issue_token(OFFICER_EMAIL)
    await channel.start()
    await workspace.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield OfficerServer(channel, workspace, http, token, sessionmaker, mail)
    finally:
        await workspace.stop()
        await channel.stop()
        await engine.dispose()
