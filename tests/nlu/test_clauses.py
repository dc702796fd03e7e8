"""Cutting a message into clauses, finding every rights request in it, and respecting "do NOT"."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.app import Core
from bot.domain.tickets import RequestKind
from nlu.clauses import find_requests, is_negated, split_clauses
from nlu.engines.embedded import EmbeddedEngine, train
from nlu.training_data import load_training_data

K = RequestKind


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        (
            "delete my data and stop sending me the newsletter",
            ("delete my data", "stop sending me the newsletter"),
        ),
        (
            "I want a copy of my data, and please fix my phone number",
            ("I want a copy of my data", "please fix my phone number"),
        ),
        (
            "Hello,\n1. remove my profile\n2) no more promo texts\n- also export my files",
            ("Hello", "remove my profile", "no more promo texts", "export my files"),
        ),
        ("1) close my account 2) unsubscribe me", ("close my account", "unsubscribe me")),
        ("Erase my account. Then send me my data!", ("Erase my account", "send me my data")),
        ("write to anna.k@example.com, please", ("write to anna.k@example.com", "please")),
        (
            "Hesabımı silin və həmçinin xəbər bülletenini dayandırın",
            ("Hesabımı silin", "xəbər bülletenini dayandırın"),
        ),
        (
            "Məlumatlarımı göndərin, amma hesabımı bağlamayın",
            ("Məlumatlarımı göndərin", "hesabımı bağlamayın"),
        ),
        ("Удалите мои данные, а также отпишите меня", ("Удалите мои данные", "отпишите меня")),
        ("Пришлите копию данных, но аккаунт не трогайте", ("Пришлите копию данных", "аккаунт не трогайте")),
    ],
)
def test_clauses_are_cut_at_lines_list_items_sentences_and_joining_words(
    text: str, clauses: tuple[str, ...]
) -> None:
    """Lists, sentences, commas and "and / but / və / amma / и / а также / но" each start a clause."""
    assert split_clauses(text) == clauses


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("do NOT delete my account", K.ERASURE),
        ("I don't want my account deleted", K.ERASURE),
        ("I do not want you to erase anything", K.ERASURE),
        ("cancel the newsletter without deleting my profile", K.ERASURE),
        ("please don't unsubscribe me", K.MARKETING_OPT_OUT),
        ("never change my billing address", K.RECTIFICATION),
        ("hesabımı silməyin", K.ERASURE),
        ("profilimi silmək istəmirəm", K.ERASURE),
        ("hesabımı ləğv etməyin", K.ERASURE),
        ("məlumatlarım silinməsin", K.ERASURE),
        ("hesabimi silmeyin", K.ERASURE),
        ("hesabimi silmek istemirem", K.ERASURE),
        ("не удаляйте мой аккаунт", K.ERASURE),
        ("я не хочу удалять профиль", K.ERASURE),
        ("удалять ничего не надо", K.ERASURE),
    ],
)
def test_negated_request_actions(text: str, kind: RequestKind) -> None:
    """A negator governing the request's own verb, in English, Azerbaijani or Russian, negates it."""
    assert is_negated(text, kind)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("delete my account", K.ERASURE),
        ("I don't want marketing emails", K.MARKETING_OPT_OUT),
        ("don't send me newsletters any more", K.MARKETING_OPT_OUT),
        ("I don't know how to stop these emails", K.MARKETING_OPT_OUT),
        ("I no longer use it so delete it", K.ERASURE),
        ("hesabımı silin", K.ERASURE),
        ("hesabimi silin", K.ERASURE),
        ("delete my name and my home address", K.ERASURE),
        ("hesabımın silinməsini istəyirəm", K.ERASURE),
        ("profilimi silməyinizi xahiş edirəm", K.ERASURE),
        ("mənə reklam göndərməyin", K.MARKETING_OPT_OUT),
        ("удалите мой аккаунт, он мне больше не нужен", K.ERASURE),
        ("не присылайте мне рекламу", K.MARKETING_OPT_OUT),
        ("I can't delete my account", K.ERASURE),
        ("we cannot close the profile ourselves", K.ERASURE),
        ("hesabımı silə bilmirəm", K.ERASURE),
    ],
)
def test_requests_that_are_not_negated(text: str, kind: RequestKind) -> None:
    """Negating something else ("don't send me ads" is the opt-out itself) leaves the request standing."""
    assert not is_negated(text, kind)


