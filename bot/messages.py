"""The one inbound and one outbound message type every channel translates to and from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from bot.domain.channels import ChannelName


def _now() -> datetime:
    return datetime.now(UTC)


_EMPTY: Mapping[str, str] = MappingProxyType({})

# The meta key under which a channel notes attachments it received but did not store (the officer sees it).
ATTACHMENTS_META = "attachments"
# Meta keys of an outbound message: who wrote it (AUTHOR_META: OFFICER_AUTHOR for the privacy officer), and
# the policy passage a reply quotes, so a channel that can may show the quote apart (the web chat does).
AUTHOR_META = "author"
OFFICER_AUTHOR = "officer"
QUOTE_META = "quote"
QUOTE_SECTION_META = "quote_section"
# The subject of an outbound email message that is a mail of its own, not a reply in a thread (a one-time
# code): sent as plain text with this subject, marked ``Auto-Submitted: auto-generated``.
MAIL_SUBJECT_META = "mail_subject"
# Such a mail may carry one text file: its name and its text (an archived version of the policy).
ATTACHMENT_NAME_META = "attachment_name"
ATTACHMENT_TEXT_META = "attachment_text"
# The id of the policy version a reply quoted or answered from (``policy.versions``): stored with the reply.
POLICY_VERSION_META = "policy_version"


@dataclass(frozen=True)
class QuickReply:
    """A choice offered as a button: ``payload`` is what it means (an intent or action id, e.g.
    ``request_erasure``, ``resend_code``), ``label`` what the person reads, in their language."""

    payload: str
    label: str


@dataclass(frozen=True)
class InboundMessage:
    """A message a person sent, already stripped of its wire format.

    ``sender_id`` is the person's id on that channel (Telegram chat id, web session id, email address).
    ``verified_address`` is set only when the channel itself proved the person controls that email address
    (an email whose DMARC passed with aligned From); the conversation then skips the one-time code.
    ``claimed_address`` is an address the channel says the person wrote from without proof (an email's From):
    a one-time code goes there without asking. ``thread_reference`` is the ticket reference the channel's
    threading ties this message to (a reply in a ticket's email thread).
    ``meta`` carries channel details the conversation stores but never interprets (thread ids,
    attachment notes). ``payload`` is the quick reply the person tapped (its id; ``text`` is its label);
    ``lang`` a language the person chose (the web widget's switch), which the conversation then keeps.
    """

    channel: ChannelName
    sender_id: str
    text: str
    received_at: datetime = field(default_factory=_now)
    message_id: str | None = None
    verified_address: str | None = None
    claimed_address: str | None = None
    thread_reference: str | None = None
    meta: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    payload: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class OutboundMessage:
    """A message for a person, as plain text plus optional quick-reply choices. ``lang`` is the language
    the text is in, for what a channel adds around it (an email's subject and footer).

    ``ticket_reference`` is the ticket the message is about; ``other_references`` are further tickets it
    lists (one reply for the tickets one verification opened), so that an email subject names them all.
    """

    channel: ChannelName
    recipient_id: str
    text: str
    quick_replies: tuple[QuickReply, ...] = ()
    ticket_reference: str | None = None
    meta: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    other_references: tuple[str, ...] = ()
    lang: str = "en"
