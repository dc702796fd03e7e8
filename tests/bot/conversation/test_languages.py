"""Azerbaijani and Russian conversations: understood, answered in the person's language, and kept in it."""

from __future__ import annotations

import pytest

from actions.context import ActionKind
from bot.app import Core
from bot.conversation.engine import TurnResult
from bot.conversation.memory import MemoryTurnStore
from bot.messages import ChannelName, InboundMessage
from nlu.intents import RequestKind
from nlu.language import Language


async def _turn(core: Core, store: MemoryTurnStore, text: str, **extra: str) -> TurnResult:
    conversation = core.conversation(store)
    return await conversation.handle(InboundMessage(ChannelName.CLI, "tester", text, **extra))


async def test_azerbaijani_erasure_request_starts_the_erasure_flow_in_azerbaijani(core: Core) -> None:
    """An erasure request in Azerbaijani ("Hesabımı silin") asks for the account's address in
    Azerbaijani."""
    result = await _turn(core, MemoryTurnStore(), "Hesabımı silin")
    assert result.outcome is not None and result.outcome.action is ActionKind.REQUEST
    assert result.outcome.kind is RequestKind.ERASURE
    assert result.lang is Language.AZ
    text = "\n".join(r.text for r in result.replies)
    assert "hesabınızın və şəxsi məlumatlarınızın silinməsi" in text
    assert "e-poçt ünvanı" in text and "48 saat" in text and "30 gün" in text


async def test_russian_request_without_diacritics_of_azerbaijani_is_answered_in_russian(core: Core) -> None:
    """A Russian marketing opt-out is recognised and answered in Russian, every reply marked ``ru``."""
    result = await _turn(core, MemoryTurnStore(), "Отпишите меня, пожалуйста, от рекламной рассылки")
    assert result.outcome is not None and result.outcome.kind is RequestKind.MARKETING_OPT_OUT
    assert result.lang is Language.RU
    assert all(r.lang == "ru" for r in result.replies)
    assert "отказ от рекламных рассылок" in result.replies[0].text


async def test_azerbaijani_typed_without_its_letters_is_still_azerbaijani(core: Core) -> None:
    """People type Azerbaijani on Latin keyboards: "hesabimi silmek isteyirem" is understood the same way."""
    result = await _turn(core, MemoryTurnStore(), "salam, hesabimi silmek isteyirem")
    assert result.outcome is not None and result.outcome.kind is RequestKind.ERASURE
    assert result.lang is Language.AZ


async def test_the_conversation_keeps_its_language_for_short_and_mixed_messages(core: Core) -> None:
    """After an Azerbaijani greeting, "ok", an address or a code are answered in Azerbaijani; the language
    is stored in the dialogue state."""
    store = MemoryTurnStore()
    greeting = await _turn(core, store, "Salam, sabahınız xeyir")
    assert greeting.lang is Language.AZ and "Salam!" in greeting.replies[0].text
    for text in ("ok", "PRV-7K3Q-9M2D", "anna@example.org"):
        later = await _turn(core, store, text)
        assert later.lang is Language.AZ, text
    conversation = await store.load_conversation(ChannelName.CLI, "tester")
    assert conversation.state.lang is Language.AZ


async def test_a_clear_message_in_another_language_switches_the_conversation(core: Core) -> None:
    """A whole sentence in Russian after an English start is answered in Russian from then on."""
    store = MemoryTurnStore()
    assert (await _turn(core, store, "Hello there")).lang is Language.EN
    assert (await _turn(core, store, "Здравствуйте, какие данные вы обо мне собираете?")).lang is Language.RU
    assert (await _turn(core, store, "ok")).lang is Language.RU


async def test_a_chosen_language_overrides_the_message_language(core: Core) -> None:
    """A language the person chose (``InboundMessage.lang``) wins over the text's and is kept afterwards."""
    store = MemoryTurnStore()
    chosen = await _turn(core, store, "hello", lang="ru")
    assert chosen.lang is Language.RU and "Здравствуйте!" in chosen.replies[0].text
    assert (await _turn(core, store, "thanks")).lang is Language.RU


async def test_quick_reply_labels_are_in_the_conversation_language(core: Core) -> None:
    """The greeting's buttons carry intent payloads and Azerbaijani labels."""
    result = await _turn(core, MemoryTurnStore(), "salam")
    choices = result.replies[-1].quick_replies
    assert [c.payload for c in choices] == [
        "ask_data_collected",
        "request_access",
        "request_erasure",
        "human_handoff",
    ]
    assert "Hesabımı sil" in [c.label for c in choices]


async def test_a_typed_label_maps_back_through_its_payload(core: Core) -> None:
    """Typing a button's label (in Azerbaijani) does what tapping it does: the payload's intent, certain."""
    store = MemoryTurnStore()
    await _turn(core, store, "salam")
    result = await _turn(core, store, "hesabımı sil!")
    assert result.parse is not None and result.parse.intent.confidence == 1.0
    assert result.outcome is not None and result.outcome.kind is RequestKind.ERASURE


