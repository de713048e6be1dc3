"""Documents admins send the bot in Telegram, kept until their audience, language and title are
chosen (each a button press, which may reach another replica)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.records import Upload, record
from bot.store.tables import PendingUpload, utc_now

# An upload whose questions are not answered within this long is forgotten.
PENDING_FOR = timedelta(hours=1)


class Uploads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def pend(self, admin_id: int, file_id: str, name: str) -> int:
        async with self._engine.begin() as connection:
            await connection.execute(
                delete(PendingUpload).where(PendingUpload.sent_at < utc_now() - PENDING_FOR)
            )
            added = await connection.execute(
                insert(PendingUpload)
                .values(admin_id=admin_id, file_id=file_id, name=name, sent_at=utc_now())
                .returning(PendingUpload.id)
            )
            return int(added.scalar_one())

    def _mine(self, upload_id: int, admin_id: int) -> tuple[ColumnElement[bool], ...]:
        return (
            PendingUpload.id == upload_id,
            PendingUpload.admin_id == admin_id,
            PendingUpload.sent_at >= utc_now() - PENDING_FOR,
        )

    async def get(self, upload_id: int, admin_id: int) -> Upload | None:
        """The admin's own pending upload, if it has not expired."""
        statement = select(PendingUpload).where(*self._mine(upload_id, admin_id))
        async with self._engine.connect() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else record(Upload, row)

    async def choose(self, upload_id: int, admin_id: int, **values: str) -> bool:
        """Record an answer (audience or language); False when the upload is gone."""
        statement = update(PendingUpload).where(*self._mine(upload_id, admin_id)).values(**values)
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    async def take(self, upload_id: int, admin_id: int) -> Upload | None:
        """Remove the pending upload and return it: one press or title adds it, once."""
        statement = (
            delete(PendingUpload)
            .where(*self._mine(upload_id, admin_id))
            .returning(*PendingUpload.__table__.c)
        )
        async with self._engine.begin() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else record(Upload, row)
