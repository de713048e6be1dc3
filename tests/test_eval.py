"""The question corpus, the evaluation harness on the shipped knowledge base, and the gates on
the held-out parts.

The floors are the held-out figures the engine measured, rounded down (see the README's
evaluation table): the suite fails when the engine gets worse on questions nothing was tuned
on. The issue's targets are reported by `python -m bot.eval`, not asserted here; latency
neither."""

import asyncio
import json
from collections import Counter

import pytest
from conftest import KNOWLEDGE
from processes import run

from bot.engine.answering import Engine
from bot.engine.retrieval import PublishedIndex, Retriever
from bot.eval import curated
from bot.eval.__main__ import as_text, missed_targets
from bot.eval.corpus import label_problems, load_corpus, writers
from bot.eval.gold import HELDOUT_PATH, load_gold
from bot.eval.scoring import Outcome, by_kind, format_table, run_gold, score

# Measured 2026-12-04 on the corpus's held-out part (four writers whose questions serve nothing
# else), rounded down with a question's slack for another CPU's arithmetic; see the README's
# evaluation section. Measured: key facts 0.854 / 0.869, unanswerable handled 0.792 / 0.792,
# follow-ups 0.958 / 0.958, wrongly refused 0.046 / 0.052.
HELDOUT_FLOORS = {
    "en": {"key_fact_rate": 0.84, "unanswerable_handled": 0.78, "followups_right": 0.91},
    "zh": {"key_fact_rate": 0.85, "unanswerable_handled": 0.78, "followups_right": 0.91},
}
HELDOUT_CEILINGS = {"wrongly_refused": 0.06}
# The older gold file's held-out part, a second check nothing was chosen on. Measured: key facts
# 0.800 / 0.836, unanswerable handled 0.808 / 0.885.
GOLD_HELDOUT_FLOORS = {
    "en": {"key_fact_rate": 0.78, "unanswerable_handled": 0.76},
    "zh": {"key_fact_rate": 0.81, "unanswerable_handled": 0.84},
}


@pytest.fixture(scope="module")
def engine(shipped_index, real_embeddings) -> Engine:
    return Engine(shipped_index, Retriever(PublishedIndex.load(shipped_index), real_embeddings))


@pytest.fixture(scope="module")
def heldout(engine) -> list[Outcome]:
    return asyncio.run(run_gold(engine, load_corpus(["heldout"])))


@pytest.fixture(scope="module")
def command(shipped_index):
    """`python -m bot.eval` on both gold parts, run once: the old held-out gold's floors and the
    curated answers' bounds are read from its report."""
    result = run(["bot.eval", "--json", "--parts", "gold,gold-heldout"], shipped_index)
    return result, json.loads(result.stdout)


def test_the_corpus_has_its_size_mix_and_split_by_writer():
    corpus = load_corpus()
    assert len(corpus) >= 3000
    for language in ("en", "zh"):
        share = sum(q.lang == language for q in corpus) / len(corpus)
        assert 0.49 <= share <= 0.51, language
    unanswerable = [q for q in corpus if not q.answerable]
    assert len(unanswerable) >= 0.4 * len(corpus)
    assert sum(q.category == "near-miss" for q in unanswerable) > len(unanswerable) / 2
    parts = writers()
    assert set(parts.values()) == {"train", "dev", "heldout"}
    held = [q for q in corpus if q.split == "heldout"]
    assert len(held) >= len(corpus) / 4
    assert {q.writer for q in held} == {w for w, part in parts.items() if part == "heldout"}
    # No question is in two parts (a short follow-up may recur after another question). The
    # check counts, so that a failure prints no held-out question.
    asked = {(q.question, tuple(q.history)) for q in corpus if q.split != "heldout"}
    assert sum((q.question, tuple(q.history)) in asked for q in held) == 0
    kinds = Counter(q.category for q in held)
    for kind in ("everyday", "scenario", "multipart", "followup", "catalogue", "cross-language",
                 "staff", "near-miss", "off-topic", "false-premise", "leak"):  # fmt: skip
        assert kinds[kind] >= 8, kind


