"""A policy text as a version: its SHA-256 and short id, the effective date it states (if any), dates
named in a sentence, and what changed between two texts, section by section.

Pure text work: the store keeps the versions (``bot.store.policy_versions``).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from policy.document import PassageKind, PolicyFormatError, parse_policy

# How many hex digits of the SHA-256 name a version (``id``): short enough to type, far from colliding.
VERSION_ID_LENGTH = 12


@dataclass(frozen=True)
class PolicyText:
    """One policy text: ``id`` (the first hex digits of ``sha256``) and the effective date the text states
    for itself, if it states one."""

    id: str
    sha256: str
    text: str
    stated_effective: date | None


def normalised(text: str) -> str:
    """The text as it is hashed: no byte-order mark, ``\\n`` line ends, no trailing blank lines; a file
    saved again on another system is the same version."""
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").rstrip() + "\n"


def policy_text(text: str) -> PolicyText:
    """``text`` as a version."""
    text = normalised(text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return PolicyText(digest[:VERSION_ID_LENGTH], digest, text, stated_effective_date(text))


# ------------------------------------------------------------------------------------------------ dates

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan январь января янв yanvar",
        "february feb февраль февраля фев fevral",
        "march mar март марта mart",
        "april apr апрель апреля апр aprel",
        "may май мая may",
        "june jun июнь июня iyun",
        "july jul июль июля iyul",
        "august aug август августа авг avqust",
        "september sep sept сентябрь сентября сен sentyabr",
        "october oct октябрь октября окт oktyabr",
        "november nov ноябрь ноября ноя noyabr",
        "december dec декабрь декабря дек dekabr",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

_MONTH = r"(?P<month>[^\W\d_]{3,9})\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th|-?(?:го|ого|ci|cü|cu|cı))?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DATE_FORMS = (
    re.compile(rf"(?<!\d){_YEAR}-(?P<mnum>[01]?\d)-(?P<day>[0-3]?\d)(?!\d)"),  # 2025-03-01
    re.compile(rf"(?<![\d.]){_DAY}[./](?P<mnum>[01]?\d)[./]{_YEAR}(?!\d)"),  # 01.03.2025, 1/3/2025
    re.compile(rf"(?<!\w){_DAY}(?:\s+of)?\s+{_MONTH},?\s+{_YEAR}(?!\d)", re.I),  # 1 March 2025, 1 марта
    re.compile(rf"(?<!\w){_MONTH}\s+{_DAY},?\s+{_YEAR}(?!\d)", re.I),  # March 1, 2025
)
_MONTH_YEAR = re.compile(rf"(?<!\w){_MONTH},?\s+{_YEAR}(?!\d)", re.I)  # March 2025
_BARE_YEAR = re.compile(rf"(?<![\d.\-/]){_YEAR}(?![\d.\-/])")

# Words that say a date is when the text applies from (strongest first): "Effective date", "Last updated",
# and the same in Azerbaijani and Russian.
_EFFECTIVE_WORDS = (
    re.compile(
        r"effective|in effect|in force|valid from|applies from|qüvvəyə|qüvvədədir|вступ\w* в силу|"
        r"действ\w* с|в силе с",
        re.I,
    ),
    re.compile(
        r"last (?:updated|revised|modified|changed)|updated|revised|revision|version|dated|"
        r"yenilən\w*|dəyişdiril\w*|обновл\w*|редакци\w*|изменен\w*",
        re.I,
    ),
)
# Only the top and the end of a policy state its own date; a date in between is about something else.
_HEAD_LINES = 12
_TAIL_LINES = 8


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_date(text: str) -> date | None:
    """The first full date written in ``text`` (ISO, numeric day first, or with a month name in English,
    Azerbaijani or Russian), else None."""
    found: list[tuple[int, date]] = []
    for form in _DATE_FORMS:
        for match in form.finditer(text):
            parts = match.groupdict()
            month = int(parts["mnum"]) if parts.get("mnum") else _MONTHS.get(parts["month"].lower(), 0)
            value = _valid(int(parts["year"]), month, int(parts["day"]))
            if value is not None:
                found.append((match.start(), value))
    return min(found)[1] if found else None


@dataclass(frozen=True)
class Period:
    """A stretch of time a sentence names: a day, a month or a year (``start`` to ``end``, inclusive)."""

    start: date
    end: date


def find_period(text: str) -> Period | None:
    """The day, month (``March 2025``) or year (``2022``) ``text`` names first, else None."""
    day = find_date(text)
    if day is not None:
        return Period(day, day)
    for match in _MONTH_YEAR.finditer(text):
        month = _MONTHS.get(match.group("month").lower())
        if month:
            year = int(match.group("year"))
            following = date(year + (month == 12), month % 12 + 1, 1)
            return Period(date(year, month, 1), date.fromordinal(following.toordinal() - 1))
    year_match = _BARE_YEAR.search(text)
    if year_match:
        year = int(year_match.group("year"))
        return Period(date(year, 1, 1), date(year, 12, 31))
    return None


def stated_effective_date(text: str) -> date | None:
    """The date the policy says it applies from: a date on a line near its top or end that names it as
    effective (or, failing that, as last updated), in English, Azerbaijani or Russian; None when it states
    none."""
    lines = [line.strip() for line in normalised(text).split("\n") if line.strip()]
    candidates = lines[:_HEAD_LINES] + lines[-_TAIL_LINES:]
    for words in _EFFECTIVE_WORDS:
        for line in candidates:
            if words.search(line):
                value = find_date(line)
                if value is not None:
                    return value
    return None


# ------------------------------------------------------------------------------------------------ diff


class SectionChangeKind(StrEnum):
    """What happened to a section between two versions."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class SectionChange:
    """One section that differs: its heading path, how, and the passages that went and came."""

    section: str
    kind: SectionChangeKind
    removed: tuple[str, ...]
    added: tuple[str, ...]


def _sections(text: str) -> dict[str, list[str]]:
    """Each section's passages in order (the bullets themselves, not the lists built from them)."""
    try:
        document = parse_policy(text)
    except PolicyFormatError:
        return {}
    sections: dict[str, list[str]] = {}
    for passage in document.passages:
        if passage.kind is not PassageKind.LIST:
            sections.setdefault(passage.section_path, []).append(passage.text)
    return sections


def section_changes(old: str, new: str) -> list[SectionChange]:
    """The sections that differ from ``old`` to ``new``, in the new text's order, then the removed ones."""
    before, after = _sections(old), _sections(new)
    changes: list[SectionChange] = []
    for section, passages in after.items():
        if section not in before:
            changes.append(SectionChange(section, SectionChangeKind.ADDED, (), tuple(passages)))
            continue
        removed: list[str] = []
        added: list[str] = []
        matcher = difflib.SequenceMatcher(a=before[section], b=passages, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                removed.extend(before[section][i1:i2])
                added.extend(passages[j1:j2])
        if removed or added:
            changes.append(SectionChange(section, SectionChangeKind.CHANGED, tuple(removed), tuple(added)))
    for section, passages in before.items():
        if section not in after:
            changes.append(SectionChange(section, SectionChangeKind.REMOVED, tuple(passages), ()))
    return changes
