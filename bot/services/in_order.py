"""Work under one key runs in the order it came, work under different keys at once: one chat's
messages (a follow-up never overtakes its question), one request's frames."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable


class InOrder:
    __slots__ = ("_keys",)

    def __init__(self) -> None:
        # key -> (its lock, work holding or awaiting it); gone when none is left
        self._keys: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._keys.get(key, (asyncio.Lock(), 0))
        self._keys[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._keys[key]
            if users == 1:
                del self._keys[key]
            else:
                self._keys[key] = (lock, users - 1)
