"""One turn of a conversation: clean the text, understand it, run the action, render and store the replies."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, replace

from actions.context import (
    ActionKind,
    ActionServices,
    AnswerKey,
    Choice,
    Outcome,
    Reply,
    ServiceTerms,
    Turn,
    TurnReplies,
)
from actions.registry import respond
from actions.requests import mask_typed_code
from bot.conversation.officer_thread import Relayed, relay_follow_up, relay_in_handoff
from bot.conversation.turns import TurnStore, TurnStoreFactory
from bot.domain.dialogue import ConversationRecord, DialogueState, Step
from bot.domain.errors import DuplicateMessage
from bot.domain.memo import Memo
from bot.domain.text import clean_addresses, formula_prefixed, storable, without_zero_width
from bot.domain.tickets import Requester
from bot.messages import (
    POLICY_VERSION_META,
    QUOTE_META,
    QUOTE_SECTION_META,
    InboundMessage,
    OutboundMessage,
    QuickReply,
)
from nlu.clauses import RequestsFound, find_requests
from nlu.intents import EntityName, Intent
from nlu.language import DEFAULT_LANGUAGE, Language, conversation_language
from nlu.markup import readable_text
from nlu.result import Entity, IntentScore, NluEngine, ParseResult
from policy.answers import NoAnswer, PolicyAnswer, PolicyAnswerer
from responses import Responses

log = logging.getLogger(__name__)

# The classifier reads the start of a message; the whole text is still stored for the officer.
NLU_MAX_CHARS = 2000
# Questions whose answers and languages, and quick-reply labels whose renderings, a conversation service
# keeps (each is the same for the same words as long as the process lives).
ANSWERS_REMEMBERED = 4096
LABELS_REMEMBERED = 1024
_REFERENCE = re.compile(r"\bPRV-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b", re.I)


@dataclass(frozen=True)
class TurnResult:
    """What one inbound message produced. ``duplicate`` is set when it had been handled before; ``lang`` is
    the language the replies are in (and the conversation is now held in)."""

    replies: tuple[OutboundMessage, ...]
    parse: ParseResult | None = None
    outcome: Outcome | None = None
    duplicate: bool = False
    lang: Language = DEFAULT_LANGUAGE


# Chat commands (Telegram's menu, typed anywhere) mean one intent each, whatever the model thinks.
_COMMANDS = {
    "/start": Intent.GREET,
    "/help": Intent.GREET,
    "/status": Intent.TICKET_STATUS,
    "/cancel": Intent.DENY,
    "/human": Intent.HUMAN_HANDOFF,
}


# A tapped quick reply whose payload is a step rather than an intent reads as this intent.
_CHOICE_INTENTS = {
    Choice.CANCEL: Intent.DENY,
    Choice.RESEND_CODE: Intent.INFORM,
    Choice.SEND_TICKET_CODE: Intent.AFFIRM,
}


def chosen_parse(text: str, payload: str | None) -> ParseResult | None:
    """The parse of a chosen quick reply: its payload's intent, certain; None for no or an unknown payload."""
    if payload is None:
        return None
    if payload in Choice.__members__.values():
        intent = _CHOICE_INTENTS[Choice(payload)]
    elif payload in Intent.__members__.values():
        intent = Intent(payload)
    else:
        return None
    score = IntentScore(intent, 1.0)
    return ParseResult(text=text, intent=score, ranking=(score,))


def _quote_meta(reply: Reply) -> dict[str, str]:
    """The policy passage a reply quotes (its ``quote`` and ``section`` values), as outbound meta."""
    quote, section = reply.values.get("quote"), reply.values.get("section")
    answer = quote
    if isinstance(answer, PolicyAnswer):  # a reply that quotes the policy along the way
        quote, section = answer.quote, answer.section_path
    if isinstance(quote, str) and isinstance(section, str) and quote:
        return {QUOTE_META: quote, QUOTE_SECTION_META: section}
    return {}


