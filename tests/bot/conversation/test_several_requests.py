"""Several rights requests in one message, through whole conversations on the SQL store (SQLite and
PostgreSQL): one identity check covers them all, one ticket opens per request, and one reply lists them.
A request the person says they do NOT want is never opened."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions.context import ActionKind
from bot.app import Core
from bot.conversation.engine import Conversation, TurnResult
from bot.domain.channels import ChannelName
from bot.domain.tickets import IdentityStatus, RequestKind
from bot.messages import QUOTE_META, QUOTE_SECTION_META, InboundMessage
from bot.tickets.desk import sql_turn_store_factory
from bot.tickets.service import TicketService
from nlu.language import Language
from responses import Responses
from tests.support.database import FrozenClock
from tests.support.mail_servers import extract_code
from tests.support.outbox import mail_outbox
from tests.tickets.helpers import TERMS, RecordingMailSender, make_settings

K = RequestKind
_REFERENCE = re.compile(r"PRV-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}")


class Person:
    """One person chatting on the web channel, with the mailbox their codes arrive in."""

    def __init__(self, conversation: Conversation, mail: RecordingMailSender) -> None:
        self.conversation = conversation
        self.mail = mail

    async def say(self, text: str) -> TurnResult:
        """Send ``text`` and return what the assistant did."""
        return await self.conversation.handle(InboundMessage(ChannelName.WEB, "web-7", text))

    async def verify(self, address: str = "lena.m@example.com") -> TurnResult:
        """Give the address, then type the code mailed to it."""
        await self.say(f"it's {address}")
        return await self.say(extract_code(self.mail.sent[-1]))


@pytest.fixture
def person(core: Core, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> Person:
    """A conversation over the real SQL store, desk and identity check, mail kept in memory."""
    mail = RecordingMailSender()
    outbox = mail_outbox(sessionmaker, clock, mail, core.responses)
    stores = sql_turn_store_factory(
        sessionmaker, clock, make_settings(), core.responses, after_commit=outbox.flush
    )
    return Person(core.conversation(stores), mail)


async def _tickets(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> dict[str, RequestKind]:
    views = await TicketService(sessionmaker, clock=clock, terms=TERMS, responses=Responses()).list_tickets()
    return {view.reference: view.kind for view in views if view.identity_status is IdentityStatus.VERIFIED}


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("delete my data and stop sending me the newsletter", (K.ERASURE, K.MARKETING_OPT_OUT)),
        ("I want a copy of my data, and please fix my phone number", (K.ACCESS, K.RECTIFICATION)),
        (
            "Good morning.\n1. Export all my personal data\n2. Then erase my profile\n"
            "- and no more promo mails",
            (K.PORTABILITY, K.ERASURE, K.MARKETING_OPT_OUT),
        ),
    ],
)
async def test_one_code_opens_a_ticket_per_request_listed_in_one_reply(
    person: Person,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    text: str,
    kinds: tuple[RequestKind, ...],
) -> None:
    """Every request is named up front; after one code, each has its own verified ticket, all in one reply."""
    first = await person.say(text)
    assert first.outcome is not None and first.outcome.action is ActionKind.REQUEST
    assert first.outcome.kinds == kinds and first.outcome.kind is kinds[0]
    done = await person.verify()
    assert len(person.mail.sent) == 1  # one identity check for all of them
    assert done.outcome is not None and done.outcome.kinds == kinds
    listed = [reply for reply in done.replies if _REFERENCE.search(reply.text)]
    assert len(listed) == 1
    tickets = await _tickets(sessionmaker, clock)
    assert sorted(tickets.values()) == sorted(kinds)
    assert set(_REFERENCE.findall(listed[0].text)) == set(tickets)


async def test_a_negated_request_is_not_opened(
    person: Person, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """ "stop the marketing emails but do NOT delete my account" opens the opt-out only, and says so."""
    first = await person.say("stop the marketing emails but do NOT delete my account")
    assert first.outcome is not None and first.outcome.kinds == (K.MARKETING_OPT_OUT,)
    assert "won't start this: deleting" in first.replies[0].text
    await person.verify()
    assert list((await _tickets(sessionmaker, clock)).values()) == [RequestKind.MARKETING_OPT_OUT]


@pytest.mark.parametrize(
    ("text", "lang", "nothing_changes"),
    [
        ("Please do not delete my account.", Language.EN, "Nothing about your account changes"),
        ("do not delete my account", Language.EN, "Nothing about your account changes"),
        ("Не удаляйте мой аккаунт", Language.RU, "В вашем аккаунте ничего не изменится"),
        ("Hesabımı silməyin", Language.AZ, "Hesabınızda heç nə dəyişmir"),
    ],
)
async def test_a_message_that_only_refuses_a_request_opens_nothing(
    person: Person,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    text: str,
    lang: Language,
    nothing_changes: str,
) -> None:
    """A refused request on its own ("do not delete my account", "Не удаляйте мой аккаунт", "Hesabımı
    silməyin") asks for no address, opens no ticket and asks nothing back: one reply, in the person's
    language, says the deletion will not start."""
    result = await person.say(text)
    assert result.outcome is not None and result.outcome.kinds == ()
    assert result.outcome.action is ActionKind.SMALLTALK
    assert result.lang is lang and [reply.lang for reply in result.replies] == [lang]
    assert nothing_changes in result.replies[0].text and not result.replies[0].quick_replies
    assert person.mail.sent == []
    assert (
        await TicketService(sessionmaker, clock=clock, terms=TERMS, responses=Responses()).list_tickets()
        == []
    )


async def test_requests_added_or_withdrawn_while_verifying_share_the_one_code(
    person: Person, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Waiting for the code, "please also stop the newsletter" adds a request and "actually do not erase my
    account" withdraws one; the code then opens exactly what is left."""
    await person.say("please erase my account")
    await person.say("my address is lena.m@example.com")
    added = await person.say("please also stop sending me the newsletter")
    assert added.outcome is not None
    assert added.outcome.kinds == (K.ERASURE, K.MARKETING_OPT_OUT)
    assert "type the 6-digit code" in added.replies[-1].text
    withdrawn = await person.say("actually do not erase my account after all")
    assert withdrawn.outcome is not None and withdrawn.outcome.kinds == (K.MARKETING_OPT_OUT,)
    done = await person.say(extract_code(person.mail.sent[-1]))
    assert done.outcome is not None and done.outcome.kinds == (K.MARKETING_OPT_OUT,)
    assert len(person.mail.sent) == 1
    assert list((await _tickets(sessionmaker, clock)).values()) == [RequestKind.MARKETING_OPT_OUT]


@pytest.mark.parametrize(
    ("text", "lang", "fact"),
    [
        ("I want a copy of my data. Do you sell my data?", Language.EN, "never sell"),
        ("I want a copy of my data. How long do you keep payment records?", Language.EN, "Payment records"),
        (
            "Я хочу получить копию моих данных. Как долго вы храните платёжные записи?",
            Language.RU,
            "Payment records",
        ),
        (
            "Məlumatlarımın surətini istəyirəm. Ödəniş qeydlərini nə qədər saxlayırsınız?",
            Language.AZ,
            "Payment records",
        ),
    ],
)
async def test_a_question_after_a_request_is_answered_in_the_same_turn(
    person: Person,
    core: Core,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    text: str,
    lang: Language,
    fact: str,
) -> None:
    """A request followed by a policy question: the same turn quotes the policy's answer (a passage of the
    policy file, with its section) in the person's language, then starts the request, whose code opens the
    ticket as usual."""
    first = await person.say(text)
    assert first.outcome is not None and first.outcome.action is ActionKind.REQUEST
    assert first.outcome.kinds == (K.ACCESS,) and first.outcome.section
    assert first.lang is lang
    answer = first.replies[0]
    assert fact in answer.meta[QUOTE_META] and answer.meta[QUOTE_META] in core.settings.policy.read_text()
    assert answer.meta[QUOTE_SECTION_META] in answer.text
    assert person.mail.sent == [] and len(first.replies) >= 3  # the answer, the request, the address asked
    await person.verify()
    assert list((await _tickets(sessionmaker, clock)).values()) == [K.ACCESS]
