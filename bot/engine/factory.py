"""Build the engine as a long-running process or a command needs it: the published index, the
embedding model and, when configured, the chat model; all loaded once, at start-up."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from alliance.embeddings import make_embeddings, require_backend
from alliance.index_format import IndexServerUnreachableError, IndexUnavailableError
from bot.engine.answering import Engine
from bot.engine.generative import make_composer
from bot.engine.retrieval import PublishedIndex, Retriever

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from alliance.settings import Settings

log = logging.getLogger(__name__)


def build_engine(
    settings: Settings, without_index: bool = False, embeddings: Embeddings | None = None
) -> Engine:
    """Open the published index, then load the model (seconds; or use `embeddings`, loaded
    already): a missing index fails fast, unless `without_index` (a long-running bot), where
    the engine starts and says it is not ready until ingest publishes a version."""
    require_backend(settings)  # a backend that is not installed fails first, with its command
    composer = make_composer(settings)
    try:
        index = PublishedIndex.load(settings)
    except IndexUnavailableError as exc:
        if not without_index:
            raise
        if isinstance(exc, IndexServerUnreachableError):
            log.error(
                "the index's Chroma server does not answer (%s); questions get a 'temporarily "
                "unavailable' reply until it is back, which is noticed by itself",
                exc,
            )
        else:
            log.error(
                "no usable index (%s); until it is rebuilt with /reindex or `python -m ingest`, "
                "every question is answered with how to rebuild it",
                exc,
            )
        return Engine(
            settings, None, composer=composer, embeddings=embeddings or make_embeddings(settings)
        )
    return Engine(
        settings, Retriever(index, embeddings or make_embeddings(settings)), composer=composer
    )