def command_parse(text: str) -> ParseResult | None:
    """The parse of a chat command such as ``/status`` (``/status@SomeBot PRV-...`` too), else None."""
    head = text.partition(" ")[0]
    intent = _COMMANDS.get(head.split("@", 1)[0].lower())
    if intent is None:
        return None
    score = IntentScore(intent, 1.0)
    entities = tuple(
        Entity(EntityName.TICKET_REF, m.group(0).upper(), m.start(), m.end())
        for m in _REFERENCE.finditer(text)
    )
    return ParseResult(text=text, intent=score, ranking=(score,), entities=entities)


# Bidirectional overrides reorder what a reader sees; they carry no meaning in a message.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(text: str) -> str:
    """Drop control characters and bidi overrides (keeping line breaks and emoji joiners), trim."""
    text = unicodedata.normalize("NFC", text)
    kept = (
        ch
        for ch in text
        if ch in "\n\t"
        or (unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn") and ch not in _BIDI_CONTROLS)
    )
    return "".join(kept).strip()


def looks_unreadable(text: str) -> bool:
    """True for binary garbage: mostly replacement characters and symbols, few letters."""
    if not text:
        return False
    letters = sum(ch.isalnum() or ch.isspace() for ch in text)
    junk = text.count("\ufffd")
    return junk > len(text) * 0.1 or (len(text) > 8 and letters < len(text) * 0.3 and not _mostly_emoji(text))


def _mostly_emoji(text: str) -> bool:
    return sum(unicodedata.category(ch) == "So" for ch in text) >= len(text) * 0.3


class Conversation:
    """Handles inbound messages from any channel. Built once by the wiring point."""

    def __init__(
        self,
        *,
        nlu: NluEngine,
        answerer: PolicyAnswerer,
        responses: Responses,
        stores: TurnStoreFactory,
        terms: ServiceTerms,
        policy_version: str | None = None,
    ) -> None:
        """``policy_version`` is the id of the policy text ``answerer`` quotes (``policy.versions``): each
        reply that answers from the policy or quotes it records it."""
        self.nlu = nlu
        self.policy_version = policy_version
        self.answerer = answerer
        self.responses = responses
        self.stores = stores
        self.terms = terms
        self._answers: Memo[AnswerKey, PolicyAnswer | NoAnswer] = Memo(ANSWERS_REMEMBERED)
        self._labels: Memo[tuple[str, Language], str] = Memo(LABELS_REMEMBERED)
        self._languages: Memo[tuple[str, Language | None], Language] = Memo(ANSWERS_REMEMBERED)

    async def handle(self, inbound: InboundMessage) -> TurnResult:
        """Answer one message; everything it changes is stored in one transaction. A message handled
        before (or meanwhile, by a racing redelivery) gives ``duplicate=True`` and the replies its first
        turn stored: a client retrying after a lost response still sees the answer.

        On a channel that delivers later (Telegram, email) the replies are also queued in the delivery
        outbox in that transaction, and the outbox sends them: the channel sends nothing itself, so a
        failed send is retried and a redelivery (a duplicate) is never answered twice.

        The message is made storable first (no NUL, no lone surrogate): what is understood and what is
        stored are the same characters, and no database refuses them."""
        inbound = storable_inbound(inbound)
        try:
            return await self._handle_once(inbound)
        except DuplicateMessage as exc:
            log.info("duplicate %s message answered from the store (raced)", inbound.channel.value)
            async with self.stores() as store:
                return TurnResult(await store.replies_to(exc.channel, exc.message_id), duplicate=True)

    async def _handle_once(self, inbound: InboundMessage) -> TurnResult:
        async with self.stores() as store:
            # The conversation first: the turn waits here for an earlier one, then sees what that stored.
            conversation = await store.load_conversation(
                inbound.channel, inbound.sender_id, inbound.message_id
            )
            if inbound.message_id and await store.already_handled(inbound.channel, inbound.message_id):
                log.info("duplicate %s message answered from the store", inbound.channel.value)
                replies = await store.replies_to(inbound.channel, inbound.message_id)
                return TurnResult(replies, duplicate=True)
            result = await self._respond(store, conversation, inbound)
            state = result.outcome.state if result.outcome else conversation.state
            offered = next((r.quick_replies for r in reversed(result.replies) if r.quick_replies), ())
            state = state.evolve(lang=result.lang, offered=tuple(q.payload for q in offered))
            stored = inbound
            if conversation.state.step is Step.AWAIT_CODE:  # the transcript never keeps a typed code
                stored = replace(inbound, text=mask_typed_code(inbound.text))
            if inbound.channel.delivers_later and result.replies:  # sent after the commit, by the outbox
                store.queue_delivery(result.replies, key=_delivery_key(inbound))
            await store.record_turn(conversation, stored, result.replies, state)
            await store.commit()
            return result

    async def _respond(
        self, store: TurnStore, conversation: ConversationRecord, inbound: InboundMessage
    ) -> TurnResult:
        text = clean_addresses(clean_text(inbound.text))
        state = conversation.state
        lang = self._language(inbound, text, state)
        requester = Requester(inbound.channel, inbound.sender_id, conversation.id)
        services = ActionServices(self.answerer, self.terms, store.desk, self._answers)
        replies = TurnReplies()
        if state.step is Step.HANDOFF and store.desk is not None and state.handoff_reference:
            relayed = await relay_in_handoff(store.desk, requester, state, text, at=inbound.received_at)
            return self._relayed(relayed, inbound, lang)
        if (
            inbound.thread_reference
            and state.step not in (Step.AWAIT_EMAIL, Step.AWAIT_CODE)
            and store.desk is not None
            and text
        ):
            ticket = await store.desk.ticket_status(requester, inbound.thread_reference)
            if ticket is not None and not ticket.status.is_closed:
                # A message in an open ticket's thread belongs to that ticket, not to a new conversation.
                await store.desk.relay_to_officer(requester, ticket.reference, text)
                replies.say(
                    "chat/follow_up_added.txt.j2",
                    ticket=ticket,
                    terms=self.terms,
                    ticket_reference=ticket.reference,
                )
                outcome = Outcome(ActionKind.HANDOFF, state, ticket_reference=ticket.reference)
                return TurnResult(self._render(replies.replies, inbound, lang), None, outcome, lang=lang)
        if not text or looks_unreadable(text):
            replies.say("chat/empty_message.txt.j2" if not text else "chat/unreadable_message.txt.j2")
            outcome = Outcome(ActionKind.FALLBACK, state)
            return TurnResult(self._render(replies.replies, inbound, lang), None, outcome, lang=lang)
        choice = self._choice(inbound, text, state, lang)
        # Understanding reads the person's own words (no markup, quoted replies or signature); the
        # stored message keeps what was sent.
        parse = (
            chosen_parse(text, choice)
            or command_parse(text)
            or await self.nlu.parse(readable_text(text)[:NLU_MAX_CHARS])
        )
        refused = _formula_address(parse)
        if refused is not None:  # no code goes to an address that is a spreadsheet formula
            replies.say("chat/address_refused.txt.j2", prefix=refused, quick_replies=state.offered)
            outcome = Outcome(ActionKind.CLARIFY, state)
            return TurnResult(self._render(replies.replies, inbound, lang), parse, outcome, lang=lang)
        if state.follow_up_reference and state.step is Step.IDLE and store.desk is not None:
            followed = await relay_follow_up(store.desk, requester, state, text, parse, self.terms)
            if isinstance(followed, Relayed):
                return self._relayed(followed, inbound, lang, parse)
            state = followed
        turn = Turn(
            parse=parse,
            state=state,
            requester=requester,
            verified_address=inbound.verified_address,
            claimed_address=_usable_claim(inbound.claimed_address),
            requests=await find_requests(parse, self.nlu) if choice is None else RequestsFound(),
            choice=choice,
            lang=lang,
        )
        outcome = await respond(turn, replies, services)
        rendered = self._render(replies.replies, inbound, lang, answered=outcome.answer is not None)
        return TurnResult(rendered, parse, outcome, lang=lang)

    def _language(self, inbound: InboundMessage, text: str, state: DialogueState) -> Language:
        """The language of this turn's replies: the one the person chose, else the message's own when it
        is clear, else the conversation's."""
        if inbound.lang is not None and inbound.lang in Language.__members__.values():
            return Language(inbound.lang)
        key = (text, state.lang)
        known = self._languages.get(key)
        if known is None:
            known = self._languages.put(key, conversation_language(text, state.lang))
        return known

    def _choice(self, inbound: InboundMessage, text: str, state: DialogueState, lang: Language) -> str | None:
        """The payload of the quick reply the person tapped, or typed: a label of one the last reply
        offered, in the conversation's language or in English, read back through its payload."""
        if inbound.payload is not None:
            return inbound.payload
        typed = _label_key(text)
        for payload in state.offered:
            labels = {self._label(payload, lang), self._label(payload, DEFAULT_LANGUAGE)}
            if typed in {_label_key(label) for label in labels}:
                return payload
        return None

    def _label(self, payload: str, lang: Language) -> str:
        """A quick reply's label in ``lang`` (rendered once per payload and language)."""
        label = self._labels.get((payload, lang))
        if label is None:
            rendered = self.responses.render_in(lang, "chat/choice_label.txt.j2", choice=payload)
            label = self._labels.put((payload, lang), rendered)
        return label

    def _relayed(
        self, relayed: Relayed, inbound: InboundMessage, lang: Language, parse: ParseResult | None = None
    ) -> TurnResult:
        outcome = Outcome(ActionKind.HANDOFF, relayed.state, ticket_reference=relayed.reference)
        return TurnResult(self._render(list(relayed.replies), inbound, lang), parse, outcome, lang=lang)

    def _render(
        self, replies: list[Reply], inbound: InboundMessage, lang: Language, *, answered: bool = False
    ) -> tuple[OutboundMessage, ...]:
        """The replies in ``lang``; those of a turn that ``answered`` from the policy, and any that quotes
        it, name the policy version."""
        return tuple(
            OutboundMessage(
                channel=inbound.channel,
                recipient_id=inbound.sender_id,
                text=self.responses.render_in(lang, reply.template, **reply.values),
                quick_replies=tuple(QuickReply(p, self._label(p, lang)) for p in reply.quick_replies),
                ticket_reference=reply.ticket_reference,
                other_references=reply.other_references,
                meta={**inbound.meta, **self._policy_meta(reply, answered)},
                lang=lang,
            )
            for reply in replies
        )

    def _policy_meta(self, reply: Reply, answered: bool) -> dict[str, str]:
        """The passage ``reply`` quotes, and the policy version when it quotes one or the turn answered."""
        meta = _quote_meta(reply)
        if self.policy_version and (answered or meta):
            meta[POLICY_VERSION_META] = self.policy_version
        return meta


def storable_inbound(inbound: InboundMessage) -> InboundMessage:
    """``inbound`` with its text, addresses and meta values as a database stores them (see ``storable``)."""
    return replace(
        inbound,
        text=storable(inbound.text),
        claimed_address=storable(inbound.claimed_address) if inbound.claimed_address else None,
        verified_address=storable(inbound.verified_address) if inbound.verified_address else None,
        meta={key: storable(value) for key, value in inbound.meta.items()},
    )


def _formula_address(parse: ParseResult) -> str | None:
    """The formula prefix (``=`` of ``=x@y.z``) the word of the message's first such address starts with,
    else None."""
    for entity in parse.entities:
        if entity.name is EntityName.EMAIL:
            word = parse.text[: entity.end].rsplit(None, 1)[-1]
            if formula_prefixed(word):
                return word.lstrip("<\"'(").lstrip()[0]
    return None


def _usable_claim(address: str | None) -> str | None:
    """A claimed address (an email's From) a code may go to: zero-width characters removed, none for a
    formula-prefixed one."""
    if address is None or formula_prefixed(address):
        return None
    return without_zero_width(address)


def _delivery_key(inbound: InboundMessage) -> str | None:
    """The name of the delivery of a turn's replies: one per inbound message."""
    return f"reply:{inbound.channel.value}:{inbound.message_id}" if inbound.message_id else None


def _label_key(text: str) -> str:
    """A label as typed back: case, spacing and end punctuation aside."""
    return " ".join(text.casefold().split()).strip(" .!?")
