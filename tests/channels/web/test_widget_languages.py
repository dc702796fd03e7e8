"""The widget's own words (labels, placeholder, counters, the widget's error messages) served in the language
asked for, from the templates and the az / ru catalogs, on a real server."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from bot.channels.web.handlers import SERVICES_KEY
from tests.channels.web.conftest import ChatServer

_ATTRIBUTES = ("aria-label", "placeholder", "title")


class _Words(HTMLParser):
    """The named words of a rendered panel: ``data-pb-i18n`` texts, ``data-pb-i18n-attr`` attributes, the
    panel's ``data-text-*`` sentences, and ``<html lang>`` / ``<section lang>``."""

    def __init__(self) -> None:
        super().__init__()
        self.words: dict[str, str] = {}
        self.langs: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in ("html", "section") and "lang" in values:
            self.langs.append(values["lang"])
        for name, value in values.items():
            if name.startswith("data-text-"):
                self.words[name] = value
        if "data-pb-i18n-attr" in values:
            key = values["data-pb-i18n-attr"]
            self.words.update({f"{key}@{a}": values[a] for a in _ATTRIBUTES if a in values})
        if "data-pb-i18n" in values:
            self._open.append(values["data-pb-i18n"])
            self.words[self._open[-1]] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag in ("span", "h1", "p", "label"):
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self.words[self._open[-1]] += data


async def _words(server: ChatServer, path: str, **headers: str) -> _Words:
    async with server.http.get(f"{server.url}{path}", headers=headers) as response:
        assert response.status == 200
        parsed = _Words()
        parsed.feed(await response.text())
    return parsed


@pytest.mark.parametrize("lang", ["az", "ru"])
async def test_the_panel_is_served_with_every_word_in_the_language_asked(
    chat_server: ChatServer, lang: str
) -> None:
    """/widget/panel?lang=az (and ru) names the same words as the English panel, every one translated:
    launcher, title, placeholder, Send, New conversation, "Quoted from the policy:", the widget's own
    error messages; the counters keep their {length} / {limit} slots."""
    english = await _words(chat_server, "/widget/panel?lang=en")
    translated = await _words(chat_server, f"/widget/panel?lang={lang}")
    assert translated.langs == [lang]
    assert set(translated.words) == set(english.words)
    assert {"launcher", "send", "new", "input@placeholder", "data-text-quoted", "data-text-offline"} <= set(
        english.words
    )
    words = {key: value for key, value in english.words.items() if key != "data-text-count"}
    same = [key for key, value in words.items() if translated.words[key].strip() == value.strip()]
    assert same == []
    assert all(translated.words[key].strip() for key in words)
    assert "{length}" in translated.words["data-text-too-long"]
    assert "{limit}" in translated.words["data-text-too-long"]


async def test_the_chat_page_follows_accept_language_and_lang_wins(chat_server: ChatServer) -> None:
    """The chat page at / is in the browser's best language of en / az / ru (Accept-Language), and ?lang=
    overrides it."""
    russian = await _words(chat_server, "/", **{"Accept-Language": "de-DE, ru;q=0.8, en;q=0.5"})
    assert russian.langs == ["ru", "ru"]
    assert russian.words["send"] == "Отправить"
    azerbaijani = await _words(chat_server, "/?lang=az", **{"Accept-Language": "ru"})
    assert azerbaijani.langs == ["az", "az"] and azerbaijani.words["send"] == "Göndər"
    unknown = await _words(chat_server, "/", **{"Accept-Language": "fr"})
    assert unknown.langs == ["en", "en"] and unknown.words["send"] == "Send"


async def test_api_errors_come_in_the_widgets_language(chat_server: ChatServer) -> None:
    """The widget sends its language as Accept-Language: a refused message's error is written in it."""
    session_id = await chat_server.new_session()
    payload = {
        "session_id": session_id,
        "text": "x" * (chat_server.channel.app[SERVICES_KEY].max_message_chars + 1),
    }
    for lang, words in (("en", "too long"), ("az", "çox uzundur"), ("ru", "слишком длинное")):
        headers = {"Accept-Language": lang}
        async with chat_server.http.post(
            f"{chat_server.url}/api/chat", json=payload, headers=headers
        ) as response:
            body = await response.json()
        assert response.status == 413 and body["error"]["code"] == "message_too_long"
        assert words in body["error"]["message"]