def test_every_label_holds_against_the_documents():
    assert label_problems(load_corpus(), KNOWLEDGE) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"evidence": ["A sentence no document holds."]}, "evidence not in its documents"),
        ({"facts": ["not in any document"]}, "is in none of its documents"),
        ({"answerable": False, "missing": ""}, "says what no document gives"),
        ({"docs": ["charter/none.en.md"]}, "no document charter/none.en.md"),
        ({"question": "When? The alliance was established in Chengdu on 8 June 2020."},
         "copies document text"),
    ],
)  # fmt: skip
def test_the_label_check_finds_what_is_wrong(change, problem):
    [question] = [q for q in load_corpus(["train"]) if q.id == "w01-001"]
    assert label_problems([question], KNOWLEDGE) == []
    problems = label_problems([question.model_copy(update=change)], KNOWLEDGE)
    assert any(problem in found for found in problems), problems


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_held_out_part_stays_above_its_floors(heldout, language):
    metrics = score(heldout)[language]
    assert metrics["staff_leaks"] == 0
    for name, floor in HELDOUT_FLOORS[language].items():
        assert metrics[name] >= floor, (name, metrics[name])
    for name, ceiling in HELDOUT_CEILINGS.items():
        assert metrics[name] <= ceiling, (name, metrics[name])


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_old_held_out_gold_stays_above_its_floors(command, language):
    _, report = command
    metrics = report["parts"]["gold-heldout"]["metrics"][language]
    assert metrics["staff_leaks"] == 0
    for name, floor in GOLD_HELDOUT_FLOORS[language].items():
        assert metrics[name] >= floor, (name, metrics[name])


def test_report_table_kinds_and_targets(heldout):
    report = score(heldout)
    table = format_table(report)
    assert table.splitlines()[0] == "| metric | en | zh | all |"
    assert "followups_right" in table and "near_misses_handled" in table
    kinds = by_kind(heldout)
    assert kinds and sum(k["questions"] for k in kinds.values()) == len(heldout)
    broken = {lang: dict(metrics, staff_leaks=1) for lang, metrics in report.items()}
    assert any(line.startswith("en staff_leaks 1") for line in missed_targets(broken))


def test_the_command_reports_its_parts_and_prints_no_held_out_question(command):
    result, report = command
    assert set(report["parts"]) == {"gold", "gold-heldout"}
    for part in report["parts"].values():
        assert set(part["metrics"]) == {"en", "zh", "all"}
    assert result.returncode == 0  # the corpus's held-out part was not asked for
    held = load_gold(HELDOUT_PATH, "gold-heldout")
    printed = {failure["id"] for failure in report["failures"]}
    assert printed and all(failure["part"] == "gold" for failure in report["failures"])
    assert not printed & {q.id for q in held}
    text = as_text(report)  # what the command prints without --json
    assert "gold-heldout:" in text and f"✗ {next(iter(printed))}:" in text
    assert not any(f"{q.id}: {q.question}\n" in text for q in held)
    assert set(report["curated"]) == {"tuning", "heldout"}
    assert report["curated"]["heldout"]["paraphrases"] > 0
    assert not any(q.question in result.stdout for q in curated.CuratedSet.load().heldout)


def test_unknown_parts_are_a_usage_error(shipped_index):
    result = run(["bot.eval", "--parts", "dev,secret"], shipped_index)
    assert result.returncode == 2 and "parts are among" in result.stderr


# Curated answers (bot/eval/curated.yaml), measured on the held-out part: see the README.
CURATED_FLOORS = {"match_rate": 0.30, "same_language": 0.17, "other_language": 0.40}
CURATED_CEILINGS = {"false_matches": 0.05, "wrong_answer": 0.02}


def test_the_curated_set_is_split_and_no_question_is_in_both_parts():
    data = curated.CuratedSet.load()
    assert len(data.entries) >= 20
    assert {e.language for e in data.entries} == {"en", "zh"}
    assert any(e.audience == "staff" for e in data.entries)
    tuning = {q.question for q in data.tuning}
    assert not tuning & {q.question for q in data.heldout}
    assert not {e.question for e in data.entries} & (tuning | {q.question for q in data.heldout})
    for part in (data.tuning, data.heldout):
        assert sum(q.expect is None for q in part) >= 30  # near misses and other questions
        assert sum(q.expect is not None for q in part) >= 40


def test_curated_answers_on_the_held_out_part_stay_within_their_bounds(command):
    _, report = command
    metrics = report["curated"]["heldout"]
    assert metrics["staff_leaks"] == 0  # learners never get a staff-only answer
    for name, floor in CURATED_FLOORS.items():
        assert metrics[name] >= floor, (name, metrics[name])
    for name, ceiling in CURATED_CEILINGS.items():
        assert metrics[name] <= ceiling, (name, metrics[name])


def test_missing_index_is_a_clear_error(tmp_path, settings):
    result = run(["bot.eval", "--index", str(tmp_path / "none")], settings)
    assert result.returncode == 2 and "python -m ingest" in result.stderr
