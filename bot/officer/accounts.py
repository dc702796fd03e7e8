"""Officers, their passwords (argon2id), browser sessions (opaque ids, stored hashed) and API tokens.

A password is hashed with argon2-cffi's defaults (argon2id) in a worker thread, never on the event loop.
Session ids and API tokens are 256-bit random strings: only their SHA-256 is stored, so a database leak
yields nothing to sign in with.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.clock import Clock
from bot.identity.codes import normalise_address
from bot.store.officer_models import Officer, OfficerApiToken, OfficerSession

SESSION_LIFETIME = timedelta(hours=12)
TOKEN_PREFIX = "pbo_"
MIN_PASSWORD_CHARS = 12
LAST_USED_PRECISION = timedelta(minutes=1)


class AccountError(Exception):
    """Base of the officer account errors."""


class OfficerExists(AccountError):
    """An officer with this address is already registered."""

    def __init__(self, email: str) -> None:
        super().__init__("an officer with this address exists")
        self.email = email


class UnknownOfficer(AccountError):
    """No active officer has this address."""

    def __init__(self, email: str) -> None:
        super().__init__("no such officer")
        self.email = email


class WeakPassword(AccountError):
    """The password is shorter than MIN_PASSWORD_CHARS."""

    def __init__(self, minimum: int) -> None:
        super().__init__(f"a password needs at least {minimum} characters")
        self.minimum = minimum


@dataclass(frozen=True)
class OfficerIdentity:
    """Who is acting: the audit trail names them by ``email``."""

    id: int
    email: str
    name: str


@dataclass(frozen=True)
class SignedIn:
    """A browser session: ``session_id`` goes into the cookie, ``csrf_token`` into every form."""

    officer: OfficerIdentity
    session_id: str
    csrf_token: str
    expires_at: datetime


def digest(secret: str) -> str:
    """The SHA-256 hex of a high-entropy secret (session id, API token)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _identity(officer: Officer) -> OfficerIdentity:
    return OfficerIdentity(officer.id, officer.email, officer.name)


