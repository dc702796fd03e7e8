"""Push fan-out: a message published by any worker reaches the subscribers of every worker.

Used for what a worker must push to a connection that may be open on another worker (an officer's reply to
a web chat page; a new event for the officers' live inboxes). :class:`LocalBus` calls the subscribers of
this process; :class:`RedisBus` publishes on a Redis channel per topic and every worker's listener calls its
own subscribers. A push is best effort: what it carries is stored first, and a page that missed it reads it
from its history.

Redis pub/sub channels are not per database, so a channel's name carries the URL's database number: two
deployments on one Redis server (databases 0 and 1) never hear each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "privacybot:db{db}:push:"
_RETRY_SECONDS = 1.0


class Topic(StrEnum):
    """What a push is about."""

    WEB_CHAT = "web-chat"
    OFFICER_INBOX = "officer-inbox"


Subscriber = Callable[[dict[str, Any]], Awaitable[None]]


class PushBus(Protocol):
    """Publish to a topic; subscribers (registered before :meth:`start`) get every payload of it."""

    def subscribe(self, topic: Topic, subscriber: Subscriber) -> None:
        """Call ``subscriber`` with every payload published on ``topic``, by any worker."""
        ...

    async def publish(self, topic: Topic, payload: dict[str, Any]) -> None:
        """Send ``payload`` (JSON-serialisable) to every subscriber of ``topic``."""
        ...

    async def start(self) -> None:
        """Begin receiving; returns once subscribed."""
        ...

    async def stop(self) -> None:
        """Stop receiving."""
        ...

    @property
    def ready(self) -> bool:
        """True while pushes published anywhere reach this worker's subscribers."""
        ...


class _Subscribers:
    def __init__(self) -> None:
        self.by_topic: defaultdict[Topic, list[Subscriber]] = defaultdict(list)

    async def call(self, topic: Topic, payload: dict[str, Any]) -> None:
        for subscriber in tuple(self.by_topic.get(topic, ())):
            try:
                await subscriber(payload)
            except Exception:  # one failing subscriber must not keep the others from their push
                log.exception("push subscriber of %s failed", topic.value)


class LocalBus:
    """The bus of a single process: publishing calls this process's subscribers."""

    def __init__(self) -> None:
        self._subscribers = _Subscribers()

    def subscribe(self, topic: Topic, subscriber: Subscriber) -> None:
        """Call ``subscriber`` with every payload published on ``topic``."""
        self._subscribers.by_topic[topic].append(subscriber)

    async def publish(self, topic: Topic, payload: dict[str, Any]) -> None:
        """Call the subscribers of ``topic`` now."""
        await self._subscribers.call(topic, payload)

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    @property
    def ready(self) -> bool:
        """Always: there is no other worker to hear from."""
        return True


class RedisBus:
    """The bus of a cluster: Redis pub/sub, one channel per topic, one listener task per worker."""

    def __init__(self, redis: Redis) -> None:
        """Publish and listen on ``redis`` (the listener takes a connection of its own)."""
        self._redis = redis
        self._prefix = CHANNEL_PREFIX.format(db=redis.connection_pool.connection_kwargs.get("db", 0))
        self._subscribers = _Subscribers()
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    def subscribe(self, topic: Topic, subscriber: Subscriber) -> None:
        """Call ``subscriber`` with every payload published on ``topic`` by any worker."""
        if self._task is not None:
            raise RuntimeError("subscribe before the bus starts")
        self._subscribers.by_topic[topic].append(subscriber)

    async def publish(self, topic: Topic, payload: dict[str, Any]) -> None:
        """Publish ``payload`` on the topic's channel; a Redis failure is logged (the push is lost, the
        message it carries is stored)."""
        try:
            await self._redis.publish(self._prefix + topic.value, json.dumps(payload))
        except RedisError as exc:
            log.warning("push on %s not published: %s", topic.value, type(exc).__name__)

    async def start(self) -> None:
        """Subscribe to every topic that has subscribers; returns once Redis confirmed it."""
        self._task = asyncio.create_task(self._listen(), name="push-bus")
        waiting = asyncio.create_task(self._subscribed.wait())
        await asyncio.wait((waiting, self._task), return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if self._task.done():
            self._task.result()

    async def stop(self) -> None:
        """Stop listening."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._subscribed.clear()

    @property
    def ready(self) -> bool:
        """True while the listener is subscribed."""
        return self._subscribed.is_set()

    async def _listen(self) -> None:
        channels = {self._prefix + topic.value: topic for topic in self._subscribers.by_topic}
        if not channels:
            self._subscribed.set()
            return
        first = True
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*channels)
                self._subscribed.set()
                async for message in pubsub.listen():
                    topic = channels.get(_text(message.get("channel")))
                    if topic is not None and message.get("type") == "message":
                        await self._subscribers.call(topic, json.loads(message["data"]))
            except RedisError as exc:
                if first and not self._subscribed.is_set():
                    raise
                log.warning("push bus lost Redis (%s); resubscribing", type(exc).__name__)
            finally:
                self._subscribed.clear()
                with contextlib.suppress(RedisError):
                    await pubsub.aclose()
            first = False
            await asyncio.sleep(_RETRY_SECONDS)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
