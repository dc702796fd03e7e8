"""The Azerbaijani and Russian message catalogs: extracted from the templates, complete, and compilable."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from responses import LANGUAGES, LOCALE_DIR, TEMPLATE_DIR, Responses, UnknownLanguage, catalog_path

TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
# The folders of templates a requester reads (in officer/, only the messages to the requester are marked).
TRANSLATED_FOLDERS = ("chat", "email", "telegram", "officer", "web")


def _template_messages() -> set[str]:
    with (TEMPLATE_DIR / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: set[str] = set()
    for folder in TRANSLATED_FOLDERS:
        for _, _, message, *_ in extract_from_dir(TEMPLATE_DIR / folder, method_map, options_map):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _singular(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _ids(path: Path) -> set[str]:
    with path.open("rb") as source:
        return {_singular(m.id) for m in read_po(source) if m.id}


def test_the_template_catalog_is_extracted_from_the_current_templates() -> None:
    """messages.pot holds exactly the sentences the templates mark for translation (re-extract after an
    edit: see README)."""
    assert _ids(LOCALE_DIR / "messages.pot") == _template_messages()


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalog_is_complete_and_compiles(lang: str) -> None:
    """Every sentence has a translation, none fuzzy, with the same placeholders; the catalog compiles."""
    po_file = catalog_path(lang, ".po")
    with po_file.open("rb") as source:
        catalog = read_po(source, locale=lang)
    assert {_singular(m.id) for m in catalog if m.id} == _ids(LOCALE_DIR / "messages.pot")
    untranslated = [m.id for m in catalog if m.id and (not all(m.string) if m.pluralizable else not m.string)]
    untranslated += [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == []
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check()]
    assert problems == []
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert compiled.getbuffer().nbytes > 1000


def test_replies_render_in_each_language_with_local_dates() -> None:
    """The same template reads in English, Azerbaijani and Russian; dates are written the local way."""
    responses = Responses()
    greetings = {lang: responses.render_in(lang, "chat/greeting.txt.j2") for lang in LANGUAGES}
    assert greetings["en"].startswith("Hello!")
    assert greetings["az"].startswith("Salam!")
    assert greetings["ru"].startswith("Здравствуйте!")
    date = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)
    assert "by Friday 27 November 2026, 14:05 UTC" in _render_date(responses, "en", date)
    assert "до 27 ноября 2026\u202fг., 14:05 UTC" in _render_date(responses, "ru", date)
    assert "27 noyabr 2026, 14:05 UTC tarixinədək" in _render_date(responses, "az", date)


def _render_date(responses: Responses, lang: str, value: datetime) -> str:
    """The follow-up reply, which names a ticket's due date."""
    ticket = {
        "reference": "PRV-7K3Q-9M2D",
        "first_response_due": value,
        "due_at": value,
        "extended_until": None,
    }
    return responses.render_in(lang, "chat/follow_up_added.txt.j2", ticket=ticket, terms=None)


def test_an_unknown_language_is_an_error() -> None:
    """Asking for a reply in a language without a catalog raises, naming the known ones."""
    with pytest.raises(UnknownLanguage, match="en, az, ru"):
        Responses().render_in("fr", "chat/greeting.txt.j2")


def test_a_missing_compiled_catalog_is_read_from_its_po(tmp_path: Path) -> None:
    """Before `make install` compiled the .mo files, the .po files still give translated replies."""
    for lang in TRANSLATED:
        target = tmp_path / lang / "LC_MESSAGES"
        target.mkdir(parents=True)
        (target / "messages.po").write_bytes(catalog_path(lang, ".po").read_bytes())
    responses = Responses(locale_dir=tmp_path)
    assert responses.render_in("ru", "chat/thanks.txt.j2").startswith("Пожалуйста.")
    assert not list(tmp_path.rglob("*.mo"))
