"""What of a message is meant to be read: HTML and Markdown markup, entities, quoted earlier messages and
signatures removed. Only understanding reads this; the stored message keeps what was sent."""

from __future__ import annotations

import html
import re

_BLOCK_TAG = re.compile(r"<\s*(?:br|/p|p|/div|div|li|/li|tr|/tr|h[1-6]|/h[1-6])\b[^>]*>", re.I)
_QUOTE_BLOCK = re.compile(r"<\s*blockquote\b.*?<\s*/\s*blockquote\s*>", re.I | re.S)
_SKIPPED_BLOCK = re.compile(r"<\s*(script|style|head)\b.*?<\s*/\s*\1\s*>", re.I | re.S)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--.*?-->", re.S)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|~~)(.+?)\1|(?<![\w*])[*_](\S(?:.*?\S)?)[*_](?![\w*])")
_MD_CODE = re.compile(r"`{1,3}([^`]*)`{1,3}")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([?.!,;:])(?=\s|$)")
_MD_LINE = re.compile(r"^\s{0,3}(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+)")
# An earlier message quoted under a reply: "On Mon, ... wrote:" and everything after it.
_REPLY_HEADER = re.compile(r"^\s*(?:On\s.{4,200}\bwrote:|-{2,}\s*Original Message\s*-{2,})\s*$", re.I)
# A signature: the conventional "-- " line, or a mobile client's footer.
_SIGNATURE = re.compile(r"^\s*(?:--\s*|—\s*|Sent from my \w.*|Get Outlook for \w.*)$", re.I)


def readable_text(text: str) -> str:
    """``text`` without markup, entities, quoted replies and signatures; the person's own words."""
    if "<" in text:
        text = _SKIPPED_BLOCK.sub(" ", text)
        text = _QUOTE_BLOCK.sub("\n", text)
        text = _BLOCK_TAG.sub("\n", text)
        text = _TAG.sub(" ", text)
    text = html.unescape(text)
    kept: list[str] = []
    for line in text.splitlines():
        if _REPLY_HEADER.match(line) or _SIGNATURE.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        line = _MD_LINE.sub("", line)
        line = _MD_LINK.sub(r"\1", line)
        line = _MD_CODE.sub(r"\1", line)
        line = _MD_EMPHASIS.sub(lambda m: m.group(2) or m.group(3) or "", line)
        kept.append(_SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(line.split())))
    readable = "\n".join(line for line in kept if line).strip()
    return readable or " ".join(html.unescape(_TAG.sub(" ", text)).split())
