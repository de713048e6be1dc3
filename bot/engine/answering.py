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

import numpy as np

from alliance import model_thread
from alliance.language import detect_language, has_chinese
from bot.engine.answer_kinds import DECISIVE, asked_kinds, named_specifics, question_parts
from bot.engine.calculators import calculate
from bot.engine.courses import (
    CODE,
    CourseQuery,
    course_answer,
    list_courses,
    parse_course_filters,
    parse_course_query,
)
from bot.engine.curated import CuratedAnswers, CuratedMatch, CuratedSource
from bot.engine.evidence import Concept, Evidence
from bot.engine.extractive import answer_from_section, extract, sample_note
from bot.engine.followups import resolve_followup
from bot.engine.index_watch import IndexWatcher
from bot.engine.question_space import FLAT, QuestionSpace, comparable
from bot.engine.results import Answer, Composed, NotCovered, Passage, Role
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
# Abstain when the best passage supports less than this share of the question's concepts
# (weighted by idf and everyday-ness; glossary groups and, for English, soft matches counted).
# Chosen on the tuning part of the gold set (320 questions then; 5 were later removed as
# duplicates of held-out ones) with `python -m bot.eval --calibrate`: the highest thresholds
# that, with the other refusal rules, wrongly refuse at most 5% of its answerable questions
# (4.8% in each language, where they refuse 53% of its unanswerable ones).
ABSTAIN_BELOW = {"en": 0.27, "zh": 0.21}
# A question this close to an FAQ heading (cosine of the two, embedded as queries) is that
# question: its section answers it. Chosen on the tuning part of the gold set.
KNOWN_QUESTION = 0.955

_EMPTY = {
    "en": "Please type a question about the alliance, credit transfer or shared courses.",
    "zh": "请输入您想了解的问题，例如联盟章程、学分银行或共享课程。",
}
_NOT_COVERED = {
    "en": "The knowledge base does not cover this, so I cannot answer it reliably. "
    "Please ask your home branch (workstation).",
    "zh": "知识库中没有涉及这个问题的内容，我无法可靠地回答。请咨询您所属的分校（工作站）。",
}
CALCULATION_ID = "calculation"  # the passage that holds a calculator's worked answer
_WORKED = {"en": "applied to the question", "zh": "按提问计算"}
_SPECIFIC_NOT_COVERED = {
    "en": "The documents do not cover {what}, so I cannot answer this reliably (the closest "
    "they come is {closest}). Please ask your home branch (workstation).",
    "zh": "文件中没有涉及{what}的内容，我无法可靠地回答（最接近的内容是：{closest}）。"
    "请咨询您所属的分校（工作站）。",
}
_PART_NOT_COVERED = {
    "en": "The documents do not say {what}; please ask your home branch (workstation).",
    "zh": "文件中没有说明{what}，请咨询您所属的分校（工作站）。",
}
_UNSAID = {
    "contact": {"en": "how to contact them", "zh": "联系方式"},
    "amount": {"en": "how much it costs", "zh": "费用"},
    "time": {"en": "when", "zh": "时间"},
    "count": {"en": "how many or how long", "zh": "数量或时长"},
}
_UNSAID_JOIN = {"en": " or ", "zh": "和"}
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
        self.curated: CuratedAnswers | None = None

    def use_curated(self, source: CuratedSource) -> CuratedAnswers:
        """Answer from `source`'s curated answers first, from now on."""
        self.curated = CuratedAnswers(source, self.embeddings.embed_query)
        return self.curated

    @property
    def index_version(self) -> str | None:
        return self.index.index_version

    @property
    def cache_hits(self) -> int:
        """Answers given from memory so far: questions asked before in the same version."""
        return self._answer.cache_info().hits

    def clear_cache(self) -> None:
        """Forget remembered answers (after changing how answers are made, as calibration does)."""
        self._answer.cache_clear()

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
        language = question_language(question)
        reply = small_talk_reply(question, language)
        if reply is not None:
            return Answer(
                answer=reply, abstained=False, language=language, latency_ms=_since(started)
            )
        if not re.search(r"\w", question):
            return Answer(
                answer=_EMPTY[language],
                abstained=True,
                language=language,
                latency_ms=_since(started),
            )
        retriever = await self.index.current()  # one index version for the whole answer
        if retriever is None:
            return self._not_ready(language, started)
        question = retriever.index.glossary.simplified(question)  # the documents' characters
        asked = question
        if self._composer is not None and history:
            question = await self._composer.rewrite_followup(question, history)
        else:
            question = resolve_followup(question, history)
        if question != asked and _language_neutral(asked):  # "SC-230?": the conversation's
            language = question_language(question)
        curated = await self._curated_match(retriever, question, role, language)
        if curated is not None:
            return replace(_curated_answer(curated, language), latency_ms=_since(started))
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

    async def embed_questions(self, questions: Sequence[str]) -> np.ndarray:
        """Questions embedded as queries in the wording they are compared in (to group them by
        what they ask), one row each."""
        embed = self.embeddings.embed_query
        vectors = await asyncio.get_running_loop().run_in_executor(
            model_thread.executor(), lambda: [embed(comparable(q)) for q in questions]
        )
        return np.array(vectors, np.float32).reshape(len(questions), -1)

    async def question_space(self) -> QuestionSpace:
        """Where questions are compared: the loaded index version's (computed on first use)."""
        retriever = await self.index.current()
        if retriever is None:
            return FLAT
        return await asyncio.get_running_loop().run_in_executor(
            model_thread.executor(), lambda: retriever.question_space
        )

    async def _curated_match(
        self, retriever: Retriever, question: str, role: Role, language: str
    ) -> CuratedMatch | None:
        """The curated answer to this question, if staff have written one the role may read."""
        if self.curated is None:
            return None
        await self.curated.refresh()
        if not self.curated.entries:
            return None
        query, space = await asyncio.get_running_loop().run_in_executor(
            model_thread.executor(),
            lambda: (retriever.embed_query(comparable(question)), retriever.question_space),
        )
        return self.curated.match(query, language, role, space)

    def _not_ready(self, language: str, started: float) -> Answer:
        """No index version is loaded: a server that may come back, or one to rebuild."""
        text = (_SERVER_DOWN if self.index.server_down else _NO_INDEX)[language]
        return Answer(answer=text, abstained=True, language=language, latency_ms=_since(started))


