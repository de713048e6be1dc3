"""Asking the assistant, for every channel: the length and pace limits, the conversation's
earlier turns, the engine's answer and its entry in the question log."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta

from alliance.settings import Settings
from bot.engine.answering import Engine
from bot.engine.results import Answer, Role
from bot.store.database import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asker:
    """Who asks, where: the conversation is (chat_id, user_id); `pace_id` is whose allowance of
    questions a question spends (the user in Telegram, the client's address on the web), a
    burst of `per_minute`."""

    user_id: int
    chat_id: int
    role: Role
    pace_id: int
    per_minute: int


@dataclass(frozen=True)
class Asked:
    answer: Answer
    question_id: int


@dataclass(frozen=True)
class TooLong:
    length: int
    limit: int


@dataclass(frozen=True)
class SlowDown:
    seconds: int  # until the next question may be asked, at least 1


async def ask(
    store: Store, engine: Engine, settings: Settings, asker: Asker, question: str
) -> Asked | TooLong | SlowDown:
    """Answer `question` in the asker's conversation and log it; refused when over the length
    limit or the asker's pace."""
    limit = settings.max_question_chars
    if len(question) > limit:
        return TooLong(len(question), limit)
    wait = await store.take_question(asker.pace_id, asker.per_minute)
    if wait:
        return SlowDown(max(1, round(wait)))
    max_age = timedelta(seconds=settings.history_max_age_s)
    history = await store.history(asker.chat_id, asker.user_id, settings.history_turns, max_age)
    answer = await engine.answer(question, asker.role, history)
    question_id = await store.log_question(
        user_id=asker.user_id,
        chat_id=asker.chat_id,
        question=question,
        answer=answer.answer,
        language=answer.language,
        abstained=answer.abstained,
        latency_ms=answer.latency_ms,
        sources=cited_passages(answer),
    )
    log.info(
        "answered user %s in chat %s in %.0f ms (role=%s, abstained=%s, sources=%d)",
        asker.user_id,
        asker.chat_id,
        answer.latency_ms,
        asker.role,
        answer.abstained,
        len(answer.cited),
    )
    if settings.log_message_text:
        log.debug("user %s asked %r", asker.user_id, question)
    return Asked(answer, question_id)


def cited_passages(answer: Answer) -> list[dict[str, str]]:
    """The answer's citations with their passage text, as a channel's sources view shows them
    (and the question log keeps them)."""
    return [{**asdict(passage.source), "text": passage.text} for passage in answer.cited]
