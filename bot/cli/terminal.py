"""The terminal conversation behind `privacybot chat`."""

from __future__ import annotations

import asyncio
import getpass

import click

from bot.app import build_core, build_mail_sender
from bot.conversation.engine import Conversation
from bot.domain.channels import ChannelName
from bot.domain.clock import SystemClock
from bot.messages import InboundMessage
from bot.nlu_engine import running_nlu_engine
from bot.settings import Settings
from bot.store.db import create_sessionmaker, engine_from_settings
from bot.store.migrate import upgrade_database
from bot.tickets.desk import sql_turn_store_factory

_QUIT = frozenset({"quit", "exit", ":q"})


async def _loop(settings: Settings) -> None:
    core = await asyncio.to_thread(build_core, settings)
    engine = engine_from_settings(settings)
    try:
        await upgrade_database(engine)
        stores = sql_turn_store_factory(
            create_sessionmaker(engine), SystemClock(), build_mail_sender(settings), settings, core.responses
        )
        async with running_nlu_engine(settings, core.embedded) as nlu:
            await _converse(core.conversation(stores, nlu=nlu))
    finally:
        await engine.dispose()


async def _converse(conversation: Conversation) -> None:
    sender = f"terminal:{getpass.getuser()}"
    click.echo('ZynorLink privacy assistant. Type your message; "quit" or Ctrl-D to leave.')
    choices: tuple[str, ...] = ()
    while True:
        try:
            line = await asyncio.to_thread(input, "you> ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if line.strip().lower() in _QUIT:
            return
        if line.strip().isdigit() and 0 < int(line.strip()) <= len(choices):
            line = choices[int(line.strip()) - 1]
        result = await conversation.handle(InboundMessage(ChannelName.CLI, sender, line))
        choices = ()
        for reply in result.replies:
            click.echo(click.style("bot> ", fg="cyan") + reply.text.replace("\n", "\n     "))
            choices = reply.quick_replies or choices
        for number, choice in enumerate(choices, start=1):
            click.echo(f"     [{number}] {choice}")


def run_terminal_chat(settings: Settings) -> None:
    """Run the conversation until the person leaves, on the NLU engine the settings choose (a Rasa server
    runs as long as the chat). Tickets open in the same database `privacybot run` uses, so the officer sees
    them. Raises NluEngineFailed when that engine cannot start."""
    asyncio.run(_loop(settings))
