"""The terminal conversation behind `privacybot chat`."""

from __future__ import annotations

import asyncio
import getpass
import shutil
import textwrap

import click

from bot.app import build_core, build_mail_sender
from bot.channels.email.outgoing import OutgoingMail
from bot.conversation.engine import Conversation
from bot.deliveries import Deliveries
from bot.domain.channels import ChannelName
from bot.domain.clock import SystemClock
from bot.messages import InboundMessage, QuickReply
from bot.nlu_engine import running_nlu_engine
from bot.officer.outbox import DeliveryOutbox
from bot.policy_versions.archive import record_policy
from bot.settings import Settings
from bot.store.db import create_sessionmaker, engine_from_settings
from bot.store.migrate import upgrade_database
from bot.tickets.desk import sql_turn_store_factory

_QUIT = frozenset({"quit", "exit", ":q"})
_INDENT = "     "  # under "bot> "
_MIN_WIDTH = 30


def wrap_text(text: str, width: int, *, indent: str = "", hanging: str = "") -> list[str]:
    """``text`` broken at word boundaries to ``width`` columns (indents included), keeping its own line
    breaks; each paragraph starts with ``indent``, its continuation lines with ``indent + hanging``. A word
    longer than a line (an address, a link) is never split."""
    width = max(width, len(indent + hanging) + _MIN_WIDTH)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if not paragraph.strip():
            lines.append("")
            continue
        lines.extend(
            textwrap.wrap(
                paragraph,
                width=width,
                initial_indent=indent,
                subsequent_indent=indent + hanging,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return lines


def _width() -> int:
    return shutil.get_terminal_size((80, 24)).columns - 1


async def _loop(settings: Settings) -> None:
    core = await asyncio.to_thread(build_core, settings)
    engine = engine_from_settings(settings)
    try:
        await upgrade_database(engine)
        sessionmaker, clock = create_sessionmaker(engine), SystemClock()
        # The terminal's replies are printed; what a turn queues for email (a code mail) is sent by this
        # outbox right after the turn commits. Other channels' deliveries are left to the server.
        mail = OutgoingMail(
            build_mail_sender(settings), mail_from=settings.mail_from, responses=core.responses
        )
        outbox = DeliveryOutbox(
            sessionmaker,
            deliveries=Deliveries({ChannelName.EMAIL: mail}),
            clock=clock,
            channels=frozenset({ChannelName.EMAIL}),
        )
        await record_policy(sessionmaker, core.policy, clock=clock)
        stores = sql_turn_store_factory(
            sessionmaker,
            clock,
            settings,
            core.responses,
            after_commit=outbox.flush,
            current_policy=core.policy,
        )
        async with running_nlu_engine(settings, core.embedded) as nlu:
            await _converse(core.conversation(stores, nlu=nlu))
    finally:
        await engine.dispose()


async def _converse(conversation: Conversation) -> None:
    sender = f"terminal:{getpass.getuser()}"
    intro = 'ZynorLink privacy assistant. Type your message; "quit" or Ctrl-D to leave.'
    click.echo("\n".join(wrap_text(intro, _width())))
    choices: tuple[QuickReply, ...] = ()
    while True:
        try:
            line = await asyncio.to_thread(input, "you> ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if line.strip().lower() in _QUIT:
            return
        payload = None
        if line.strip().isdigit() and 0 < int(line.strip()) <= len(choices):
            line, payload = choices[int(line.strip()) - 1].label, choices[int(line.strip()) - 1].payload
        result = await conversation.handle(InboundMessage(ChannelName.CLI, sender, line, payload=payload))
        choices = ()
        for reply in result.replies:
            lines = wrap_text(reply.text, _width(), indent=_INDENT)
            click.echo(click.style("bot> ", fg="cyan") + "\n".join(lines).removeprefix(_INDENT))
            choices = reply.quick_replies or choices
        for number, choice in enumerate(choices, start=1):
            click.echo(
                "\n".join(wrap_text(f"[{number}] {choice.label}", _width(), indent=_INDENT, hanging="    "))
            )


def run_terminal_chat(settings: Settings) -> None:
    """Run the conversation until the person leaves, on the NLU engine the settings choose (a Rasa server
    runs as long as the chat). Tickets open in the same database `privacybot run` uses, so the officer sees
    them. Raises NluEngineFailed when that engine cannot start."""
    asyncio.run(_loop(settings))