def _curated_answer(match: CuratedMatch, language: str) -> Answer:
    passage = match.passage(language)
    return Answer(
        answer=match.text(language),
        abstained=False,
        language=language,
        cited=(passage,),
        retrieved=(passage,),
        evidence=match.similarity,
    )


def _not_covered(
    language: str, evidence: Evidence, concepts: Sequence[Concept], closest: Passage | None
) -> str:
    """What the documents do not cover, named where the question names it, with what they
    come closest to and who to ask."""
    if closest is None:
        return _NOT_COVERED[language]
    missing = [c.word for c in evidence.missing(concepts, closest)][:2]
    return _specific_not_covered(language, missing, closest) if missing else _NOT_COVERED[language]


def _specific_not_covered(language: str, words: Sequence[str], closest: Passage) -> str:
    quote = "“{}”" if language == "zh" else '"{}"'
    what = _UNSAID_JOIN[language].join(quote.format(word) for word in words)
    return _SPECIFIC_NOT_COVERED[language].format(what=what, closest=closest.source.label)


def question_language(question: str) -> str:
    """The question's language; course codes ("SC-230呢？") tell none."""
    return detect_language(CODE.sub(" ", question))


def _language_neutral(question: str) -> bool:
    """Nothing but a code or a name, at most one word to tell the language by."""
    rest = CODE.sub(" ", question)
    return not has_chinese(rest) and len(re.findall(r"[A-Za-z]{3,}", rest)) <= 1


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
    question = retriever.evidence.corrected(question)
    structured = _structured(retriever, question, role, language, abstain_below)
    if structured is not None:
        watch.lap("compose")
        # A calculation may be worded by a chat model: it is among the passages it is given.
        calculated = any(p.id == CALCULATION_ID for p in structured.retrieved)
        return replace(structured, timings=watch.laps), calculated
    course_query = parse_course_query(question)
    if course_query is not None:
        answer = _course_listing(retriever, course_query, role, language)
        watch.lap("compose")
        return replace(answer, timings=watch.laps), False
    passages = tuple(retriever.search(question, role, passages_wanted, watch))
    single = len(question_parts(question)) == 1  # an FAQ entry answers one question
    known = retriever.known_question(question, role, language) if single else None
    if known is not None and known[1] >= KNOWN_QUESTION:  # a paraphrase of an FAQ entry
        faq, similarity = known
        watch.lap("compose")
        text = answer_from_section(faq, language)
        answer = Answer(
            answer=text,
            abstained=False,
            language=language,
            cited=(faq,),
            retrieved=(faq, *(p for p in passages if p != faq)),
            evidence=similarity,
        )
        return replace(answer, timings=watch.laps), True
    evidence = retriever.evidence
    concepts = evidence.concepts(question)
    supports = [evidence.passage_support(concepts, p) for p in passages]
    best = max(supports, default=0.0)
    closest = passages[supports.index(best)] if passages else None
    not_covered = Answer(
        answer=_not_covered(language, evidence, concepts, closest),
        abstained=True,
        language=language,
        retrieved=passages,
        evidence=best,
    )
    if best < abstain_below:
        watch.lap("compose")
        return replace(not_covered, timings=watch.laps), True
    kinds = asked_kinds(question)
    parts = [evidence.concepts(part) for part in question_parts(question)]
    extracted = extract(concepts, evidence, passages, language, kinds, parts)
    watch.lap("compose")
    # No sentence speaks to the question (the passages matched by their headings alone), or
    # none holds any kind of fact asked for: not covered.
    decisive = [kind for kind in kinds if kind in DECISIVE]
    if not extracted.cited or (decisive and len(extracted.missing) == len(decisive)):
        return replace(not_covered, timings=watch.laps), True
    unstated = [t for t in named_specifics(question) if not evidence.states(t, extracted.body)]
    if unstated:  # "who is the president": the reply names no president
        text = _specific_not_covered(language, unstated, extracted.cited[0])
        return replace(not_covered, answer=text, timings=watch.laps), True
    text = extracted.text
    if extracted.missing:  # one part of the question is answered, another is not
        unsaid = _UNSAID_JOIN[language].join(_UNSAID[kind][language] for kind in extracted.missing)
        text = f"{text}\n\n{_PART_NOT_COVERED[language].format(what=unsaid)}"
    answer = replace(not_covered, answer=text, abstained=False, cited=tuple(extracted.cited))
    return replace(answer, timings=watch.laps), True


