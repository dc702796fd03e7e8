"""Open web chat pages, by session, so later messages (an officer's reply) reach them live."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime

from aiohttp import WSCloseCode, web
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.web.api import PushedMessage, QuickReplyChoice
from bot.channels.web.history import WebHistory, outbound_author
from bot.domain.channels import ChannelName
from bot.domain.errors import DeliveryFailed
from bot.messages import OutboundMessage

log = logging.getLogger(__name__)


class WebSocketHub:
    """Tracks each session's open websockets; stores and pushes messages delivered later."""

    def __init__(self, history: WebHistory) -> None:
        self._history = history
        self._sockets: dict[str, set[web.WebSocketResponse]] = defaultdict(set)

    def add(self, session_id: str, socket: web.WebSocketResponse) -> None:
        """Register an open page of ``session_id``."""
        self._sockets[session_id].add(socket)

    def remove(self, session_id: str, socket: web.WebSocketResponse) -> None:
        """Forget a page that closed."""
        sockets = self._sockets.get(session_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._sockets[session_id]

    def open_pages(self, session_id: str) -> int:
        """How many pages of ``session_id`` are connected."""
        return len(self._sockets.get(session_id, ()))

    async def deliver(self, message: OutboundMessage) -> None:
        """Store ``message`` in the session's history, then push it to every open page of that session.

        Raises DeliveryFailed only when it could not be stored; a page that is closed reads it on its next
        visit.
        """
        try:
            await self._history.append(message)
        except SQLAlchemyError as exc:
            raise DeliveryFailed(ChannelName.WEB, f"could not store: {type(exc).__name__}") from exc
        payload = PushedMessage(
            author=outbound_author(message.meta),
            at=datetime.now(UTC),
            text=message.text,
            quick_replies=[QuickReplyChoice(payload=q.payload, label=q.label) for q in message.quick_replies],
            ticket_reference=message.ticket_reference,
        ).model_dump(mode="json")
        for socket in tuple(self._sockets.get(message.recipient_id, ())):
            try:
                await socket.send_json(payload)
            except (ConnectionError, RuntimeError):
                self.remove(message.recipient_id, socket)
        log.info("web message delivered to %d open page(s)", self.open_pages(message.recipient_id))

    async def close_all(self) -> None:
        """Close every open websocket (at shutdown); pages reconnect and reload their history."""
        sockets = [socket for group in self._sockets.values() for socket in group]
        self._sockets.clear()
        for socket in sockets:
            await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
