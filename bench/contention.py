"""Answer latency when the CPU is busy: `python -m bot ask --json` answering questions it has
never seen, quiet and then beside a neighbour (an ingest re-embedding a knowledge base in a
loop, or two processes spinning), in the same run so the figures compare."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bench.stats import percentile, spread

if TYPE_CHECKING:
    from alliance.settings import Settings

_SPIN = "while True: pass"
NEIGHBOUR_WARM_UP_S = 3.0  # a fresh ingest imports and loads its model first


def _environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "KNOWLEDGE_DIR": str(settings.knowledge_dir),
        "INDEX_DIR": str(settings.index_dir),
        "LOG_LEVEL": "WARNING",
    }


def _latencies(settings: Settings, questions: list[str]) -> list[float]:
    """Each question answered once by a fresh process: nothing comes from a cache."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"],
        input="\n".join(questions) + "\n",
        capture_output=True,
        text=True,
        env=_environment(settings),
        timeout=900,
        check=True,
    )
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    if len(answers) != len(questions):
        raise RuntimeError(f"{len(answers)} answers to {len(questions)} questions")
    return [float(answer["latency_ms"]) for answer in answers]


@contextlib.contextmanager
def _ingest_beside(settings: Settings, work: Path) -> Iterator[None]:
    """Full ingests of the knowledge base (every chunk embedded) one after another."""
    stop = threading.Event()
    running: list[subprocess.Popen[bytes]] = []

    def loop() -> None:
        index = work / "neighbour-index"
        while not stop.is_set():
            shutil.rmtree(index, ignore_errors=True)
            environment = {**_environment(settings), "INDEX_DIR": str(index)}
            process = subprocess.Popen(
                [sys.executable, "-m", "ingest"],
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            running[:] = [process]
            process.wait()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    time.sleep(NEIGHBOUR_WARM_UP_S)  # past its start-up, into the embedding
    try:
        yield
    finally:
        stop.set()
        for process in running:
            process.kill()
        thread.join()


@contextlib.contextmanager
def _spinners(count: int) -> Iterator[None]:
    processes = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(count)]
    try:
        yield
    finally:
        for process in processes:
            process.kill()
            process.wait()


def run_contention(settings: Settings, questions: list[str], rounds: int, work: Path) -> dict:
    """p50 / p95 of first answers, quiet and under each kind of neighbour, rounds alternating
    so that a drift of the machine's speed affects every condition alike."""
    conditions: dict[str, Callable[[], contextlib.AbstractContextManager[object]]] = {
        "quiet": contextlib.nullcontext,
        "ingest": lambda: _ingest_beside(settings, work),
        "two_spinners": lambda: _spinners(2),
    }
    runs: dict[str, list[list[float]]] = {name: [] for name in conditions}
    _latencies(settings, questions[:3])  # the model files into the page cache
    for _ in range(rounds):
        for name, neighbour in conditions.items():
            with neighbour():
                runs[name].append(_latencies(settings, questions))
    return {
        name: {
            "p50_ms": spread([percentile(run, 50) for run in measured]),
            "p95_ms": spread([percentile(run, 95) for run in measured]),
        }
        for name, measured in runs.items()
    }
