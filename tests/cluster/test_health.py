"""What /healthz and /readyz are built from: the database and Redis probed, the worker's start and stop."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cluster.health import Component, Readiness, WorkerHealth
from bot.cluster.shared import local_state, shared_state
from bot.store.db import create_engine
from tests.support.mail_servers import free_port


async def test_worker_is_ready_only_between_start_and_stop(engine: AsyncEngine, redis_url: str) -> None:
    """Database and Redis answer; ready after mark_started (bus subscribed), not after mark_stopping."""
    shared = shared_state(redis_url)
    health = WorkerHealth(shared, engine)
    await shared.start()
    try:
        report = await health.report()
        assert (report.database, report.redis) == (Component.OK, Component.OK)
        assert report.healthy and not report.ready
        health.mark_started()
        assert (await health.report()).ready
        health.mark_stopping()
        assert not (await health.report()).ready
    finally:
        await shared.stop()


async def test_unreachable_dependencies_are_reported_and_not_ready() -> None:
    """A database and a Redis nobody listens on: both "unreachable", the worker takes no traffic."""
    shared = shared_state(f"redis://127.0.0.1:{free_port()}/0")
    engine = create_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/none")
    health = WorkerHealth(shared, engine)
    health.mark_started()
    try:
        report = await health.report()
        assert (report.database, report.redis) == (Component.UNREACHABLE, Component.UNREACHABLE)
        assert not report.healthy and not report.ready
    finally:
        await engine.dispose()


async def test_single_process_reports_redis_not_configured(engine: AsyncEngine) -> None:
    """Without PRIVACYBOT_REDIS_URL, Redis is "not_configured" and does not keep the worker from traffic."""
    health = WorkerHealth(local_state(), engine)
    health.mark_started()
    report = await health.report()
    assert report.redis is Component.NOT_CONFIGURED and report.ready


async def test_redis_down_is_degraded_not_unready(engine: AsyncEngine) -> None:
    """The database answers and Redis does not: the worker still takes traffic, as "degraded", so a load
    balancer does not drain a whole cluster that could serve; before it started it is "not_ready"."""
    shared = shared_state(f"redis://127.0.0.1:{free_port()}/0")
    health = WorkerHealth(shared, engine)
    assert (await health.report()).readiness is Readiness.NOT_READY
    health.mark_started()
    health._probed = None  # the last probe is reused for a second; look again now
    report = await health.report()
    assert (report.database, report.redis) == (Component.OK, Component.UNREACHABLE)
    assert report.readiness is Readiness.DEGRADED and report.ready
