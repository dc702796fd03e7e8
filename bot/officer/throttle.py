"""Officer sign-in throttle, in the database: it survives a restart and every worker shares it.

Each try is counted BEFORE the password is checked, in one locked transaction per try (``SELECT … FOR
UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so forty concurrent wrong passwords cannot all be
checked: the first few pass, the rest are told to wait. A right password clears the count.

It slows down rather than locks out: after ``free_failures`` the next try waits 5 s, then 10, 20 … up to the
key's ``max_delay``. Per account the ceiling is short (an attacker elsewhere can only make the real officer
wait seconds, and gets a couple of guesses a minute); per client address it is long.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.clock import Clock
from bot.store.db import begin_writing, dialect_insert
from bot.store.officer_models import SignInAttempts


@dataclass(frozen=True)
class ThrottleRule:
    """How many failures are free, the longest wait, and after how long without failure all is forgotten."""

    free_failures: int
    max_delay: timedelta
    forget_after: timedelta = timedelta(hours=1)

    def delay(self, failures: int) -> timedelta:
        """The wait after ``failures`` failures: none while free, then doubling from 5 s to ``max_delay``."""
        if failures < self.free_failures:
            return timedelta(0)
        return min(timedelta(seconds=5 * 2 ** min(failures - self.free_failures, 20)), self.max_delay)


ACCOUNT_RULE = ThrottleRule(free_failures=5, max_delay=timedelta(seconds=30))
CLIENT_RULE = ThrottleRule(free_failures=10, max_delay=timedelta(minutes=15))


def _key_hash(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value.strip().lower()}".encode()).hexdigest()


class SignInThrottle:
    """Counts sign-in tries per account and per client address; one transaction per call."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        account_rule: ThrottleRule = ACCOUNT_RULE,
        client_rule: ThrottleRule = CLIENT_RULE,
    ) -> None:
        """Keep the counts in ``sessionmaker``'s database."""
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._rules = {"account": account_rule, "client": client_rule}

    async def claim(self, *, account: str, client: str) -> int:
        """Count one try for ``account`` from ``client``; 0 when it may go ahead, else the seconds to wait
        (the try is then not counted)."""
        keys = {_key_hash("account", account): "account", _key_hash("client", client): "client"}
        now = self._clock.now()
        async with self._sessionmaker() as session:
            await begin_writing(session)  # leaving without commit (a refused try) rolls back
            await session.execute(
                dialect_insert(session, SignInAttempts)
                .values(
                    [
                        {"key_hash": key, "failures": 0, "last_failure_at": now, "next_allowed_at": now}
                        for key in sorted(keys)
                    ]
                )
                .on_conflict_do_nothing(index_elements=["key_hash"])
            )
            rows = (
                await session.scalars(
                    select(SignInAttempts)
                    .where(SignInAttempts.key_hash.in_(list(keys)))
                    .order_by(SignInAttempts.key_hash)
                    .with_for_update()
                )
            ).all()
            wait = max((row.next_allowed_at - now for row in rows), default=timedelta(0))
            if wait > timedelta(0):
                return max(1, math.ceil(wait.total_seconds()))
            for row in rows:
                rule = self._rules[keys[row.key_hash]]
                if row.last_failure_at < now - rule.forget_after:
                    row.failures = 0
                row.failures += 1
                row.last_failure_at = now
                row.next_allowed_at = now + rule.delay(row.failures)
            await session.commit()
        return 0

    async def succeeded(self, *, account: str, client: str) -> None:
        """The password was right: forget the failures of the account and of the client."""
        keys = [_key_hash("account", account), _key_hash("client", client)]
        async with self._sessionmaker() as session, session.begin():
            await session.execute(delete(SignInAttempts).where(SignInAttempts.key_hash.in_(keys)))
