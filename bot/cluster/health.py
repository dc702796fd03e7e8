"""What ``/healthz`` and ``/readyz`` report: the database and Redis answer, and the worker may take traffic.

A worker is ready once it has started (migrations applied, push bus subscribed, channels running) and while
its database and Redis answer; it stops being ready when it begins to stop, so a load balancer drains it
before its connections close.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cluster.shared import SharedState

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 2.0
# A load balancer asks every second or so; a busy worker answers from the last probe instead of queueing
# for a database connection behind the turns.
REPORT_SECONDS = 1.0


class Component(StrEnum):
    """The state of one dependency."""

    OK = "ok"
    UNREACHABLE = "unreachable"
    NOT_CONFIGURED = "not_configured"


class Readiness(StrEnum):
    """What ``/readyz`` tells a load balancer."""

    READY = "ready"
    DEGRADED = "degraded"  # Redis is down: still serving (pushes wait in the history, limits let through)
    NOT_READY = "not_ready"  # starting, stopping, or the database does not answer


@dataclass(frozen=True)
class HealthReport:
    """The worker's dependencies and whether it may take traffic (``bus_ready``: the push bus listens)."""

    database: Component
    redis: Component
    started: bool
    bus_ready: bool = True

    @property
    def readiness(self) -> Readiness:
        """Ready; degraded (only Redis is down: the worker still serves, so a cluster is not drained whole);
        or not ready."""
        if not self.started or self.database is Component.UNREACHABLE:
            return Readiness.NOT_READY
        if self.redis is Component.UNREACHABLE:
            return Readiness.DEGRADED
        return Readiness.READY if self.bus_ready else Readiness.NOT_READY

    @property
    def healthy(self) -> bool:
        """True when every configured dependency answers."""
        return Component.UNREACHABLE not in (self.database, self.redis)

    @property
    def ready(self) -> bool:
        """True when the worker may take traffic: ready or degraded."""
        return self.readiness is not Readiness.NOT_READY


class WorkerHealth:
    """Probes the database and Redis; the wiring point marks when the worker starts and stops."""

    def __init__(self, shared: SharedState, engine: AsyncEngine | None = None) -> None:
        """Probe ``engine`` (None: no database to report) and ``shared``'s Redis."""
        self._shared = shared
        self._engine = engine
        self._started = engine is None  # a bare web app (tests) takes traffic at once
        self._probed: tuple[float, Component, Component] | None = None

    def mark_started(self) -> None:
        """Everything runs: take traffic."""
        self._started = True

    def mark_stopping(self) -> None:
        """Shutting down: take no new traffic."""
        self._started = False

    async def report(self) -> HealthReport:
        """Probe both dependencies at once (each bounded by PROBE_TIMEOUT; the last probe is reused for
        REPORT_SECONDS)."""
        now = time.monotonic()
        if self._probed is not None and now - self._probed[0] < REPORT_SECONDS:
            _, database, redis = self._probed
        else:
            database, redis = await asyncio.gather(self._database(), self._redis())
            self._probed = (now, database, redis)
        return HealthReport(database, redis, self._started, self._shared.bus.ready)

    async def _database(self) -> Component:
        if self._engine is None:
            return Component.NOT_CONFIGURED
        try:
            async with asyncio.timeout(PROBE_TIMEOUT), self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("health: database unreachable (%s)", type(exc).__name__)
            return Component.UNREACHABLE
        return Component.OK

    async def _redis(self) -> Component:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                answered = await self._shared.redis_ok()
        except TimeoutError:
            answered = False
        if answered is None:
            return Component.NOT_CONFIGURED
        return Component.OK if answered else Component.UNREACHABLE
