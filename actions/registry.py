"""Which action answers a message: an explicit table by intent, steered by the dialogue step and by how
sure the NLU is."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace

from actions.context import ActionKind, ActionServices, Choice, Outcome, Turn, TurnReplies
from actions.handoff import hand_off
from actions.policy_answers import answer_question, find_answer, quote_answer, say_not_covered
from actions.requests import (
    cancel_request,
    claim_ticket,
    continue_with_code,
    continue_with_email,
    decline_requests,
    report_status,
    revise_requests,
    start_request,
    typed_code,
)
from actions.smalltalk import small_talk
from bot.domain.dialogue import Step
from bot.domain.tickets import HandoffReason
from nlu.clauses import split_clauses
from nlu.intents import EntityName, Intent
from policy.answers import NoAnswer, PolicyAnswer
from policy.bank import Coverage

Action = Callable[[Turn, TurnReplies, ActionServices], Awaitable[Outcome]]

# Below this the NLU's best guess is only a guess.
CONFIDENT = 0.35
# Two intents this close, both plausible, and the person is asked which one they meant.
AMBIGUOUS_MARGIN = 0.05
PLAUSIBLE = 0.25
# Understood nothing this many times in a row: a person takes over.
MISUNDERSTOOD_LIMIT = 2
# Questions beside requests answered in one turn, at most.
MAX_ANSWERS = 3
# A message this long that names other requests while a code is awaited revises them rather than cancels.
_REVISION_WORDS = 3

_CANCEL = re.compile(r"^\W*(/?cancel|stop|never ?mind|forget it|abort|quit)\b", re.I)


async def _request(turn: Turn, replies: TurnReplies, services: ActionServices) -> Outcome:
    """Start every request the message asks for; if it names requests only to refuse them, say so."""
    if turn.requests.kinds:
        return await start_request(turn, replies, services, turn.requests.kinds)
    if turn.requests.declined:
        return await decline_requests(turn, replies, services)
    kind = turn.parse.intent.intent.request_kind
    assert kind is not None  # the table routes only request intents here
    return await start_request(turn, replies, services, (kind,))


def _requests_decide(turn: Turn) -> bool:
    """The message's clauses tell more than its overall reading: several requests, a request the overall
    reading missed (beside small talk, or an unsure guess), or requests named only to refuse them (when the
    overall reading is a request, a "no", or unsure). A clear policy question with one request-like clause
    stays a question."""
    found, top = turn.requests, turn.parse.intent
    if not found.kinds:
        refusing = (
            top.intent.request_kind is not None or top.intent is Intent.DENY or top.confidence < CONFIDENT
        )
        return bool(found.declined) and refusing
    if len(found.kinds) > 1:
        return True
    if found.kinds[0] is top.intent.request_kind:
        return False  # the usual routing (which may still ask which of two readings was meant)
    return not top.intent.is_policy_question or top.confidence < CONFIDENT


def _also_asks(turn: Turn) -> bool:
    """Beside the requests its clauses make, the message plausibly asks a policy question: the overall
    reading is that question, or is torn between one of the requests and a question."""
    ranking = turn.parse.ranking
    top = turn.parse.intent
    if top.intent.is_policy_question:
        return top.confidence >= PLAUSIBLE
    return top.intent.request_kind in turn.requests.kinds and any(
        s.intent.is_policy_question and s.confidence >= PLAUSIBLE for s in ranking[1:3]
    )


async def _answer_then_request(turn: Turn, replies: TurnReplies, services: ActionServices) -> Outcome:
    """Policy questions and requests in one message ("I want a copy of my data. How long do you keep payment
    records?"): answer each question clause from its own parse (or, when no clause is a question on its
    own, the clauses that ask nothing), then start the requests. The outcome is the requests', naming the
    first answer's section."""
    questions = turn.requests.questions[:MAX_ANSWERS]
    if not questions:
        asked = {m.clause for m in turn.requests.mentions}
        rest = " ".join(c for c in split_clauses(turn.parse.text) if c not in asked) or turn.parse.text
        questions = (replace(turn.parse, text=rest),)
    state, section, answer = turn.state, None, None
    for parse in questions:
        answered = await answer_question(replace(turn, parse=parse, state=state), replies, services)
        state, section, answer = answered.state, section or answered.section, answer or answered.answer
    started = await start_request(replace(turn, state=state), replies, services, turn.requests.kinds)
    return replace(started, section=section, answer=answer)


