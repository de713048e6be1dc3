"""The answer engine's one entry point: `await engine.answer(question, role, history)`."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from alliance import model_thread
from alliance.language import detect_language, has_chinese
from bot.engine.answer_kinds import DECISIVE, holds
from bot.engine.calculators import calculate
from bot.engine.courses import (
    CODE,
    CourseQuery,
    catalogue_fields,
    course_answer,
    course_fields,
    list_courses,
    named_courses,
    parse_course_filters,
    parse_course_query,
)
from bot.engine.curated import CuratedAnswers, CuratedMatch, CuratedSource
from bot.engine.extractive import compose, sample_note
from bot.engine.followups import resolve_followup
from bot.engine.index_watch import IndexWatcher
from bot.engine.judge import Judge, Verdict, packaged_judge
from bot.engine.names import translate
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

ANSWER_CACHE = 2048  # answers kept per index version for repeated questions
# The admin pages group thousands of logged questions by what they ask. They are embedded one at
# a time, each one turn on the model thread, so a learner's question waits behind one embedding,
# not behind all of them; and each wording once per process. Measured (bench/admin_pages.py, 500
# questions an opening, 2 cores, learner p95): 10 s beside one job of them all; 357 ms beside
# batches of 16, 120 ms of 4, 53 ms of 1 (quiet: 33-45 ms). An opening takes as long either way
# (8.6 s one at a time, 8.8 s in one job).
EMBED_BATCH = 1
QUESTION_VECTORS = 50_000  # question vectors remembered (about 75 MB at 384 dimensions)

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
_SPECIFIC_NOT_COVERED = {  # the words are missing from the closest passage, not all documents
    "en": "The documents do not answer this, so I cannot answer it reliably (the closest they "
    "come is {closest}, which does not mention {what}). Please ask your home branch "
    "(workstation).",
    "zh": "文件中没有能回答这个问题的内容，我无法可靠地回答（最接近的内容是：{closest}，"
    "其中没有提到{what}）。请咨询您所属的分校（工作站）。",
}
_CLOSEST = {
    "en": "The documents do not answer this, so I cannot answer it reliably (the closest they "
    "come is {closest}). Please ask your home branch (workstation).",
    "zh": "文件中没有能回答这个问题的内容，我无法可靠地回答（最接近的内容是：{closest}）。"
    "请咨询您所属的分校（工作站）。",
}
_COURSE_NOT_GIVEN = {
    "en": "The catalogue gives {course}'s {fields}, not {what}. Please ask your home branch "
    "(workstation).",
    "zh": "课程目录给出了{course}的{fields}，没有{what}。请咨询您所属的分校（工作站）。",
}
_WHAT_YOU_ASKED = {"en": "what you asked", "zh": "您问的内容"}
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
# What a learner is told meanwhile: the how-to above is for staff and admins.
_UNAVAILABLE = {
    "en": "The assistant is temporarily unavailable while its documents are being prepared. "
    "Please try again later, or ask your branch (workstation).",
    "zh": "助手正在准备文件，暂时无法使用。请稍后再试，或咨询您所属的分校（工作站）。",
}
_SERVER_DOWN = {
    "en": "The assistant is temporarily unavailable: its document server does not answer. "
    "Please try again in a few minutes.",
    "zh": "助手暂时无法使用：文件索引服务器没有响应。请几分钟后再试。",
}


def clean_question(text: str) -> str:
    """Control and format characters out, whitespace folded. The length is the core's to
    refuse (MAX_QUESTION_CHARS), never cut here."""
    kept = "".join(
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char
        for char in text
        if unicodedata.category(char) != "Cf"
    )
    return re.sub(r"\s+", " ", kept).strip()


class Engine:
    """Grounded answers over the published index; blocking work runs on the model thread, and
    a newly published index version is picked up between requests (see `IndexWatcher`)."""

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever | None,
        *,
        composer: GenerativeComposer | None = None,
        judge: Judge | None = None,
        answer_cache: int = ANSWER_CACHE,
        embeddings: Embeddings | None = None,
    ) -> None:
        """Without a retriever (no usable index at start-up) the engine says so to every
        question, and starts answering once ingest publishes a version; `embeddings` is then
        the model to search it with. `judge`: the packaged one for the settings' embedding
        backend unless given."""
        model = retriever.embeddings if retriever is not None else embeddings
        if model is None:
            raise ValueError("an engine without a retriever needs its embeddings")
        self._settings = settings
        self.judge = judge or packaged_judge(settings.embedding_backend)
        # Retrieval and judgement are a function of the index version, the question, the
        # role and the judge: repeated questions are answered from memory.
        self._answer = functools.lru_cache(maxsize=answer_cache)(_answer)
        self._composer = composer
        self.index = IndexWatcher(settings, retriever, model, on_switch=self._answer.cache_clear)
        self.curated: CuratedAnswers | None = None
        self._question_vectors: OrderedDict[str, list[float]] = OrderedDict()
        # The FAQ's questions by language, of the retriever they were read from.
        self._suggested: tuple[Retriever | None, dict[str, list[str]]] = (None, {})

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
        """Forget remembered answers (after changing how answers are made, as training does)."""
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
            return self._not_ready(language, role, started)
        query = parse_course_filters(clean_question(filters))
        answer = _course_listing(retriever, query, role, language)
        return replace(answer, latency_ms=_since(started))

    async def suggestions(self, language: str, count: int = 4) -> list[str]:
        """Questions to start from on an empty chat: the headings of the learners' FAQ that
        ask something, in `language`, in the FAQ's order; none without an index."""
        retriever = await self.index.current()
        if retriever is None:
            return []
        if self._suggested[0] is not retriever:  # read once per index version
            self._suggested = (retriever, {})
        known = self._suggested[1]
        if language not in known:
            known[language] = _faq_questions(retriever, language)
        return known[language][:count]

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
            return self._not_ready(language, role, started)
        context = None
        if self._composer is not None and history:
            question = await self._composer.rewrite_followup(question, history)
            question, language = read_question(retriever, question, ())
        else:
            context = in_context(retriever, question, history)
            question, language = read_question(retriever, question, history)
        curated = await self._curated_match(retriever, question, role, language)
        if curated is not None:
            return replace(_curated_answer(curated, language), latency_ms=_since(started))
        # On the model thread: the query embedding inside runs there without a hand-over.
        answer, from_passages = await asyncio.get_running_loop().run_in_executor(
            model_thread.executor(),
            self._answer,
            retriever,
            self.judge,
            question,
            role,
            language,
            context,
        )
        if self._composer is not None and from_passages and not answer.abstained:
            answer = await self._phrase(question, answer)
        return replace(answer, latency_ms=_since(started))

    async def _phrase(self, question: str, extracted: Answer) -> Answer:
        """The chat model's wording of an answer from the same passages; the extractive answer
        when the model fails, cites what it was not given, or finds no answer where the judge
        found one (the judge decides abstention in both modes)."""
        assert self._composer is not None
        # What the extractive answer cites first, then the next best passages, top_k in all.
        given = [*extracted.cited, *(p for p in extracted.retrieved if p not in extracted.cited)]
        composed = await self._composer.compose(
            question, given[: self._settings.top_k], extracted.language
        )
        if isinstance(composed, NotCovered):
            log.info("the chat model found no answer the judge found; answered extractively")
        if isinstance(composed, Composed):
            return replace(extracted, answer=composed.text, cited=composed.cited)
        return extracted

    async def embed_questions(self, questions: Sequence[str]) -> np.ndarray:
        """Questions embedded as queries in the wording they are compared in (to group them by
        what they ask), one row each: EMBED_BATCH at a time on the model thread, so answers
        are given in between, and each wording once."""
        wordings = [comparable(q) for q in questions]
        known = self._question_vectors
        missing = list(dict.fromkeys(w for w in wordings if w not in known))
        embed = self.embeddings.embed_query
        loop = asyncio.get_running_loop()
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            vectors = await loop.run_in_executor(model_thread.executor(), _embed_each, embed, batch)
            known.update(zip(batch, vectors, strict=True))
        rows = []
        for wording in wordings:
            known.move_to_end(wording)
            rows.append(known[wording])
        while len(known) > QUESTION_VECTORS:
            known.popitem(last=False)
        return np.array(rows, np.float32).reshape(len(questions), -1 if rows else 0)

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

    def _not_ready(self, language: str, role: Role, started: float) -> Answer:
        """No index version is loaded: a server that may come back, or one to rebuild (how,
        for staff and admins; learners are told it is unavailable for now)."""
        if self.index.server_down:
            text = _SERVER_DOWN[language]
        else:
            text = (_UNAVAILABLE if role == "learner" else _NO_INDEX)[language]
        return Answer(answer=text, abstained=True, language=language, latency_ms=_since(started))


