"""What operators watch, in Prometheus's text format (`/metrics` on the web server and on the
Telegram webhook server): questions and answers by channel and outcome, refusals and failures,
seconds per answering stage, tickets by state, the index's version and age. Labels name
channels, outcomes, stages and states only: never a person, a chat or what anyone wrote."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.engine.answering import CALCULATION_ID
from bot.engine.results import Answer
from bot.store.database import Store

CONTENT_TYPE = CONTENT_TYPE_LATEST
REGISTRY = CollectorRegistry()  # this process's (each replica is scraped on its own)
_SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

QUESTIONS = Counter(
    "alliance_questions", "Questions asked, by channel.", ["channel"], registry=REGISTRY
)
ANSWERS = Counter(
    "alliance_answers",
    "Answers given, by channel and outcome (answered, abstained, curated, calculator).",
    ["channel", "outcome"],
    registry=REGISTRY,
)
REFUSED = Counter(
    "alliance_refused_questions",
    "Questions refused before answering, by channel and reason (too_long, too_fast).",
    ["channel", "reason"],
    registry=REGISTRY,
)
FAILED = Counter(
    "alliance_failed_questions",
    "Questions whose answering raised an error, by channel.",
    ["channel"],
    registry=REGISTRY,
)
ANSWER_SECONDS = Histogram(
    "alliance_answer_seconds",
    "Seconds from a question to its logged answer, by channel.",
    ["channel"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
STAGE_SECONDS = Histogram(
    "alliance_answer_stage_seconds",
    "Seconds per answering stage (embed, dense, keyword, fusion, judge, compose).",
    ["stage"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
TICKETS = Gauge(
    "alliance_tickets", "Tickets of the staff loop, by state.", ["state"], registry=REGISTRY
)
INDEX_AGE = Gauge(
    "alliance_index_age_seconds",
    "Seconds since the served index version was built (absent without one).",
    registry=REGISTRY,
)
INDEX = Gauge(
    "alliance_index_info", "The served index version (value 1).", ["version"], registry=REGISTRY
)


def outcome(answer: Answer) -> str:
    """What kind of answer it was, as the metrics count it."""
    if answer.abstained:
        return "abstained"
    if any(passage.id.startswith("curated:") for passage in answer.cited):
        return "curated"
    if any(passage.id == CALCULATION_ID for passage in answer.retrieved):
        return "calculator"
    return "answered"


def answered(channel: str, answer: Answer, seconds: float) -> None:
    ANSWERS.labels(channel, outcome(answer)).inc()
    ANSWER_SECONDS.labels(channel).observe(seconds)
    for stage, milliseconds in answer.timings.items():
        STAGE_SECONDS.labels(stage).observe(milliseconds / 1000)


async def exposition(store: Store, index_version: str | None) -> bytes:
    """The metrics as a scrape reads them; the store's and the index's read now."""
    for state, count in (await store.tickets.count_by_state()).items():
        TICKETS.labels(state).set(count)
    INDEX.clear()
    built = _built_at(index_version)
    if index_version is not None:
        INDEX.labels(index_version).set(1)
    if built is not None:
        INDEX_AGE.set((datetime.now(UTC) - built).total_seconds())
    return generate_latest(REGISTRY)


def _built_at(version: str | None) -> datetime | None:
    """When a version ("20261206T014957Z-bda1a9") was built; None for another name."""
    try:
        return datetime.strptime((version or "")[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
