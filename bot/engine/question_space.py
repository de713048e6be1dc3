"""Where questions are compared: the embedding model's query vectors with each language's
mean taken away. A multilingual model puts every Chinese question nearer every other Chinese
question than to its own English translation; without that shared direction, questions that
ask the same thing are closest whatever their language (measured on bot/eval/curated.yaml's
tuning part: 30% of paraphrases matched at 2% false matches raw, 52% centred)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np


def comparable(question: str) -> str:
    """The wording questions are compared in: case, punctuation and spacing left out (the
    model reads "is there parking?" and "Is there parking" as less alike than they are)."""
    kept = "".join(" " if unicodedata.category(c).startswith("P") else c for c in question)
    return re.sub(r"\s+", " ", kept).strip().casefold()


class QuestionSpace:
    """Each language's mean question vector (from the index's headings, embedded as queries);
    a language it has no mean for is compared as it is."""

    def __init__(self, means: Mapping[str, np.ndarray]) -> None:
        self._means = {language: np.asarray(m, np.float32) for language, m in means.items()}

    @classmethod
    def of_headings(cls, headings: Sequence[tuple[str, np.ndarray]]) -> QuestionSpace:
        """The space of (language, unit vector) pairs of headings."""
        grouped: dict[str, list[np.ndarray]] = {}
        for language, vector in headings:
            grouped.setdefault(language, []).append(vector)
        return cls({language: np.mean(rows, axis=0) for language, rows in grouped.items()})

    def centred(self, vectors: np.ndarray, languages: Sequence[str]) -> np.ndarray:
        """Unit rows of `vectors` (one per language given) with their language's mean removed."""
        rows = np.asarray(vectors, np.float32).reshape(len(languages), -1)
        rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)
        none = np.zeros(rows.shape[1], np.float32)
        means = np.array([self._means.get(lang, none) for lang in languages], np.float32)
        moved = rows - means.reshape(rows.shape)
        centred: np.ndarray = moved / np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-9)
        return centred


FLAT = QuestionSpace({})  # no index to take means from: plain cosines
