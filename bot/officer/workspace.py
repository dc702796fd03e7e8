"""Building the officer workspace from the settings: called by the wiring point (bot/runner.py) with what it
already built — the database, the deliveries, the web Application and, when Telegram runs, the channel's
bot and dispatcher. The officer's Telegram handlers live in the Telegram channel
(`bot/channels/telegram/officer_router.py`) and are imported only when Telegram runs, so aiogram is too."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.web.handlers import SERVICES_KEY as WEB_SERVICES_KEY
from bot.channels.web.handlers import WebServices
from bot.cluster.bus import Topic
from bot.cluster.leases import Elected, LeaseBook, worker_id
from bot.deliveries import Deliveries, DeliveryBell
from bot.domain.channels import ChannelName
from bot.domain.clock import Clock
from bot.http.clients import ClientAddresses, parse_networks
from bot.identity.directory import AccountDirectory
from bot.mail import MailSender
from bot.officer.accounts import OfficerAccounts
from bot.officer.alerts import AlertFeed
from bot.officer.fallback import EmailFallback
from bot.officer.inbox import INBOX_TOPIC, InboxFeed
from bot.officer.notifications import OfficerChat, OfficerNotifications
from bot.officer.outbox import DeliveryOutbox
from bot.officer.throttle import SignInThrottle
from bot.officer.web import OfficerWebServices, add_officer_paths, mount_officer
from bot.settings import Settings
from bot.sla.deadlines import SlaTerms
from bot.tickets.service import TicketService
from responses import Responses

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher

log = logging.getLogger(__name__)


class TelegramEndpoint(Protocol):
    """What the officer chat needs of the running Telegram channel: its bot and its dispatcher."""

    bot: Bot
    dispatcher: Dispatcher


@dataclass
class OfficerWorkspace:
    """The built workspace; :meth:`start` runs the outbox retry and the alert feed in the background."""

    desk: TicketService
    accounts: OfficerAccounts
    notifications: OfficerNotifications
    outbox: DeliveryOutbox
    feed: AlertFeed
    inbox: Elected | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        """Start retrying undelivered messages and telling the officer about new events."""
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self.outbox.run(self._stop), name="officer-outbox"),
            asyncio.create_task(self.feed.run(self._stop), name="officer-alerts"),
            asyncio.create_task(self.accounts.warm_up(), name="officer-sign-in-warm-up"),
        ]
        if self.inbox is not None:
            await self.inbox.start()  # on one worker: only what happens from now on is pushed

    async def stop(self) -> None:
        """Stop the background tasks (each finishes the item in hand)."""
        self._stop.set()
        if self.inbox is not None:
            await self.inbox.stop()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []


def _live_inbox(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    web: WebServices,
) -> Elected:
    """The live inbox feed, run by one worker, publishing on the push bus; every worker pushes what it
    hears to the officers' live inboxes open on it."""
    bus = web.shared.bus

    async def publish(event: dict[str, Any]) -> None:
        await bus.publish(Topic.OFFICER_INBOX, event)

    feed = InboxFeed(sessionmaker, publish=publish)

    async def push(event: dict[str, Any]) -> None:
        feed.heard(event)
        await web.hub.publish(INBOX_TOPIC, event)

    bus.subscribe(Topic.OFFICER_INBOX, push)
    return Elected(
        "officer-inbox",
        feed,
        leases=LeaseBook(sessionmaker, clock=clock),
        holder=worker_id(),
        lease_seconds=settings.lease_seconds,
        clock=clock,
    )


def build_officer_workspace(
    settings: Settings,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    responses: Responses,
    deliveries: Deliveries,
    mail_sender: MailSender,
    web_app: web.Application | None = None,
    openapi_document: dict[str, Any] | None = None,
    telegram: TelegramEndpoint | None = None,
    alert_interval_seconds: float = 3.0,
    bell: DeliveryBell | None = None,
) -> OfficerWorkspace:
    """Build the desk, accounts, notifications (email + the officer Telegram chat), the outbox (which
    drains at once when ``bell`` rings: the turns ring it) and the alert feed; mount the dashboard and API
    on ``web_app``, add the API to ``openapi_document`` and handle the officer chat on ``telegram``'s
    dispatcher (all before they start)."""
    fallback = EmailFallback(
        sessionmaker,
        mail=mail_sender,
        responses=responses,
        mail_from=settings.mail_from,
        clock=clock,
        delay=timedelta(minutes=settings.offline_delivery_minutes),
        batch_window=timedelta(seconds=settings.fallback_batch_seconds),
    )
    outbox = DeliveryOutbox(
        sessionmaker,
        deliveries=deliveries,
        clock=clock,
        fallback=fallback,
        bell=bell,
        lease=timedelta(seconds=settings.delivery_lease_seconds),
    )
    desk = TicketService(
        sessionmaker,
        clock=clock,
        terms=SlaTerms.from_settings(settings),
        responses=responses,
        outbox=outbox,
        self_storing_channels=frozenset({ChannelName.WEB}),
    )
    accounts = OfficerAccounts(sessionmaker, clock=clock)
    chat: OfficerChat | None = None
    chat_id = settings.officer_telegram_chat_id
    if telegram is not None and chat_id is not None:
        from bot.channels.telegram.officer_router import AiogramOfficerChat, register_officer_chat

        chat = AiogramOfficerChat(telegram.bot, chat_id)
        register_officer_chat(telegram.dispatcher, chat_id=chat_id, desk=desk, responses=responses)
    elif chat_id is not None:
        log.warning("PRIVACYBOT_OFFICER_TELEGRAM_CHAT_ID is set but Telegram is not running")
    notifications = OfficerNotifications(
        responses,
        mail=mail_sender,
        officer_email=settings.officer_email,
        mail_from=settings.mail_from,
        chat=chat,
        public_url=settings.public_url,
    )
    feed = AlertFeed(sessionmaker, sink=notifications, clock=clock, interval_seconds=alert_interval_seconds)
    inbox: Elected | None = None
    if web_app is not None:
        secure = bool(settings.public_url and settings.public_url.startswith("https://"))
        directory = AccountDirectory(sessionmaker)
        web_services = web_app[WEB_SERVICES_KEY] if WEB_SERVICES_KEY in web_app else None
        hub = web_services.hub if web_services is not None else None
        if web_services is not None:
            inbox = _live_inbox(settings, sessionmaker, clock, web_services)
        officer_web = OfficerWebServices(
            desk,
            accounts,
            responses,
            SignInThrottle(sessionmaker, clock=clock),
            directory,
            secure_cookies=secure,
            clients=ClientAddresses(parse_networks(settings.trusted_proxies)),
            live=hub,
        )
        mount_officer(web_app, officer_web)
    if openapi_document is not None:
        add_officer_paths(openapi_document)
    return OfficerWorkspace(desk, accounts, notifications, outbox, feed, inbox)
