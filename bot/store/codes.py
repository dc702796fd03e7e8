"""Verification codes: the repository the identity module uses. Only hashes are stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import VerificationCode


class CodeRepository:
    """Reads and writes verification codes in one session; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        """Bind to ``session``."""
        self.session = session

    async def add(
        self,
        *,
        conversation_id: str,
        address: str,
        code_hash: str,
        salt: str,
        sent_at: datetime,
        expires_at: datetime,
    ) -> VerificationCode:
        """Store a freshly sent code."""
        row = VerificationCode(
            conversation_id=conversation_id,
            address=address,
            code_hash=code_hash,
            salt=salt,
            sent_at=sent_at,
            expires_at=expires_at,
            attempts=0,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def latest(self, *, conversation_id: str) -> VerificationCode | None:
        """The last code sent in the conversation."""
        rows = await self.session.scalars(
            select(VerificationCode)
            .where(VerificationCode.conversation_id == conversation_id)
            .order_by(VerificationCode.sent_at.desc(), VerificationCode.id.desc())
            .limit(1)
        )
        return rows.first()

    async def sent_since(
        self, *, since: datetime, conversation_id: str | None = None, address: str | None = None
    ) -> list[datetime]:
        """When codes went out since ``since`` to this conversation or this address, oldest first."""
        query = select(VerificationCode.sent_at).where(VerificationCode.sent_at > since)
        if conversation_id is not None:
            query = query.where(VerificationCode.conversation_id == conversation_id)
        if address is not None:
            query = query.where(func.lower(VerificationCode.address) == address.lower())
        return list((await self.session.scalars(query.order_by(VerificationCode.sent_at))).all())

    async def failures_since(
        self, *, since: datetime, conversation_id: str | None = None, address: str | None = None
    ) -> list[tuple[datetime, int]]:
        """(sent time, wrong tries) of the codes sent since ``since`` to this conversation or this address,
        oldest first. An accepted code's last attempt was right, so it counts one failure less."""
        wrong = VerificationCode.attempts - case((VerificationCode.verified_at.is_not(None), 1), else_=0)
        query = select(VerificationCode.sent_at, wrong).where(VerificationCode.sent_at > since)
        if conversation_id is not None:
            query = query.where(VerificationCode.conversation_id == conversation_id)
        if address is not None:
            query = query.where(func.lower(VerificationCode.address) == address.lower())
        rows = await self.session.execute(query.order_by(VerificationCode.sent_at))
        return [(at, int(count)) for at, count in rows.all()]

    async def take_attempt(self, *, code_id: int, max_attempts: int) -> int | None:
        """Count one attempt atomically; the attempt number, or None once ``max_attempts`` were used."""
        result = await self.session.execute(
            update(VerificationCode)
            .where(VerificationCode.id == code_id, VerificationCode.attempts < max_attempts)
            .values(attempts=VerificationCode.attempts + 1)
            .returning(VerificationCode.attempts)
        )
        return result.scalar_one_or_none()

    async def mark_verified(self, *, code_id: int, at: datetime) -> None:
        """The code was accepted: it cannot be used again."""
        await self.session.execute(
            update(VerificationCode).where(VerificationCode.id == code_id).values(verified_at=at)
        )

    async def verified_addresses(self, *, conversation_id: str) -> set[str]:
        """Addresses this conversation proved it controls by a code."""
        rows = await self.session.scalars(
            select(VerificationCode.address).where(
                VerificationCode.conversation_id == conversation_id, VerificationCode.verified_at.is_not(None)
            )
        )
        return set(rows.all())
