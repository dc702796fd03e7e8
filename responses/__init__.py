"""Jinja2 templates for every sentence the assistant sends, and the one environment that renders them.

Templates are named after what they say. ``chat/*.txt.j2`` are plain-text chat replies, used by every channel;
``email/*`` are mails; ``web/*.html.j2`` are pages (autoescaped).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from policy.organisation import bundled_organisation

TEMPLATE_DIR = Path(__file__).resolve().parent


def format_date(value: datetime) -> str:
    """A date a person reads without ambiguity: ``Friday 27 November 2026``."""
    return f"{value:%A} {value.day} {value:%B %Y}"


def format_datetime(value: datetime) -> str:
    """A date and time in UTC: ``Friday 27 November 2026, 14:05 UTC``."""
    return f"{format_date(value)}, {value:%H:%M} UTC"


class Responses:
    """Renders templates by name. Build one at start-up and pass it down."""

    def __init__(self, directory: Path = TEMPLATE_DIR, *, organisation: str | None = None) -> None:
        """``organisation`` is the name templates give the organisation (``{{ organisation }}``); unset, the
        name the project's own policy copy uses for itself."""
        self.env = Environment(
            loader=FileSystemLoader(str(directory)),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["date"] = format_date
        self.env.filters["datetime"] = format_datetime
        self.env.globals["organisation"] = organisation or bundled_organisation()

    def render(self, name: str, /, **values: Any) -> str:
        """Render template ``name`` with ``values``; a missing value is an error, never an empty string."""
        return self.env.get_template(name).render(**values).strip()
