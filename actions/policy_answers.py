"""Answer a question by quoting the policy, or say plainly that the policy does not cover it."""

from __future__ import annotations

from actions.context import ActionKind, Outbox, Outcome, Services, Turn
from nlu.intents import Intent
from nlu.language import DEFAULT_LANGUAGE
from policy.answers import NoAnswer, PolicyAnswer


def quote_answer(answer: PolicyAnswer, outbox: Outbox, services: Services) -> None:
    """Queue the reply quoting ``answer``."""
    outbox.say(
        "chat/policy_answer.txt.j2",
        quote=answer.quote,
        section=answer.section_path,
        contact=answer.is_contact,
        officer_email=None if services.answerer.has_email_address else services.terms.officer_email,
    )


def say_not_covered(missing: tuple[str, ...], outbox: Outbox, services: Services) -> None:
    """Queue the reply that the policy does not answer this, offering the privacy officer."""
    outbox.say(
        "chat/not_covered.txt.j2",
        missing=missing,
        can_hand_off=services.desk is not None,
        officer_email=services.terms.officer_email,
        first_response_hours=services.terms.first_response_hours,
        quick_replies=(Intent.HUMAN_HANDOFF,),
    )


async def answer_question(turn: Turn, outbox: Outbox, services: Services) -> Outcome:
    """Quote the passage that answers the question, or say the policy does not cover it."""
    intent = turn.parse.intent.intent
    topic = intent.value if intent.is_policy_question else None
    result = services.answerer.answer(turn.parse.text, topic=topic)
    state = turn.state.evolve(misunderstood=0, offered_handoff=False)
    if isinstance(result, NoAnswer):
        # The words the policy never uses are only worth naming when they are in the policy's language.
        missing = result.missing if turn.lang is DEFAULT_LANGUAGE else ()
        say_not_covered(missing, outbox, services)
        return Outcome(ActionKind.ANSWER, state.evolve(offered_handoff=True))
    quote_answer(result, outbox, services)
    return Outcome(ActionKind.ANSWER, state, section=result.section)