def _faq_questions(retriever: Retriever, language: str) -> list[str]:
    """The learners' FAQ headings in `language` that ask something, in the FAQ's order."""
    found: list[str] = []
    for passage in retriever.index.passages.values():
        meta, section = passage.metadata, str(passage.metadata.get("section", ""))
        faq = meta.get("topic") == "faq" and meta.get("audience") == "public"
        asks = meta.get("lang") == language and section.endswith(("?", "？"))
        if faq and asks and section not in found:
            found.append(section)
    return found


def _embed_each(embed: Callable[[str], list[float]], texts: list[str]) -> list[list[float]]:
    return [embed(text) for text in texts]


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


def question_language(question: str) -> str:
    """The question's language; course codes ("SC-230呢？") tell none."""
    return detect_language(CODE.sub(" ", question))


def _language_neutral(question: str) -> bool:
    """Nothing but a code or a name, at most one word to tell the language by."""
    rest = CODE.sub(" ", question)
    return not has_chinese(rest) and len(re.findall(r"[A-Za-z]{3,}", rest)) <= 1


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def read_question(
    retriever: Retriever, question: str, history: Sequence[tuple[str, str]]
) -> tuple[str, str]:
    """A question as the engine reads it, with its language: in the documents' characters, a
    follow-up rewritten from the previous question (a bare "SC-230?" takes the conversation's
    language). `_answer` then reads misspelt English words as the documents' words."""
    text = retriever.index.glossary.simplified(clean_question(question))
    language = question_language(text)
    resolved = resolve_followup(text, history)
    if resolved != text and _language_neutral(text):
        language = question_language(resolved)
    return resolved, language


