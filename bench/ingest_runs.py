"""Ingest runs measured in their own processes (time, peak memory, embedding throughput against
the model's raw batch speed), and synthetic knowledge bases to scale them."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from langchain_core.embeddings import Embeddings

REPO = Path(__file__).resolve().parent.parent
SECTIONS_PER_DOCUMENT = 10  # each section is one chunk of about the shipped chunks' length

_EN_WORDS = [
    "credit",
    "bank",
    "learner",
    "branch",
    "course",
    "semester",
    "transfer",
    "recognition",
    "certificate",
    "online",
    "teacher",
    "university",
    "alliance",
    "charter",
    "application",
    "result",
    "appeal",
    "module",
    "credits",
    "record",
    "workstation",
    "region",
    "lifelong",
    "education",
    "quality",
    "resource",
    "platform",
    "exam",
    "enrolment",
    "policy",
]
_ZH_WORDS = [
    "学分",
    "银行",
    "学习者",
    "分校",
    "课程",
    "学期",
    "转换",
    "认定",
    "证书",
    "线上",
    "教师",
    "高校",
    "联盟",
    "章程",
    "申请",
    "结果",
    "复核",
    "模块",
    "记录",
    "工作站",
    "区域",
    "终身",
    "教育",
    "质量",
    "资源",
    "平台",
    "考试",
    "报名",
    "政策",
]
_FRONT_MATTER = """---
title: {title}
topic: faq
audience: public
lang: {lang}
status: sample
source: synthetic benchmark text
updated: 2026-11-28
---
"""


def make_corpus(folder: Path, chunks: int, seed: int = 7) -> None:
    """Documents of SECTIONS_PER_DOCUMENT short sections, half English, half Chinese."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(chunks // SECTIONS_PER_DOCUMENT):
        chinese = number % 2 == 1
        words, joiner = (_ZH_WORDS, "") if chinese else (_EN_WORDS, " ")
        sections = []
        for section in range(SECTIONS_PER_DOCUMENT):
            size = 60 if chinese else 28  # about 170 characters, as the shipped chunks
            sentence = joiner.join(rng.choice(words) for _ in range(size))
            sections.append(f"## Section {section}\n\n{sentence}{'。' if chinese else '.'}\n")
        title = f"Synthetic document {number}"
        front = _FRONT_MATTER.format(title=title, lang="zh" if chinese else "en")
        (folder / f"doc-{number:05d}.md").write_text(
            f"{front}\n# {title}\n\n" + "\n".join(sections), encoding="utf-8"
        )


def measure_ingest(knowledge: Path, index: Path, env: dict[str, str] | None = None) -> dict:
    """Run one ingest in a fresh process and return what it measured."""
    command = [sys.executable, "-m", "bench.ingest_runs", str(knowledge), str(index)]
    started = time.perf_counter()
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {}), "PYTHONPATH": str(REPO)},
        timeout=1800,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"ingest run failed: {result.stderr[-2000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["wall_s"] = round(time.perf_counter() - started, 2)
    return figures


def _peak_rss_mb() -> int:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's when
    the process was spawned from a large one)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    raise RuntimeError("no VmHWM in /proc/self/status")


class _Recording(Embeddings):
    """The model, remembering the texts ingest embeds (to embed them again, raw)."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def _child(knowledge: Path, index: Path) -> None:
    """In the measured process: ingest, timing the embedding-and-writing stage, then embed the
    same new chunks again in one go for the model's raw batch speed."""
    from alliance.embeddings import make_embeddings
    from alliance.settings import Settings
    from ingest.pipeline import run_ingest

    settings = Settings(knowledge_dir=knowledge, index_dir=index)
    marks: dict[str, float] = {}
    loaded: list[_Recording] = []

    def listener(stage: str, done: int, total: int) -> None:
        marks.setdefault(stage, time.perf_counter())

    def factory(chosen: Settings) -> _Recording:
        loaded.append(_Recording(make_embeddings(chosen)))
        return loaded[0]

    started = time.perf_counter()
    summary = run_ingest(settings, embeddings_factory=factory, listener=listener)
    texts = loaded[0].texts if loaded else []
    seconds = time.perf_counter() - started
    figures = {
        "seconds": round(seconds, 2),
        "chunks": summary.chunks,
        "embedded": len(texts),
        "peak_rss_mb": _peak_rss_mb(),
    }
    if texts:
        stage = marks["publishing"] - marks["embedding"]
        figures["ingest_chunks_per_s"] = round(len(texts) / stage, 1)
        sample = texts[:256]
        raw_started = time.perf_counter()
        for start in range(0, len(sample), settings.embedding_batch_size):
            loaded[0].inner.embed_documents(sample[start : start + settings.embedding_batch_size])
        figures["raw_chunks_per_s"] = round(len(sample) / (time.perf_counter() - raw_started), 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    _child(Path(sys.argv[1]), Path(sys.argv[2]))
