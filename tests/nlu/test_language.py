"""Telling English, Azerbaijani and Russian apart, and when a message is too short to tell."""

from __future__ import annotations

import pytest

from nlu.language import Language, conversation_language, detect, fold


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Hesabımı silin", Language.AZ),
        ("hesabimi silin", Language.AZ),
        ("melumatlarimi ne qeder saxlayirsiniz", Language.AZ),
        ("Məxfilik siyasəti nə vaxt dəyişib?", Language.AZ),
        ("Удалите мой аккаунт", Language.RU),
        ("сколько вы храните данные", Language.RU),
        ("Please delete my account", Language.EN),
        ("How long do you keep my payment records?", Language.EN),
    ],
)
def test_detects_the_language_of_a_sentence(text: str, lang: Language) -> None:
    """Whole sentences are told apart, Azerbaijani with or without its own letters."""
    guess = detect(text)
    assert guess is not None and guess.language is lang


@pytest.mark.parametrize("text", ["ok", "123456", "anna@example.org", "PRV-7K3Q-9M2D", "salam, hello", "👍"])
def test_short_or_mixed_messages_give_no_language(text: str) -> None:
    """Nothing to go on (or a tie) gives None rather than a guess."""
    assert detect(text) is None


def test_the_conversation_language_changes_only_on_a_clear_message() -> None:
    """A lone English word keeps an Azerbaijani conversation; a whole sentence switches it; an unset
    conversation takes any guess."""
    assert conversation_language("thanks", Language.AZ) is Language.AZ
    assert conversation_language("ok", Language.RU) is Language.RU
    assert conversation_language("Could you tell me what data you collect?", Language.AZ) is Language.EN
    assert conversation_language("salam", None) is Language.AZ
    assert conversation_language("ok", None) is Language.EN


def test_fold_maps_azerbaijani_letters_to_plain_latin() -> None:
    """ə, ı, ş, ğ, ç, ö, ü fold to the letters people type without them."""
    assert (
        fold("Məlumatlarımı göndərin, şəxsi üçün çox ağır") == "melumatlarimi gonderin, sexsi ucun cox agir"
    )
