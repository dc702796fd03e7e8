"""Parse a policy (plain text like the ZynorLink seed, or Markdown) into sections and passages.

A passage is the smallest quotable unit: a paragraph, a bullet item, a table row, or a block of
``Key: value`` contact lines. Each keeps the section it stands in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class PassageKind(StrEnum):
    """What shape of text a passage was in the policy."""

    PARAGRAPH = "paragraph"
    BULLET = "bullet"
    TABLE_ROW = "table_row"
    FIELD = "field"
    FIELD_BLOCK = "field_block"
    LIST = "list"


@dataclass(frozen=True)
class Passage:
    """One quotable piece of the policy."""

    index: int
    kind: PassageKind
    text: str
    section: str
    parent_section: str | None

    @property
    def section_path(self) -> str:
        """``Parent › Section`` where the parent is known, else the section heading."""
        return f"{self.parent_section} › {self.section}" if self.parent_section else self.section


@dataclass(frozen=True)
class PolicyDocument:
    """A parsed policy: its title, its sections in order, and every passage."""

    title: str
    sections: tuple[str, ...]
    passages: tuple[Passage, ...]
    source: str


class PolicyFormatError(ValueError):
    """The file holds no usable policy text."""


# Web pages obfuscate addresses as "[email protected]"; such a line is an artefact, never an address.
_OBFUSCATED_EMAIL = re.compile(r"\[\s*email[\s\xa0]*protected\s*\]", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•‣◦]|\d+[.)])\s+")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_FIELD = re.compile(r"^(?P<key>[A-Z][\w .&/'-]{1,40}):\s+(?P<value>\S.*)$")
_SENTENCE_END = re.compile(r"[.!?:;,)\]\"”]$")


def load_policy(path: Path) -> PolicyDocument:
    """Read and parse the policy at ``path``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyFormatError(f"{path} is not UTF-8 text") from exc
    return parse_policy(text, source=str(path))


def _is_plain_heading(line: str, next_line: str | None) -> bool:
    """A short line without closing punctuation, followed by more text, reads as a heading."""
    words = line.split()
    if not words or len(words) > 12 or len(line) > 90:
        return False
    if _SENTENCE_END.search(line) or _BULLET.match(line) or line.startswith("|") or _FIELD.match(line):
        return False
    if not (line[0].isupper() or line[0].isdigit()):
        return False
    return next_line is not None


def _table_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _clean_inline_markdown(text: str) -> str:
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"(?<!\w)[*_](\S.*?\S|\S)[*_](?!\w)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)", text)
    return text.replace("`", "").strip()


class _Builder:
    """Accumulates passages while walking the lines."""

    def __init__(self) -> None:
        self.passages: list[Passage] = []
        self.sections: list[str] = []
        self.section = ""
        self.parent: str | None = None
        self.fields: list[str] = []

    def heading(self, title: str, parent: str | None) -> None:
        self.flush_fields()
        self.section = title
        self.parent = parent
        if title not in self.sections:
            self.sections.append(title)

    def add(self, kind: PassageKind, text: str) -> None:
        if kind is not PassageKind.FIELD:
            self.flush_fields()
        text = _clean_inline_markdown(text)
        if text:
            self.passages.append(Passage(len(self.passages), kind, text, self.section, self.parent))

    def field(self, text: str) -> None:
        self.fields.append(text)
        self.add(PassageKind.FIELD, text)

    def flush_fields(self) -> None:
        if len(self.fields) > 1:
            block = "\n".join(self.fields)
            self.fields = []
            self.passages.append(
                Passage(len(self.passages), PassageKind.FIELD_BLOCK, block, self.section, self.parent)
            )
        self.fields = []


