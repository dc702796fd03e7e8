"""Every rights request in a message, and the ones the person says they do NOT want.

A message is cut into clauses: lines, list items, sentences, and the joining words of English, Azerbaijani and
Russian ("and", "but"; "və", "həmçinin", "amma"; "и", "а также", "но"). The engine classifies each clause; a
clause that negates the action of its request ("do NOT delete my account", "не удаляйте", "silməyin",
"silmək istəmirəm") records that request as declined instead of wanted.

Negation is judged per request kind: "don't send me newsletters" negates *sending*, which is what a marketing
opt-out asks for, so it stays a request; "don't unsubscribe me" negates the opt-out itself. A classifier reads
a negated clause poorly ("не удаляйте мой аккаунт" is sure of nothing): when it cannot place a clause, a
request whose own verb the clause negates counts as declined if the engine finds it plausible, in the clause
or in the clause read again without its negators. A question ("what if I don't delete it?") refuses nothing.

Clauses that ask a policy question beside the requests are kept too, with their own parse, to be answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.tickets import RequestKind
from nlu.result import NluEngine, ParseResult

# A clause counts as a request only when the engine is this sure of it on its own.
CLAUSE_CONFIDENT = 0.5
# A one- or two-word fragment ("please", "all my data") needs more.
SHORT_CLAUSE_CONFIDENT = 0.8
# The whole message's parse starts a request from this confidence (the actions' own threshold).
MESSAGE_CONFIDENT = 0.35
# A request the clause refuses outright needs only this much of the engine's belief in it.
NEGATED_PLAUSIBLE = 0.1
MAX_CLAUSES = 12

_JOINERS = (
    # English
    "and also", "and then", "and", "also", "plus", "but", "however", "additionally", "as well as", "then",
    # Azerbaijani
    "və", "həmçinin", "həm də", "eləcə də", "habelə", "bir də", "amma", "ancaq", "lakin",
    # Russian
    "а также", "и ещё", "и еще", "и", "а", "но", "также", "однако", "плюс",
)  # fmt: skip
_JOINER = "|".join(re.escape(j) for j in sorted(_JOINERS, key=len, reverse=True))
_LINES = re.compile(r"\s*\n\s*")
# "1. …", "2) …", "- …", "* …", "• …" at the start of a line or inline after a space.
_LIST_MARK = re.compile(r"(?:^|\s)(?:\(?\d{1,2}[.)]|[-*•·–—])\s+")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
_JOIN = re.compile(rf"\s*[,;:]\s*(?:(?:{_JOINER})\s+)*|\s+(?:(?:{_JOINER})\s+)+", re.I)
_LEADING_JOINERS = re.compile(rf"^(?:(?:{_JOINER})(?:\s+|$))+", re.I)
_WORD = re.compile(r"\w+(?:'\w+)?")
# A question keeps its parts together: "does another company make it and will they have access to my data"
# asks one thing. A request put as a question ("can you delete my account and stop the emails?") does not.
_QUESTION = re.compile(
    r"^(?:do|does|did|is|are|was|were|will|would|can|could|should|shall|may|might|have|has|what|what's|how|who"
    r"|whom|whose|why|where|when|which|is there|are there"
    r"|как|что|где|когда|почему|зачем|кто|какие|какой|какая|сколько|есть ли"
    r"|necə|nə|niyə|harada|haradan|kim|hansı|nə vaxt|nə qədər)\b|\?\s*$",
    re.I,
)
_POLITE_REQUEST = re.compile(
    r"^(?:can|could|would|will) (?:you|u|i (?:get|have|ask))\b|\bplease\b|\bpls\b"
    r"|^(?:не могли бы|можете ли|можно ли|прошу)|пожалуйста|\bzəhmət\b|\bxahiş\b|bilərsiniz",
    re.I,
)


def _is_question(sentence: str) -> bool:
    return bool(_QUESTION.search(sentence.strip())) and not _POLITE_REQUEST.search(sentence.strip())


def split_clauses(text: str) -> tuple[str, ...]:
    """The clauses of ``text``, in order: each line, list item, sentence and joined part on its own (a
    question's parts stay together)."""
    clauses: list[str] = []
    for line in _LINES.split(text.replace("’", "'")):
        for item in _LIST_MARK.split(line):
            for sentence in _SENTENCE.split(item):
                for part in [sentence] if _is_question(sentence) else _JOIN.split(sentence):
                    part = _LEADING_JOINERS.sub("", part.strip(" \t.!?;:,-"))
                    if _WORD.search(part):
                        clauses.append(part)
    return tuple(clauses)


# Azerbaijani is often typed without its letters ("silmeyin" for "silməyin"): negation reads it folded.
_AZ_FOLD = str.maketrans("əığçşöü", "eigcsou")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.replace("’", "'").lower().translate(_AZ_FOLD))


