"""The answer judge: which sentences answer a question, and whether any does. Two small models
learned from the question corpus (`bot/eval/corpus/`, by `python -m bot.eval.train`) and run
with numpy: one weighs each candidate sentence with the question, one decides from the best of
them and from the known questions whether the documents answer it at all.

A judge belongs to the embedding model it was trained with (`bot/engine/judges/<backend>.npz`):
its features are that model's vectors."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from alliance.errors import AllianceError
from bot.engine.judge_features import (
    Asked,
    Candidate,
    find_candidates,
    pair_features,
    question_features,
)
from bot.engine.known_questions import KnownQuestions, Recollection
from bot.engine.results import Passage, Role
from bot.engine.stopwatch import Stopwatch

if TYPE_CHECKING:
    from bot.engine.retrieval import Retriever

JUDGES = Path(__file__).parent / "judges"
FORMAT = 1


class JudgeUnavailableError(AllianceError):
    """No judge was trained for the configured embedding model, or its file is damaged."""


@dataclass(frozen=True)
class Layers:
    """A small feed-forward network: inputs standardised, ReLU between layers, a sigmoid out."""

    mean: np.ndarray
    scale: np.ndarray
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    def probability(self, inputs: np.ndarray) -> np.ndarray:
        values = (np.asarray(inputs, np.float32) - self.mean) / self.scale
        for depth, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            values = values @ weight + bias
            if depth < len(self.weights) - 1:
                values = np.maximum(values, 0.0)
        result: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(values[..., 0], -30, 30)))
        return result

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        arrays = {f"{prefix}mean": self.mean, f"{prefix}scale": self.scale}
        for n, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            arrays[f"{prefix}w{n}"] = weight
            arrays[f"{prefix}b{n}"] = bias
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str) -> Layers:
        depth = sum(1 for name in arrays.files if name.startswith(f"{prefix}w"))
        return cls(
            mean=np.asarray(arrays[f"{prefix}mean"], np.float32),
            scale=np.asarray(arrays[f"{prefix}scale"], np.float32),
            weights=tuple(np.asarray(arrays[f"{prefix}w{n}"], np.float32) for n in range(depth)),
            biases=tuple(np.asarray(arrays[f"{prefix}b{n}"], np.float32) for n in range(depth)),
        )


@dataclass(frozen=True, kw_only=True)
class Selection:
    """Which of the judged sentences an answer quotes: those at least `least` likely to answer,
    and at least `ratio` of the best one's likelihood, `most` of them; chosen on the corpus's
    dev part."""

    least: float = 0.3
    ratio: float = 0.5
    most: int = 4


@dataclass(frozen=True)
class Verdict:
    """The judge's reading of one question."""

    asked: Asked
    passages: list[Passage]
    candidates: list[Candidate]
    probabilities: np.ndarray  # that each candidate answers the question
    answered: float  # that the documents answer the question at all
    covered: bool  # `answered` reaches the language's threshold
    chosen: list[Candidate] = field(default_factory=list)  # best first