def parse_policy(text: str, *, source: str = "<text>") -> PolicyDocument:
    """Split policy text into sections and passages."""
    lines = [
        line.rstrip()
        for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if not _OBFUSCATED_EMAIL.search(line)
    ]
    content = [(i, line.strip()) for i, line in enumerate(lines) if line.strip()]
    if not content:
        raise PolicyFormatError(f"{source} holds no text")

    build = _Builder()
    title = ""
    md_levels: dict[int, str] = {}
    header: list[str] | None = None
    previous_was_heading = False
    paragraph: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            build.add(PassageKind.PARAGRAPH, " ".join(paragraph))
            paragraph.clear()

    for pos, (_, line) in enumerate(content):
        next_line = content[pos + 1][1] if pos + 1 < len(content) else None
        md = _MD_HEADING.match(line)
        if md:
            flush_paragraph()
            level, heading = len(md.group(1)), _clean_inline_markdown(md.group(2))
            md_levels = {lv: h for lv, h in md_levels.items() if lv < level}
            md_levels[level] = heading
            if not title and level == 1:
                title = heading
                build.heading(title, None)
                continue
            parents = [h for lv, h in sorted(md_levels.items()) if lv < level and h != title]
            build.heading(heading, parents[-1] if parents else None)
            header, previous_was_heading = None, True
            continue
        if line.startswith("|"):
            flush_paragraph()
            if _TABLE_RULE.match(line):
                continue
            cells = _table_cells(line)
            if header is None:
                header = cells
                continue
            label = cells[0]
            details = "; ".join(
                f"{name}: {value}" for name, value in zip(header[1:], cells[1:], strict=False) if value
            )
            build.add(PassageKind.TABLE_ROW, f"{label} — {details}" if details else label)
            previous_was_heading = False
            continue
        header = None
        if _BULLET.match(line):
            flush_paragraph()
            build.add(PassageKind.BULLET, _BULLET.sub("", line, count=1))
            previous_was_heading = False
            continue
        if _FIELD.match(line) and not paragraph:
            build.field(line)
            previous_was_heading = False
            continue
        if not md_levels and _is_plain_heading(line, next_line):
            flush_paragraph()
            if not title:
                title = line
                build.heading(title, None)
                continue
            # Plain text has no heading levels. Two clues give one: a heading straight after another heading
            # is inside it, and a heading that opens on a list or table details the section just before it.
            parent: str | None = None
            if previous_was_heading and build.section:
                parent = build.section
            elif build.section and next_line and (next_line.startswith("|") or _BULLET.match(next_line)):
                parent = build.parent or build.section
            build.heading(line, parent)
            previous_was_heading = True
            continue
        previous_was_heading = False
        paragraph.append(line)
        # Plain text keeps one paragraph per line; Markdown wraps paragraphs over several lines.
        if not md_levels:
            flush_paragraph()
    flush_paragraph()
    build.flush_fields()
    if not build.passages:
        raise PolicyFormatError(f"{source} holds no passages")
    passages = build.passages + _lists(build.passages)
    return PolicyDocument(
        title=title or "Privacy Policy",
        sections=tuple(build.sections),
        passages=tuple(passages),
        source=source,
    )


def _lists(passages: list[Passage]) -> list[Passage]:
    """Each run of bullets with the paragraph that introduces it, as one passage: the answer to a broad
    question ("what do you collect?") is the whole list, not one item."""
    lists: list[Passage] = []
    run: list[Passage] = []

    def close() -> None:
        if len(run) > 1:
            first = run[0]
            lead = passages[first.index - 1] if first.index > 0 else None
            intro = (
                lead.text + "\n"
                if lead and lead.kind is PassageKind.PARAGRAPH and lead.section == first.section
                else ""
            )
            text = intro + "\n".join(f"- {b.text}" for b in run)
            lists.append(
                Passage(
                    len(passages) + len(lists), PassageKind.LIST, text, first.section, first.parent_section
                )
            )
        run.clear()

    for passage in passages:
        if passage.kind is PassageKind.BULLET and (not run or run[-1].section == passage.section):
            run.append(passage)
        else:
            close()
            if passage.kind is PassageKind.BULLET:
                run.append(passage)
    close()
    return lists
