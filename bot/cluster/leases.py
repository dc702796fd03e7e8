"""Elected singletons: a service that must run on exactly one worker (IMAP polling, Telegram long polling)
runs where its lease row is held.

The holder renews the lease every third of ``PRIVACYBOT_LEASE_SECONDS``; a lease lasts two thirds of it,
so one missed renewal is survived. The other workers try every sixth; when the holder dies its lease
expires and one of them takes it over, at most 5/6 of ``PRIVACYBOT_LEASE_SECONDS`` after its last renewal.

Fencing: a holder that cannot renew (the database is down, the connection refused, the attempt hangs,
anything) keeps the service only until a sixth of the period before its lease ends, then stops it, so it has
stopped before another worker can take the lease: two workers never run the service at once. Every
renewal attempt is bounded by that moment, and the competition survives any exception.
A worker stopping cleanly releases its leases, so another takes over at its next try. Times are the
workers' clocks (UTC; keep them in sync, as for any cluster).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.clock import Clock
from bot.store.db import dialect_insert
from bot.store.models import Lease

log = logging.getLogger(__name__)


def worker_id() -> str:
    """This process's name as a lease holder: host, pid and a random part (a restarted pid differs)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseBook:
    """The lease rows; each call is its own short transaction."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock) -> None:
        """Use ``sessionmaker``; ``clock`` decides what has expired."""
        self._sessions = sessionmaker
        self._clock = clock

    async def acquire(self, name: str, *, holder: str, ttl: timedelta) -> bool:
        """Take or renew lease ``name`` for ``ttl`` when it is free, expired or already ``holder``'s."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            statement = (
                dialect_insert(session, Lease)
                .values(name=name, holder=holder, expires_at=now + ttl)
                .on_conflict_do_update(
                    index_elements=["name"],
                    set_={"holder": holder, "expires_at": now + ttl},
                    where=or_(Lease.holder == holder, Lease.expires_at < now),
                )
                .returning(Lease.holder)
            )
            taken = (await session.execute(statement)).scalar_one_or_none()
        return bool(taken == holder)

    async def release(self, name: str, *, holder: str) -> None:
        """Give lease ``name`` up if ``holder`` has it."""
        async with self._sessions() as session, session.begin():
            await session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))

    async def holder(self, name: str) -> str | None:
        """Who holds lease ``name`` now (None when free or expired)."""
        async with self._sessions() as session:
            lease = await session.get(Lease, name)
        if lease is None or lease.expires_at <= self._clock.now():
            return None
        return lease.holder


class Service(Protocol):
    """What an elected singleton runs: started when the lease is won, stopped when it is lost."""

    async def start(self) -> None:
        """Start running (returns once it runs)."""
        ...

    async def stop(self) -> None:
        """Stop running; also called once at shutdown whether or not it ran."""
        ...


class Elected:
    """Runs ``service`` only while this worker holds lease ``name``."""

    def __init__(
        self,
        name: str,
        service: Service,
        *,
        leases: LeaseBook,
        holder: str,
        lease_seconds: float,
        clock: Clock,
    ) -> None:
        """Compete for ``name`` as ``holder``; see the module's docstring for the timing."""
        self.name = name
        self._service = service
        self._leases = leases
        self._holder = holder
        self._ttl = timedelta(seconds=lease_seconds * 2 / 3)
        self._renew_every = lease_seconds / 3
        self._fence_margin = timedelta(seconds=lease_seconds / 6)
        self._try_every = lease_seconds / 6
        self._clock = clock
        self._running = False
        self._held_until = clock.now()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """True while this worker runs the service."""
        return self._running

    async def start(self) -> None:
        """Try once now (a lone worker starts the service before this returns; a failure to start it
        propagates), then keep competing in the background."""
        self._stop.clear()
        await self._try(first=True)
        self._task = asyncio.create_task(self._compete(), name=f"lease-{self.name}")

    async def stop(self) -> None:
        """Stop competing, stop the service and release the lease."""
        self._stop.set()
        task, self._task = self._task, None
        if task is not None:
            await task
        was_running, self._running = self._running, False
        await self._service.stop()
        if was_running:
            await self._release_quietly()

    async def _compete(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._next_wait())
            if self._stop.is_set():
                break
            try:
                await self._try(first=False)
            except Exception:  # the competition survives anything; the fence below still holds
                log.exception("lease %s: a try failed", self.name)
                await self._fence_if_due()

    def _fence_at(self) -> datetime:
        """When the service must be stopped unless the lease was renewed: a sixth of the lease period
        before the lease ends, so that it has stopped before another worker may take the lease."""
        return self._held_until - self._fence_margin

    def _next_wait(self) -> float:
        if not self._running:
            return self._try_every
        until_fence = (self._fence_at() - self._clock.now()).total_seconds()
        return max(0.0, min(self._renew_every, until_fence))

    async def _try(self, *, first: bool) -> None:
        asked = self._clock.now()  # the lease ends ttl after this moment at the latest
        try:
            budget = self._try_every if not self._running else (self._fence_at() - asked).total_seconds()
            async with asyncio.timeout(max(budget, 0.05)):
                held = await self._leases.acquire(self.name, holder=self._holder, ttl=self._ttl)
        except Exception as exc:  # any failure (a refused connection, a timeout, a bug) is a missed renewal
            log.warning("lease %s: not renewed (%s)", self.name, type(exc).__name__)
            held = self._running and self._clock.now() < self._fence_at()  # keep it until the fence
        else:
            if held:
                self._held_until = asked + self._ttl
        if held and not self._running:
            log.info("lease %s won: starting", self.name)
            try:
                await self._service.start()
            except Exception:
                await self._release_quietly()
                if first:
                    raise
                log.exception("lease %s: the service failed to start; trying again later", self.name)
                return
            self._running = True
        elif not held and self._running:
            log.warning("lease %s lost or not renewed in time: stopping", self.name)
            await self._halt()

    async def _fence_if_due(self) -> None:
        if self._running and self._clock.now() >= self._fence_at():
            log.warning("lease %s not renewed in time: stopping", self.name)
            await self._halt()

    async def _halt(self) -> None:
        self._running = False
        await self._service.stop()

    async def _release_quietly(self) -> None:
        try:
            await self._leases.release(self.name, holder=self._holder)
        except Exception as exc:  # it expires by itself
            log.warning("lease %s not released: %s", self.name, type(exc).__name__)
