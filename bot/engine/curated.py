"""Curated answers: what branch staff answered by hand, served to the next learner who asks the
same thing. The engine reads them through `CuratedSource`, an interface the store implements,
and keeps their questions embedded (as queries) in memory; a changed revision reloads them
before the next question, so every replica serves an answer once it is saved or retired."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from alliance import model_thread
from bot.engine.question_space import FLAT, QuestionSpace, comparable
from bot.engine.results import Passage, Role, audiences_for

# A question at least this close to a curated question (cosine in the question space, see
# `question_space`) asks the same thing: within English, within Chinese, and across the two.
# Chosen on the tuning part of bot/eval/curated.yaml with `python -m bot.eval --calibrate`:
# the thresholds that match the most of its paraphrases while matching at most 2% of its other
# questions (near misses on the same topic, questions the documents answer, small talk), even
# with every threshold 0.06 lower (30% of its paraphrases, none of its other questions). Within
# a language the model tells a paraphrase from a near miss ("where do I see my result" / "how
# long until my result") poorly, so only close wordings match there.
MATCH_AT = {"en": 0.82, "zh": 0.76, "other": 0.40}
# Grouping questions by what they ask (content gaps, the review queue) can afford to merge
# some near misses: the thresholds that match the most tuning paraphrases at 25% false matches.
GROUP_AT = {"en": 0.66, "zh": 0.68, "other": 0.34}

_CITED_AS = {"en": "Answer from branch staff, {day}", "zh": "分校工作人员的答复，{day}"}
_IN_OTHER_LANGUAGE = {
    "en": "(Branch staff answered this in Chinese.)",
    "zh": "（分校工作人员以英文作答。）",
}


@dataclass(frozen=True, kw_only=True)
class CuratedEntry:
    id: int
    question: str
    answer: str
    language: str
    audience: str  # "public" or "staff"
    approved_at: datetime


class CuratedSource(Protocol):
    async def revision(self) -> Hashable:
        """Changes whenever an answer is saved, edited or retired."""
        ...

    async def active(self) -> Sequence[CuratedEntry]:
        """Every answer not retired."""
        ...


@dataclass(frozen=True)
class CuratedMatch:
    entry: CuratedEntry
    similarity: float

    def passage(self, language: str) -> Passage:
        """The answer as a passage to cite, labelled as staff's, with the day it was approved."""
        day = self.entry.approved_at.date().isoformat()
        return Passage(
            id=f"curated:{self.entry.id}",
            text=self.entry.answer,
            metadata={
                "title": _CITED_AS[language].format(day=day),
                "section": "",
                "path": "",
                "audience": self.entry.audience,
                "status": "curated",
                "lang": self.entry.language,
                "curated_id": self.entry.id,
            },
        )

    def text(self, language: str) -> str:
        """The answer as staff wrote it, citing itself; a note when the question's language is
        not the answer's (the assistant does not translate what people wrote)."""
        if language == self.entry.language:
            return f"{self.entry.answer} [1]"
        return f"{_IN_OTHER_LANGUAGE[language]}\n\n{self.entry.answer} [1]"


class CuratedAnswers:
    """The curated answers of a source, with their questions embedded; `embed` is the query
    model (it runs on the model thread)."""

    def __init__(
        self,
        source: CuratedSource,
        embed: Callable[[str], list[float]],
        match_at: dict[str, float] = MATCH_AT,
    ) -> None:
        self._source = source
        self._embed = embed
        self.match_at = match_at
        self._revision: Hashable = object()
        self._entries: list[CuratedEntry] = []
        self._vectors = np.zeros((0, 0), np.float32)
        self._known: dict[str, np.ndarray] = {}  # question text → unit vector, kept across loads
        self._reload = asyncio.Lock()

    @property
    def entries(self) -> list[CuratedEntry]:
        return list(self._entries)

    async def refresh(self) -> None:
        """Reload when the source's revision changed (one small query when it did not)."""
        revision = await self._source.revision()
        if revision == self._revision:
            return
        async with self._reload:
            if revision == self._revision:
                return
            entries = list(await self._source.active())
            missing = [e.question for e in entries if e.question not in self._known]
            if missing:
                vectors = await asyncio.get_running_loop().run_in_executor(
                    model_thread.executor(), lambda: [self._embed(comparable(q)) for q in missing]
                )
                for question, vector in zip(missing, vectors, strict=True):
                    self._known[question] = _unit(vector)
            self._entries = entries
            self._vectors = (
                np.array([self._known[e.question] for e in entries], np.float32)
                if entries
                else np.zeros((0, 0), np.float32)
            )
            self._revision = revision

    def match(
        self, query: Sequence[float], language: str, role: Role, space: QuestionSpace = FLAT
    ) -> CuratedMatch | None:
        """The curated answer whose question asks what the query asks (the query embedded as
        a query), among those the role may read; None when none is close enough. Thresholds
        differ by language pair, so the best is the one furthest above its own."""
        margins = [
            (m.similarity - self.match_at[_pair(m.entry, language)], m)
            for m in self.similarities(query, language, role, space)
        ]
        margin, best = max(margins, key=lambda pair: pair[0], default=(-1.0, None))
        return best if margin >= 0 else None

    def similarities(
        self, query: Sequence[float], language: str, role: Role, space: QuestionSpace = FLAT
    ) -> list[CuratedMatch]:
        """Every answer the role may read with the cosine of its question and the query, in
        the question space."""
        audiences = audiences_for(role)
        allowed = [n for n, e in enumerate(self._entries) if e.audience in audiences]
        if not allowed:
            return []
        keys = space.centred(self._vectors[allowed], [self._entries[n].language for n in allowed])
        scores = keys @ space.centred(np.asarray(query), [language])[0]
        return [
            CuratedMatch(self._entries[n], float(s)) for n, s in zip(allowed, scores, strict=True)
        ]


def _pair(entry: CuratedEntry, language: str) -> str:
    """Which threshold applies: the language's own within it, "other" across languages."""
    return language if entry.language == language else "other"


def _unit(vector: Sequence[float]) -> np.ndarray:
    array = np.asarray(vector, np.float32)
    return array / (np.linalg.norm(array) or 1.0)


def group_similar(
    vectors: np.ndarray,
    languages: Sequence[str],
    space: QuestionSpace = FLAT,
    match_at: dict[str, float] = GROUP_AT,
) -> list[list[int]]:
    """Indices of questions grouped by what they ask: two questions close enough (in the
    question space) are in one group, and so are questions linked by a chain of such pairs.
    Groups largest first (the earlier first among equals), each in the order given."""
    units = space.centred(vectors, languages)
    groups: list[list[int]] = []
    for n in range(len(units)):
        near = [g for g in groups if any(_close(units, languages, m, n, match_at) for m in g)]
        merged = sorted([m for g in near for m in g] + [n])
        groups = [g for g in groups if g not in near] + [merged]
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def _close(
    units: np.ndarray, languages: Sequence[str], m: int, n: int, match_at: dict[str, float]
) -> bool:
    pair = languages[n] if languages[m] == languages[n] else "other"
    return float(units[m] @ units[n]) >= match_at[pair]
