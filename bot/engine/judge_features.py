"""What the answer judge sees: a question's candidate sentences (every sentence of the passages
retrieval found) and, for each, the features of the pair; then the features of the question as
a whole. The same code builds the judge's training data (`python -m bot.eval.train`) and
serves answers, so the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from bot.engine.answer_kinds import asked_kinds, holds, wanted_language
from bot.engine.evidence import Concept
from bot.engine.results import Passage, Role, audiences_for
from bot.engine.stopwatch import Stopwatch

if TYPE_CHECKING:
    from bot.engine.known_questions import Recollection
    from bot.engine.retrieval import Retriever

# Passages whose sentences the judge weighs: the best 8 of the fused ranking (recall@8 of the
# passage holding a labelled answer was 0.93 on the corpus's train part; 0.91 at 5, 0.94 at 12),
# and the best 3 in each language, for a question in mixed script or asking a name across them.
CANDIDATE_PASSAGES = 8
PER_LANGUAGE = 3
SEARCHED = 20
KINDS = ("contact", "amount", "time", "count", "person", "place")
# The pair features that are not the embeddings' own (in this order), for the training report.
PAIR_FEATURES = (
    "cosine",
    "cosine below the best",
    "passage cosine",
    "passage cosine below the best",
    "passage rank",
    "words supported",
    "passage words supported",
    "in the language wanted",
    "course entry",
    "position",
    *(f"{kind} {state}" for kind in KINDS for state in ("asked and held", "asked, not held")),
    "cosine rank",
    "known questions",
    "known questions below the best",
    "known questions' votes",
    "known questions, best in the passage",
)
QUESTION_FEATURES = (
    "best sentence",
    "second sentence",
    "third sentence",
    "known: answered",
    "known: unanswered",
    "known: difference",
    "known: vote",
    "best cosine",
    "Chinese",
    *(f"asks {kind}" for kind in KINDS),
)


@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved passage."""

    passage: Passage
    rank: int  # the passage's place in the fused ranking, 0 first
    position: int  # the sentence's place in its passage
    row: int  # its row in the index version's sentences
    text: str


@dataclass(frozen=True)
class Asked:
    """A question as the judge reads it."""

    text: str
    language: str
    wanted: str  # the language of the answer: another when it asks for a name there
    vector: np.ndarray  # its query embedding, unit length
    concepts: Sequence[Concept]
    kinds: Sequence[str]

    @classmethod
    def read(cls, retriever: Retriever, text: str, language: str) -> Asked:
        vector = np.asarray(retriever.embed_query(text), np.float32)
        return cls(
            text=text,
            language=language,
            wanted=wanted_language(text, language),
            vector=vector / (np.linalg.norm(vector) or 1.0),
            concepts=retriever.evidence.concepts(text),
            kinds=asked_kinds(text),
        )


def candidates(retriever: Retriever, passages: Sequence[Passage]) -> list[Candidate]:
    """Every sentence of `passages`, in their order."""
    sentences = retriever.index.sentences
    return [
        Candidate(passage, rank, position, row, sentences.texts[row])
        for rank, passage in enumerate(passages)
        for position, row in enumerate(retriever.index.sentence_rows.get(passage.id, ()))
    ]