# The action each request asks for: word forms in English, Azerbaijani (folded, see _AZ_FOLD) and Russian,
# matched as whole words.
_ACTIONS: dict[RequestKind, re.Pattern[str]] = {
    kind: re.compile(pattern)
    for kind, pattern in {
        RequestKind.ACCESS: r"send|sent|give|copy|show|see|access\w*|provide|get|receive"
        r"|gonder\w*|goster\w*|suret\w*|elde"
        r"|пришл\w*|присл\w*|отправ\w*|предостав\w*|покаж\w*|показ\w*|дай\w*|выда\w*|доступ\w*|копи\w*",
        RequestKind.RECTIFICATION: r"fix\w*|correct\w*|chang\w*|updat\w*|amend\w*|edit\w*|rectif\w*"
        r"|duzelt\w*|duzeld\w*|duzelis\w*|deyis\w*|yenile\w*"
        r"|исправ\w*|измен\w*|обнов\w*|поправ\w*|замен\w*|корректир\w*",
        RequestKind.ERASURE: r"delet\w*|remov\w*|eras\w*|wip\w*|clos\w*|deactivat\w*|destroy\w*|forget|forgot"
        r"|terminat\w*|purg\w*|cancel\w*"
        r"|sil\w*|legv|bagla\w*|mehv"
        r"|удал\w*|стер\w*|стир\w*|уничтож\w*|закр\w*|забуд\w*",
        RequestKind.PORTABILITY: r"export\w*|transfer\w*|download\w*|port|move|moving"
        r"|ixrac\w*|kocur\w*|yukle\w*"
        r"|экспорт\w*|выгруз\w*|перенес\w*|перенос\w*|переда\w*|скача\w*",
        RequestKind.RESTRICTION: r"restrict\w*|limit\w*|paus\w*|freez\w*|froze\w*|suspend\w*"
        r"|mehdud\w*|dondur\w*|dayandir\w*"
        r"|огранич\w*|приостан\w*|замороз\w*",
        RequestKind.OBJECTION: r"object\w*|opt\w*|oppos\w*"
        r"|etiraz\w*|imtina\w*"
        r"|возраж\w*|против",
        RequestKind.MARKETING_OPT_OUT: r"unsubscrib\w*|opt\w*|stop\w*|remov\w*|cancel\w*|end"
        r"|abune\w*|dayandir\w*|imtina\w*|cixar\w*"
        r"|отпис\w*|прекрат\w*|перестан\w*|останов\w*|отмен\w*",
        RequestKind.SECURITY_INCIDENT: r"hack\w*|compromis\w*|breach\w*|stol\w*|steal\w*|access\w*"
        r"|sindir\w*|ogurla\w*|ele"
        r"|взлом\w*|взлам\w*|укра\w*|похи\w*",
        RequestKind.POLICY_ARCHIVE: r"send|give|get|archiv\w*|version\w*"
        r"|arxiv\w*|versiya\w*|архив\w*|верси\w*",
    }.items()
}