def in_context(
    retriever: Retriever, question: str, history: Sequence[tuple[str, str]]
) -> str | None:
    """The question read after the one before it, for a follow-up that leans on it without
    the words `resolve_followup` knows ("and how long until I hear back?"); None without one."""
    if not history:
        return None
    joined = f"{history[-1][0]} {question}"
    return read_question(retriever, joined, ())[0]


def _answer(
    retriever: Retriever,
    judge: Judge,
    question: str,
    role: Role,
    language: str,
    context: str | None = None,
) -> tuple[Answer, bool]:
    """The blocking part: an answer computed from structured data, a course listing, or the
    judge's verdict on the retrieved sentences (the question's, or its reading in `context`
    when the judge finds that one better answered); True when the answer rests on retrieved
    passages a chat model may rephrase."""
    watch = Stopwatch()
    question = retriever.evidence.corrected(question)
    if context is not None:
        context = retriever.evidence.corrected(context)
    structured = _structured(retriever, question, role, language)
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
    verdict = judge.judge(retriever, question, language, role, watch)
    if context is not None and context != question:
        joined = judge.judge(retriever, context, language, role, watch)
        verdict = max(verdict, joined, key=lambda v: v.answered)
    translation = translate(retriever, verdict.asked, verdict.candidates)
    if translation is not None:  # a name asked in the other language: both wordings, cited
        pair = [translation.named, *translation.translated]
        extracted = compose(retriever, pair, language, verdict.asked.wanted)
        return _judged(extracted.text, extracted.cited, verdict, language, watch), True
    if not verdict.covered:
        text = _not_covered(retriever, verdict, role, language)
        return _judged(text, (), verdict, language, watch), False
    courses = named_courses(question, retriever.courses(role), language)
    fields = course_fields(question, courses, language)
    if fields is not None:  # the catalogue's fields asked for, of the courses named
        answer = _judged(fields.text, fields.cited, verdict, language, watch)
        return replace(answer, retrieved=tuple(fields.cited)), True
    extracted = compose(retriever, verdict.chosen, language, verdict.asked.wanted)
    text = extracted.text
    unsaid = [
        kind
        for kind in verdict.asked.kinds
        if kind in DECISIVE and not any(holds(kind, c.text) for c in verdict.chosen)
    ]
    if unsaid:  # one part of the question is answered, another is not
        what = _UNSAID_JOIN[language].join(_UNSAID[kind][language] for kind in unsaid)
        text = f"{text}\n\n{_PART_NOT_COVERED[language].format(what=what)}"
    return _judged(text, extracted.cited, verdict, language, watch), True


def _judged(
    text: str, cited: Sequence[Passage], verdict: Verdict, language: str, watch: Stopwatch
) -> Answer:
    """An answer the judge decided on: abstained when it cites nothing."""
    watch.lap("compose")
    return Answer(
        answer=text,
        abstained=not cited,
        language=language,
        cited=tuple(cited),
        retrieved=tuple(verdict.passages),
        evidence=verdict.answered,
        timings=watch.laps,
    )


def _not_covered(retriever: Retriever, verdict: Verdict, role: Role, language: str) -> str:
    """What the documents do not give: for a course the catalogue lists, what its entry does
    give; otherwise the question's words the closest passage lacks, and that passage."""
    quote = "“{}”" if language == "zh" else '"{}"'
    evidence = retriever.evidence
    courses = named_courses(verdict.asked.text, retriever.courses(role), language)
    if len(courses) == 1:
        [course] = courses
        missing = [c.word for c in evidence.missing(verdict.asked.concepts, course)][:2]
        what = _UNSAID_JOIN[language].join(quote.format(word) for word in missing)
        return _COURSE_NOT_GIVEN[language].format(
            course=course.metadata["course_code"],
            fields=catalogue_fields(language),
            what=what or _WHAT_YOU_ASKED[language],
        )
    if not verdict.candidates:
        return _NOT_COVERED[language]
    closest = verdict.candidates[int(np.argmax(verdict.probabilities))].passage
    missing = [c.word for c in evidence.missing(verdict.asked.concepts, closest)][:2]
    if not missing:
        return _CLOSEST[language].format(closest=closest.source.label)
    what = _UNSAID_JOIN[language].join(quote.format(word) for word in missing)
    return _SPECIFIC_NOT_COVERED[language].format(what=what, closest=closest.source.label)


def _structured(retriever: Retriever, question: str, role: Role, language: str) -> Answer | None:
    """An answer computed from structured data: a rule applied to the learner's own numbers,
    the course with the most or fewest credits, or the plain fact that a course code is not
    in the catalogue."""
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
    if course is None:
        return None
    return Answer(
        answer=course.text,
        abstained=not course.found,
        language=language,
        cited=tuple(course.cited),
        retrieved=tuple(course.cited),
        evidence=1.0 if course.found else 0.0,
    )


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