def find_candidates(
    retriever: Retriever,
    asked: Asked,
    role: Role,
    watch: Stopwatch | None = None,
    proposed: Sequence[str] = (),
) -> tuple[list[Passage], list[Candidate]]:
    """The passages to weigh, among those the role may read: retrieval's best, the best in
    each language, the other-language counterparts of the best few, and the passages holding
    the `proposed` sentences (keys of what answered the closest known questions)."""
    ranked = retriever.search(asked.text, role, SEARCHED, watch, asked.vector)
    index = retriever.index
    chosen = [p.id for p in ranked[:CANDIDATE_PASSAGES]]
    for language in ("en", "zh"):
        chosen += [p.id for p in ranked if p.metadata.get("lang") == language][:PER_LANGUAGE]
    chosen += [
        index.counterparts[p.id] for p in ranked[:PER_LANGUAGE] if p.id in index.counterparts
    ]
    chosen += [chunk for key in proposed for chunk in index.chunks_of_sentence.get(key, ())]
    audiences = audiences_for(role)
    rank = {passage.id: n for n, passage in enumerate(ranked)}
    passages = sorted(
        (
            index.passages[chunk]
            for chunk in dict.fromkeys(chosen)
            if index.passages[chunk].metadata.get("audience") in audiences
        ),
        key=lambda passage: rank.get(passage.id, SEARCHED),
    )
    return passages, [
        replace(candidate, rank=rank.get(candidate.passage.id, SEARCHED))
        for candidate in candidates(retriever, passages)
    ]


def pair_features(
    asked: Asked,
    found: Sequence[Candidate],
    retriever: Retriever,
    known: np.ndarray,
    with_embeddings: bool,
) -> np.ndarray:
    """One row per candidate: the hand-made features of PAIR_FEATURES (`known`: how close the
    question comes to known questions that this sentence answers, and its share of their
    votes; `KnownQuestions.support`), then, `with_embeddings`, the element-wise product and
    absolute difference of the two embeddings."""
    if not found:
        return np.zeros((0, len(PAIR_FEATURES)), np.float32)
    index = retriever.index
    vectors = index.sentences.vectors[[c.row for c in found]]
    cosine = vectors @ asked.vector
    passage_cosine = index.dense.similarities(asked.vector, [c.passage.id for c in found])
    evidence = retriever.evidence
    passage_support = {
        c.passage.id: evidence.passage_support(asked.concepts, c.passage) for c in found
    }
    order = np.empty(len(found), np.float32)
    order[np.argsort(-cosine)] = np.arange(len(found)) / len(found)
    passage_known: dict[str, float] = {}
    for candidate, support in zip(found, known[:, 0], strict=True):
        passage_known[candidate.passage.id] = max(
            passage_known.get(candidate.passage.id, 0.0), float(support)
        )
    rows = []
    for n, candidate in enumerate(found):
        meta = candidate.passage.metadata
        row = [
            cosine[n],
            cosine[n] - cosine.max(),
            passage_cosine[n],
            passage_cosine[n] - passage_cosine.max(),
            min(candidate.rank, SEARCHED) / SEARCHED,
            evidence.support(asked.concepts, candidate.text),
            passage_support[candidate.passage.id],
            float(meta.get("lang") == asked.wanted),
            float(bool(meta.get("course_code"))),
            min(candidate.position, 10) / 10,
        ]
        for kind in KINDS:
            asked_for = kind in asked.kinds
            held = asked_for and holds(kind, candidate.text)
            row += [float(held), float(asked_for and not held)]
        row += [
            order[n],
            known[n, 0],
            known[n, 0] - known[:, 0].max(),
            known[n, 1],
            passage_known[candidate.passage.id],
        ]
        rows.append(row)
    hand = np.asarray(rows, np.float32)
    if not with_embeddings:
        return hand
    return np.hstack([hand, vectors * asked.vector, np.abs(vectors - asked.vector)])


def question_features(
    asked: Asked,
    probabilities: np.ndarray,
    pairs: np.ndarray,
    recalled: Recollection,
) -> np.ndarray:
    """The question's features (QUESTION_FEATURES): its best sentences' probabilities, how
    close it comes to known questions with and without an answer, its best scores (from the
    pair features), and what it asks for."""
    best = np.sort(probabilities)[::-1][:3]
    best = np.pad(best, (0, 3 - len(best)))
    return np.asarray(
        [
            *best,
            recalled.answered,
            recalled.unanswered,
            recalled.answered - recalled.unanswered,
            recalled.vote,
            float(pairs[:, PAIR_FEATURES.index("cosine")].max()),
            float(asked.language == "zh"),
            *(float(kind in asked.kinds) for kind in KINDS),
        ],
        np.float32,
    )
