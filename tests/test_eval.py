"""The evaluation harness on the shipped knowledge base, with the thresholds the engine meets.

Thresholds are the measured figures rounded down (see the README's evaluation table); raise
them as the engine improves. Latency is reported by the harness, never asserted here."""

import json

import pytest
from processes import run

from bot.engine.answering import Engine
from bot.engine.retrieval import PublishedIndex, Retriever
from bot.eval.__main__ import missed_targets
from bot.eval.gold import load_gold
from bot.eval.scoring import Outcome, calibrate, format_table, run_gold, score

THRESHOLDS = {
    "recall@5": 0.95,
    "mrr": 0.90,
    "key_fact_rate": 0.80,
    "abstention_recall": 0.40,
    "wrongly_refused": 0.05,
}


@pytest.fixture(scope="module")
def outcomes(shipped_index, real_embeddings) -> list[Outcome]:
    import asyncio

    engine = Engine(shipped_index, Retriever(PublishedIndex.load(shipped_index), real_embeddings))
    return asyncio.run(run_gold(engine, load_gold()))


def test_gold_set_shape():
    gold = load_gold()
    assert len(gold) >= 80
    for language in ("en", "zh"):
        assert sum(q.lang == language for q in gold) >= 40
    assert sum(not q.answerable and not q.leak for q in gold) >= 15
    assert sum(bool(q.history) for q in gold) >= 4
    assert sum(bool(q.leak) for q in gold) >= 4


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_engine_meets_its_measured_thresholds(outcomes, language):
    metrics = score(outcomes)[language]
    assert metrics["staff_leaks"] == 0
    assert metrics["recall@5"] >= THRESHOLDS["recall@5"]
    assert metrics["mrr"] >= THRESHOLDS["mrr"]
    assert metrics["key_fact_rate"] >= THRESHOLDS["key_fact_rate"]
    assert metrics["abstention_recall"] >= THRESHOLDS["abstention_recall"]
    assert metrics["wrongly_refused"] <= THRESHOLDS["wrongly_refused"]


def test_report_table_and_targets(outcomes):
    report = score(outcomes)
    table = format_table(report)
    assert table.splitlines()[0] == "| metric | en | zh | all |"
    assert "recall@5" in table and "staff_leaks" in table
    broken = {lang: dict(metrics, staff_leaks=1) for lang, metrics in report.items()}
    assert "en staff leaks 1" in missed_targets(broken)


def test_calibration_keeps_wrong_refusals_within_bounds(outcomes):
    chosen = calibrate(outcomes)
    assert set(chosen) == {"en", "zh"}
    for choice in chosen.values():
        # A threshold that catches something, within the allowed wrong refusals.
        assert 0 < choice["threshold"] <= 1 and choice["caught"] > 0
        assert choice["wrongly_refused"] <= 0.05


def test_the_command_prints_json_and_reports_missed_targets(shipped_index):
    result = run(["bot.eval", "--json"], shipped_index)
    report = json.loads(result.stdout)
    assert set(report["metrics"]) == {"en", "zh", "all"}
    # Abstention misses the 90% target today: the command says so with exit status 1.
    assert result.returncode == (1 if missed_targets(report["metrics"]) else 0)


def test_missing_index_is_a_clear_error(tmp_path, settings):
    result = run(["bot.eval", "--index", str(tmp_path / "none")], settings)
    assert result.returncode == 2 and "python -m ingest" in result.stderr