ACTIONS: dict[Intent, Action] = {
    **{intent: answer_question for intent in Intent if intent.is_policy_question},
    **{intent: _request for intent in Intent if intent.request_kind is not None},
    Intent.GREET: small_talk,
    Intent.THANK: small_talk,
    Intent.GOODBYE: small_talk,
    Intent.BOT_CHALLENGE: small_talk,
    Intent.AFFIRM: small_talk,
    Intent.DENY: small_talk,
    Intent.INFORM: small_talk,
    Intent.HUMAN_HANDOFF: hand_off,
    Intent.TICKET_STATUS: report_status,
}


def _is_question(text: str) -> bool:
    return text.rstrip().endswith(("?", "？", "؟"))


def _is_cancel(turn: Turn) -> bool:
    intent = turn.parse.intent
    return (
        turn.choice == Choice.CANCEL
        or bool(_CANCEL.match(turn.parse.text))
        or (intent.intent is Intent.DENY and intent.confidence >= CONFIDENT)
    )


def _confident(turn: Turn, *intents: Intent) -> bool:
    top = turn.parse.intent
    return top.confidence >= CONFIDENT and (not intents or top.intent in intents)


async def _within_verification(turn: Turn, replies: TurnReplies, services: ActionServices) -> Outcome | None:
    """Steps that wait for an address or a code read the message in that light first."""
    state = turn.state
    if state.step not in (Step.AWAIT_EMAIL, Step.AWAIT_CODE):
        return None
    has_value = turn.parse.entity(EntityName.EMAIL) or (state.step is Step.AWAIT_CODE and typed_code(turn))
    pursued = {state.pending_kind, *state.queued_kinds}
    # Adding a request needs a sure clause; withdrawing one has the negation as evidence besides.
    added = set(turn.requests.sure().kinds) - pursued
    revising = bool(added) or bool(set(turn.requests.declined) & pursued)
    # "stop" alone cancels; "please also stop the newsletter" adds a request to the same verification.
    if not has_value and revising and len(turn.parse.text.split()) >= _REVISION_WORDS:
        return await revise_requests(turn, replies, services)
    if not has_value and _is_cancel(turn):
        return await cancel_request(turn, replies, services)
    top = turn.parse.intent.intent
    if not has_value and _confident(turn) and top.is_policy_question:
        # Answer the side question, then remind what we are waiting for.
        outcome = await answer_question(turn, replies, services)
        replies.say("chat/still_waiting.txt.j2", step=state.step.value)
        return Outcome(outcome.action, state, section=outcome.section, answer=outcome.answer)
    if state.step is Step.AWAIT_EMAIL:
        return await continue_with_email(turn, replies, services)
    return await continue_with_code(turn, replies, services)


