"""Greetings, thanks, goodbyes, "are you a bot?", and yes/no outside any question."""

from __future__ import annotations

from actions.context import ActionKind, ActionServices, Outcome, Turn, TurnReplies
from nlu.intents import Intent

_TEMPLATES = {
    Intent.GREET: "chat/greeting.txt.j2",
    Intent.THANK: "chat/thanks.txt.j2",
    Intent.GOODBYE: "chat/goodbye.txt.j2",
    Intent.BOT_CHALLENGE: "chat/bot_challenge.txt.j2",
    Intent.AFFIRM: "chat/affirm_without_question.txt.j2",
    Intent.DENY: "chat/deny_without_question.txt.j2",
    Intent.INFORM: "chat/inform_without_question.txt.j2",
}

STARTER_CHOICES: tuple[str, ...] = (
    Intent.ASK_DATA_COLLECTED,
    Intent.REQUEST_ACCESS,
    Intent.REQUEST_ERASURE,
    Intent.HUMAN_HANDOFF,
)


async def small_talk(turn: Turn, replies: TurnReplies, services: ActionServices) -> Outcome:
    """Reply in kind, and say what the assistant can do where that helps."""
    intent = turn.parse.intent.intent
    choices = STARTER_CHOICES if intent in (Intent.GREET, Intent.AFFIRM, Intent.INFORM) else ()
    replies.say(_TEMPLATES[intent], terms=services.terms, quick_replies=choices)
    return Outcome(ActionKind.SMALLTALK, turn.state.evolve(misunderstood=0, offered_handoff=False))