@dataclass(frozen=True, kw_only=True, eq=False)  # compared and cached by identity
class Judge:
    pair: Layers
    question: Layers
    with_embeddings: bool  # the pair model reads the two embeddings, not only PAIR_FEATURES
    with_known: bool  # the known questions are evidence (else their features are 0)
    thresholds: dict[str, float]  # the least `answered` that counts as covered, by language
    # ... and the least probability its best sentence must have, by language
    floors: dict[str, float]
    selection: Selection
    known: KnownQuestions
    about: dict[str, Any]  # how it was trained: corpus, seed, figures
    # The known questions with each index version's FAQ questions joined, by version.
    _with_faq: dict[str, KnownQuestions] = field(default_factory=dict, init=False, repr=False)

    def known_for(self, retriever: Retriever) -> KnownQuestions:
        """The known questions for questions on `retriever`'s index: the training corpus's,
        then the FAQ's own (`Retriever.faq_questions`)."""
        version = retriever.index.version
        if version not in self._with_faq:
            self._with_faq.clear()  # one version at a time
            self._with_faq[version] = self.known.joined(retriever.faq_questions)
        return self._with_faq[version]

    def judge(
        self,
        retriever: Retriever,
        text: str,
        language: str,
        role: Role,
        watch: Stopwatch | None = None,
    ) -> Verdict:
        """The verdict on a question; `watch` is charged the embedding, the searches and the
        judging."""
        watch = watch or Stopwatch()
        asked = Asked.read(retriever, text, language)
        watch.lap("embed")
        recalled = self.recall(retriever, asked.vector)
        proposed = self.known_for(retriever).proposed(recalled) if self.with_known else []
        passages, found = find_candidates(retriever, asked, role, watch, proposed)
        verdict = self.weigh(retriever, asked, passages, found, recalled)
        watch.lap("judge")
        return verdict

    def weigh(
        self,
        retriever: Retriever,
        asked: Asked,
        passages: list[Passage],
        found: Sequence[Candidate],
        recalled: Recollection,
    ) -> Verdict:
        if not found:
            return Verdict(asked, passages, [], np.zeros(0, np.float32), 0.0, False)
        probabilities, summary = self.summary(retriever, asked, found, recalled)
        answered = float(self.question.probability(summary[None, :])[0])
        covered = self.covers(probabilities, answered, asked.language)
        chosen = self.choose(asked, list(found), probabilities) if covered else []
        return Verdict(asked, passages, list(found), probabilities, answered, covered, chosen)

    def covers(self, probabilities: np.ndarray, answered: float, language: str) -> bool:
        """The documents answer the question: the question model says so, and its best
        sentence is likely enough to answer it."""
        best = float(probabilities.max()) if len(probabilities) else 0.0
        return answered >= self.thresholds[language] and best >= self.floors[language]

    def recall(
        self, retriever: Retriever, vector: np.ndarray, excluded: np.ndarray | None = None
    ) -> Recollection:
        """How close the question comes to the known questions (leaving out `excluded`), or
        nothing at all for a judge that does not use them."""
        known = self.known_for(retriever)
        if not self.with_known:
            return Recollection(np.zeros(len(known), np.float32), 0.0, 0.0, 0.0)
        return known.recall(vector, excluded)

    def features(
        self, retriever: Retriever, asked: Asked, found: Sequence[Candidate], recalled: Recollection
    ) -> np.ndarray:
        """The pair model's inputs, one row per candidate."""
        known = self.known_for(retriever).support(recalled, [c.text for c in found])
        return pair_features(asked, found, retriever, known, self.with_embeddings)

    def summary(
        self, retriever: Retriever, asked: Asked, found: Sequence[Candidate], recalled: Recollection
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each candidate's probability of answering, and the question model's inputs."""
        features = self.features(retriever, asked, found, recalled)
        probabilities = self.pair.probability(features)
        return probabilities, question_features(asked, probabilities, features, recalled)

    def choose(
        self, asked: Asked, found: list[Candidate], probabilities: np.ndarray
    ) -> list[Candidate]:
        """The sentences to quote, best first: in the language wanted (the question's, or the
        other when it asks for a name there) when one of those is likely enough, else in any."""
        same = [n for n, c in enumerate(found) if c.passage.metadata.get("lang") == asked.wanted]
        pool = same if same and probabilities[same].max() >= self.selection.least else None
        pool = pool or list(range(len(found)))
        ordered = sorted(pool, key=lambda n: -probabilities[n])
        best = probabilities[ordered[0]]
        floor = max(min(self.selection.least, best), self.selection.ratio * best)
        return [found[n] for n in ordered if probabilities[n] >= floor][: self.selection.most]

    def save(self, path: Path) -> None:
        known = self.known
        keys = sorted(known.answers)
        pairs = np.array(
            [(row, k) for k, key in enumerate(keys) for row in known.answers[key]], np.int32
        ).reshape(-1, 2)
        about = {
            **self.about,
            "format": FORMAT,
            "with_embeddings": self.with_embeddings,
            "with_known": self.with_known,
            "thresholds": self.thresholds,
            "floors": self.floors,
            "selection": {
                "least": self.selection.least,
                "ratio": self.selection.ratio,
                "most": self.selection.most,
            },
        }
        arrays: dict[str, Any] = {
            "about": np.array(json.dumps(about, ensure_ascii=False, sort_keys=True)),
            "known_vectors": known.vectors.astype(np.float16),
            "known_answered": known.answered,
            "known_keys": np.array(keys, dtype=str),
            "known_pairs": pairs,
            **self.pair.arrays("pair_"),
            **self.question.arrays("question_"),
        }
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> Judge:
        try:
            with np.load(path, allow_pickle=False) as arrays:
                about = json.loads(str(arrays["about"]))
                if about.get("format") != FORMAT:
                    raise JudgeUnavailableError(
                        f"{path} has judge format {about.get('format')!r}, this version reads "
                        f"{FORMAT}: run `python -m bot.eval.train` to train it again"
                    )
                keys = [str(key) for key in arrays["known_keys"]]
                vectors = np.asarray(arrays["known_vectors"], np.float32)
                answers: list[list[str]] = [[] for _ in range(len(vectors))]
                for row, k in arrays["known_pairs"]:
                    answers[int(row)].append(keys[int(k)])
                norms = np.linalg.norm(vectors, axis=1, keepdims=True)
                return cls(
                    pair=Layers.from_arrays(arrays, "pair_"),
                    question=Layers.from_arrays(arrays, "question_"),
                    with_embeddings=bool(about["with_embeddings"]),
                    with_known=bool(about["with_known"]),
                    thresholds={k: float(v) for k, v in about["thresholds"].items()},
                    floors={k: float(v) for k, v in about["floors"].items()},
                    selection=Selection(**about["selection"]),
                    known=KnownQuestions(
                        vectors / np.where(norms == 0, 1, norms),
                        np.asarray(arrays["known_answered"], bool),
                        answers,
                    ),
                    about=about,
                )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise JudgeUnavailableError(f"cannot read the answer judge {path}: {exc}") from exc


def judge_path(backend: str) -> Path:
    return JUDGES / f"{backend}.npz"


@functools.cache
def packaged_judge(backend: str) -> Judge:
    """The judge trained for an embedding backend, as shipped in the package (read once)."""
    path = judge_path(backend)
    if not path.is_file():
        raise JudgeUnavailableError(
            f"no answer judge has been trained for the {backend} embeddings ({path} is "
            "missing): run `python -m bot.eval.train` with that backend to train one"
        )
    return Judge.load(path)
