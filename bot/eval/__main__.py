"""`python -m bot.eval [--index DIR] [--gold FILE] [--json] [--calibrate]`: score the engine on
the gold set; exit 1 when a target is missed."""

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from alliance.embeddings import embedding_spec
from alliance.errors import AllianceError
from alliance.logging_setup import configure_logging
from alliance.settings import Settings, settings_or_exit
from bot.engine.factory import build_engine
from bot.eval.gold import GOLD_PATH, load_gold
from bot.eval.scoring import calibrate, format_table, run_gold, score

# The targets; the test suite holds the engine to what it measured (tests/test_eval.py).
TARGETS = {
    "recall@5": 0.95,
    "abstention_recall": 0.90,
    "wrongly_refused": 0.05,
    "staff_leaks": 0,
}


def missed_targets(report: dict[str, dict]) -> list[str]:
    missed = []
    for language in ("en", "zh"):
        metrics = report[language]
        if metrics["recall@5"] < TARGETS["recall@5"]:
            missed.append(f"{language} recall@5 {metrics['recall@5']}")
        if metrics["abstention_recall"] < TARGETS["abstention_recall"]:
            missed.append(f"{language} abstention recall {metrics['abstention_recall']}")
        if metrics["wrongly_refused"] > TARGETS["wrongly_refused"]:
            missed.append(f"{language} wrongly refused {metrics['wrongly_refused']}")
        if metrics["staff_leaks"] > TARGETS["staff_leaks"]:
            missed.append(f"{language} staff leaks {metrics['staff_leaks']}")
    return missed


async def _evaluate(settings: Settings, gold_path: Path, calibrating: bool) -> dict:
    engine = build_engine(settings)
    if calibrating:
        engine.abstain_below = {"en": 0.0, "zh": 0.0}
    gold = load_gold(gold_path)
    await run_gold(engine, gold[:3])  # warm-up: first calls pay for lazy initialisation
    outcomes = await run_gold(engine, gold)
    report: dict[str, object] = {
        "embedding": embedding_spec(settings).model,
        "metrics": score(outcomes),
    }
    if calibrating:
        report["calibration"] = calibrate(outcomes)
    report["failures"] = [
        {"id": o.gold.id, "question": o.gold.question, "answer": o.answer.answer[:200]}
        for o in outcomes
        if (o.gold.answerable and not o.has_facts)
        or (not o.gold.answerable and not o.answer.abstained)
    ]
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.eval", description=__doc__)
    parser.add_argument("--index", type=Path, help="index folder (default: INDEX_DIR)")
    parser.add_argument("--gold", type=Path, default=GOLD_PATH, help="gold set (YAML)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--calibrate", action="store_true", help="also choose abstention thresholds from the set"
    )
    args = parser.parse_args(argv)
    settings = settings_or_exit("bot.eval", index_dir=args.index)
    configure_logging("WARNING")
    try:
        report = asyncio.run(_evaluate(settings, args.gold, args.calibrate))
    except (AllianceError, OSError, ValueError) as exc:
        print(f"bot.eval: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"Embedding: {report['embedding']}\n\n{format_table(report['metrics'])}")
        if args.calibrate:
            print(f"\nCalibration: {json.dumps(report['calibration'])}")
        for failure in report["failures"]:
            print(f"\n✗ {failure['id']}: {failure['question']}\n  → {failure['answer']}")
    missed = missed_targets(report["metrics"])
    if missed:
        print(f"\nmissed targets: {'; '.join(missed)}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
