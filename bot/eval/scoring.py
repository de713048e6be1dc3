"""Run the gold set through the engine and score it."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.eval.gold import GoldQuestion

if TYPE_CHECKING:
    from bot.engine.answering import Engine
    from bot.engine.results import Answer

RECALL_DEPTH = 5
MAX_ANSWER_CHARS = 900  # a right answer is also a readable one


@dataclass(frozen=True)
class Outcome:
    gold: GoldQuestion
    answer: Answer

    @property
    def hit_rank(self) -> int | None:
        """1-based rank of the first retrieved passage from a file that answers it."""
        for rank, passage in enumerate(self.answer.retrieved[:RECALL_DEPTH], start=1):
            if passage.metadata.get("path") in self.gold.docs:
                return rank
        return None

    @property
    def has_facts(self) -> bool:
        """Answered (not refused), every key fact present, short enough to read."""
        answer = self.answer
        return (
            not answer.abstained
            and len(answer.answer) <= MAX_ANSWER_CHARS
            and all(fact in answer.answer for fact in self.gold.facts)
        )

    @property
    def right(self) -> bool:
        """Handled as it should be: answered with its facts, or refused when unanswerable; a
        false premise may also be answered with the facts that correct it."""
        if self.leaked:
            return False
        if self.gold.answerable:
            return self.has_facts
        corrected = self.gold.category == "false-premise" and bool(self.gold.facts)
        return self.answer.abstained or (corrected and self.has_facts)

    @property
    def leaked(self) -> bool:
        """A learner's answer cites a staff-only document or holds staff-only text (a marker
        the learner's own question holds is only their words said back)."""
        if self.gold.role != "learner":
            return False
        cites_staff = any(source.audience == "staff" for source in self.answer.sources)
        markers = [m for m in self.gold.leak if m not in self.gold.question]
        return cites_staff or any(marker in self.answer.answer for marker in markers)


async def run_gold(engine: Engine, gold: list[GoldQuestion]) -> list[Outcome]:
    outcomes = []
    for item in gold:
        history = [(asked, "") for asked in item.history]
        answer = await engine.answer(item.question, item.role, history)
        outcomes.append(Outcome(item, answer))
    return outcomes


def _share(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def score(outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    """Metrics per language and overall."""
    report: dict[str, dict] = {}
    for language in ("en", "zh", "all"):
        group = [o for o in outcomes if language in ("all", o.gold.lang)]
        answerable = [o for o in group if o.gold.answerable]
        unanswerable = [o for o in group if not o.gold.answerable]
        abstained = [o for o in group if o.answer.abstained]
        ranks = [o.hit_rank for o in answerable]
        latencies = [o.answer.latency_ms for o in group]
        followups = [o for o in answerable if o.gold.history]
        staff = [o for o in answerable if o.gold.role == "staff"]

        def handled(kind: str, among: list[Outcome] = unanswerable) -> float | None:
            mine = [o for o in among if o.gold.category == kind]
            return _share(sum(o.right for o in mine), len(mine))

        report[language] = {
            "questions": len(group),
            "recall@1": _share(sum(r == 1 for r in ranks), len(ranks)),
            "recall@5": _share(sum(r is not None for r in ranks), len(ranks)),
            "mrr": round(statistics.fmean(1 / r if r else 0.0 for r in ranks), 3)
            if ranks
            else None,
            "key_fact_rate": _share(sum(o.has_facts for o in answerable), len(answerable)),
            "wrongly_refused": _share(sum(o.answer.abstained for o in answerable), len(answerable)),
            "abstention_precision": _share(
                sum(not o.gold.answerable for o in abstained), len(abstained)
            ),
            "unanswerable_handled": _share(sum(o.right for o in unanswerable), len(unanswerable)),
            "near_misses_handled": handled("near-miss"),
            "off_topic_handled": handled("off-topic"),
            "false_premises_handled": handled("false-premise"),
            "leak_probes_handled": handled("leak"),
            "followups_right": _share(sum(o.has_facts for o in followups), len(followups)),
            "staff_right": _share(sum(o.has_facts for o in staff), len(staff)),
            "staff_leaks": sum(o.leaked for o in group),
            "latency_p50_ms": _percentile(latencies, 0.5),
            "latency_p95_ms": _percentile(latencies, 0.95),
        }
    return report


def by_kind(outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    """Per kind of question: how many, and the share handled right (answerable ones answered
    with their facts, the others refused)."""
    kinds: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        kinds.setdefault(outcome.gold.category, []).append(outcome)
    return {
        kind: {
            "questions": len(group),
            "right": _share(sum(o.right for o in group), len(group)),
        }
        for kind, group in sorted(kinds.items())
    }


def format_table(report: dict[str, dict[str, Any]]) -> str:
    columns = list(report)
    rows = ["| metric | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for metric in report[columns[0]]:
        values = ["–" if report[c][metric] is None else str(report[c][metric]) for c in columns]
        rows.append(f"| {metric} | " + " | ".join(values) + " |")
    return "\n".join(rows)
