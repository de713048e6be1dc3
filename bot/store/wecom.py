"""WeCom conversations by their ids in the store: the WeCom user or group each stands for."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.tables import WeComConversation, dialect_insert


class WeComConversations:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def remember(self, conversation_id: int, name: str) -> None:
        statement = (
            dialect_insert(self._engine, WeComConversation)
            .values(id=conversation_id, name=name)
            .on_conflict_do_update(index_elements=["id"], set_={"name": name})
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def name(self, conversation_id: int) -> str | None:
        """The WeCom user id (or group chat id) stored as `conversation_id`."""
        statement = select(WeComConversation.name).where(WeComConversation.id == conversation_id)
        async with self._engine.connect() as connection:
            found = await connection.scalar(statement)
        return str(found) if found is not None else None
