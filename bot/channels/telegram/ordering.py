"""Updates of different chats are handled at once; those of one chat in the order they came, so
a follow-up never overtakes its question, nor a changed vote the first one. Each handled update
is logged by id: the mark that everything it caused (replies, relays, errors) is done."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import SimpleUpdateProcessor

from bot.services.in_order import InOrder

log = logging.getLogger(__name__)


class PerChatInOrder(SimpleUpdateProcessor):
    __slots__ = ("_chats",)

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._chats = InOrder()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
        else:
            async with self._chats.turn(chat.id):
                await coroutine
        if isinstance(update, Update):
            log.info("update %s handled", update.update_id)