def _structured(
    retriever: Retriever, question: str, role: Role, language: str, abstain_below: float
) -> Answer | None:
    """An answer computed from structured data: a rule applied to the learner's own numbers,
    or the catalogue's fields for a named course (or the plain fact that there is none)."""
    calculation = calculate(question, language, retriever.readable(role))
    if calculation is not None:
        rule = calculation.rule.passage
        note = sample_note((rule,), language)
        worked = Passage(
            id=CALCULATION_ID,
            text=re.sub(r" \[\d+\]", "", calculation.text),
            metadata={**rule.metadata, "section": f"{rule.source.section} ({_WORKED[language]})"},
        )
        return Answer(
            answer=f"{calculation.text}\n\n{note}" if note else calculation.text,
            abstained=not calculation.covered,
            language=language,
            cited=(rule,),
            retrieved=(rule, worked),
            evidence=1.0,
        )
    course = course_answer(question, retriever.courses(role), language)
    if course is not None and course.found:
        # Something the course's entry does not hold ("its final exam"): not this answer.
        evidence = retriever.evidence
        concepts = evidence.concepts(question)
        if min(evidence.passage_support(concepts, c) for c in course.cited) < abstain_below:
            return None
    if course is not None:
        return Answer(
            answer=course.text,
            abstained=not course.found,
            language=language,
            cited=tuple(course.cited),
            retrieved=tuple(course.cited),
            evidence=1.0 if course.found else 0.0,
        )
    return None


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
