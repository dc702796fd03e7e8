"""The TurnStore over SQL: one session per turn; the conversation, its messages and the desk share it.

`bot.tickets.desk.sql_turn_store_factory` opens one per turn with the desk built over the same session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.channels import ChannelName
from bot.domain.clock import Clock
from bot.domain.dialogue import ConversationRecord, DialogueState
from bot.domain.errors import DuplicateMessage
from bot.domain.tickets import RequestDesk
from bot.messages import InboundMessage, OutboundMessage, QuickReply
from bot.store.conversations import ConversationRepository, NewMessage
from bot.store.db import lock_for_transaction
from bot.store.models import Conversation, MessageDirection
from bot.store.outbox import AfterCommit, OutboxRepository, queued_in

# The quick replies of a stored reply, ``payload<TAB>label`` one per line, in its meta (a retry shows them).
QUICK_REPLIES_META = "quick_replies"


class SqlTurnStore:
    """One turn's unit of work (implements ``bot.conversation.turns.TurnStore``)."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        clock: Clock,
        desk: RequestDesk | None,
        after_commit: AfterCommit | None = None,
    ) -> None:
        """Bind to ``session``; ``desk`` shares it. ``after_commit`` runs after a commit that queued
        deliveries (see :meth:`queue_delivery`)."""
        self._session = session
        self._after_commit = after_commit
        self._clock = clock
        self._desk = desk
        self._conversations = ConversationRepository(session)
        self._loaded: dict[str, Conversation] = {}
        self._started: datetime | None = None
        self._handled: dict[tuple[ChannelName, str], bool] = {}

    @property
    def desk(self) -> RequestDesk | None:
        """Tickets and verification, in this turn's transaction."""
        return self._desk

    async def load_conversation(
        self, channel: ChannelName, sender_id: str, message_id: str | None = None
    ) -> ConversationRecord:
        """The conversation of this person on this channel, created on first contact.

        First the turn takes the conversation's lock (held to its commit), so turns of one conversation run
        one at a time on every worker; the turn's time starts once it holds it. The same query tells
        whether ``message_id`` was stored before (see :meth:`already_handled`)."""
        await lock_for_transaction(self._session, f"conversation:{channel.value}:{sender_id}")
        now = self._started = self._clock.now()
        row, handled = await self._conversations.load_for_turn(
            channel=channel, sender_id=sender_id, channel_message_id=message_id, now=now
        )
        self._loaded[row.id] = row  # kept, so record_turn finds it in the session without a query
        if message_id is not None:
            self._handled[(channel, message_id)] = handled
        return ConversationRecord(row.id, row.channel, row.sender_id, DialogueState.from_json(row.state))

    async def already_handled(self, channel: ChannelName, message_id: str) -> bool:
        """True when an inbound message with this channel message id was stored before (known without a
        query when load_conversation was given it)."""
        known = self._handled.get((channel, message_id))
        if known is not None:
            return known
        return await self._conversations.has_message(channel=channel, channel_message_id=message_id)

    async def record_turn(
        self,
        conversation: ConversationRecord,
        inbound: InboundMessage,
        replies: Sequence[OutboundMessage],
        state: DialogueState,
    ) -> None:
        """Store the inbound message, the replies and the new state (raises DuplicateMessage on a race).

        After whatever the desk left pending, one statement on PostgreSQL: the INSERT of all the messages
        (the inbound one first) in a CTE of the conversation's UPDATE (SQLite: the two apart). The inbound
        message is timed when its turn began, not when it arrived, so the history reads each message
        followed by its own replies even when two arrived at once."""
        now = self._clock.now()
        messages = [
            NewMessage(
                direction=MessageDirection.INBOUND,
                channel=inbound.channel,
                text=inbound.text,
                at=self._started or now,
                channel_message_id=inbound.message_id,
                meta=inbound.meta,
            ),
            *(
                NewMessage(
                    direction=MessageDirection.OUTBOUND,
                    channel=reply.channel,
                    text=reply.text,
                    at=now,
                    ticket_reference=reply.ticket_reference,
                    meta={
                        **reply.meta,
                        QUICK_REPLIES_META: "\n".join(f"{q.payload}\t{q.label}" for q in reply.quick_replies),
                    }
                    if reply.quick_replies
                    else reply.meta,
                    in_reply_to=inbound.message_id,
                )
                for reply in replies
            ),
        ]
        try:
            await self._session.flush()  # whatever the desk left pending (nothing on a question turn)
            row = self._loaded.get(conversation.id) or await self._session.get(Conversation, conversation.id)
            if row is None:
                raise LookupError(f"no conversation {conversation.id}")
            await self._conversations.write_turn(
                conversation=row,
                messages=messages,
                state=state.to_json(),
                now=now,
                thread_meta=inbound.meta,
            )
        except IntegrityError as exc:
            if inbound.message_id and "channel_message_id" in str(exc.orig).lower():
                raise DuplicateMessage(inbound.channel, inbound.message_id) from exc
            raise

    async def replies_to(self, channel: ChannelName, message_id: str) -> tuple[OutboundMessage, ...]:
        """The replies the turn of this inbound message stored, to give a retry the same answer."""
        rows = await self._conversations.replies_to(channel=channel, channel_message_id=message_id)
        if not rows:
            return ()
        conversation = await self._conversations.get(conversation_id=rows[0].conversation_id)
        recipient = conversation.sender_id if conversation is not None else ""
        return tuple(
            OutboundMessage(
                channel=row.channel,
                recipient_id=recipient,
                text=row.text,
                quick_replies=tuple(
                    QuickReply(*choice.split("\t", 1))
                    for choice in str((row.meta or {}).get(QUICK_REPLIES_META, "")).split("\n")
                    if "\t" in choice
                ),
                ticket_reference=row.ticket_reference,
                meta={k: str(v) for k, v in (row.meta or {}).items() if k != QUICK_REPLIES_META},
            )
            for row in rows
        )

    def queue_delivery(self, replies: Sequence[OutboundMessage], *, key: str | None) -> None:
        """Queue ``replies`` in the delivery outbox, in this turn's transaction, for a channel that sends
        them after the commit (Telegram, email). Only adds a row to the session: it is written with the
        commit, and nothing of this runs for a web turn."""
        OutboxRepository(self._session).enqueue(messages=replies, now=self._clock.now(), key=key)

    async def commit(self) -> None:
        """Make the turn durable; then, if it queued deliveries, hand over to ``after_commit``."""
        await self._session.commit()
        if self._after_commit is not None and queued_in(self._session):
            await self._after_commit()
