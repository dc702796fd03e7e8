"""Whole turns through the conversation engine, without a ticket store (as `privacybot ask` runs).

The conversation tests run on both NLU engines: the embedded one, and a real Rasa server (marked `rasa`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from actions.context import ActionKind
from bot.app import Core, build_core
from bot.conversation.engine import TurnResult, clean_text, command_parse, looks_unreadable
from bot.conversation.memory import MemoryTurnStore
from bot.domain.channels import ChannelName
from bot.messages import InboundMessage
from bot.settings import DEFAULT_POLICY
from nlu.engines.rasa_http import RasaHttpEngine
from nlu.intents import Intent
from nlu.result import NluEngine
from policy.bank import Coverage
from tests.support.core import make_settings

Say = Callable[..., Awaitable[TurnResult]]


@pytest_asyncio.fixture(params=["embedded", pytest.param("rasa", marks=pytest.mark.rasa)])
async def say(request: pytest.FixtureRequest, core: Core) -> AsyncIterator[Say]:
    """Send one message in a fresh (or the given) in-memory conversation, on the parametrised engine."""
    engine: NluEngine = core.embedded
    http: RasaHttpEngine | None = None
    if request.param == "rasa":
        http = RasaHttpEngine(request.getfixturevalue("rasa_url"))
        engine = http

    async def send(text: str, store: MemoryTurnStore | None = None) -> TurnResult:
        conversation = core.conversation(store or MemoryTurnStore(), nlu=engine)
        return await conversation.handle(InboundMessage(ChannelName.CLI, "tester", text))

    yield send
    if http is not None:
        await http.close()


async def say_on(core: Core, text: str) -> TurnResult:
    """One message to ``core`` on its own engine, in a fresh conversation."""
    conversation = core.conversation(MemoryTurnStore())
    return await conversation.handle(InboundMessage(ChannelName.CLI, "tester", text))


async def test_policy_question_quotes_the_passage_and_names_the_section(say: Say) -> None:
    """A retention question is answered with the payment-records bullet and its section."""
    result = await say("How long do you keep my payment records?")
    assert result.outcome is not None and result.outcome.action is ActionKind.ANSWER
    assert result.outcome.section == "Retention Periods"
    assert "Payment records: Kept for 5 years" in result.replies[0].text
    assert "Retention Periods" in result.replies[0].text


async def test_unnamed_thing_is_said_so_and_the_topic_quoted(say: Say) -> None:
    """Cookies: the policy covers automatic collection but never names cookies. The reply says so and
    quotes what the policy does say on the topic, naming its section."""
    result = await say("Do you use cookies on the website?")
    text = " ".join(r.text for r in result.replies)
    assert result.outcome is not None and result.outcome.action is ActionKind.ANSWER
    assert result.outcome.section == "Automatically Collected Information"
    assert "does not answer that exact point" in text and "Automatically Collected Information" in text
    assert result.outcome.answer is not None and result.outcome.answer.coverage is Coverage.PARTIAL


async def test_question_outside_the_policy_is_not_covered(say: Say) -> None:
    """A question the policy has nothing on is declined as `not_covered`: no section, the officer offered."""
    result = await say("How much does a course cost?")
    text = " ".join(r.text for r in result.replies)
    assert result.outcome is not None and result.outcome.action is ActionKind.NOT_COVERED
    assert result.outcome.section is None
    assert "doesn't cover" in text and "privacy officer" in text


async def test_html_around_a_question_is_understood(say: Say) -> None:
    """Markup and entities around a question do not reach the understanding; the answer is the same."""
    result = await say("<p>How long do you keep my <b>payment&nbsp;records</b>?</p><br>-- <br>Sent by Mail")
    assert result.parse is not None and "<" not in result.parse.text and "nbsp" not in result.parse.text
    assert result.outcome is not None and result.outcome.section == "Retention Periods"
    assert "Payment records: Kept for 5 years" in result.replies[0].text


async def test_erasure_request_asks_for_the_account_address(say: Say) -> None:
    """Without a ticket store the request is recognised and the next step explained; no ticket opens."""
    result = await say("Please delete my account and all my data")
    assert result.outcome is not None
    assert result.outcome.action is ActionKind.REQUEST
    assert result.outcome.kind is not None and result.outcome.kind.value == "erasure"
    assert result.outcome.ticket_reference is None
    assert "email address" in result.replies[-1].text
    assert "48 hours" in result.replies[-1].text and "30 days" in result.replies[-1].text


async def test_answers_follow_the_policy_file(tmp_path: Path) -> None:
    """The same question over a changed copy of the policy gives the new fact, with no retraining."""
    text = (
        DEFAULT_POLICY.read_text(encoding="utf-8")
        .replace("Payment records: Kept for 5 years", "Payment records: Kept for 11 years")
        .replace("Vaqif Haqverdiyev", "Aysel Karimova")
    )
    policy = tmp_path / "policy.txt"
    policy.write_text(text, encoding="utf-8")
    changed = build_core(make_settings(tmp_path, policy=policy))
    retention = await say_on(changed, "how long do you keep payment records?")
    assert "11 years" in retention.replies[0].text
    officer = await say_on(changed, "who is the privacy officer?")
    assert "Aysel Karimova" in officer.replies[0].text
    assert "Vaqif" not in officer.replies[0].text


async def test_obfuscated_address_is_never_shown(core: Core) -> None:
    """The contact answer shows the configured officer address, never the page artefact."""
    result = await say_on(core, "what is the email of your data protection officer?")
    text = result.replies[0].text
    assert "protected" not in text
    assert core.settings.officer_email in text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "x" * 100_000,
        "how long do you keep data? " * 4000,
        "\x00\x01\x02\xff\ufffd\ufffd\ufffd\x7f binary \x1b[31m",
        "😀😀🔥👍",
        "كم من الوقت تحتفظون ببياناتي؟",
        "<script>alert('x')</script><b>delete</b> my account",
        "\u202eevil right-to-left override",
    ],
)
async def test_bad_input_gets_a_graceful_reply(say: Say, text: str) -> None:
    """Empty, huge, binary, emoji, right-to-left and HTML input all get a reply, never an exception."""
    result = await say(text)
    assert result.replies, "every message gets an answer"
    assert all(r.text.strip() for r in result.replies)


async def test_conversation_state_carries_over_turns(say: Say) -> None:
    """The next message is read in the light of the step the conversation is in."""
    store = MemoryTurnStore()
    first = await say("I want a copy of my data", store)
    assert first.outcome is not None and first.outcome.state.step.value == "await_email"
    cancelled = await say("cancel", store)
    assert cancelled.outcome is not None and cancelled.outcome.state.step.value == "idle"
    assert "Nothing was opened" in cancelled.replies[0].text


async def test_duplicate_message_id_is_answered_once(core: Core) -> None:
    """A redelivered message (same channel message id) runs no second turn: it is marked duplicate and
    carries the first turn's replies."""
    store = MemoryTurnStore()
    conversation = core.conversation(store)
    message = InboundMessage(ChannelName.WEB, "s1", "hello", message_id=uuid.uuid4().hex)
    first = await conversation.handle(message)
    assert first.replies
    again = await conversation.handle(message)
    assert again.duplicate and again.replies == first.replies and again.outcome is None


def test_commands_map_to_intents() -> None:
    """Chat commands are understood without the model, with a ticket reference if given."""
    parsed = command_parse("/status@ZynorBot PRV-7K3Q-9M2D")
    assert parsed is not None and parsed.intent.intent is Intent.TICKET_STATUS
    assert parsed.entities[0].value == "PRV-7K3Q-9M2D"
    assert command_parse("/unknown") is None
    assert command_parse("status please") is None


def test_text_cleaning() -> None:
    """Control characters go, line breaks stay; garbage is recognised as unreadable."""
    assert clean_text("\x00he\x07llo\nworld \u202e") == "hello\nworld"
    assert looks_unreadable("\ufffd\ufffd\ufffd\ufffd abc")
    assert not looks_unreadable("😀😀🔥👍")
    assert not looks_unreadable("كم من الوقت")
