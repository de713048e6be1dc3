"""Curated answers in the evaluation: answers staff might have written (`curated.yaml`), with
paraphrases that should get them (in the same language and in the other) and questions that
should not (near misses on the same topic, questions the documents answer, small talk).

The match thresholds are chosen on the `tuning` part (`calibrate`); `heldout` is only measured.
Questions go through `Engine.answer` as a learner and as staff, so a staff-only answer served
to a learner counts as a leak."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict

from bot.engine.answering import Engine, question_language
from bot.engine.curated import CuratedEntry
from bot.engine.results import Role

PATH = Path(__file__).parent / "curated.yaml"
# Most false matches --calibrate accepts on the tuning part, as a share of its negatives, with
# every threshold ROBUSTNESS lower than the one chosen (so a choice is not on a cliff's edge).
MAX_FALSE_MATCHES = 0.02
ROBUSTNESS = 0.06
# (English, Chinese, across) thresholds → (paraphrases matched, other questions matched)
Table = dict[tuple[float, float, float], tuple[float, float]]
LEVELS = [round(0.10 + 0.02 * n, 2) for n in range(45)]  # 0.10 … 0.98


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    language: Literal["en", "zh"]
    audience: Literal["public", "staff"]
    question: str
    answer: str


class CuratedQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    question: str
    expect: str | None


class CuratedSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    entries: list[_Entry]
    tuning: list[CuratedQuestion]
    heldout: list[CuratedQuestion]

    @classmethod
    def load(cls, path: Path = PATH) -> CuratedSet:
        found = cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        ids = {entry.id for entry in found.entries}
        unknown = {q.expect for q in found.tuning + found.heldout if q.expect is not None} - ids
        if unknown:
            raise ValueError(f"{path}: questions expect unknown entries {sorted(unknown)}")
        return found

    def as_entries(self) -> list[CuratedEntry]:
        approved = datetime(2026, 11, 2, tzinfo=UTC)
        return [
            CuratedEntry(
                id=n,
                question=e.question,
                answer=e.answer,
                language=e.language,
                audience=e.audience,
                approved_at=approved,
            )
            for n, e in enumerate(self.entries, start=1)
        ]

    def number_of(self, entry_id: str | None) -> int | None:
        names = [e.id for e in self.entries]
        return None if entry_id is None else names.index(entry_id) + 1


class FixedSource:
    """A `CuratedSource` that never changes: the evaluation's entries."""

    def __init__(self, entries: Sequence[CuratedEntry]) -> None:
        self._entries = list(entries)

    async def revision(self) -> int:
        return len(self._entries)

    async def active(self) -> list[CuratedEntry]:
        return self._entries


@dataclass(frozen=True)
class Trial:
    question: str
    role: Role
    expected: int | None  # the entry this role should get, if any
    expected_language: str | None
    language: str
    served: int | None
    served_audience: str | None


def _expected(entry: CuratedEntry | None, role: Role) -> int | None:
    if entry is None or (entry.audience == "staff" and role == "learner"):
        return None
    return entry.id


