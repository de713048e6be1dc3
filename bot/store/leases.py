"""Leases: a job that one process at a time runs (the staff loop's rounds). Taking one is one
conditional statement, so two replicas never both hold it; a holder that stops renewing lets
it lapse and another takes it over."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.tables import Lease, dialect_insert, utc_now


class Leases:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def take(self, name: str, holder: str, lasts: timedelta) -> bool:
        """Take (or renew) the lease for `lasts`: True when `holder` holds it now."""
        now = utc_now()
        insert = dialect_insert(self._engine, Lease).values(
            name=name, holder=holder, expires_at=now + lasts
        )
        statement = insert.on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": holder, "expires_at": now + lasts},
            where=(Lease.holder == holder) | (Lease.expires_at < now),
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1
