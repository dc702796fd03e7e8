"""Jinja2 templates for every sentence the assistant sends, and the one environment that renders them.

Templates are named after what they say. ``chat/*.txt.j2`` are plain-text chat replies, used by every channel;
``email/*`` are mails; ``web/*.html.j2`` are pages (autoescaped).

Sentences a person reads are marked for translation (``{% trans %}`` blocks and ``_()``, Jinja2's i18n
extension). Babel extracts them into ``locale/messages.pot``; ``locale/<lang>/LC_MESSAGES/messages.po`` holds
each language's translations, compiled to ``.mo`` by ``make install``. :meth:`Responses.render` takes the
language of the reply; English is the templates' own text.
"""

from __future__ import annotations

import gettext
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from policy.organisation import bundled_organisation

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parent
LOCALE_DIR = TEMPLATE_DIR / "locale"
DOMAIN = "messages"
# The languages replies are written in; the first is the templates' own language and the default.
LANGUAGES = ("en", "az", "ru")
DEFAULT_LANGUAGE = LANGUAGES[0]

# The language of the template being rendered. Rendering is synchronous, so one render never sees another's.
_CURRENT: ContextVar[str] = ContextVar("responses_language", default=DEFAULT_LANGUAGE)


class UnknownLanguage(ValueError):
    """A reply was asked for in a language the catalogs do not have."""

    def __init__(self, lang: str) -> None:
        super().__init__(f"no translations for language {lang!r}; known: {', '.join(LANGUAGES)}")
        self.lang = lang


def format_date(value: datetime) -> str:
    """A date a person reads without ambiguity: ``Friday 27 November 2026`` (``27 ноября 2026 г.``)."""
    lang = _CURRENT.get()
    if lang == DEFAULT_LANGUAGE:
        return f"{value:%A} {value.day} {value:%B %Y}"
    return babel_format_date(value, format="long", locale=lang)


def format_datetime(value: datetime) -> str:
    """A date and time in UTC: ``Friday 27 November 2026, 14:05 UTC``."""
    return f"{format_date(value)}, {value:%H:%M} UTC"


def catalog_path(lang: str, suffix: str, directory: Path = LOCALE_DIR) -> Path:
    """Where the ``.po`` or ``.mo`` catalog of ``lang`` lives."""
    return directory / lang / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def compile_catalog(po_file: Path, mo_file: Path) -> None:
    """Compile one ``.po`` catalog to ``.mo`` (what ``make install`` does with pybabel)."""
    with po_file.open("rb") as source:
        catalog = read_po(source)
    mo_file.parent.mkdir(parents=True, exist_ok=True)
    with mo_file.open("wb") as target:
        write_mo(target, catalog)


def load_translations(lang: str, directory: Path = LOCALE_DIR) -> gettext.NullTranslations:
    """The compiled catalog of ``lang``; a missing ``.mo`` is compiled from the ``.po`` in the repository."""
    if lang == DEFAULT_LANGUAGE:
        return NullTranslations()
    mo_file = catalog_path(lang, ".mo", directory)
    po_file = catalog_path(lang, ".po", directory)
    if not po_file.exists() and not mo_file.exists():
        raise UnknownLanguage(lang)
    if not mo_file.exists() or (po_file.exists() and po_file.stat().st_mtime > mo_file.stat().st_mtime):
        log.warning("catalog %s not compiled (run `make install`); reading its .po instead", lang)
        with po_file.open("rb") as source:
            catalog = read_po(source)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        return Translations(compiled, domain=DOMAIN)
    with mo_file.open("rb") as source:
        return Translations(source, domain=DOMAIN)


class Responses:
    """Renders templates by name, in a language. Build one at start-up and pass it down."""

    def __init__(
        self,
        directory: Path = TEMPLATE_DIR,
        locale_dir: Path = LOCALE_DIR,
        *,
        organisation: str | None = None,
    ) -> None:
        """``organisation`` is the name templates give the organisation (``{{ organisation }}``); unset, the
        name the project's own policy copy uses for itself. ``locale_dir`` holds the message catalogs."""
        self.env = Environment(
            loader=FileSystemLoader(str(directory)),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            extensions=["jinja2.ext.i18n"],
            # Templates are read once, like the catalogs: no file check on every render (restart to edit).
            auto_reload=False,
        )
        self.env.policies["ext.i18n.trimmed"] = True
        self.env.filters["date"] = format_date
        self.env.filters["datetime"] = format_datetime
        self.env.globals["organisation"] = organisation or bundled_organisation()
        self._translations = {lang: load_translations(lang, locale_dir) for lang in LANGUAGES}
        self.env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
            self._gettext, self._ngettext, newstyle=True
        )

    def _gettext(self, message: str) -> str:
        return self._translations[_CURRENT.get()].gettext(message)

    def _ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations[_CURRENT.get()].ngettext(singular, plural, n)

    @contextmanager
    def _language(self, lang: str) -> Iterator[None]:
        if lang not in self._translations:
            raise UnknownLanguage(lang)
        token = _CURRENT.set(lang)
        try:
            yield
        finally:
            _CURRENT.reset(token)

    def render(self, name: str, /, **values: Any) -> str:
        """Render template ``name`` in English with ``values``; a missing value is an error, never an empty
        string."""
        return self.render_in(DEFAULT_LANGUAGE, name, **values)

    def render_in(self, lang: str, name: str, /, **values: Any) -> str:
        """Render template ``name`` in ``lang`` (``en``, ``az``, ``ru``). The template sees ``lang`` too
        (for ``<html lang>``)."""
        with self._language(lang):
            return self.env.get_template(name).render(lang=lang, **values).strip()
