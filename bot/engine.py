"""The answer engine's one entry point: `await engine.answer(question, role, history)`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from alliance.language import detect_language
from bot.answers import Answer, Passage, Role
from bot.retrieval import PublishedIndex, Retriever

if TYPE_CHECKING:
    from alliance.settings import Settings

MAX_QUESTION_CHARS = 2000

_EMPTY = {
    "en": "Please type a question about the alliance, credit transfer or shared courses.",
    "zh": "请输入您想了解的问题，例如联盟章程、学分银行或共享课程。",
}
_NOT_FOUND = {
    "en": "The knowledge base has nothing on this. Please ask your home branch (workstation).",
    "zh": "知识库中没有找到相关内容，请咨询您所属的分校（工作站）。",
}
_SAMPLE_NOTE = {
    "en": "Note: [{n}] quote sample text, not the official rules.",
    "zh": "注意：[{n}] 为示例文本，并非正式规定。",
}


def _compose(passages: Sequence[Passage], language: str) -> str:
    """Until the answer engine lands: the best passages, numbered, with sample-text warnings."""
    lines = [f"[{number}] {passage.text}" for number, passage in enumerate(passages, start=1)]
    samples = [
        str(number)
        for number, passage in enumerate(passages, start=1)
        if passage.metadata.get("status") == "sample"
    ]
    if samples:
        lines.append(_SAMPLE_NOTE[language].format(n="], [".join(samples)))
    return "\n\n".join(lines)


class Engine:
    """Retrieval-backed answers; model and index work run off the event loop."""

    def __init__(self, settings: Settings, retriever: Retriever) -> None:
        self._settings = settings
        self.retriever = retriever

    async def answer(
        self, question: str, role: Role = "learner", history: Sequence[tuple[str, str]] = ()
    ) -> Answer:
        started = time.perf_counter()
        question = question.strip()[:MAX_QUESTION_CHARS]
        language = detect_language(question)
        if not question:
            return Answer(answer=_EMPTY[language], abstained=True, language=language)
        passages = await asyncio.to_thread(
            self.retriever.search, question, role, self._settings.top_k
        )
        elapsed = (time.perf_counter() - started) * 1000
        if not passages:
            return Answer(_NOT_FOUND[language], True, language, latency_ms=elapsed)
        return Answer(
            answer=_compose(passages, language),
            abstained=False,
            language=language,
            sources=[passage.source for passage in passages],
            latency_ms=elapsed,
            passages=list(passages),
        )


def build_engine(settings: Settings) -> Engine:
    """Open the published index, then load the model (seconds): a missing index fails fast."""
    from alliance.embeddings import make_embeddings

    index = PublishedIndex.load(settings)
    return Engine(settings, Retriever(index, make_embeddings(settings)))
