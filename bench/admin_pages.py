"""A learner's answer latency while an admin opens the pages that group logged questions (the
dashboard's gaps, the review queue, /gaps): quiet, beside the engine's batched embedding
(`Engine.embed_questions`), and beside the way it was done before, every question in one job on
the model thread. Measured in one process, in the same run, so the three compare.

`python -m bench.admin_pages [--logged 2000] [--rounds 3]` runs it alone on the shipped
knowledge base (the whole benchmark, `python -m bench`, has it too)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from alliance import model_thread
from alliance.embeddings import make_embeddings
from alliance.settings import Settings
from bench.stats import percentile, spread
from bot.engine.answering import Engine
from bot.engine.question_space import comparable
from bot.engine.retrieval import PublishedIndex, Retriever

REPO = Path(__file__).resolve().parent.parent
Grouping = Callable[[Engine, list[str]], Awaitable[object]]


async def _batched(engine: Engine, logged: list[str]) -> object:
    return await engine.embed_questions(logged)


async def _one_job(engine: Engine, logged: list[str]) -> object:
    """Before: every logged question embedded in one turn of the model thread."""
    embed = engine.embeddings.embed_query
    return await asyncio.get_running_loop().run_in_executor(
        model_thread.executor(), lambda: [embed(comparable(q)) for q in logged]
    )


@contextlib.asynccontextmanager
async def _admin_beside(
    engine: Engine, grouping: Grouping | None, logged: int, took: list[float]
) -> AsyncIterator[None]:
    """An admin opening the page again and again, each time over questions the process has not
    embedded yet (the first opening of the day: the costly one); `took` gets the seconds each
    opening that finished took."""
    if grouping is None:
        yield
        return

    async def keep_opening() -> None:
        for opening in itertools.count():
            questions = [f"what does logged question {opening}-{n} ask" for n in range(logged)]
            started = time.perf_counter()
            await grouping(engine, questions)
            took.append(time.perf_counter() - started)

    task = asyncio.create_task(keep_opening())
    await asyncio.sleep(0.2)  # the first opening is on the model thread
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _learner(engine: Engine, questions: list[str], run: int) -> list[float]:
    """Each question once, as a learner asks it (nothing answered from a cache)."""
    latencies = []
    for question in questions:
        answer = await engine.answer(f"{question} ({run})")
        latencies.append(answer.latency_ms)
    return latencies


def run_admin_pages(
    settings: Settings,
    questions: list[str],
    logged: int = 2000,
    rounds: int = 3,
    baseline: bool = True,
) -> dict[str, dict[str, dict[str, float]]]:
    """p50 and p95 of a learner's answers (medians over `rounds` runs) in each condition (the
    slow one-job baseline left out unless `baseline`), and the seconds an opening took."""
    embeddings = make_embeddings(settings)
    conditions: dict[str, Grouping | None] = {"quiet": None, "beside_batched": _batched}
    if baseline:
        conditions["beside_one_job"] = _one_job

    runs: dict[str, list[list[float]]] = {name: [] for name in conditions}
    took: dict[str, list[float]] = {name: [] for name in conditions}

    async def measure() -> None:
        for run in range(rounds):
            for name, grouping in conditions.items():
                retriever = Retriever(PublishedIndex.load(settings), embeddings, query_cache=0)
                engine = Engine(settings, retriever, answer_cache=0)
                async with _admin_beside(engine, grouping, logged, took[name]):
                    runs[name].append(await _learner(engine, questions, run))

    asyncio.run(measure())
    figures = {}
    for name, latencies in runs.items():
        figures[name] = {
            "p50_ms": spread([percentile(r, 50) for r in latencies]),
            "p95_ms": spread([percentile(r, 95) for r in latencies]),
        }
        if took[name]:
            figures[name]["opening_s"] = spread(took[name])
    return figures


def main() -> int:
    from bot.eval.gold import load_gold
    from ingest.pipeline import run_ingest

    parser = argparse.ArgumentParser(prog="python -m bench.admin_pages", description=__doc__)
    parser.add_argument("--logged", type=int, default=2000, help="questions an opening groups")
    parser.add_argument("--rounds", type=int, default=3, help="repeated runs per figure")
    parser.add_argument("--questions", type=int, default=60, help="learner questions per run")
    parser.add_argument(
        "--no-baseline", action="store_true", help="leave out the one-job baseline (slow)"
    )
    args = parser.parse_args()
    questions = [item.question for item in load_gold() if not item.history][: args.questions]
    with tempfile.TemporaryDirectory(prefix="alliance-bench-") as folder:
        work = Path(folder)
        shutil.copytree(REPO / "knowledge", work / "knowledge")
        settings = Settings(knowledge_dir=work / "knowledge", index_dir=work / "index")
        run_ingest(settings)
        figures = run_admin_pages(
            settings, questions, args.logged, args.rounds, baseline=not args.no_baseline
        )
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