class OfficerAccounts:
    """Officer accounts, sessions and tokens; each call is one transaction."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        hasher: PasswordHasher | None = None,
        session_lifetime: timedelta = SESSION_LIFETIME,
    ) -> None:
        """Use ``sessionmaker``'s database; ``hasher`` defaults to argon2id with argon2-cffi's parameters."""
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        self._lifetime = session_lifetime
        # Verifying against this keeps an unknown address as slow as a wrong password. Hashing it takes
        # most of a second, so it is made in a thread when first needed (or by warm_up), not at start-up.
        self._dummy_hash: str | None = None

    async def warm_up(self) -> None:
        """Prepare what sign-in needs (the stand-in hash) in a thread, so the first sign-in is not slower."""
        await self._stand_in_hash()

    async def _stand_in_hash(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(self._hasher.hash, secrets.token_urlsafe(16))
        return self._dummy_hash

    async def add(self, email: str, password: str, *, name: str | None = None) -> OfficerIdentity:
        """Register an officer. Raises OfficerExists, WeakPassword."""
        if len(password) < MIN_PASSWORD_CHARS:
            raise WeakPassword(MIN_PASSWORD_CHARS)
        email = normalise_address(email)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        officer = Officer(
            email=email,
            name=name or email,
            password_hash=password_hash,
            active=True,
            created_at=self._clock.now(),
        )
        try:
            async with self._sessionmaker() as session, session.begin():
                session.add(officer)
        except IntegrityError as exc:
            raise OfficerExists(email) from exc
        return _identity(officer)

    async def set_password(self, email: str, password: str) -> None:
        """Replace an officer's password and end their sessions. Raises UnknownOfficer, WeakPassword."""
        if len(password) < MIN_PASSWORD_CHARS:
            raise WeakPassword(MIN_PASSWORD_CHARS)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        async with self._sessionmaker() as session, session.begin():
            officer = await self._by_email(session, email)
            officer.password_hash = password_hash
            await session.execute(delete(OfficerSession).where(OfficerSession.officer_id == officer.id))

    async def sign_in(self, email: str, password: str) -> SignedIn | None:
        """A new session for the right address and password, else None (the same for both mistakes)."""
        async with self._sessionmaker() as session:
            officer = (
                await session.scalars(
                    select(Officer).where(Officer.email == email.strip().lower(), Officer.active.is_(True))
                )
            ).one_or_none()
        stored = officer.password_hash if officer else await self._stand_in_hash()
        if not await asyncio.to_thread(self._verify, stored, password) or officer is None:
            return None
        if self._hasher.check_needs_rehash(officer.password_hash):
            await self.set_password(officer.email, password)
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self._clock.now()
        async with self._sessionmaker() as session, session.begin():
            await session.execute(delete(OfficerSession).where(OfficerSession.expires_at <= now))
            session.add(
                OfficerSession(
                    id_hash=digest(session_id),
                    officer_id=officer.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + self._lifetime,
                )
            )
        return SignedIn(_identity(officer), session_id, csrf, now + self._lifetime)

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    async def session(self, session_id: str) -> SignedIn | None:
        """The live session with this id (from the cookie), else None."""
        now = self._clock.now()
        async with self._sessionmaker() as session:
            row = (
                await session.execute(
                    select(OfficerSession, Officer)
                    .join(Officer, Officer.id == OfficerSession.officer_id)
                    .where(
                        OfficerSession.id_hash == digest(session_id),
                        OfficerSession.expires_at > now,
                        Officer.active.is_(True),
                    )
                )
            ).one_or_none()
        if row is None:
            return None
        stored, officer = row
        return SignedIn(_identity(officer), session_id, stored.csrf_token, stored.expires_at)

    async def sign_out(self, session_id: str) -> None:
        """End the session with this id."""
        async with self._sessionmaker() as session, session.begin():
            await session.execute(delete(OfficerSession).where(OfficerSession.id_hash == digest(session_id)))

    async def issue_token(self, email: str) -> str:
        """A new API token for the officer (shown once; only its hash is kept). Raises UnknownOfficer."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with self._sessionmaker() as session, session.begin():
            officer = await self._by_email(session, email)
            session.add(
                OfficerApiToken(officer_id=officer.id, token_hash=digest(token), created_at=self._clock.now())
            )
        return token

    async def revoke_tokens(self, email: str) -> int:
        """Revoke every API token of the officer; returns how many. Raises UnknownOfficer."""
        now = self._clock.now()
        async with self._sessionmaker() as session, session.begin():
            officer = await self._by_email(session, email)
            rows = (
                await session.scalars(
                    select(OfficerApiToken).where(
                        OfficerApiToken.officer_id == officer.id, OfficerApiToken.revoked_at.is_(None)
                    )
                )
            ).all()
            for row in rows:
                row.revoked_at = now
            return len(rows)

    async def officer_for_token(self, token: str) -> OfficerIdentity | None:
        """The officer an API token belongs to (None for unknown, revoked, or an inactive officer).

        ``last_used_at`` is written at most once per LAST_USED_PRECISION: a read-only lookup otherwise, so
        busy API clients do not turn every request into a write (and, on SQLite, a wait for the lock)."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        now = self._clock.now()
        async with self._sessionmaker() as session:
            row = (
                await session.execute(
                    select(OfficerApiToken.id, OfficerApiToken.last_used_at, Officer)
                    .join(Officer, Officer.id == OfficerApiToken.officer_id)
                    .where(
                        OfficerApiToken.token_hash == digest(token),
                        OfficerApiToken.revoked_at.is_(None),
                        Officer.active.is_(True),
                    )
                )
            ).one_or_none()
            if row is None:
                return None
            token_id, last_used_at, officer = row
            if last_used_at is None or last_used_at <= now - LAST_USED_PRECISION:
                stale = or_(
                    OfficerApiToken.last_used_at.is_(None),
                    OfficerApiToken.last_used_at <= now - LAST_USED_PRECISION,
                )
                await session.execute(
                    update(OfficerApiToken)
                    .where(OfficerApiToken.id == token_id, stale)
                    .values(last_used_at=now)
                )
                await session.commit()
            return _identity(officer)

    async def list_officers(self) -> list[OfficerIdentity]:
        """Every active officer (for assignment)."""
        async with self._sessionmaker() as session:
            query = select(Officer).where(Officer.active.is_(True)).order_by(Officer.email)
            rows = await session.scalars(query)
            return [_identity(officer) for officer in rows.all()]

    async def _by_email(self, session: AsyncSession, email: str) -> Officer:
        officer = (
            await session.scalars(
                select(Officer).where(Officer.email == email.strip().lower(), Officer.active.is_(True))
            )
        ).one_or_none()
        if officer is None:
            raise UnknownOfficer(email)
        return officer
