"""Which index version the engine searches: the published one, swapped for a newer one between
requests, without a restart and without a failed request while the new one loads."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from alliance.index_format import IndexLayout, IndexServerUnreachableError, IndexUnavailableError
from bot.engine.retrieval import QUERY_CACHE, PublishedIndex, Retriever

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from alliance.settings import Settings

log = logging.getLogger(__name__)

RETRY_LOAD_S = 10.0  # an index version that failed to load is tried again after this


class IndexWatcher:
    """Holds the retriever of the loaded version and notices when ingest publishes another (the
    pointer file's modification time changes); the old version serves until the new one is in
    memory. Without a loaded version, `server_down` tells a Chroma server that may come back
    from an index that needs rebuilding."""

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever | None,
        embeddings: Embeddings,
        on_switch: Callable[[], None] = lambda: None,
    ) -> None:
        self._settings = settings
        self.retriever = retriever
        self.embeddings = embeddings
        self._on_switch = on_switch
        self._pointer = IndexLayout(settings.index_dir).pointer
        self._pointer_stamp = self._stamp() if retriever is not None else None
        self._failed: tuple[int | None, float] = (None, -RETRY_LOAD_S)
        self.server_down = False  # the last load failed because the Chroma server was away
        self._reload = asyncio.Lock()

    @property
    def index_version(self) -> str | None:
        return self.retriever.index.version if self.retriever is not None else None

    async def current(self) -> Retriever | None:
        """The retriever of the newest published version that loads, if any."""
        await self.refresh()
        return self.retriever

    async def refresh(self) -> None:
        """Switch to a newly published index version, if any; the old one serves meanwhile."""
        stamp = self._stamp()
        if stamp == self._pointer_stamp or self._failed_recently(stamp):
            return
        async with self._reload:
            if stamp == self._pointer_stamp or self._failed_recently(stamp):
                return
            try:
                index = await asyncio.to_thread(PublishedIndex.load, self._settings)
            except IndexUnavailableError as exc:
                log.warning("keeping index version %s: %s", self.index_version, exc)
                self._failed = (stamp, time.monotonic())
                self.server_down = isinstance(exc, IndexServerUnreachableError)
                return
            self._pointer_stamp, self.server_down = stamp, False
            if index.version != self.index_version:
                log.info("switched to index version %s", index.version)
                cache = self.retriever.query_cache if self.retriever else QUERY_CACHE
                self.retriever = Retriever(index, self.embeddings, cache)
                self._on_switch()  # and let the old version go

    def _stamp(self) -> int | None:
        try:
            return self._pointer.stat().st_mtime_ns
        except OSError:
            return None

    def _failed_recently(self, stamp: int | None) -> bool:
        """This very version failed to load less than RETRY_LOAD_S ago."""
        failed_stamp, failed_at = self._failed
        return stamp == failed_stamp and time.monotonic() - failed_at < RETRY_LOAD_S
