"""Wrong guesses (invite codes, passwords, second-factor codes) counted per key within a window:
`invite:<user>`, `account:<name>`, `address:<ip>`, `device:<browser>`. One upsert per guess, so
replicas sharing the database share the count."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.tables import WrongGuesses, dialect_insert, utc_now


class Guesses:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def count(self, key: str, window: timedelta) -> int:
        """Wrong guesses counted against `key` in its current window."""
        statement = select(WrongGuesses.failures).where(
            WrongGuesses.key == key, WrongGuesses.window_start >= utc_now() - window
        )
        async with self._engine.connect() as connection:
            return int(await connection.scalar(statement) or 0)

    async def record(self, key: str, window: timedelta) -> int:
        """Count one wrong guess against `key` (a new window when the last one ended); the count
        after it."""
        now = utc_now()
        table = WrongGuesses.__table__
        expired = table.c.window_start < now - window
        statement = (
            dialect_insert(self._engine, WrongGuesses)
            .values(key=key, failures=1, window_start=now)
            .on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "failures": case((expired, 1), else_=table.c.failures + 1),
                    "window_start": case((expired, now), else_=table.c.window_start),
                },
            )
        )
        async with self._engine.begin() as connection:
            result = await connection.execute(statement.returning(table.c.failures))
            return int(result.scalar_one())

    async def forgive(self, *keys: str) -> None:
        statement = delete(WrongGuesses).where(WrongGuesses.key.in_(keys))
        async with self._engine.begin() as connection:
            await connection.execute(statement)
