"""The running process (`privacybot run`): the one place that wires the store, the conversation, every
configured channel and the SLA sweeper together, runs them, and stops them cleanly on SIGINT/SIGTERM.

Logging is configured here and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Core, build_core, build_mail_sender
from bot.channels.base import HandleInbound
from bot.channels.web import WebChannel, build_web_channel
from bot.channels.web.handlers import SERVICES_KEY as WEB_SERVICES_KEY
from bot.channels.web.history import SqlWebHistory
from bot.cluster.health import WorkerHealth
from bot.cluster.leases import Elected, LeaseBook, worker_id
from bot.cluster.shared import SharedState, shared_state
from bot.conversation.engine import Conversation, TurnResult
from bot.deliveries import Channel, Deliveries, DeliveryBell
from bot.domain.channels import ChannelName
from bot.domain.clock import SystemClock
from bot.log_redaction import install_redaction
from bot.mail import MailSender
from bot.messages import InboundMessage
from bot.nlu_engine import RunningEngine, start_nlu_engine
from bot.officer.workspace import OfficerWorkspace, TelegramEndpoint, build_officer_workspace
from bot.policy_versions.archive import record_policy
from bot.settings import Settings, TelegramMode
from bot.sla.deadlines import SlaTerms
from bot.sla.retention import RetentionPurge
from bot.sla.sweeper import SlaSweeper
from bot.store.db import create_sessionmaker, engine_from_settings, open_pool
from bot.store.migrate import upgrade_database
from bot.store.outbox import DeliveryQueue
from bot.tickets.desk import sql_turn_store_factory
from responses import Responses

log = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(settings: Settings) -> None:
    """Log to stderr at ``settings.log_level``, every record through the one redacting filter; the wire
    loggers of the libraries stay at WARNING unless ``PRIVACYBOT_LOG_WIRE``."""
    install_redaction(level=settings.log_level, wire=settings.log_wire, fmt=LOG_FORMAT)


@dataclass
class RunningApplication:
    """Everything started by :func:`start_application`; :meth:`stop` undoes it in reverse."""

    core: Core
    engine: AsyncEngine
    conversation: Conversation
    web: WebChannel
    deliveries: Deliveries
    channels: tuple[Channel, ...]
    sweeper_task: asyncio.Task[None]
    sweeper_stop: asyncio.Event
    shared: SharedState
    health: WorkerHealth
    officer: OfficerWorkspace | None = None
    nlu: RunningEngine | None = None
    elected: dict[ChannelName, Elected] = field(default_factory=dict)

    async def stop(self) -> None:
        """Stop taking traffic, then the sweeper and the channels (the web server last, letting requests
        finish), then the shared state and the DB."""
        self.health.mark_stopping()
        self.sweeper_stop.set()
        if self.officer is not None:
            await self.officer.stop()
        for channel in reversed(self.channels):
            try:
                await self.elected.get(channel.name, channel).stop()
            except Exception:  # one channel failing to stop must not keep the others (and the DB) open
                log.exception("stopping the %s channel failed", channel.name.value)
        await self.sweeper_task
        if self.nlu is not None:
            await self.nlu.stop()
        await self.shared.stop()
        await self.engine.dispose()
        log.info("stopped")


def one_turn_at_a_time(handle: HandleInbound) -> HandleInbound:
    """``handle`` behind a FIFO lock. SQLite has a single writer: concurrent turns would otherwise wait in
    its busy handler (sleeping, unfairly) or fail with "database is locked" when a reader upgrades."""
    lock = asyncio.Lock()

    async def handle_in_turn(inbound: InboundMessage) -> TurnResult:
        async with lock:
            return await handle(inbound)

    return handle_in_turn


def _elected_channels(
    settings: Settings, channels: list[Channel], leases: LeaseBook, clock: SystemClock
) -> dict[ChannelName, Elected]:
    """The channels that read from one shared source run on one worker at a time: IMAP polling, and
    Telegram when it long-polls (a webhook is served by any worker)."""
    singletons = {ChannelName.EMAIL}
    if settings.telegram_mode is TelegramMode.POLLING:
        singletons.add(ChannelName.TELEGRAM)
    holder = worker_id()
    return {
        channel.name: Elected(
            f"{channel.name.value}-polling",
            channel,
            leases=leases,
            holder=holder,
            lease_seconds=settings.lease_seconds,
            clock=clock,
        )
        for channel in channels
        if channel.name in singletons
    }


def _optional_channels(
    settings: Settings,
    handle: HandleInbound,
    web: WebChannel,
    mail_sender: MailSender,
    responses: Responses,
    shared: SharedState,
    queue: DeliveryQueue,
) -> tuple[list[Channel], TelegramEndpoint | None]:
    """Telegram and email, each only when its settings are present (imported only then, aiogram too);
    the Telegram channel also comes back on its own, for the officer chat."""
    channels: list[Channel] = []
    telegram: TelegramEndpoint | None = None
    if settings.telegram_enabled:
        from bot.channels.telegram import build_telegram_channel

        telegram_channel = build_telegram_channel(settings, handle, web.app, responses=responses)
        channels.append(telegram_channel)
        telegram = telegram_channel
    if settings.email_enabled:
        from bot.channels.email import build_email_channel, reply_cap

        limiter = shared.limiter(reply_cap(settings))
        channels.append(
            build_email_channel(
                settings, handle, mail_sender, queue=queue, responses=responses, limiter=limiter
            )
        )
    return channels, telegram


async def start_application(settings: Settings) -> RunningApplication:
    """Build and start everything; returns once the web server listens and every channel runs."""
    core = await asyncio.to_thread(build_core, settings)
    engine = engine_from_settings(settings)
    await upgrade_database(engine)
    await open_pool(engine)
    sessionmaker = create_sessionmaker(engine)
    clock = SystemClock()
    await record_policy(sessionmaker, core.policy, clock=clock)  # the text answers quote, archived
    mail_sender = build_mail_sender(settings)
    nlu = await start_nlu_engine(settings, core.embedded)
    bell = DeliveryBell()  # rung by every commit that queued a delivery: the outbox sends it at once
    stores = sql_turn_store_factory(
        sessionmaker, clock, settings, core.responses, after_commit=bell.ring, current_policy=core.policy
    )
    conversation = core.conversation(stores, nlu=nlu.engine)
    handle: HandleInbound = conversation.handle
    if engine.dialect.name == "sqlite":
        handle = one_turn_at_a_time(handle)
    shared = shared_state(settings.redis_url)
    health = WorkerHealth(shared, engine)
    web = build_web_channel(
        settings, handle, SqlWebHistory(sessionmaker), core.responses, shared=shared, health=health
    )
    queue = DeliveryQueue(sessionmaker, clock=clock, after_commit=bell.ring)
    optional, telegram = _optional_channels(settings, handle, web, mail_sender, core.responses, shared, queue)
    channels: list[Channel] = [web, *optional]
    elected = _elected_channels(settings, channels, LeaseBook(sessionmaker, clock=clock), clock)
    deliveries = Deliveries()
    for channel in channels:
        deliveries.register(channel)  # an elected channel still delivers on every worker
    if not settings.email_enabled:  # answers to terminal conversations still go out by mail
        from bot.channels.email.outgoing import OutgoingMail

        deliveries.register(OutgoingMail(mail_sender, mail_from=settings.mail_from, responses=core.responses))
    officer = build_officer_workspace(  # the dashboard, API, officer chat, notifications and outbox
        settings,
        sessionmaker=sessionmaker,
        clock=clock,
        responses=core.responses,
        deliveries=deliveries,
        mail_sender=mail_sender,
        web_app=web.app,
        openapi_document=web.app[WEB_SERVICES_KEY].openapi,
        telegram=telegram,
        bell=bell,
    )
    sweeper = SlaSweeper(
        sessionmaker,
        notifier=officer.notifications,
        clock=clock,
        terms=SlaTerms.from_settings(settings),
        interval_seconds=settings.sweep_interval_seconds,
        retention=RetentionPurge(sessionmaker, clock=clock, policy_path=settings.policy),
    )
    started: list[Channel] = []
    try:
        await shared.start()  # subscribed before the first page can connect
        for channel in channels:  # the web server first: Telegram's webhook is served by it
            await elected.get(channel.name, channel).start()
            started.append(channel)
    except BaseException:
        for channel in reversed(started):
            await elected.get(channel.name, channel).stop()
        await shared.stop()
        await nlu.stop()
        await engine.dispose()
        raise
    sweeper_stop = asyncio.Event()
    sweeper_task = asyncio.create_task(sweeper.run(sweeper_stop), name="sla-sweeper")
    await officer.start()
    health.mark_started()
    log.info("running: %s", ", ".join(channel.name.value for channel in channels))
    return RunningApplication(
        core,
        engine,
        conversation,
        web,
        deliveries,
        tuple(channels),
        sweeper_task,
        sweeper_stop,
        shared,
        health,
        officer,
        nlu,
        elected,
    )


@contextlib.contextmanager
def _stop_on_signals(stop_event: asyncio.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop_event`` while inside the block."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop_event.set)
    try:
        yield
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


async def run_application(settings: Settings, *, stop_event: asyncio.Event | None = None) -> None:
    """Run until ``stop_event`` is set, or, when none is given, until SIGINT or SIGTERM; then stop cleanly."""
    if stop_event is None:
        stop_event = asyncio.Event()
        with _stop_on_signals(stop_event):
            await _run(settings, stop_event)
    else:
        await _run(settings, stop_event)


def _freeze_startup_objects() -> None:
    """Take what start-up built (NLU model, policy index, templates, modules: it lives as long as the process)
    out of the garbage collector's full passes, which otherwise paused the event loop 0.1-0.25 s each (a
    p99 spike for the requests waiting). Later garbage is collected as usual."""
    gc.collect()
    gc.freeze()


async def _run(settings: Settings, stop_event: asyncio.Event) -> None:
    running = await start_application(settings)
    _freeze_startup_objects()
    try:
        await stop_event.wait()
        log.info("stopping")
    finally:
        await running.stop()


def serve(settings: Settings) -> None:
    """The process entry point: configure logging and run until a signal."""
    configure_logging(settings)
    asyncio.run(run_application(settings))