async def test_the_officer_button_hands_off_after_an_uncovered_question(core: Core) -> None:
    """After "the policy doesn't cover that", the assistant's own button (tapped: its payload) hands off
    instead of being read as another policy question."""
    store = MemoryTurnStore()
    declined = await _turn(core, store, "How much does a course cost?")
    [button] = declined.replies[-1].quick_replies
    assert button.payload == "human_handoff" and button.label == "Talk to the privacy officer"
    tapped = await _turn(core, store, button.label, payload=button.payload)
    assert tapped.outcome is not None and tapped.outcome.action is ActionKind.HANDOFF


async def test_the_officer_button_typed_as_text_hands_off(core: Core) -> None:
    """The same label typed instead of tapped hands off too, even with no button offered before."""
    result = await _turn(core, MemoryTurnStore(), "Talk to the privacy officer")
    assert result.outcome is not None and result.outcome.action is ActionKind.HANDOFF


@pytest.mark.parametrize(
    ("question", "lang", "introduction"),
    [
        ("Сколько вы храните записи о платежах?", Language.RU, "цитата на английском"),
        ("Ödəniş qeydlərini nə qədər saxlayırsınız?", Language.AZ, "sitat ingilis dilindədir"),
    ],
    ids=["ru", "az"],
)
async def test_a_question_is_answered_in_its_language_with_the_english_quote(
    core: Core, question: str, lang: Language, introduction: str
) -> None:
    """A Russian or Azerbaijani retention question quotes the policy's payment-records fact in English,
    introduced in the person's language and naming the section."""
    result = await _turn(core, MemoryTurnStore(), question)
    assert result.lang is lang
    assert result.outcome is not None and result.outcome.section == "Retention Periods"
    text = result.replies[0].text
    assert introduction in text and "Retention Periods" in text
    assert "Payment records: Kept for 5 years" in text


@pytest.mark.parametrize(
    "text", ["Продаёте ли вы информацию о своих пользователях?", "Məlumatlarimi satirsiniz mi?"]
)
async def test_a_question_about_selling_data_finds_the_same_passage_in_every_language(
    core: Core, text: str
) -> None:
    """Asked in Russian or Azerbaijani whether the data is sold, the answer quotes the sentence that an
    English "do you sell my data" finds, through the English gloss of the question's words."""
    result = await _turn(core, MemoryTurnStore(), text)
    assert result.outcome is not None and result.outcome.action is ActionKind.ANSWER
    assert "We never sell your personal information" in result.replies[0].text


@pytest.mark.parametrize(
    "text", ["Можно ли перестать получать от вас рекламные письма?", "Reklam mektublarindan imtina edirem"]
)
async def test_a_marketing_opt_out_in_another_language_quotes_the_opt_out_line(core: Core, text: str) -> None:
    """A Russian or Azerbaijani opt-out from marketing quotes the policy's line about opting out of marketing,
    not a neighbouring right (deletion)."""
    result = await _turn(core, MemoryTurnStore(), text)
    assert result.outcome is not None and result.outcome.kind is RequestKind.MARKETING_OPT_OUT
    assert "Opt out of marketing communications" in result.replies[0].text
    assert "Delete your account" not in result.replies[0].text


async def test_saying_i_cannot_delete_my_account_starts_the_erasure_not_a_refusal(core: Core) -> None:
    """Saying "I can't delete my account" tells of a problem: the erasure request starts, nothing is
    declined."""
    result = await _turn(core, MemoryTurnStore(), "I tried but I can't delete my account")
    assert result.outcome is not None and result.outcome.action is ActionKind.REQUEST
    assert result.outcome.kind is RequestKind.ERASURE


@pytest.mark.parametrize(
    ("text", "kind", "quoted"),
    [
        ("Somebody got into my account, it wasn't me", RequestKind.SECURITY_INCIDENT, "unauthorized access"),
        ("Кто-то зашёл в мой аккаунт без меня", RequestKind.SECURITY_INCIDENT, "unauthorized access"),
        ("Hesabıma kimsə icazəsiz daxil olub", RequestKind.SECURITY_INCIDENT, "unauthorized access"),
        ("I'd like the earlier version of the privacy policy", RequestKind.POLICY_ARCHIVE, "archived"),
        ("Пришлите прежнюю версию политики конфиденциальности", RequestKind.POLICY_ARCHIVE, "archived"),
    ],
)
async def test_a_request_outside_the_rights_list_quotes_the_section_that_speaks_of_it(
    core: Core, text: str, kind: RequestKind, quoted: str
) -> None:
    """A report of a break-in quotes what the policy's security section asks of the person, and a request
    for an old version quotes the policy's line about its archived versions, in every language: neither
    quotes a right from the rights list (deleting the account, restricting processing)."""
    result = await _turn(core, MemoryTurnStore(), text)
    assert result.outcome is not None and result.outcome.kind is kind
    reply = result.replies[0].text
    assert quoted in reply
    assert "Delete your account" not in reply and "Restrict certain types" not in reply
