"""The real bot process under load through the Bot API emulator: cold start to the first
answer, then simultaneous users each asking their next question when the last one is
answered; answered messages per second, time from update to reply, lost and duplicated
replies, and the bot's resident memory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bench.bot_api_emulator import BotAPIEmulator
from bench.stats import percentile

if TYPE_CHECKING:
    from alliance.settings import Settings

TOKEN = "424242:BENCHMARK-token-for-the-emulator-only"
REPO = Path(__file__).resolve().parent.parent


@dataclass
class _User:
    questions: list[str]
    asked_at: list[float] = field(default_factory=list)
    replies: list[float] = field(default_factory=list)


class _Driver:
    """Closed loop: a user's next question goes out when the bot's reply arrives."""

    def __init__(self, emulator: BotAPIEmulator, users: dict[int, _User]) -> None:
        self._emulator = emulator
        self._users = users
        self._lock = threading.Lock()
        self.done = threading.Event()
        self._outstanding = len(users)

    def start(self) -> None:
        for user_id in self._users:
            self._ask(user_id)

    def _ask(self, user_id: int) -> None:
        user = self._users[user_id]
        question = user.questions[len(user.asked_at)]
        user.asked_at.append(time.perf_counter())
        self._emulator.user_message(question, user_id=user_id)

    def on_sent(self, message: dict) -> None:
        now = time.perf_counter()
        user_id = message["chat"]["id"]
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                return
            user.replies.append(now)
            if len(user.replies) > len(user.asked_at):
                return  # a duplicate: counted, not answered again
            if len(user.asked_at) < len(user.questions):
                self._ask(user_id)
            elif len(user.replies) == len(user.questions):
                self._outstanding -= 1
                if self._outstanding == 0:
                    self.done.set()


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak resident memory of a running process, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def run_load(
    settings: Settings,
    questions: list[str],
    users: int,
    per_user: int,
    database: Path,
    during: Callable[[BotAPIEmulator, int], AbstractContextManager] = lambda _e, _p: nullcontext(),
) -> dict:
    """`during(emulator, pid)` is entered for the timed load (the soak injects faults there)."""
    with BotAPIEmulator(TOKEN) as emulator:
        env = process_environment(
            settings,
            database,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=emulator.base_url,
            # The emulator has no flood limits: measure the bot's own capacity.
            USER_QUESTIONS_PER_MINUTE="600",
            TELEGRAM_MESSAGES_PER_SECOND="0",
        )
        log = database.with_suffix(".log")
        started = time.perf_counter()
        with log.open("w") as output:  # a pipe nobody reads could fill and stall the bot
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], env=env, stdout=output, stderr=output
            )
        try:
            emulator.user_message(questions[0], user_id=1)
            if not emulator.wait_for_messages(1, timeout=120):
                stop(process)
                raise RuntimeError(f"the bot never answered: {log.read_text()[-2000:]}")
            cold_start_s = time.perf_counter() - started
            population = {
                1000 + n: _User(
                    [questions[(n * per_user + i) % len(questions)] for i in range(per_user)]
                )
                for n in range(users)
            }
            driver = _Driver(emulator, population)
            emulator.on_sent = driver.on_sent
            began = time.perf_counter()
            with during(emulator, process.pid):
                driver.start()
                finished = driver.done.wait(timeout=900)
                elapsed = time.perf_counter() - began
            time.sleep(1.0)  # late duplicates would arrive now
            rss_mb, peak_mb = peak_rss_mb(process.pid)
        finally:
            stop(process)
    waits = [
        reply - asked
        for user in population.values()
        for asked, reply in zip(user.asked_at, user.replies, strict=False)
    ]
    answered = sum(min(len(u.replies), len(u.questions)) for u in population.values())
    return {
        "cold_start_s": round(cold_start_s, 2),
        "users": users,
        "questions": users * per_user,
        "answered": answered,
        "lost": users * per_user - answered,
        "duplicated": sum(max(0, len(u.replies) - len(u.questions)) for u in population.values()),
        "finished": finished,
        "messages_per_s": round(answered / elapsed, 1),
        "reply_p50_ms": round(percentile(waits, 50) * 1000, 1),
        "reply_p95_ms": round(percentile(waits, 95) * 1000, 1),
        "rss_mb": round(rss_mb),
        "peak_rss_mb": round(peak_mb),
    }


def process_environment(settings: Settings, database: Path, **variables: str) -> dict[str, str]:
    """What a channel's process under load runs with: this checkout, the run's index and
    model, its own SQLite database, warnings only, and `variables`."""
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "KNOWLEDGE_DIR": str(settings.knowledge_dir),
        "INDEX_DIR": str(settings.index_dir),
        "EMBEDDING_BACKEND": settings.embedding_backend,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "LOG_LEVEL": "WARNING",
        **variables,
    }


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on, for a server a run (or a test) starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop(process: subprocess.Popen, how: int = signal.SIGTERM) -> None:
    """Ask a long-running process to stop (as a container runtime does), and kill it if it has
    not stopped in 30 seconds."""
    if process.poll() is not None:
        return
    process.send_signal(how)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