# Words that negate the verb after them (English, Russian).
_NEGATORS = frozenset(
    "not never no nor without instead rather cannot dont doesnt didnt wont cant shouldnt mustnt "
    "не нельзя ни без никогда".split()
)
# Words that may stand between a negator and its verb: "do not ever delete", "не надо удалять".
_BETWEEN = frozenset(
    "want wanna wish need intend mean plan like care try dare to you i we me my our your please pls ever "
    "even really actually just yet of than be being have get go ahead would should will must do does is "
    "are it that this any anything at all "
    "надо нужно стоит хочу хотим хотел хотела прошу пожалуйста вам вы мне меня мой мою мои моё мое ничего "
    "ещё еще пока сейчас бы ли это".split()
)
# Russian negation after the verb: "удалять не надо", "удалять аккаунт не нужно".
_AFTER_VERB = frozenset("надо нужно стоит хочу хотим требуется прошу нужен нужна".split())
# Azerbaijani negates inside the verb (read folded): imperatives (silmeyin, baglamayin, silinmesin), present
# (silmirem, istemirem), future and past (silmeyeceyik, silmedim); and the negating words deyil / yox / yoxdur
# after the verb ("silmek lazim deyil"). The bare imperative (silme, but not the noun silinme) counts only on
# the request's own verb: "-me" ends too many other words.
_AZ_NEGATIVE = re.compile(
    r"\w+m[ae](?:yin(?:iz)?|sin(?:ler|lar)?|y[ae]c[ae][kqy]\w*|di\w*|yib\w*)"
    r"|\w+m[iu]r(?:[ae]m|[iu]k|s[iu]n(?:[iu]z)?|l[ae]r)?"
    r"|deyil\w*|yox|yoxdur"
)
_AZ_BARE_NEGATIVE = re.compile(r"\w+(?<!in|un|an|en)m[ae]")


def _is_negator(word: str) -> bool:
    return word in _NEGATORS or word.endswith("n't")


# "I can't delete my account" says the person tried and failed, not that they refuse: a first person's
# "can't" before the verb, and Azerbaijani "bilmirəm" after it ("silə bilmirəm"), state a problem.
_CANNOT = frozenset("can't cant cannot couldn't couldnt".split())
_FIRST_PERSON = frozenset("i we i've im i'm".split())
_AZ_CANNOT = re.compile(r"bilm[iea]\w*")


def _is_inability(words: list[str], at: int) -> bool:
    return words[at] in _CANNOT and at > 0 and words[at - 1] in _FIRST_PERSON


def without_negators(text: str) -> str | None:
    """``text`` with its negating words left out ("do not delete my account" → "do delete my account"): what
    the classifier reads to tell which request a negated clause is about. None when nothing negates."""
    words = _WORD.findall(text.replace("’", "'"))
    kept = [word for word in words if not _is_negator(word.lower())]
    return " ".join(kept) if len(kept) < len(words) else None


def _negated_before(words: list[str], at: int) -> bool:
    """A negator up to five words before the verb, with only small words in between ("don't want to
    delete", "не надо удалять"); a participle may have its object in between ("don't want it deleted")."""
    participle = words[at].endswith(("ed", "en"))
    others = 0
    for back, word in enumerate(reversed(words[max(0, at - 5) : at]), start=1):
        if _is_negator(word):
            return not _is_inability(words, at - back)
        if word not in _BETWEEN:
            others += 1
            if not participle or others > 2:
                return False
    return False


def _negated_after(words: list[str], at: int) -> bool:
    """Russian "удалять не надо"; Azerbaijani "silmək istəmirəm", "ləğv etməyin", "silmək lazım deyil"."""
    ahead = words[at + 1 : at + 4]
    for i, word in enumerate(ahead):
        if word == "не" and i + 1 < len(ahead) and ahead[i + 1] in _AFTER_VERB:
            return True
        if i < 2 and _AZ_NEGATIVE.fullmatch(word) and not _AZ_CANNOT.fullmatch(word):
            return True
    return False


def is_negated(text: str, kind: RequestKind) -> bool:
    """True when ``text`` negates the action that a request of ``kind`` asks for."""
    words = _words(text)
    action = _ACTIONS[kind]
    return any(
        action.fullmatch(word)
        and (
            _AZ_NEGATIVE.fullmatch(word)
            or _AZ_BARE_NEGATIVE.fullmatch(word)
            or _negated_before(words, at)
            or _negated_after(words, at)
        )
        for at, word in enumerate(words)
    )


@dataclass(frozen=True)
class RequestMention:
    """One request kind a clause speaks of, with the engine's confidence; ``negated`` when the person says
    they do not want it."""

    kind: RequestKind
    clause: str
    negated: bool = False
    confidence: float = 1.0


