"""Reply mails: threading headers, the ticket reference in the subject, escaped HTML."""

from __future__ import annotations

from bot.channels.email.compose import (
    compose_mail,
    outgoing_message_id,
    thread_meta,
    thread_reference,
)
from bot.domain.channels import ChannelName
from bot.messages import OutboundMessage
from responses import Responses

BOT = "privacy-assistant@zynorlink.example"


def _reply(text: str = "Your request is open.", reference: str | None = None) -> OutboundMessage:
    meta = thread_meta(
        message_id="<m2@example.com>", references=("<m1@example.com>",), subject="Re: Delete it"
    )
    return OutboundMessage(ChannelName.EMAIL, "anna@example.com", text, ticket_reference=reference, meta=meta)


def test_reply_threads_and_names_the_ticket() -> None:
    """In-Reply-To is the person's mail, References the whole chain, the subject carries [PRV-…]."""
    mail = compose_mail([_reply(reference="PRV-7K3Q-9M2D")], sender=BOT, responses=Responses(), seed="<m2@x>")
    assert mail["In-Reply-To"] == "<m2@example.com>"
    assert mail["References"] == "<m1@example.com> <m2@example.com>"
    assert mail["Subject"] == "Re: Delete it [PRV-7K3Q-9M2D]"
    assert mail["Message-ID"].startswith("<prv-7k3q-9m2d.") and mail["Auto-Submitted"] == "auto-replied"


def test_same_seed_gives_the_same_message_id() -> None:
    """A resent reply keeps its Message-ID; without a seed each id is new."""
    one = outgoing_message_id(domain="z.example", reference=None, seed="<a@b>")
    assert one == outgoing_message_id(domain="z.example", reference=None, seed="<a@b>")
    assert outgoing_message_id(domain="z.example", reference=None) != outgoing_message_id(
        domain="z.example", reference=None
    )


def test_html_part_escapes_the_text() -> None:
    """Text that looks like markup is shown, not run."""
    mail = compose_mail([_reply("<script>x()</script> & more")], sender=BOT, responses=Responses())
    html = mail.get_body(preferencelist=("html",))
    assert html is not None
    content = html.get_content()
    assert "<script>" not in content and "&lt;script&gt;" in content


def test_thread_reference_from_subject_or_our_message_ids() -> None:
    """A PRV reference in the subject wins, else one of our own Message-IDs in the thread; others do not."""
    ours = outgoing_message_id(domain="zynorlink.example", reference="PRV-7K3Q-9M2D", seed="s")
    assert thread_reference("Re: [PRV-AAAA-BBBB] hi", (ours,), "zynorlink.example") == "PRV-AAAA-BBBB"
    assert thread_reference("Re: hi", ("<x@y>", ours), "zynorlink.example") == "PRV-7K3Q-9M2D"
    assert thread_reference("Re: hi", (ours,), "elsewhere.example") is None
    assert thread_reference("Re: hi", ("<x@y>",), "zynorlink.example") is None
