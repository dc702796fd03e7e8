"""The learned relevance model: passages chosen by what a question asks, coverage said honestly, in the
three languages, and the same weights serving a policy the bank never saw."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from actions.context import ActionKind
from bot.app import Core, build_core
from bot.conversation.engine import TurnResult
from bot.conversation.memory import MemoryTurnStore
from bot.domain.channels import ChannelName
from bot.messages import InboundMessage
from policy.answers import NoAnswer, PolicyAnswer
from policy.bank import Coverage
from policy.relevance import Logistic, RelevanceModel, fit_logistic
from tests.support.core import make_settings

OTHER_POLICY = Path(__file__).with_name("fixtures") / "harbourline-policy.txt"


async def say(core: Core, text: str) -> TurnResult:
    """One message in a fresh conversation."""
    conversation = core.conversation(MemoryTurnStore())
    return await conversation.handle(InboundMessage(ChannelName.CLI, "tester", text))


def quoted(result: TurnResult) -> list[str]:
    """The passages the turn's answer quotes."""
    answer = result.outcome.answer if result.outcome else None
    return [p.text for p in answer.passages] if isinstance(answer, PolicyAnswer) else []


@pytest.mark.parametrize(
    "text", ["what is the weather today?", "bu gün hava necə olacaq?", "какая сегодня погода?"]
)
async def test_a_message_out_of_scope_is_never_answered_with_a_passage(core: Core, text: str) -> None:
    """Weather is not a privacy question: whatever the reply, it quotes nothing of the policy."""
    result = await say(core, text)
    assert result.outcome is not None and result.outcome.action is not ActionKind.ANSWER
    assert quoted(result) == []
    assert "We " not in result.replies[0].text


@pytest.mark.parametrize(
    "text",
    ["Do you sell my personal data to anyone?", "Вы продаёте мои данные?", "Məlumatlarımı satırsınız?"],
)
async def test_selling_is_answered_by_the_never_sell_line(core: Core, text: str) -> None:
    """Asked whether data is sold, in any of the three languages, the reply quotes "We never sell" and
    does not hedge."""
    result = await say(core, text)
    assert any(t.startswith("We never sell") for t in quoted(result)), quoted(result)
    assert result.outcome is not None and result.outcome.answer is not None
    assert result.outcome.answer.coverage is Coverage.FULL


@pytest.mark.parametrize(
    "text", ["Is my data safe?", "Мои данные в безопасности?", "Məlumatlarım təhlükəsizdirmi?"]
)
async def test_a_safety_question_gets_the_safeguards_and_their_caveat(core: Core, text: str) -> None:
    """Safety: the technical safeguards together with the policy's own caveat that no system is immune."""
    texts = quoted(await say(core, text))
    assert any("no system is completely immune" in t for t in texts), texts
    assert any("SSL encryption" in t for t in texts), texts


async def test_data_that_is_never_mentioned_is_said_so_plainly(core: Core) -> None:
    """DNA results: the policy says nothing, so the reply says it does not cover that, offers the privacy
    officer and quotes nothing."""
    result = await say(core, "Do you keep my DNA results?")
    assert result.outcome is not None and result.outcome.action is ActionKind.NOT_COVERED
    assert isinstance(result.outcome.answer, NoAnswer) and quoted(result) == []
    assert "privacy officer" in result.replies[0].text


@pytest.mark.parametrize(
    "text", ["Do you track how far I got in my courses?", "Do you use my data to show me targeted ads?"]
)
async def test_an_answered_question_gets_no_list_of_unknown_words(core: Core, text: str) -> None:
    """Words the policy never uses ("far", "targeted") are never listed as what it does not mention."""
    result = await reply_text(core, text)
    assert "does not mention" not in result and "far" not in result.split('"')[0]


async def reply_text(core: Core, text: str) -> str:
    """The whole reply text of one message."""
    return " ".join(r.text for r in (await say(core, text)).replies)


async def test_what_data_is_collected_quotes_whole_lists(core: Core) -> None:
    """Asked what data is collected, the reply gives the list of what people provide, not a single bullet."""
    texts = quoted(await say(core, "What data do you collect about me?"))
    whole = [t for t in texts if t.count("\n- ") >= 3]
    assert whole, texts


def test_the_model_round_trips_through_its_file(tmp_path: Path, core: Core) -> None:
    """A saved model loads with the same weights and fingerprint (numpy arrays only, no pickle)."""
    model = core.answerer.relevance
    assert model is not None
    path = tmp_path / "relevance.npz"
    model.save(path)
    loaded = RelevanceModel.load(path)
    assert loaded.fingerprint == model.fingerprint
    assert np.allclose(loaded.pairs.weights, model.pairs.weights)
    assert np.allclose(loaded.coverage.weights, model.coverage.weights)


def test_logistic_fit_separates_what_is_separable() -> None:
    """The fitted model gives the positive side a high probability and the negative side a low one, for
    two classes and for three."""
    rng = np.random.default_rng(7)
    points = rng.normal(size=(300, 2))
    labels = (points[:, 0] + points[:, 1] > 0).astype(np.float64)
    binary: Logistic = fit_logistic(points, labels, penalty=0.1)
    assert binary.probability(np.array([[2.0, 2.0]]))[0] > 0.9
    assert binary.probability(np.array([[-2.0, -2.0]]))[0] < 0.1
    three = np.digitize(points[:, 0], [-0.5, 0.5])
    multi = fit_logistic(points, three, classes=3, penalty=0.1)
    assert multi.probabilities(np.array([[-2.0, 0.0], [0.0, 0.0], [2.0, 0.0]])).argmax(axis=1).tolist() == [
        0,
        1,
        2,
    ]


@pytest.fixture(scope="module")
def other(core: Core, tmp_path_factory: pytest.TempPathFactory) -> Core:
    """A core on a policy the bank never saw, with the same trained models."""
    settings = make_settings(
        tmp_path_factory.mktemp("other"), policy=OTHER_POLICY, model_cache_dir=core.settings.model_dir
    )
    return build_core(settings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How long do you keep my booking?", "Booking records are held for 6 years"),
        ("Do you sell my details?", "We never sell traveller details"),
        ("Who gets the passenger list?", "The port authority receives the passenger list"),
        ("Как долго хранятся номера моей машины?", "Vehicle number plates are erased"),
        ("Sərnişin siyahısı necə qorunur?", "Passenger lists are stored encrypted"),
    ],
)
async def test_another_policy_is_answered_with_the_same_weights(
    other: Core, core: Core, text: str, expected: str
) -> None:
    """Swapped for a ferry operator's notice, with no retraining, the answer quotes the notice's own line."""
    assert other.answerer.relevance is not None and core.answerer.relevance is not None
    assert other.answerer.relevance.fingerprint == core.answerer.relevance.fingerprint
    texts = quoted(await say(other, text))
    assert any(expected in t for t in texts), texts
