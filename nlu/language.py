"""Which language a message is written in: English, Azerbaijani or Russian.

Russian is told by its script. Azerbaijani and English share the Latin script, so they are told by letters
only Azerbaijani uses (ə, ı, ğ, ş, ç, ö, ü) and by common words of each language, typed with or without
those letters ("məlumatlarımı" and "melumatlarimi" alike). A message too short or too mixed to tell (``ok``,
an email address, a code, ``salam, hello``) gives None: the conversation keeps the language it had.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.domain.language import DEFAULT_LANGUAGE, Language

__all__ = ["DEFAULT_LANGUAGE", "Language", "LanguageGuess", "conversation_language", "detect", "fold"]

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f\u0259\u018f]")
# Letters of the Azerbaijani Latin alphabet that English never uses; ə and ı say Azerbaijani on their own.
_AZ_ONLY = frozenset("əı")
_AZ_LETTERS = frozenset("əığşçöü")

# Frequent Azerbaijani words and word starts, written without diacritics (the text is folded first).
_AZ_WORDS = frozenset(
    """men menim mene meni biz bizim siz sizin sizi size sen senin o onun bu bunu bunun hansi ne nece
    niye nedir neden harada hara kim kimi kime ve ile ucun amma ya yoxsa var yox beli xeyr he yaxsi salam
    sagol sagolun tesekkur tesekkurler cox zehmet olmasa xahis edirem edin edirsiniz edir edirik olur
    olar olsun istifade isteyirem isteyirik istemirem lazimdir lazim melumat melumatlar melumatlarimi
    melumatlarim melumatlari melumatlarin melumati sexsi hesab hesabim hesabimi hesabimin hesabi sil silin
    silmek silinsin silmeyi gonderin gonder gondermeyin dayandirin dayandir saxlayirsiniz saxlayir
    toplayirsiniz toplayir paylasirsiniz paylasir qoruyursunuz qorunur huquq huquqlarim huquqlarim
    mexfilik mexfiliyim siyaset siyaseti siyasetiniz haqqinda barede uzre gore sonra evvel indi hele artiq
    niye kod kodu kodum emeli emekdas emekdasla danismaq danisa insanla operator sorgu sorgum sorgunun
    surati suretini duzeldin duzelt deyisin etiraz reklam mektub mektublar mesaj xarice olke olkeye qeder
    muddet muddetine vaxt gun il ay hecne hec bir olmaz olmur bilerem bilersiniz bilmirem deyil""".split()
)
# Azerbaijani endings (folded): my/your possessives, cases, verb forms. Checked on words of 5+ letters.
_AZ_ENDINGS = (
    "imi",
    "umu",
    "ımı",
    "larimi",
    "lerimi",
    "lari",
    "leri",
    "larin",
    "lerin",
    "dir",
    "dur",
    "dır",
    "iram",
    "irem",
    "uram",
    "yiram",
    "yirem",
    "siniz",
    "sunuz",
    "sınız",
    "maq",
    "mek",
    "mək",
    "miz",
    "muz",
    "niz",
    "nuz",
    "dan",
    "den",
    "nin",
    "nun",
    "ini",
    "unu",
    "ina",
    "ine",
    "daki",
    "deki",
    "lar",
    "ler",
)
_EN_WORDS = frozenset(
    """the a an and or of to in on for with about is are was were be been do does did can could would should
    will i me my mine you your yours we our us it its this that these those what which who whom how why when
    where there here not no yes please thanks thank hello hi hey want need like have has had get just if
    data account delete remove personal information privacy policy email stop send copy keep share right
    rights talk person human officer request code new old help know tell from by at as all any""".split()
)


@dataclass(frozen=True)
class LanguageGuess:
    """What :func:`detect` found: the language, and whether the message said so clearly enough to switch a
    conversation that was in another language."""

    language: Language
    clear: bool


def fold(word: str) -> str:
    """Lower-case and strip diacritics, with the Azerbaijani letters NFKD leaves alone (ə → e, ı → i)."""
    word = word.lower().replace("ə", "e").replace("ı", "i")
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _azerbaijani_score(words: list[str]) -> float:
    score = 0.0
    for word in words:
        lowered = word.lower()
        folded = fold(word)
        if _AZ_ONLY & set(lowered):
            score += 2.0
        elif folded in _AZ_WORDS:
            score += 1.0
        elif _AZ_LETTERS & set(lowered):
            score += 1.0
        elif len(folded) >= 5 and folded not in _EN_WORDS and folded.endswith(_AZ_ENDINGS):
            score += 0.5
    return score


def detect(text: str) -> LanguageGuess | None:
    """The language of ``text``, or None when it is too short or too mixed to tell."""
    words = _WORD.findall(text)
    if not words:
        return None
    cyrillic = len(_CYRILLIC.findall(text))
    latin = len(_LATIN.findall(text))
    if cyrillic >= 3 and cyrillic >= latin:
        return LanguageGuess(Language.RU, clear=cyrillic >= 6)
    az = _azerbaijani_score(words)
    en = float(sum(fold(w) in _EN_WORDS for w in words))
    if az > en and az >= 1.0:
        return LanguageGuess(Language.AZ, clear=az >= 2.0 and az >= 2 * en)
    if en > az and en >= 1.0:
        return LanguageGuess(Language.EN, clear=en >= 2.0 and en >= 2 * az)
    return None


def conversation_language(text: str, current: Language | None) -> Language:
    """The language to answer ``text`` in: its own when it is clear (or nothing was set yet), else the
    conversation's."""
    guess = detect(text)
    if guess is None:
        return current or DEFAULT_LANGUAGE
    if current is None or guess.clear:
        return guess.language
    return current
