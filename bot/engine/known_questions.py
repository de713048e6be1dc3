"""Questions whose answer is known: the judge's training questions (each with the sentences
that answer it, or none: the documents do not cover it) and the FAQ's own headings. How close a
new question comes to them is among the judge's strongest evidence: a question much like one
the documents answer, by a sentence that is among the candidates, is likely answered by it;
one much like a near miss, likely not."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# Neighbours that vote on whether a question is answered, and how sharply closeness counts.
VOTERS = 10
SHARPNESS = 20.0
PROPOSERS = 3  # answered neighbours whose answers join the candidates


def sentence_key(text: str) -> str:
    """A sentence as known questions refer to it: lower-cased, spacing and the closing
    punctuation left out."""
    folded = re.sub(r"\s+", " ", text).strip().lower()
    return re.sub(r"[\s。．.！!？?；;]+$", "", folded)


@dataclass(frozen=True)
class Recollection:
    """How close one question comes to the known ones."""

    similarities: np.ndarray  # to each known question
    answered: float  # the closest known question the documents answer
    unanswered: float  # the closest one they do not
    vote: float  # -1 (neighbours unanswered) … 1 (answered)


class KnownQuestions:
    def __init__(
        self,
        vectors: np.ndarray,
        answered: np.ndarray,
        answers: Sequence[Iterable[str]],
    ) -> None:
        """`vectors`: unit query embeddings, one row per question; `answered`: whether the
        documents answer it; `answers`: the keys (`sentence_key`) of the sentences that do."""
        self.vectors = np.asarray(vectors, np.float32)
        self.answered = np.asarray(answered, bool)
        self.answers: dict[str, list[int]] = {}  # sentence key → rows of questions it answers
        self.answered_by: list[list[str]] = []  # row → keys of the sentences that answer it
        for row, keys in enumerate(answers):
            self.answered_by.append(list(keys))
            for key in keys:
                self.answers.setdefault(key, []).append(row)

    def __len__(self) -> int:
        return len(self.vectors)

    def joined(self, other: KnownQuestions) -> KnownQuestions:
        """These known questions, then `other`'s."""
        if not len(other):
            return self
        return KnownQuestions(
            np.vstack([self.vectors, other.vectors]),
            np.concatenate([self.answered, other.answered]),
            [*self.answered_by, *other.answered_by],
        )

    def recall(self, vector: np.ndarray, excluded: np.ndarray | None = None) -> Recollection:
        """How close the question (`vector`, unit) comes to each known question, leaving out
        the `excluded` ones (a writer's own questions, while training)."""
        similarities = self.vectors @ vector if len(self) else np.zeros(0, np.float32)
        if excluded is not None:  # (those it does not cover, at the end, stay in)
            hidden = np.zeros(len(self), bool)
            hidden[: len(excluded)] = excluded
            similarities = np.where(hidden, -1.0, similarities)
        answered = similarities[self.answered]
        unanswered = similarities[~self.answered]
        nearest = np.argsort(-similarities)[:VOTERS]
        weights = np.exp(SHARPNESS * (similarities[nearest] - 1.0))
        signs = np.where(self.answered[nearest], 1.0, -1.0)
        return Recollection(
            similarities=similarities,
            answered=float(answered.max()) if len(answered) else 0.0,
            unanswered=float(unanswered.max()) if len(unanswered) else 0.0,
            vote=float(weights @ signs / weights.sum()) if len(nearest) else 0.0,
        )

    def proposed(self, recalled: Recollection, neighbours: int = PROPOSERS) -> list[str]:
        """The keys of the sentences that answer the `neighbours` closest answered questions,
        closest first: where retrieval should look too."""
        order = np.argsort(-recalled.similarities)
        keys: list[str] = []
        for row in order[: neighbours * 4]:
            if self.answered[row] and recalled.similarities[row] > -1:
                keys.extend(self.answered_by[row])
                neighbours -= 1
                if neighbours == 0:
                    break
        return list(dict.fromkeys(keys))

    def support(self, recalled: Recollection, sentences: Sequence[str]) -> np.ndarray:
        """For each sentence, two columns: how close the question comes to a known question it
        answers (0 when none), and its share of the closest known questions' votes."""
        found = np.zeros((len(sentences), 2), np.float32)
        similarities = recalled.similarities
        nearest = (
            np.argpartition(-similarities, VOTERS)[:VOTERS]
            if len(similarities) > VOTERS
            else np.arange(len(similarities))
        )
        weights = np.exp(SHARPNESS * (similarities[nearest] - 1.0))
        total = float(weights.sum()) or 1.0
        votes = dict(zip(nearest.tolist(), (weights / total).tolist(), strict=True))
        for n, text in enumerate(sentences):
            rows = self.answers.get(sentence_key(text))
            if rows:
                found[n, 0] = max(0.0, float(similarities[rows].max()))
                found[n, 1] = sum(votes.get(row, 0.0) for row in rows)
        return found
