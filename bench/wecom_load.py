"""The real WeCom bot (`python -m bot wecom`) under load over its long connection: simultaneous
learners in single chats on the WeCom emulator, each asking its next question when the streamed
answer to its last has finished; answered questions per second, the latency learners see from
their message to the finished stream (p50, p95), questions lost (no finished answer) or answered
twice, and the bot's resident memory. `python -m bench.web_load` runs it beside the Telegram
bot and the web server (so does `python -m bench`)."""

from __future__ import annotations

import queue
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench.bot_load import peak_rss_mb, process_environment, stop
from bench.stats import percentile
from bench.wecom_emulator import Shown, WeComEmulator

if TYPE_CHECKING:
    from alliance.settings import Settings

QUIET_FOR_S = 2.0  # after the last answer: time for a duplicate to show


def run_wecom_load(
    settings: Settings, questions: list[str], learners: int, per_learner: int, database: Path
) -> dict:
    with WeComEmulator() as emulator:
        finished: queue.Queue[tuple[str | None, float]] = queue.Queue()

        def on_finish(shown: Shown) -> None:
            finished.put((shown.req_id, time.perf_counter()))

        emulator.on_finish = on_finish
        env = process_environment(
            settings,
            database,
            WECOM_BOT_ID=emulator.bot_id,
            WECOM_BOT_SECRET=emulator.secret,
            WECOM_WS_URL=emulator.url,
            USER_QUESTIONS_PER_MINUTE="600",  # the bot's capacity, not its allowance
        )
        log = database.with_suffix(".log")
        started = time.perf_counter()
        with log.open("w") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "wecom"], env=env, stdout=output, stderr=output
            )
        try:
            if not emulator.wait_for(lambda: emulator.subscriptions == 1, 120):
                raise RuntimeError(f"the WeCom bot never connected: {log.read_text()[-2000:]}")
            cold_start_s = time.perf_counter() - started
            figures = _load(emulator, finished, questions, learners, per_learner)
            rss_mb, peak_mb = peak_rss_mb(process.pid)
        finally:
            stop(process)
    return {
        "cold_start_s": round(cold_start_s, 2),
        "learners": learners,
        "questions": learners * per_learner,
        **figures,
        "rss_mb": round(rss_mb),
        "peak_rss_mb": round(peak_mb),
    }


def _load(
    emulator: WeComEmulator,
    finished: queue.Queue[tuple[str | None, float]],
    questions: list[str],
    learners: int,
    per_learner: int,
) -> dict:
    asked: dict[str, tuple[int, int, float]] = {}  # req_id -> learner, turn, when
    answered: dict[str, int] = {}  # req_id -> finished streams
    waits: list[float] = []

    def ask(learner: int, turn: int) -> None:
        question = questions[(learner * per_learner + turn) % len(questions)]
        req_id = emulator.user_message(
            question, userid=f"learner-{learner}", msgid=f"load-{learner}-{turn}"
        )
        asked[req_id] = (learner, turn, time.perf_counter())

    began = time.perf_counter()
    for learner in range(learners):
        ask(learner, 0)
    total, last = learners * per_learner, began
    while len(waits) < total:
        try:
            req_id, when = finished.get(timeout=120)
        except queue.Empty:
            break  # the rest are lost
        if req_id is None or req_id not in asked:
            continue
        answered[req_id] = answered.get(req_id, 0) + 1
        if answered[req_id] > 1:
            continue
        learner, turn, sent = asked[req_id]
        waits.append(when - sent)
        last = when
        if turn + 1 < per_learner:
            ask(learner, turn + 1)
    time.sleep(QUIET_FOR_S)
    while not finished.empty():
        req_id, _ = finished.get()
        if req_id in answered:
            answered[req_id] += 1
    elapsed = last - began
    return {
        "answered": len(waits),
        "lost": total - len(waits),
        "duplicated": sum(count - 1 for count in answered.values()),
        "answers_per_s": round(len(waits) / elapsed, 1) if elapsed > 0 else 0.0,
        "latency_p50_ms": round(percentile(waits, 50) * 1000, 1),
        "latency_p95_ms": round(percentile(waits, 95) * 1000, 1),
    }