@pytest.mark.parametrize(
    ("text", "kinds", "declined"),
    [
        (
            "delete my data and stop sending me the newsletter",
            (K.ERASURE, K.MARKETING_OPT_OUT),
            (),
        ),
        ("stop the marketing emails but do NOT delete my account", (K.MARKETING_OPT_OUT,), (K.ERASURE,)),
        ("I want a copy of my data, and please fix my phone number", (K.ACCESS, K.RECTIFICATION), ()),
        (
            "Hi there.\n1. Please erase my account\n2. Correct the surname on my invoices",
            (K.ERASURE, K.RECTIFICATION),
            (),
        ),
        ("Please do not delete my account.", (), (K.ERASURE,)),
        ("Не удаляйте мой аккаунт", (), (K.ERASURE,)),
        ("Пожалуйста, не удаляйте мои данные", (), (K.ERASURE,)),
        ("hesabımı bağlamayın", (), (K.ERASURE,)),
        ("How long do you keep my payment records?", (), ()),
        ("What happens if I don't delete my account?", (), ()),
    ],
)
async def test_every_request_in_a_message_is_found_in_order(
    core: Core, text: str, kinds: tuple[RequestKind, ...], declined: tuple[RequestKind, ...]
) -> None:
    """The real engine classifies each clause; wanted kinds come in the order written, negated ones apart
    (also when the engine cannot place a negated clause, "Не удаляйте мой аккаунт"); a question refuses
    nothing."""
    found = await find_requests(await core.embedded.parse(text), core.embedded)
    assert found.kinds == kinds
    assert found.declined == declined


async def test_the_policy_questions_beside_requests_are_kept_with_their_own_parse(core: Core) -> None:
    """ "I want a copy of my data. Do you sell my data?" is an access request and, apart, a question whose
    clause the engine reads as a policy question on its own."""
    text = "Hi! I want a copy of my data. Do you sell my data? And who do you share it with?"
    found = await find_requests(await core.embedded.parse(text), core.embedded)
    assert found.kinds == (K.ACCESS,)
    assert [q.text for q in found.questions] == ["Do you sell my data", "who do you share it with"]
    assert all(q.intent.intent.is_policy_question for q in found.questions)


_AZ_RU_DATA = """
version: "3.1"
nlu:
- intent: request_erasure
  examples: |
    - hesabımı silin
    - profilimi silin zəhmət olmasa
    - bütün məlumatlarımı silin
    - hesabımı ləğv edin
    - удалите мой аккаунт
    - удалите все мои данные
    - сотрите мой профиль
    - закройте мою учётную запись
- intent: request_marketing_opt_out
  examples: |
    - reklam məktublarını dayandırın
    - xəbər bülletenindən çıxarın məni
    - mənə reklam göndərməyin
    - marketinq e-poçtlarını istəmirəm
    - отпишите меня от рассылки
    - не присылайте мне рекламу
    - прекратите слать рекламные письма
    - больше никаких рекламных рассылок
- intent: request_access
  examples: |
    - məlumatlarımın surətini göndərin
    - haqqımda nə saxlayırsınız göndərin
    - mənim məlumatlarımı göstərin
    - пришлите копию моих данных
    - покажите какие данные вы обо мне храните
    - дайте доступ к моим данным
- intent: greet
  examples: |
    - salam
    - sabahınız xeyir
    - здравствуйте
    - привет
- intent: out_of_scope
  examples: |
    - hava necədir
    - bir zarafat danış
    - какая погода
    - расскажи анекдот
"""


@pytest.fixture(scope="module")
def az_ru_engine(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedEngine:
    """A real embedded engine trained on a few Azerbaijani and Russian requests (written for this test)."""
    directory: Path = tmp_path_factory.mktemp("az-ru-data")
    (directory / "requests.yml").write_text(textwrap.dedent(_AZ_RU_DATA), encoding="utf-8")
    return EmbeddedEngine(train(load_training_data(directory)))


@pytest.mark.parametrize(
    ("text", "kinds", "declined"),
    [
        ("Hesabımı silin və reklam məktublarını dayandırın", (K.ERASURE, K.MARKETING_OPT_OUT), ()),
        ("Reklam məktublarını dayandırın, amma hesabımı silməyin", (K.MARKETING_OPT_OUT,), (K.ERASURE,)),
        ("Удалите мой аккаунт и отпишите меня от рассылки", (K.ERASURE, K.MARKETING_OPT_OUT), ()),
        ("Отпишите меня от рассылки, но не удаляйте аккаунт", (K.MARKETING_OPT_OUT,), (K.ERASURE,)),
        ("Пришлите копию моих данных, а также удалите профиль", (K.ACCESS, K.ERASURE), ()),
    ],
)
async def test_azerbaijani_and_russian_requests_and_negation(
    az_ru_engine: EmbeddedEngine, text: str, kinds: tuple[RequestKind, ...], declined: tuple[RequestKind, ...]
) -> None:
    """Joined Azerbaijani and Russian requests are each found; "silməyin" / "не удаляйте" decline one."""
    found = await find_requests(await az_ru_engine.parse(text), az_ru_engine)
    assert found.kinds == kinds
    assert found.declined == declined
