"""`privacybot ask` (one message, or JSON Lines in and out) and `privacybot chat` (a terminal chat)."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import click

from bot.app import Core, build_core
from bot.conversation.engine import TurnResult
from bot.conversation.memory import MemoryTurnStore
from bot.domain.channels import ChannelName
from bot.messages import POLICY_VERSION_META, InboundMessage
from bot.nlu_engine import NluEngineFailed, running_nlu_engine
from bot.settings import NluEngineName, Settings
from nlu.result import NluEngine
from policy.answers import NoAnswer, PolicyAnswer
from policy.bank import Coverage

engine_option = click.option(
    "--engine",
    type=click.Choice([name.value for name in NluEngineName]),
    default=None,
    help="The NLU engine (default: PRIVACYBOT_NLU_ENGINE, else embedded). "
    "rasa trains if the data changed and starts a Rasa server for the command's length.",
)


def settings_for(engine: str | None) -> Settings:
    """The settings from the environment, with the engine the command line chose (if it chose one)."""
    return Settings(nlu_engine=NluEngineName(engine)) if engine else Settings()


def run_with_engine(core: Core, work: Callable[[NluEngine], Coroutine[Any, Any, None]]) -> None:
    """Run ``work`` on the engine the settings chose, started for the length of the command; an engine
    that cannot start is one clear error line."""

    async def main() -> None:
        async with running_nlu_engine(core.settings, core.embedded) as nlu:
            await work(nlu)

    try:
        asyncio.run(main())
    except NluEngineFailed as exc:
        raise click.ClickException(str(exc)) from exc


def _coverage(answer: PolicyAnswer | NoAnswer | None) -> tuple[str | None, list[dict[str, str]]]:
    """The ``coverage`` and ``passages`` keys: how much of the question the policy covers, and what the
    reply quotes (neither, when the reply answered no policy question)."""
    if isinstance(answer, NoAnswer):
        return Coverage.NONE.value, []
    if isinstance(answer, PolicyAnswer):
        return answer.coverage.value, [{"section": p.section_path, "text": p.text} for p in answer.passages]
    return None, []


def _as_json(text: str, result: TurnResult) -> dict[str, Any]:
    parse, outcome = result.parse, result.outcome
    coverage, passages = _coverage(outcome.answer if outcome else None)
    return {
        "text": text,
        "intent": parse.intent.intent.value if parse else None,
        "confidence": round(parse.intent.confidence, 4) if parse else None,
        "action": outcome.action.value if outcome else None,
        "kind": outcome.kind.value if outcome and outcome.kind else None,
        "kinds": [kind.value for kind in outcome.kinds] if outcome else [],
        "section": outcome.section if outcome else None,
        "replies": [reply.text for reply in result.replies],
        "lang": result.lang.value,
        "coverage": coverage,
        "passages": passages,
        # The id of the policy version the reply answered from (`privacybot policy versions`), if it did.
        "policy_version": next(
            (r.meta[POLICY_VERSION_META] for r in result.replies if POLICY_VERSION_META in r.meta), None
        ),
    }


async def _ask_once(core: Core, nlu: NluEngine, text: str) -> TurnResult:
    """A fresh conversation with no store: nothing is kept and no ticket opens."""
    conversation = core.conversation(MemoryTurnStore(), nlu=nlu)
    return await conversation.handle(InboundMessage(ChannelName.CLI, uuid.uuid4().hex, text))


async def _ask_lines(core: Core, nlu: NluEngine) -> None:
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            payload = json.loads(line)
            text = payload["text"]
            if not isinstance(text, str):
                raise TypeError("text must be a string")
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            error: dict[str, object] = {
                "text": None,
                "intent": None,
                "confidence": None,
                "action": None,
                "kind": None,
                "kinds": [],
                "section": None,
                "replies": [],
                "lang": None,
                "coverage": None,
                "passages": [],
                "policy_version": None,
                "error": f"line {number}: {exc}",
            }
            click.echo(json.dumps(error, ensure_ascii=False))
            continue
        result = await _ask_once(core, nlu, text)
        click.echo(json.dumps(_as_json(text, result), ensure_ascii=False))


@click.command()
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--jsonl", is_flag=True, help='Read JSON Lines {"text": ...} from stdin, one object out per line.'
)
@engine_option
def ask(text: str | None, as_json: bool, jsonl: bool, engine: str | None) -> None:
    """Print the assistant's reply to TEXT. Opens no tickets."""
    if text is None and not jsonl:
        raise click.UsageError("give TEXT, or --jsonl to read JSON Lines from stdin")
    core = build_core(settings_for(engine))
    if jsonl:
        run_with_engine(core, lambda nlu: _ask_lines(core, nlu))
        return
    assert text is not None

    async def answer(nlu: NluEngine) -> None:
        _print_result(text, await _ask_once(core, nlu, text), as_json)

    run_with_engine(core, answer)


def _print_result(text: str, result: TurnResult, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(_as_json(text, result), ensure_ascii=False))
        return
    for reply in result.replies:
        click.echo(reply.text)
        for choice in reply.quick_replies:
            click.echo(f"  [{choice.label}]")


@click.command()
@engine_option
def chat(engine: str | None) -> None:
    """Talk to the assistant in this terminal (Ctrl-D or "quit" to leave)."""
    from bot.cli.terminal import run_terminal_chat

    try:
        run_terminal_chat(settings_for(engine))
    except NluEngineFailed as exc:
        raise click.ClickException(str(exc)) from exc
