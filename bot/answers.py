"""What the engine returns: an answer with its sources, in a shape every adapter can render."""

from dataclasses import asdict, dataclass, field
from typing import Literal

Role = Literal["learner", "staff"]


def audiences_for(role: Role) -> tuple[str, ...]:
    """Which document audiences a role may read: staff-only text never reaches learners."""
    return ("public", "staff") if role == "staff" else ("public",)


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk: its text and the metadata ingest stored with it."""

    id: str
    text: str
    metadata: dict

    @property
    def source(self) -> Source:
        meta = self.metadata
        return Source(
            title=str(meta.get("title", "")),
            section=str(meta.get("section", "")),
            path=str(meta.get("path", "")),
            audience=str(meta.get("audience", "")),
            status=str(meta.get("status", "")),
        )


@dataclass(frozen=True)
class Answer:
    answer: str
    abstained: bool
    language: str
    sources: list[Source] = field(default_factory=list)
    latency_ms: float = 0.0
    # How well the best passage supports the question (0..1); abstention compares it.
    evidence: float = 0.0
    # The cited passages, aligned with `sources`; and everything retrieval returned, best first.
    passages: list[Passage] = field(default_factory=list, repr=False)
    retrieved: list[Passage] = field(default_factory=list, repr=False)
    # Milliseconds per stage: embed, dense, keyword, fusion, compose (those that ran).
    timings: dict[str, float] = field(default_factory=dict, repr=False)

    def to_json_dict(self, question: str) -> dict:
        return {
            "question": question,
            "answer": self.answer,
            "abstained": self.abstained,
            "language": self.language,
            "sources": [asdict(source) for source in self.sources],
            "latency_ms": round(self.latency_ms, 1),
        }
