"""Warm in-process answer latency by stage (extractive mode), beside the pipeline a typical
LangChain user writes over the same index and model: Chroma `similarity_search`, top 4, the
passages joined."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from alliance.index_format import IndexLayout, open_client
from bench.stats import percentile, spread
from bot.eval.scoring import run_gold, score

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from alliance.settings import Settings
    from bot.engine.answering import Engine
    from bot.eval.gold import GoldQuestion

STAGES = ("embed", "dense", "keyword", "fusion", "judge", "compose")
BASELINE_K = 4


def engine_latency(engine: Engine, gold: list[GoldQuestion], rounds: int) -> dict:
    """Per language: p50 / p95 / p99 of whole answers and the median of each stage, each a
    median over `rounds` passes of the gold set; recall@5 from the last pass. Beside them, the
    floor: one query embedding of each question, by the same model, in each pass."""
    embed = engine.embeddings.embed_query

    async def passes() -> tuple[list, list[dict[str, list[float]]]]:
        await run_gold(engine, gold)  # warm-up
        answered, floors = [], []
        for _ in range(rounds):
            answered.append(await run_gold(engine, gold))
            floor: dict[str, list[float]] = {"en": [], "zh": []}
            for item in gold:
                started = time.perf_counter()
                embed(item.question)
                floor[item.lang].append((time.perf_counter() - started) * 1000)
            floors.append(floor)
        return answered, floors

    runs, floors = asyncio.run(passes())
    report = {}
    for language in ("en", "zh"):
        per_run = [[o for o in outcomes if o.gold.lang == language] for outcomes in runs]
        totals = [[o.answer.latency_ms for o in outcomes] for outcomes in per_run]
        report[language] = {
            "p50_ms": spread([percentile(t, 50) for t in totals]),
            "p95_ms": spread([percentile(t, 95) for t in totals]),
            "p99_ms": spread([percentile(t, 99) for t in totals]),
            "stages_ms": {
                stage: spread(
                    [
                        percentile([o.answer.timings.get(stage, 0.0) for o in outcomes], 50)
                        for outcomes in per_run
                    ]
                )
                for stage in STAGES
            },
            "recall@5": score(runs[-1])[language]["recall@5"],
            "floor_p50_ms": spread([percentile(f[language], 50) for f in floors]),
            "floor_p95_ms": spread([percentile(f[language], 95) for f in floors]),
        }
    return report


def langchain_baseline(
    settings: Settings, embeddings: Embeddings, gold: list[GoldQuestion], rounds: int
) -> dict:
    """The same questions through langchain-chroma over the published collection."""
    from langchain_chroma import Chroma

    layout = IndexLayout(settings.index_dir)
    version = layout.published_version()
    manifest = layout.read_manifest(version)
    client = open_client(settings, layout, version, manifest.store["kind"])
    store = Chroma(
        client=client,
        collection_name=manifest.store["collection"],
        embedding_function=embeddings,
    )
    for item in gold[:3]:  # warm-up
        store.similarity_search(item.question, k=BASELINE_K)
    latencies: dict[str, list[list[float]]] = {"en": [], "zh": []}
    hits: dict[str, list[bool]] = {"en": [], "zh": []}
    for run in range(rounds):
        for language in latencies:
            latencies[language].append([])
        for item in gold:
            started = time.perf_counter()
            documents = store.similarity_search(item.question, k=BASELINE_K)
            "\n\n".join(document.page_content for document in documents)
            latencies[item.lang][run].append((time.perf_counter() - started) * 1000)
            if run == 0 and item.answerable and item.docs:
                hits[item.lang].append(any(d.metadata.get("path") in item.docs for d in documents))
    return {
        language: {
            "p50_ms": spread([percentile(t, 50) for t in latencies[language]]),
            "p95_ms": spread([percentile(t, 95) for t in latencies[language]]),
            "p99_ms": spread([percentile(t, 99) for t in latencies[language]]),
            "recall@5": round(sum(hits[language]) / len(hits[language]), 3),
        }
        for language in latencies
    }