@dataclass(frozen=True)
class RequestsFound:
    """The rights requests of one message, in the order they were written; ``questions`` are the parses of
    its clauses that ask a policy question instead (found only in a message of several clauses)."""

    mentions: tuple[RequestMention, ...] = ()
    questions: tuple[ParseResult, ...] = ()

    @property
    def kinds(self) -> tuple[RequestKind, ...]:
        """Every kind asked for (not negated), first mention first, each once."""
        return tuple(dict.fromkeys(m.kind for m in self.mentions if not m.negated))

    @property
    def declined(self) -> tuple[RequestKind, ...]:
        """Kinds the person said they do not want (and did not also ask for)."""
        wanted = set(self.kinds)
        return tuple(dict.fromkeys(m.kind for m in self.mentions if m.negated and m.kind not in wanted))

    def sure(self, threshold: float = CLAUSE_CONFIDENT) -> RequestsFound:
        """Only the mentions the engine was at least ``threshold`` sure of."""
        return RequestsFound(tuple(m for m in self.mentions if m.confidence >= threshold), self.questions)

    def clause_of(self, kind: RequestKind) -> str | None:
        """The clause that asked for ``kind``."""
        return next((m.clause for m in self.mentions if m.kind is kind and not m.negated), None)


def _mention(parse: ParseResult, clause: str, threshold: float) -> RequestMention | None:
    kind = parse.intent.intent.request_kind
    if kind is None or parse.intent.confidence < threshold:
        return None
    return RequestMention(kind, clause, is_negated(clause, kind), parse.intent.confidence)


def _asks_policy(parse: ParseResult, threshold: float) -> bool:
    return parse.intent.intent.is_policy_question and parse.intent.confidence >= threshold


async def _declined_mention(parse: ParseResult, clause: str, engine: NluEngine) -> RequestMention | None:
    """The request a clause refuses when the engine cannot place the clause: a request whose own verb the
    clause negates, and which the engine finds plausible in the clause or in the clause read without its
    negators ("не удаляйте мой аккаунт" → "удаляйте мой аккаунт")."""
    kinds = [kind for kind in _ACTIONS if is_negated(clause, kind)]
    if not kinds:
        return None
    scores = parse.ranking
    affirmed = without_negators(clause)
    if affirmed is not None:
        scores += (await engine.parse(affirmed)).ranking
    support = dict.fromkeys(kinds, 0.0)
    for score in scores:
        kind = score.intent.request_kind
        if kind in support:
            support[kind] = max(support[kind], score.confidence)
    best = max(kinds, key=lambda kind: support[kind])
    if support[best] < NEGATED_PLAUSIBLE:
        return None
    return RequestMention(best, clause, negated=True, confidence=support[best])


async def _clause_mention(
    parse: ParseResult, clause: str, threshold: float, engine: NluEngine
) -> RequestMention | None:
    """The request ``clause`` makes or refuses. A sure reading stands; an unsure one, or none, gives way to
    a request the clause plainly refuses; a question ("what if I don't delete it?") refuses nothing."""
    found = _mention(parse, clause, threshold)
    if found is not None and (found.negated or found.confidence >= CLAUSE_CONFIDENT):
        return found
    if _asks_policy(parse, threshold) or _is_question(clause):
        return found
    return await _declined_mention(parse, clause, engine) or found


def _threshold(clause: str) -> float:
    return SHORT_CLAUSE_CONFIDENT if len(_words(clause)) <= 2 else CLAUSE_CONFIDENT


async def find_requests(parse: ParseResult, engine: NluEngine) -> RequestsFound:
    """Every request in the message ``parse`` was made from, each clause classified by ``engine``, and the
    clauses that ask a policy question beside them.

    A message of one clause costs no further parse unless it refuses something the engine could not place.
    The whole message's request, when no clause names it on its own (a long letter whose request spans
    sentences), is kept first.
    """
    text = parse.text
    clauses = split_clauses(text)[:MAX_CLAUSES]
    if len(clauses) <= 1:
        found = await _clause_mention(parse, text, MESSAGE_CONFIDENT, engine)
        return RequestsFound((found,) if found else ())
    mentions: list[RequestMention] = []
    questions: list[ParseResult] = []
    for clause in clauses:
        clause_parse = await engine.parse(clause)
        threshold = _threshold(clause)
        found = await _clause_mention(clause_parse, clause, threshold, engine)
        if found is not None:
            mentions.append(found)
        elif _asks_policy(clause_parse, threshold):
            questions.append(clause_parse)
    whole = _mention(parse, text, MESSAGE_CONFIDENT)
    if whole is not None and all(m.kind is not whole.kind for m in mentions):
        mentions.insert(0, whole)
    return RequestsFound(tuple(mentions), tuple(questions))
