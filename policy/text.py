"""Words as the search compares them: lower-cased, stemmed, stop words dropped, with a small
general-English synonym lexicon. Nothing here knows any fact of any policy."""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she should
    so some such than that the their theirs them themselves then there these they this those through to
    too under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves hi hello hey please pls plz thanks thank kindly tell know want wanted like
    would could might may must shall let lets get got also ok okay im i'm i've id i'd ive dont don't
    does doesn't didn't isn't aren't wasn't weren't won't can't cannot zynorlink zynor link company
    guys you're youre u ur us one thing things stuff anything something everything question wondering
    wonder curious ask asking say said need really actually just still already much many lot see look
    find happen happens happened mean means work works going go make sure exactly currently give gives
    number numbers yes yeah yep yup nope nah""".split()
)

# Groups of words people use for the same idea. General English only: no policy facts.
_SYNONYM_GROUPS = (
    "keep retain retention store storage hold save maintain kept stored held preserve",
    "delete deletion erase erasure remove removal destroy wipe anonymize anonymise forget purge",
    "share sharing disclose disclosure sell sold give pass hand transfer third partner partners",
    "collect collection gather obtain capture record",
    "use usage process processing utilise utilize",
    "protect protection secure security safe safety safeguard safeguards encrypt encryption encrypted",
    "change changes update updates modify amend amendment revise revision",
    "contact reach email mail phone call telephone write address",
    "officer dpo controller",
    "country countries abroad international border borders overseas foreign jurisdiction located location"
    " where within",
    "notify notification notice inform informed tell communicate announce",
    "pay payment payments card credit debit billing purchase transaction transactions invoice",
    "course courses class classes lesson certification certificate credential",
    "support help assistance helpdesk",
    "marketing newsletter newsletters promotional promotion advertising ads offers",
    "browser device devices computer",
    "analytics usage tracking track statistics",
    "police law legal court government authority authorities subpoena enforcement",
    "hack hacked breach compromised unauthorized unauthorised intrusion",
    "copy export portable portability download",
    "correct correction rectify rectification fix wrong inaccurate incorrect",
    "restrict restriction limit limitation",
    "archive archived previous older old version versions",
    "respond response reply answer",
    "long period duration year years month months week weeks day days time until",
    "account profile",
    "login logins log logging sign signin",
    "information info data details personal",
    "communication communications message messages chat chats conversation conversations correspondence",
    "ip",
)


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem of one lower-case word."""
    return str(_stemmer().stemWord(word))


def words(text: str) -> list[str]:
    """The lower-case words of ``text``, punctuation dropped."""
    return [w.replace("’", "'") for w in _WORD.findall(text.lower())]


def terms(text: str) -> list[str]:
    """Stemmed content words, stop words dropped, in order."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]


@lru_cache(maxsize=1)
def _synonym_table() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for group in _SYNONYM_GROUPS:
        stems = {stem(w) for w in group.split()}
        for s in stems:
            table.setdefault(s, set()).update(stems - {s})
    return {k: frozenset(v) for k, v in table.items()}


@lru_cache(maxsize=1)
def lexicon_words() -> frozenset[str]:
    """Every word of the synonym lexicon, unstemmed (for typo repair)."""
    return frozenset(w for group in _SYNONYM_GROUPS for w in group.split())


def synonyms(term: str) -> frozenset[str]:
    """Stems that mean about the same as ``term``."""
    return _synonym_table().get(term, frozenset())
