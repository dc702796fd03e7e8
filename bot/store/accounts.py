"""The accounts directory: who holds an account at which address, imported from CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.db import dialect_insert
from bot.store.models import Account


@dataclass(frozen=True)
class AccountRow:
    """One directory entry to upsert; ``email`` is already normalised."""

    email: str
    name: str | None = None
    account_id: str | None = None


class AccountRepository:
    """Reads and upserts directory entries in one session; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        """Bind to ``session``."""
        self.session = session

    async def upsert(self, *, rows: list[AccountRow], now: datetime) -> None:
        """Insert new addresses and update the name and account id of known ones."""
        if not rows:
            return
        statement = dialect_insert(self.session, Account).values(
            [{"email": r.email, "name": r.name, "account_id": r.account_id, "imported_at": now} for r in rows]
        )
        statement = statement.on_conflict_do_update(
            index_elements=["email"],
            set_={
                "name": statement.excluded.name,
                "account_id": statement.excluded.account_id,
                "imported_at": statement.excluded.imported_at,
            },
        )
        await self.session.execute(statement)

    async def by_email(self, *, email: str) -> Account | None:
        """The entry for a normalised address."""
        return (await self.session.scalars(select(Account).where(Account.email == email))).one_or_none()

    async def count(self) -> int:
        """How many entries the directory holds."""
        return int(await self.session.scalar(select(func.count()).select_from(Account)) or 0)
