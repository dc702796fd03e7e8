"""Mail text as people write it → the words they meant: HTML to text, quotes and signatures cut, reflowed.

Every function is pure (text in, text out). The result keeps one sentence or paragraph per line so the
conversation's sentence splitter still sees where one request ends and the next begins.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "tr",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "hr",
        "section",
        "article",
        "header",
        "footer",
        "address",
        "dd",
        "dt",
        "dl",
    }
)
_DROPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript", "blockquote"})
_VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr"})

# "On Mon, 3 Mar 2025 at 10:00, Anna <anna@example.com> wrote:" (and the same in a few other languages).
_ATTRIBUTION = re.compile(
    r"^\s*(on\b.{0,300}\bwrote|am\b.{0,300}\bschrieb.{0,120}|le\b.{0,300}\ba\s+écrit|el\b.{0,300}\bescribió"
    r"|op\b.{0,300}\bschreef.{0,80})\s*:\s*$",
    re.I | re.S,
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine)\s*-{2,}\s*$", re.I
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(from|von|de)\s*:\*?\s+\S", re.I)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\*?(sent|date|gesendet|datum|envoyé|to|an|à|subject|betreff|objet)\s*:", re.I
)
_RULE = re.compile(r"^\s*_{10,}\s*$")
_SIG_DASHES = re.compile(r"^-- ?$")
_SENT_FROM = re.compile(
    r"^\s*(sent from my\b.{0,40}|sent from (mail|outlook|yahoo mail)\b.{0,40}|get outlook for\b.{0,30}"
    r"|von meinem .{0,30} gesendet)\s*$",
    re.I,
)
_CLOSING = re.compile(
    r"^\s*((best|kind|warm|warmest|many|with)\s+)?(regards|wishes|thanks|greetings)[,.!]?\s*$"
    r"|^\s*(thanks|thank you|many thanks|cheers|best|sincerely|yours( truly| sincerely| faithfully)?"
    r"|mit freundlichen grüßen|viele grüße|liebe grüße|cordialement|bien à vous|saludos)[,.!]?\s*$",
    re.I,
)
_SIGNATURE_MAX_LINES = 4
_SIGNATURE_MAX_CHARS = 60
_SPACES = re.compile(r"[ \t\u00a0]+")


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML document, one line per block element.

    Scripts, styles, ``blockquote``s and the quote containers mail clients wrap earlier mails in are dropped.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0
        self._div_stack: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "div":
            quote = _is_quote_container(attrs)
            self._div_stack.append(quote)
            self._skip_depth += quote
        elif tag in _DROPPED_TAGS:
            self._skip_depth += 1
        if tag in _BLOCK_TAGS and not self._skip_depth:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS and not self._skip_depth:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID_TAGS:
            return
        if tag == "div" and self._div_stack and self._div_stack.pop():
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _DROPPED_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS and not self._skip_depth:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def _is_quote_container(attrs: list[tuple[str, str | None]]) -> bool:
    """Gmail's, Thunderbird's and Yahoo's quoted-reply containers (a ``div`` carrying a quote class)."""
    classes = " ".join(value or "" for name, value in attrs if name == "class")
    return any(mark in classes for mark in ("gmail_quote", "moz-cite-prefix", "yahoo_quoted"))


def html_to_text(html: str) -> str:
    """The visible text of ``html``: scripts, styles and quoted replies dropped, one block per line."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parser.parts).split("\n"))
    return _squeeze_blank_lines(list(lines))


def strip_quotes(text: str) -> str:
    """Cut the quoted earlier mail: ``>`` lines, "On … wrote:", Outlook's headers or "Original Message"."""
    lines = text.split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _starts_quote(lines, index):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept)


def _starts_quote(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _ORIGINAL_MESSAGE.match(line) or _ATTRIBUTION.match(line):
        return True
    following = lines[index + 1 : index + 3]
    if (
        following
        and _ATTRIBUTION.match(" ".join([line, *following[:1]]))
        and line.strip().lower().startswith(("on ", "am ", "le ", "el ", "op "))
    ):
        return True
    if _RULE.match(line) and any(_OUTLOOK_FROM.match(nxt) for nxt in following):
        return True
    if _OUTLOOK_FROM.match(line):
        window = lines[index + 1 : index + 5]
        return sum(bool(_OUTLOOK_NEXT.match(nxt)) for nxt in window) >= 2
    return False


def strip_signature(text: str) -> str:
    """Cut a signature: after ``-- ``, "Sent from my iPhone", or a closing ("Regards,") + a short name."""
    lines = text.rstrip().split("\n")
    for index, line in enumerate(lines):
        if _SIG_DASHES.match(line) or _SENT_FROM.match(line):
            lines = lines[:index]
            break
    for index, line in enumerate(lines):
        if not _CLOSING.match(line) or not any(earlier.strip() for earlier in lines[:index]):
            continue
        rest = [nxt for nxt in lines[index + 1 :] if nxt.strip()]
        if len(rest) <= _SIGNATURE_MAX_LINES and all(len(nxt) <= _SIGNATURE_MAX_CHARS for nxt in rest):
            lines = lines[:index]
            break
    return "\n".join(lines)


def reflow(text: str) -> str:
    """Join hard-wrapped lines of a paragraph (a line continuing in lower case), one paragraph per line.

    A line that starts with a capital, a digit or a list mark stays on its own line, so sentences and list
    items written without a full stop still reach the sentence splitter separately.
    """
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        joined: list[str] = []
        for raw in paragraph.split("\n"):
            line = _SPACES.sub(" ", raw).strip()
            if not line:
                continue
            if joined and line[0].islower() and not joined[-1].endswith((".", "!", "?", ":", ";")):
                joined[-1] = f"{joined[-1]} {line}"
            else:
                joined.append(line)
        out.extend(joined)
    return "\n".join(out)


def clean_body(text: str) -> str:
    """The new words of a mail body: quotes and signature cut, lines reflowed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return reflow(strip_signature(strip_quotes(text))).strip()


def _squeeze_blank_lines(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
