"""Answer a question by quoting the policy, or say plainly that the policy does not cover it."""

from __future__ import annotations

import asyncio

from actions.context import ActionKind, ActionServices, AnswerKey, Outcome, Turn, TurnReplies
from nlu.intents import Intent
from nlu.language import DEFAULT_LANGUAGE, detect
from nlu.result import ParseResult
from policy.answers import NoAnswer, PolicyAnswer
from policy.bank import Coverage


def quote_answer(answer: PolicyAnswer, replies: TurnReplies, services: ActionServices) -> None:
    """Queue the reply quoting ``answer``'s passages, section by section (saying first, when the policy
    covers the question only partly, that it does not say exactly that)."""
    groups: dict[str, list[str]] = {}
    for passage in answer.passages:
        groups.setdefault(passage.section_path, []).append(passage.text)
    replies.say(
        "chat/policy_answer.txt.j2",
        quote=answer.quote,
        section=answer.section_path,
        groups=list(groups.items()),
        contact=answer.is_contact,
        quotes_contact=any(p.is_contact for p in answer.passages),
        partial=answer.coverage is Coverage.PARTIAL,
        officer_email=None if services.answerer.has_email_address else services.terms.officer_email,
    )


def say_not_covered(missing: tuple[str, ...], replies: TurnReplies, services: ActionServices) -> None:
    """Queue the reply that the policy does not answer this, offering the privacy officer."""
    replies.say(
        "chat/not_covered.txt.j2",
        missing=missing,
        can_hand_off=services.desk is not None,
        officer_email=services.terms.officer_email,
        first_response_hours=services.terms.first_response_hours,
        quick_replies=(Intent.HUMAN_HANDOFF,),
    )


async def find_answer(parse: ParseResult, services: ActionServices) -> PolicyAnswer | NoAnswer:
    """The policy's answer to the parsed message (an encoder call, if needed, in a worker thread); a
    question asked before is answered from ``services.answers``."""
    intent = parse.intent.intent
    topic = intent.value if intent.is_policy_question else None
    answerer = services.answerer
    if answerer.semantic is None:
        return answerer.answer(parse.text, topic=topic)
    guess = detect(parse.text)
    # Whether its words can be looked for in the policy's (English) text.
    in_policy_language = guess is None or guess.language is DEFAULT_LANGUAGE
    key: AnswerKey = (parse.text, topic, in_policy_language)
    known = services.answers.get(key) if services.answers is not None else None
    if known is not None:
        return known
    answer = await asyncio.to_thread(
        answerer.answer, parse.text, topic=topic, in_policy_language=in_policy_language
    )
    return services.answers.put(key, answer) if services.answers is not None else answer


async def answer_question(turn: Turn, replies: TurnReplies, services: ActionServices) -> Outcome:
    """Quote the passage that answers the question, or say the policy does not cover it."""
    result = await find_answer(turn.parse, services)
    state = turn.state.evolve(misunderstood=0, offered_handoff=False)
    if isinstance(result, NoAnswer):
        # The words the policy never uses are only worth naming when they are in the policy's language.
        missing = result.missing if turn.lang is DEFAULT_LANGUAGE else ()
        say_not_covered(missing, replies, services)
        return Outcome(ActionKind.NOT_COVERED, state.evolve(offered_handoff=True), answer=result)
    quote_answer(result, replies, services)
    return Outcome(ActionKind.ANSWER, state, section=result.section, answer=result)
