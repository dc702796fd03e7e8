"""Who has a page open, on any worker: so a message for a person whose web chat is open on another worker
counts as seen, and is not mailed to them as well.

:class:`LocalPresence` knows only this process's pages (one worker). :class:`RedisPresence` keeps, per
recipient, a Redis sorted set of the workers that hold one of their pages open, each scored with the time its
mark expires: a worker marks a recipient when their first page opens, renews its marks every third of
``ttl_seconds`` while the pages stay open, and removes the mark when the last one closes. A worker that dies
leaves marks that expire by themselves within ``ttl_seconds``. When Redis does not answer, a page is seen
only where it is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEY_PREFIX = "privacybot:db{db}:presence:"
TTL_SECONDS = 60.0


class Presence(Protocol):
    """Open pages by recipient, as every worker sees them."""

    async def opened(self, recipient: str) -> None:
        """A page of ``recipient`` opened on this worker."""
        ...

    async def closed(self, recipient: str) -> None:
        """A page of ``recipient`` on this worker closed."""
        ...

    async def present(self, recipient: str) -> bool:
        """True while a page of ``recipient`` is open on any worker."""
        ...

    async def start(self) -> None:
        """Begin renewing this worker's marks."""
        ...

    async def stop(self) -> None:
        """Stop renewing (the marks expire)."""
        ...


class LocalPresence:
    """One process: a recipient is present while one of their pages is open here."""

    def __init__(self) -> None:
        self._open: Counter[str] = Counter()

    async def opened(self, recipient: str) -> None:
        """Count the page."""
        self._open[recipient] += 1

    async def closed(self, recipient: str) -> None:
        """Uncount the page."""
        self._open[recipient] -= 1
        if self._open[recipient] <= 0:
            del self._open[recipient]

    async def present(self, recipient: str) -> bool:
        """True while a page of ``recipient`` is open in this process."""
        return self._open[recipient] > 0

    async def start(self) -> None:
        """Nothing to renew."""

    async def stop(self) -> None:
        """Nothing to renew."""


class RedisPresence(LocalPresence):
    """A cluster: this worker's pages are counted here and marked in Redis for the others."""

    def __init__(self, redis: Redis, *, ttl_seconds: float = TTL_SECONDS) -> None:
        """Mark in ``redis``; marks last ``ttl_seconds`` unless renewed."""
        super().__init__()
        self._redis = redis
        self._prefix = KEY_PREFIX.format(db=redis.connection_pool.connection_kwargs.get("db", 0))
        self._ttl = ttl_seconds
        self._worker = uuid.uuid4().hex
        self._task: asyncio.Task[None] | None = None

    async def opened(self, recipient: str) -> None:
        """Count the page; mark the recipient when it is their first page here."""
        await super().opened(recipient)
        if self._open[recipient] == 1:
            await self._mark((recipient,))

    async def closed(self, recipient: str) -> None:
        """Uncount the page; remove this worker's mark when it was their last page here."""
        await super().closed(recipient)
        if self._open[recipient] == 0:
            try:
                await self._redis.zrem(self._prefix + recipient, self._worker)
            except RedisError as exc:
                log.warning("presence mark not removed (it expires): %s", type(exc).__name__)

    async def present(self, recipient: str) -> bool:
        """True while a page of ``recipient`` is open here or an unexpired mark says so elsewhere."""
        if await super().present(recipient):
            return True
        try:
            return bool(await self._redis.zcount(self._prefix + recipient, time.time(), "+inf"))
        except RedisError as exc:
            log.warning("presence unknown on other workers: %s", type(exc).__name__)
            return False

    async def _mark(self, recipients: tuple[str, ...]) -> None:
        now = time.time()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for recipient in recipients:
                    key = self._prefix + recipient
                    pipe.zremrangebyscore(key, "-inf", now)
                    pipe.zadd(key, {self._worker: now + self._ttl})
                    pipe.expire(key, int(self._ttl) + 1)
                await pipe.execute()
        except RedisError as exc:
            log.warning("presence not marked: %s", type(exc).__name__)

    async def start(self) -> None:
        """Renew this worker's marks every third of the TTL."""
        self._task = asyncio.create_task(self._renew(), name="presence-renewal")

    async def stop(self) -> None:
        """Stop renewing."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self._ttl / 3)
            if self._open:
                await self._mark(tuple(self._open))
