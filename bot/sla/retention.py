"""The retention purge: what the policy promises to keep, and no longer.

Each run reads the policy file (``PRIVACYBOT_POLICY``) afresh and takes the "Support communications"
period from its "Retention Periods" list ("Retained for 2 years"): a changed policy changes the next
purge. Transcripts, one-time codes and the personal fields of closed tickets older than that go (a
conversation with an open ticket keeps its transcript); the audit trail stays. Each run writes an audit
entry (``retention_runs``). ``report`` says what a run would remove, removing nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.clock import Clock
from bot.store.db import begin_writing
from bot.store.retention import RetentionCounts, RetentionRepository
from policy.document import load_policy
from policy.retention import SUPPORT_COMMUNICATIONS, period_days

log = logging.getLogger(__name__)

RETENTION_ACTOR = "retention-purge"


@dataclass(frozen=True)
class RetentionReport:
    """A purge (done or planned): the period applied, its cutoff, the policy's words and the counts."""

    category: str
    days: int
    cutoff: datetime
    counts: RetentionCounts


class RetentionPurge:
    """Purges through ``sessionmaker``'s database by the periods of the policy at ``policy_path``."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock, policy_path: Path
    ) -> None:
        """Read the policy at every run, never once at start."""
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._policy_path = policy_path

    def _period(self) -> tuple[int, datetime]:
        days = period_days(load_policy(self._policy_path), SUPPORT_COMMUNICATIONS)
        return days, self._clock.now() - timedelta(days=days)

    async def report(self) -> RetentionReport:
        """What a purge now would remove. Raises RetentionNotStated when the policy names no period."""
        days, cutoff = self._period()
        async with self._sessionmaker() as session:
            counts = await RetentionRepository(session).expired(cutoff=cutoff)
        return RetentionReport(SUPPORT_COMMUNICATIONS, days, cutoff, counts)

    async def purge(self) -> RetentionReport:
        """Remove what is past the period, with its audit entry, in one transaction."""
        days, cutoff = self._period()
        async with self._sessionmaker() as session:
            await begin_writing(session)
            retention = RetentionRepository(session)
            counts = await retention.purge(cutoff=cutoff)
            retention.record_run(
                at=self._clock.now(),
                actor=RETENTION_ACTOR,
                periods={SUPPORT_COMMUNICATIONS: days, "cutoff": cutoff.isoformat()},
                removed=counts,
            )
            await session.commit()
        log.info("retention purge (%d days): %s", days, counts.as_dict())
        return RetentionReport(SUPPORT_COMMUNICATIONS, days, cutoff, counts)
