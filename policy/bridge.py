"""A small bridge from Russian and Azerbaijani words to the English words a policy uses for the same idea.

The lexical search reads English: "продаёте" or "satırsınız" match no word of the policy, so a question in
another language is found by meaning alone, where cosines across languages run close together. The gloss of
a question is the English words for the ones this lexicon knows (general vocabulary of privacy questions, no
fact of any policy), which the lexical search can match as it matches an English question.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Azerbaijani is often typed without its letters: the lexicon is folded the same way.
_AZ_FOLD = str.maketrans("əığçşöü", "eigcsou")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Longest stem first wins ("satın" buy before "sat" sell; "şifrələ" encrypt before "şifrə" password).
_STEMS = {
    # Russian
    "прода": "sell", "купи": "buy", "покуп": "purchase", "переда": "share transfer", "делит": "share",
    "делят": "share", "подел": "share", "треть": "third", "партнер": "partner", "партнёр": "partner",
    "удал": "delete", "стер": "erase", "стир": "erase", "хран": "store", "сохран": "save",
    "собира": "collect",
    "сбор": "collect", "собир": "collect", "использ": "use", "реклам": "marketing advertising",
    "рассыл": "marketing newsletter", "маркетинг": "marketing", "отпис": "opt out", "отказ": "opt out",
    "уведом": "notify", "безопасн": "security", "защищ": "protect", "защит": "protect", "шифр": "encrypt",
    "взлом": "hack", "утечк": "breach", "парол": "password", "платеж": "payment", "платёж": "payment",
    "оплат": "payment", "геолокац": "location", "местоположен": "location", "данн": "data",
    "информац": "information", "аккаунт": "account", "учетн": "account", "учётн": "account",
    "профил": "profile", "доступ": "access", "копи": "copy", "исправ": "correct", "измен": "change",
    "огранич": "restrict", "возраж": "object", "срок": "period", "стран": "country", "рубеж": "abroad",
    "сервер": "server", "полиц": "police", "закон": "law", "контакт": "contact", "почт": "email",
    "письм": "email", "телефон": "phone", "адрес": "address", "истори": "history", "поиск": "search",
    "отслежив": "track", "следит": "track", "аналитик": "analytics", "курс": "course",
    "сертификат": "certification", "политик": "policy", "сотрудник": "employee",
    # Azerbaijani (folded)
    "satin": "purchase", "sat": "sell", "paylas": "share", "ucuncu": "third", "terefdas": "partner",
    "sil": "delete", "saxla": "store", "topla": "collect", "istifade": "use",
    "reklam": "marketing advertising",
    "marketinq": "marketing", "bulleten": "newsletter", "imtina": "opt out", "bildiris": "notify",
    "tehlukesiz": "security", "qoru": "protect", "sifrele": "encrypt", "sifre": "password",
    "parol": "password", "sindir": "hack", "odenis": "payment", "mekan": "location", "melumat": "data",
    "hesab": "account", "profil": "profile", "giris": "access", "suret": "copy", "duzelt": "correct",
    "deyis": "change", "mehdud": "restrict", "etiraz": "object", "muddet": "period", "olke": "country",
    "xaric": "abroad", "server": "server", "polis": "police", "mehkeme": "court", "qanun": "law",
    "elaqe": "contact", "poct": "email", "telefon": "phone", "unvan": "address", "tarixce": "history",
    "axtaris": "search", "izle": "track", "kurs": "course", "sertifikat": "certification",
    "siyaset": "policy", "emekdas": "employee",
}  # fmt: skip
_LONGEST = max(map(len, _STEMS))


@lru_cache(maxsize=4096)
def _english_of(word: str) -> str | None:
    folded = word.lower().translate(_AZ_FOLD)
    for size in range(min(len(folded), _LONGEST), 2, -1):
        english = _STEMS.get(folded[:size])
        if english is not None:
            return english
    return None


def english_gloss(text: str) -> str:
    """The English words for the words of ``text`` the lexicon knows, in order; empty when it knows none."""
    return " ".join(e for e in (_english_of(w) for w in _WORD.findall(text)) if e is not None)
