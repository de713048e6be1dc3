"""`python -m bot.eval [--index DIR] [--json] [--calibrate]`: score the engine on both parts of
the gold set, then with the curated answers of `curated.yaml` loaded, on both parts of its
paraphrases; exit 1 when the gold set's held-out part misses a target.

Only the tuning part's failures are printed, and only it is calibrated on: the held-out part is
reported as figures, never as questions, so nothing can be chosen by reading it.
"""

import argparse
import asyncio
import functools
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alliance.embeddings import embedding_spec
from alliance.errors import AllianceError
from alliance.logging_setup import configure_logging
from alliance.settings import Settings, settings_or_exit
from bot.engine.answering import ABSTAIN_BELOW, Engine
from bot.engine.common_words import informativeness
from bot.engine.factory import build_engine
from bot.eval import curated
from bot.eval.gold import GoldQuestion, load_both
from bot.eval.scoring import Outcome, by_kind, calibrate, format_table, run_gold, score

# The targets, held to on the held-out part (the test suite gates on measured floors).
TARGETS = {
    "key_fact_rate": 0.90,
    "wrongly_refused": 0.05,
    "abstention_recall": 0.85,
    "followups_right": 0.90,
    "staff_leaks": 0,
}


# Soft-match levels tried by --calibrate (1.01: no soft matching at all).
SOFT_MATCH_LEVELS = (0.90, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 1.01)
# (common, rare) rarity bounds of everyday words tried by --calibrate (see common_words); the
# first makes every word count in full.
INFORMATIVE_LEVELS = ((0.0, 0.1), (3.2, 4.2), (3.4, 4.4), (3.6, 4.6), (3.8, 5.0), (4.0, 5.4))


def missed_targets(report: dict[str, dict[str, Any]]) -> list[str]:
    """The targets one part's metrics miss, by language."""
    missed = []
    for language in ("en", "zh"):
        metrics = report[language]
        for name, target in TARGETS.items():
            value = metrics[name]
            if value is None:
                continue
            worse = value > target if name in ("wrongly_refused", "staff_leaks") else value < target
            if worse:
                missed.append(f"{language} {name} {value} (target {target})")
    return missed


async def _evaluate(settings: Settings, calibrating: bool) -> dict[str, Any]:
    engine = build_engine(settings)
    gold = load_both()
    await run_gold(engine, gold[:3])  # warm-up: first calls pay for lazy initialisation
    outcomes = await run_gold(engine, gold)
    tuning = [o for o in outcomes if o.gold.split == "tune"]
    heldout = [o for o in outcomes if o.gold.split == "heldout"]
    report: dict[str, Any] = {
        "embedding": embedding_spec(settings).model,
        "tune": {"metrics": score(tuning), "kinds": by_kind(tuning)},
        "heldout": {"metrics": score(heldout), "kinds": by_kind(heldout)},
        "failures": [_failure(o) for o in tuning if not o.right],
    }
    if calibrating:
        report["calibration"] = await _calibration(engine, [o.gold for o in tuning])
    report["curated"] = await _curated(engine, calibrating)
    return report


async def _curated(engine: Engine, calibrating: bool) -> dict[str, Any]:
    """Both parts of the curated answers' questions, through the engine with them loaded."""
    data = curated.CuratedSet.load()
    engine.use_curated(curated.FixedSource(data.as_entries()))
    engine.abstain_below = dict(ABSTAIN_BELOW)
    found: dict[str, Any] = {
        part: curated.score(await curated.run(engine, data, getattr(data, part)))
        for part in ("tuning", "heldout")
    }
    if calibrating:
        found["calibration"] = await curated.calibrate(engine, data)
    return found


async def _calibration(engine: Engine, tuning: list[GoldQuestion]) -> dict[str, Any]:
    """Abstention thresholds for each soft-match level and each bound of everyday words, chosen
    on the tuning part alone (one setting varied at a time, the other as shipped)."""
    retriever = engine.index.retriever
    assert retriever is not None  # build_engine loaded a version
    evidence = retriever.evidence
    shipped_soft, shipped_informative = evidence.soft_match, evidence.informative
    engine.abstain_below = {"en": 0.0, "zh": 0.0}

    async def calibrated() -> dict[str, dict]:
        engine.clear_cache()
        return calibrate(await run_gold(engine, tuning))

    soft: dict[str, Any] = {}
    for level in SOFT_MATCH_LEVELS:
        evidence.soft_match = {"en": level, "zh": level}
        soft[f"{level:.2f}"] = await calibrated()
    evidence.soft_match = shipped_soft
    everyday: dict[str, Any] = {}
    for common, rare in INFORMATIVE_LEVELS:
        bounds = {"en": (common, rare), "zh": (common, rare)}
        evidence.informative = functools.partial(informativeness, bounds=bounds)
        everyday[f"{common}-{rare}"] = await calibrated()
    evidence.informative = shipped_informative
    return {"soft_match": soft, "everyday_words": everyday}


def _failure(outcome: Outcome) -> dict[str, str]:
    return {
        "id": outcome.gold.id,
        "question": outcome.gold.question,
        "answer": outcome.answer.answer[:200],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.eval", description=__doc__)
    parser.add_argument("--index", type=Path, help="index folder (default: INDEX_DIR)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="also choose abstention thresholds, on the tuning part only",
    )
    args = parser.parse_args(argv)
    settings = settings_or_exit("bot.eval", index_dir=args.index)
    configure_logging("WARNING")
    try:
        report = asyncio.run(_evaluate(settings, args.calibrate))
    except (AllianceError, OSError, ValueError) as exc:
        print(f"bot.eval: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"Embedding: {report['embedding']}")
        for part in ("tune", "heldout"):
            print(f"\n{part}:\n{format_table(report[part]['metrics'])}")
            kinds = report[part]["kinds"]
            print(" ".join(f"{k} {v['right']} ({v['questions']})" for k, v in kinds.items()))
        for part in ("tuning", "heldout"):
            print(f"\ncurated answers, {part}: {json.dumps(report['curated'][part])}")
        if args.calibrate:
            print(f"\nCalibration (tuning part): {json.dumps(report['calibration'])}")
            print(f"curated answers: {json.dumps(report['curated']['calibration'])}")
        for failure in report["failures"]:
            print(f"\n✗ {failure['id']}: {failure['question']}\n  → {failure['answer']}")
    missed = missed_targets(report["heldout"]["metrics"])
    if missed:
        print(f"\nheld-out part misses targets: {'; '.join(missed)}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
