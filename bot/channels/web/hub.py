"""Open websockets by topic: web chat pages by session, so later messages (an officer's reply) reach them
live, whichever worker holds the page's websocket (a delivery is stored, then published on the push bus, and
every worker pushes it to the pages of that session it holds); and this worker's sockets of the officers'
live inbox (``publish`` to its topic)."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSCloseCode, web
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.web.api import PushedMessage, QuickReplyChoice
from bot.channels.web.history import WebHistory, outbound_author
from bot.cluster.bus import PushBus, Topic
from bot.cluster.presence import LocalPresence, Presence
from bot.deliveries import ReturnListener
from bot.domain.channels import ChannelName
from bot.domain.errors import DeliveryFailed
from bot.messages import OutboundMessage

log = logging.getLogger(__name__)


class WebSocketHub:
    """Tracks each session's open websockets; stores and pushes messages delivered later."""

    def __init__(self, history: WebHistory, bus: PushBus, presence: Presence | None = None) -> None:
        """Store in ``history``; push through ``bus`` (subscribed here, before it starts); tell
        ``presence`` which sessions have a page open here."""
        self._history = history
        self._bus = bus
        self._presence = presence or LocalPresence()
        self._sockets: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._listeners: list[ReturnListener] = []
        bus.subscribe(Topic.WEB_CHAT, self._push)

    def on_return(self, listener: ReturnListener) -> None:
        """Call ``listener`` whenever a page of a session opens (the person is back and sees its history)."""
        self._listeners.append(listener)

    async def returned(self, session_id: str) -> None:
        """A page of ``session_id`` opened: tell the listeners (a failing one is logged, not raised)."""
        for listener in self._listeners:
            try:
                await listener(ChannelName.WEB, session_id)
            except SQLAlchemyError:
                log.exception("a return listener failed")

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
        """How many pages of ``session_id`` are connected to this worker."""
        return len(self._sockets.get(session_id, ()))

    async def page_opened(self, session_id: str, socket: web.WebSocketResponse) -> None:
        """A page of ``session_id`` connected: push to it, and let every worker know it is open."""
        self.add(session_id, socket)
        await self._presence.opened(session_id)

    async def page_closed(self, session_id: str, socket: web.WebSocketResponse) -> None:
        """That page went away."""
        self.remove(session_id, socket)
        await self._presence.closed(session_id)

    async def reaches_now(self, session_id: str) -> bool:
        """True while a page of ``session_id`` is open here or on another worker."""
        return self.open_pages(session_id) > 0 or await self._presence.present(session_id)

    async def deliver(self, message: OutboundMessage) -> None:
        """Store ``message`` in the session's history, then publish it to every worker's open pages of
        that session.

        Raises DeliveryFailed only when it could not be stored; a page that is closed (or missed the push)
        reads it on its next visit.
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
        await self._bus.publish(Topic.WEB_CHAT, {"session_id": message.recipient_id, "message": payload})

    async def _push(self, published: dict[str, Any]) -> None:
        """Send a published message to this worker's open pages of its session."""
        session_id = str(published["session_id"])
        sockets = tuple(self._sockets.get(session_id, ()))
        for socket in sockets:
            try:
                await socket.send_json(published["message"])
            except (ConnectionError, RuntimeError):
                self.remove(session_id, socket)
        if sockets:
            log.info("web message pushed to %d open page(s)", self.open_pages(session_id))

    async def publish(self, topic: str, payload: dict[str, Any]) -> int:
        """Push ``payload`` to every socket registered under ``topic`` (a session id, or a feed such as the
        officer inbox); returns how many got it. A dead socket is dropped."""
        sent = 0
        for socket in tuple(self._sockets.get(topic, ())):
            try:
                await socket.send_json(payload)
                sent += 1
            except (ConnectionError, RuntimeError):
                self.remove(topic, socket)
        return sent

    async def close_all(self) -> None:
        """Close every open websocket (at shutdown); pages reconnect and reload their history."""
        sockets = [socket for group in self._sockets.values() for socket in group]
        self._sockets.clear()
        for socket in sockets:
            await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
