"""What the officer sees of a stored message."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.channels import ChannelName
from bot.messages import ATTACHMENTS_META
from bot.store.models import Message, MessageDirection
from bot.store.ticket_views import transcript_line


def test_transcript_line_shows_attachments_that_were_not_stored() -> None:
    """A channel's note about attachments it did not keep reaches the officer's transcript line."""
    message = Message(
        conversation_id="c1",
        direction=MessageDirection.INBOUND,
        channel=ChannelName.EMAIL,
        text="please delete my account",
        at=datetime(2026, 11, 25, tzinfo=UTC),
        meta={ATTACHMENTS_META: "attachment: id-card.pdf, 5 KB, not stored", "email_subject": "Delete"},
    )
    line = transcript_line(message)
    assert line.attachments == "attachment: id-card.pdf, 5 KB, not stored"
    assert line.text == "please delete my account"
    plain = transcript_line(
        Message(
            conversation_id="c1",
            direction=MessageDirection.OUTBOUND,
            channel=ChannelName.WEB,
            text="hi",
            at=message.at,
            meta=None,
        )
    )
    assert plain.attachments is None
