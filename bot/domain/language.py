"""The languages the assistant understands and answers in."""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    """A language of a conversation (ISO 639-1). Replies are written in it; the policy stays English."""

    EN = "en"
    AZ = "az"
    RU = "ru"


DEFAULT_LANGUAGE = Language.EN