async def run(engine: Engine, data: CuratedSet, part: Sequence[CuratedQuestion]) -> list[Trial]:
    """Every question of the part through the engine, as a learner and as staff."""
    entries = {e.id: e for e in data.as_entries()}
    trials = []
    roles: tuple[Role, ...] = ("learner", "staff")
    for item, role in itertools.product(part, roles):
        entry = entries.get(data.number_of(item.expect) or 0)
        answer = await engine.answer(item.question, role)
        served = [p for p in answer.cited if p.metadata.get("status") == "curated"]
        trials.append(
            Trial(
                question=item.question,
                role=role,
                expected=_expected(entry, role),
                expected_language=entry.language if entry else None,
                language=answer.language,
                served=int(served[0].metadata["curated_id"]) if served else None,
                served_audience=str(served[0].metadata["audience"]) if served else None,
            )
        )
    return trials


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def score(trials: Sequence[Trial]) -> dict[str, Any]:
    """Match rates of the paraphrases (same language, other language), false matches of the
    questions that should get nothing, wrong answers, and leaks (a learner served staff text)."""
    positive = [t for t in trials if t.expected is not None]
    same = [t for t in positive if t.expected_language == t.language]
    other = [t for t in positive if t.expected_language != t.language]
    negative = [t for t in trials if t.expected is None]
    return {
        "paraphrases": len(positive),
        "match_rate": _share(sum(t.served == t.expected for t in positive), len(positive)),
        "same_language": _share(sum(t.served == t.expected for t in same), len(same)),
        "other_language": _share(sum(t.served == t.expected for t in other), len(other)),
        "wrong_answer": _share(
            sum(t.served not in (None, t.expected) for t in positive), len(positive)
        ),
        "negatives": len(negative),
        "false_matches": _share(sum(t.served is not None for t in negative), len(negative)),
        "staff_leaks": sum(t.role == "learner" and t.served_audience == "staff" for t in trials),
    }


async def calibrate(engine: Engine, data: CuratedSet) -> dict[str, Any]:
    """The thresholds (English, Chinese, across languages) that match the most tuning
    paraphrases while matching at most MAX_FALSE_MATCHES of its negatives, the highest of
    equals; as staff, who may read every entry."""
    entries = data.as_entries()
    questions = [q.question for q in data.tuning]
    languages = [question_language(q) for q in questions]
    space = await engine.question_space()
    units = space.centred(await engine.embed_questions(questions), languages)
    keys = await engine.embed_questions([e.question for e in entries])
    similarity = units @ space.centred(keys, [e.language for e in entries]).T
    same = np.array([[lang == e.language for e in entries] for lang in languages])
    is_zh = np.array([lang == "zh" for lang in languages])[:, None]
    expected = np.array([data.number_of(q.expect) or 0 for q in data.tuning])  # 0: none
    positives, negatives = expected > 0, expected == 0
    table: Table = {}
    for en, zh, other in itertools.product(LEVELS, LEVELS, LEVELS):
        threshold = np.where(same, np.where(is_zh, zh, en), other)
        margin = similarity - threshold
        served = np.where(margin.max(axis=1) >= 0, margin.argmax(axis=1) + 1, 0)
        hits = float(np.mean(served[positives] == expected[positives]))
        false = float(np.mean(served[negatives] > 0))
        table[(en, zh, other)] = (hits, false)
    shipped = dict(engine.curated.match_at) if engine.curated is not None else {}
    # 0.25: what grouping questions into content gaps chooses (GROUP_AT)
    caps = (0.0, MAX_FALSE_MATCHES, 0.05, 0.10, 0.25)
    curve = {f"{cap:.2f}": _best(table, cap) for cap in caps}
    return {
        "chosen": curve[f"{MAX_FALSE_MATCHES:.2f}"],
        "by_false_match_cap": curve,
        "shipped": shipped,
    }


def _robust_false(table: Table, key: tuple[float, float, float]) -> float:
    """The false matches `key` would make with every threshold ROBUSTNESS lower: a choice on
    the edge of a cliff in the tuning questions is one that new questions fall over."""
    en, zh, other = (max(LEVELS[0], round(t - ROBUSTNESS, 2)) for t in key)
    lower = (en, zh, other)
    return max(table[key][1], table[lower][1])


def _best(table: Table, cap: float) -> dict[str, Any] | None:
    """The thresholds that match the most paraphrases with at most `cap` false matches, the
    highest of equals."""
    allowed = [key for key in table if _robust_false(table, key) <= cap]
    best = max(allowed, key=lambda key: (table[key][0], key), default=None)
    if best is None:
        return None
    return {
        "thresholds": dict(zip(("en", "zh", "other"), best, strict=True)),
        "match_rate": round(table[best][0], 3),
        "false_matches": round(table[best][1], 3),
    }