async def respond(turn: Turn, replies: TurnReplies, services: ActionServices) -> Outcome:
    """Run the action for this turn and return what it did."""
    within = await _within_verification(turn, replies, services)
    if within is not None:
        return within
    parse = turn.parse
    top = parse.intent
    if turn.state.offered_handoff and top.intent in (Intent.AFFIRM, Intent.DENY) and _confident(turn):
        if top.intent is Intent.AFFIRM:
            return await hand_off(turn, replies, services, reason=HandoffReason.NOT_COVERED)
        replies.say("chat/handoff_declined.txt.j2")
        return Outcome(ActionKind.SMALLTALK, turn.state.evolve(offered_handoff=False))
    if turn.state.claim_reference and top.intent in (Intent.AFFIRM, Intent.DENY) and _confident(turn):
        if top.intent is Intent.AFFIRM:
            return await claim_ticket(turn, replies, services)
        replies.say("chat/request_cancelled.txt.j2")
        return Outcome(ActionKind.REQUEST, turn.state.evolve(claim_reference=None))
    if turn.requests.kinds and (turn.requests.questions or (not _requests_decide(turn) and _also_asks(turn))):
        return await _answer_then_request(turn, replies, services)
    if _requests_decide(turn):
        return await _request(turn, replies, services)
    if top.intent is Intent.OUT_OF_SCOPE or top.confidence < CONFIDENT:
        return await _uncertain(turn, replies, services)
    second = parse.ranking[1] if len(parse.ranking) > 1 else None
    if (
        second is not None
        and second.confidence >= PLAUSIBLE
        and top.confidence - second.confidence < AMBIGUOUS_MARGIN
        and not (top.intent.is_policy_question and second.intent.is_policy_question)
    ):
        return await _clarify(turn, replies, services, (top.intent, second.intent))
    return await ACTIONS[top.intent](turn, replies, services)


async def _uncertain(turn: Turn, replies: TurnReplies, services: ActionServices) -> Outcome:
    """Not sure what the person wants: a policy question is searched anyway; otherwise the policy may
    still answer it plainly; else ask which reading was meant, and after repeated failures hand off."""
    parse = turn.parse
    top = parse.intent.intent
    if top.is_policy_question:
        # The likeliest reading is a policy question: the semantic answerer decides, or says not covered.
        return await answer_question(turn, replies, services)
    if top is Intent.OUT_OF_SCOPE and parse.intent.confidence >= CONFIDENT and _is_question(parse.text):
        # Understood well enough: a question the policy has nothing on. Say so; offer the officer. (A
        # message taken for out of scope is never answered with a passage.)
        say_not_covered((), replies, services)
        state = turn.state.evolve(misunderstood=0, offered_handoff=True)
        return Outcome(ActionKind.NOT_COVERED, state, answer=NoAnswer(missing=()))
    if parse.intent.confidence < PLAUSIBLE:
        # Barely understood, not even as out of scope: the policy may still cover the question plainly.
        answer = await find_answer(parse, services)
        if isinstance(answer, PolicyAnswer) and answer.coverage is Coverage.FULL:
            quote_answer(answer, replies, services)
            state = turn.state.evolve(misunderstood=0)
            return Outcome(ActionKind.ANSWER, state, section=answer.section, answer=answer)
    candidates = tuple(
        s.intent
        for s in parse.ranking[:3]
        if s.intent is not Intent.OUT_OF_SCOPE and s.confidence >= PLAUSIBLE / 2
    )[:2]
    if top is not Intent.OUT_OF_SCOPE and candidates:
        if len(candidates) == 1:
            candidates += (Intent.HUMAN_HANDOFF,) if candidates[0] is not Intent.HUMAN_HANDOFF else ()
        return await _clarify(turn, replies, services, candidates)
    misunderstood = turn.state.misunderstood + 1
    if misunderstood >= MISUNDERSTOOD_LIMIT and services.desk is not None:
        return await hand_off(turn, replies, services, reason=HandoffReason.NOT_UNDERSTOOD)
    replies.say(
        "chat/fallback.txt.j2",
        terms=services.terms,
        quick_replies=(Intent.ASK_DATA_COLLECTED, Intent.REQUEST_ERASURE, Intent.HUMAN_HANDOFF),
    )
    return Outcome(ActionKind.FALLBACK, turn.state.evolve(misunderstood=misunderstood, offered_handoff=True))


async def _clarify(
    turn: Turn, replies: TurnReplies, services: ActionServices, options: tuple[Intent, ...]
) -> Outcome:
    """Ask which of two readings the person meant, with a button for each."""
    values = [o.value for o in options]
    replies.say("chat/clarify.txt.j2", options=values, quick_replies=tuple(values))
    return Outcome(ActionKind.CLARIFY, turn.state.evolve(misunderstood=turn.state.misunderstood + 1))
