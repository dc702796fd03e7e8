"""`privacybot ask` (one message, or JSON Lines in and out) and `privacybot chat` (a terminal chat)."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from typing import Any

import click

from bot.app import Core, build_core
from bot.conversation.engine import TurnResult
from bot.conversation.memory import MemoryTurnStore
from bot.domain.channels import ChannelName
from bot.messages import InboundMessage
from bot.settings import Settings


def _as_json(text: str, result: TurnResult) -> dict[str, Any]:
    parse, outcome = result.parse, result.outcome
    return {
        "text": text,
        "intent": parse.intent.intent.value if parse else None,
        "confidence": round(parse.intent.confidence, 4) if parse else None,
        "action": outcome.action.value if outcome else None,
        "kind": outcome.kind.value if outcome and outcome.kind else None,
        "section": outcome.section if outcome else None,
        "replies": [reply.text for reply in result.replies],
        "lang": result.lang.value,
    }


async def _ask_once(core: Core, text: str) -> TurnResult:
    """A fresh conversation with no store: nothing is kept and no ticket opens."""
    conversation = core.conversation(MemoryTurnStore())
    return await conversation.handle(InboundMessage(ChannelName.CLI, uuid.uuid4().hex, text))


async def _ask_lines(core: Core) -> None:
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
                "section": None,
                "replies": [],
                "lang": None,
                "error": f"line {number}: {exc}",
            }
            click.echo(json.dumps(error, ensure_ascii=False))
            continue
        result = await _ask_once(core, text)
        click.echo(json.dumps(_as_json(text, result), ensure_ascii=False))


@click.command()
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--jsonl", is_flag=True, help='Read JSON Lines {"text": ...} from stdin, one object out per line.'
)
def ask(text: str | None, as_json: bool, jsonl: bool) -> None:
    """Print the assistant's reply to TEXT. Opens no tickets."""
    core = build_core(Settings())
    if jsonl:
        asyncio.run(_ask_lines(core))
        return
    if text is None:
        raise click.UsageError("give TEXT, or --jsonl to read JSON Lines from stdin")
    result = asyncio.run(_ask_once(core, text))
    if as_json:
        click.echo(json.dumps(_as_json(text, result), ensure_ascii=False))
        return
    for reply in result.replies:
        click.echo(reply.text)
        for choice in reply.quick_replies:
            click.echo(f"  [{choice.label}]")


@click.command()
def chat() -> None:
    """Talk to the assistant in this terminal (Ctrl-D or "quit" to leave)."""
    from bot.cli.terminal import run_terminal_chat

    run_terminal_chat(Settings())
