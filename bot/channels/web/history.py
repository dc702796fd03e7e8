"""A web session's stored messages: read back for the page, and appended to when a later message (an
officer's reply) is delivered, so it shows on the next visit even if no page was open."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.web.api import Author, PolicyQuote
from bot.domain.channels import ChannelName
from bot.messages import AUTHOR_META, OFFICER_AUTHOR, QUOTE_META, QUOTE_SECTION_META, OutboundMessage
from bot.store.conversations import ConversationRepository
from bot.store.models import MessageDirection

HISTORY_LIMIT = 500


@dataclass(frozen=True)
class StoredMessage:
    """One message of a session's history."""

    author: Author
    text: str
    at: datetime
    ticket_reference: str | None = None
    quote: PolicyQuote | None = None


def outbound_author(meta: Mapping[str, str] | None) -> Author:
    """Who wrote a message sent to the person: the privacy officer or the assistant."""
    return Author.OFFICER if (meta or {}).get(AUTHOR_META) == OFFICER_AUTHOR else Author.ASSISTANT


def quote_of(meta: Mapping[str, str] | None) -> PolicyQuote | None:
    """The policy passage a message quotes, from its meta (set by the conversation), if any."""
    values = meta or {}
    if values.get(QUOTE_META) and values.get(QUOTE_SECTION_META):
        return PolicyQuote(section=values[QUOTE_SECTION_META], text=values[QUOTE_META])
    return None


class WebHistory(Protocol):
    """Where a web session's messages are read from and later messages are kept."""

    async def messages(self, session_id: str) -> list[StoredMessage]:
        """The session's last messages, oldest first ([] for a session that never wrote)."""
        ...

    async def append(self, message: OutboundMessage) -> None:
        """Keep a message sent to ``message.recipient_id`` outside a turn."""
        ...


class SqlWebHistory:
    """WebHistory over the conversation repository the conversation's turns use."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def messages(self, session_id: str) -> list[StoredMessage]:
        """The last HISTORY_LIMIT messages of the web conversation with this sender id."""
        async with self._sessions() as session:
            rows = await ConversationRepository(session).latest_of_sender(
                channel=ChannelName.WEB, sender_id=session_id, limit=HISTORY_LIMIT
            )
        return [
            StoredMessage(
                Author.PERSON if row.direction is MessageDirection.INBOUND else outbound_author(row.meta),
                row.text,
                row.at,
                row.ticket_reference,
                None if row.direction is MessageDirection.INBOUND else quote_of(row.meta),
            )
            for row in rows
        ]

    async def append(self, message: OutboundMessage) -> None:
        """Store ``message`` as outbound in the recipient's web conversation (created as a turn creates it,
        when it is new)."""
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            conversations = ConversationRepository(session)
            conversation = await conversations.get_or_create(
                channel=ChannelName.WEB, sender_id=message.recipient_id, now=now
            )
            conversations.add_message(
                conversation_id=conversation.id,
                direction=MessageDirection.OUTBOUND,
                channel=ChannelName.WEB,
                text=message.text,
                at=now,
                ticket_reference=message.ticket_reference,
                meta=message.meta or None,
            )
