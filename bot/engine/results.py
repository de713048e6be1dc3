"""What the engine returns: an answer with the passages it cites, in a shape every channel can
render, and the typed outcomes of composing one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["learner", "staff"]


def audiences_for(role: Role) -> tuple[str, ...]:
    """Which document audiences a role may read: staff-only text never reaches learners."""
    return ("public", "staff") if role == "staff" else ("public",)


@dataclass(frozen=True, kw_only=True)
class Source:
    title: str
    section: str
    path: str
    audience: str
    status: str

    @property
    def label(self) -> str:
        """How answers cite it: document title › section."""
        return " › ".join(part for part in (self.title, self.section) if part)

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any]) -> Source:
        """A source from a chunk's metadata, or from a logged citation; missing keys are empty."""
        return cls(
            title=str(meta.get("title", "")),
            section=str(meta.get("section", "")),
            path=str(meta.get("path", "")),
            audience=str(meta.get("audience", "")),
            status=str(meta.get("status", "")),
        )


@dataclass(frozen=True, kw_only=True)
class Passage:
    """A retrieved chunk: its text and the metadata ingest stored with it."""

    id: str
    text: str
    metadata: Mapping[str, Any]

    @property
    def source(self) -> Source:
        return Source.from_metadata(self.metadata)


@dataclass(frozen=True, kw_only=True)
class Answer:
    """An answer and the passages it cites: `[n]` in the text is `cited[n - 1]`."""

    answer: str
    abstained: bool
    language: str
    cited: tuple[Passage, ...] = ()
    # Everything retrieval returned, best first (the evaluation scores its ranking).
    retrieved: tuple[Passage, ...] = field(default=(), repr=False)
    # How well the best passage supports the question (0..1); abstention compares it.
    evidence: float = 0.0
    latency_ms: float = 0.0
    # Milliseconds per stage: embed, dense, keyword, fusion, judge, compose (those that ran).
    timings: Mapping[str, float] = field(default_factory=dict, repr=False)

    @property
    def sources(self) -> list[Source]:
        """The cited documents, numbered as the text cites them."""
        return [passage.source for passage in self.cited]

    def to_json_dict(self, question: str) -> dict[str, Any]:
        return {
            "question": question,
            "answer": self.answer,
            "abstained": self.abstained,
            "language": self.language,
            "sources": [asdict(source) for source in self.sources],
            "latency_ms": round(self.latency_ms, 1),
            "timings": {stage: round(ms, 2) for stage, ms in self.timings.items()},
        }


@dataclass(frozen=True, kw_only=True)
class Composed:
    """A chat model's answer that cites only passages it was given, renumbered in order of use."""

    text: str
    cited: tuple[Passage, ...]


@dataclass(frozen=True)
class NotCovered:
    """The chat model read the passages and found that they do not answer the question."""
