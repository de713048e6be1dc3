"""Re-ingest from inside the running bot: off the event loop, one run at a time, with the
model the engine already holds; the engine switches to the new version on its next question."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from alliance.errors import AllianceError
from ingest.pipeline import IngestBusyError, Summary, run_ingest

if TYPE_CHECKING:
    from alliance.settings import Settings
    from bot.engine.answering import Engine

log = logging.getLogger(__name__)

# Told (stage, done, total) from the ingest thread, on the event loop.
Progress = Callable[[str, int, int], Coroutine[Any, Any, None]]


class ReindexError(AllianceError):
    """Nothing was published; the message says why."""


class ReindexBusyError(ReindexError):
    """A re-index is already running, in this process or another on the same index folder."""

    def __init__(self) -> None:
        super().__init__("a re-index is already running")


class Reindexer:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self._settings = settings
        self._engine = engine
        self._running = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._running.locked()

    async def run(self, progress: Progress) -> Summary:
        """Ingest the knowledge folder now; ReindexBusyError when a run is under way."""
        if self._running.locked():
            raise ReindexBusyError
        async with self._running:
            loop = asyncio.get_running_loop()
            pending: set[concurrent.futures.Future[None]] = set()

            def listener(stage: str, done: int, total: int) -> None:
                told = asyncio.run_coroutine_threadsafe(progress(stage, done, total), loop)
                pending.add(told)

            embeddings = self._engine.embeddings
            try:
                summary = await asyncio.to_thread(
                    run_ingest,
                    self._settings,
                    embeddings_factory=lambda _: embeddings,
                    listener=listener,
                )
            except IngestBusyError:  # a shell's ingest, or another replica's /reindex
                raise ReindexBusyError from None
            except AllianceError as exc:
                raise ReindexError(str(exc)) from exc
            finally:
                await asyncio.gather(*(asyncio.wrap_future(f) for f in pending))
            log.info("re-index published version %s", summary.index_version)
            await self._engine.refresh()
            return summary
