"""Run the project's entry points as real processes, the way an admin or a deployment does."""

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alliance.settings import Settings
from bench.bot_api_emulator import BotAPIEmulator
from bench.bot_load import free_port, stop

__all__ = [
    "bot_variables",
    "environment",
    "free_port",
    "handled",
    "logged",
    "polling_bot",
    "run",
    "start",
    "start_bot",
    "stop",
]

REPO = Path(__file__).resolve().parent.parent


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key.upper() not in _SETTINGS}
    env |= {
        "KNOWLEDGE_DIR": str(settings.knowledge_dir),
        "INDEX_DIR": str(settings.index_dir),
        # beside the index, never the default data/ of the checkout the tests run in
        "DATABASE_URL": f"sqlite+aiosqlite:///{settings.index_dir.parent / 'assistant.db'}",
        "PYTHONPATH": str(REPO),
        **extra,
    }
    return env


_SETTINGS = {name.upper() for name in Settings.model_fields}


def run(module_args: list[str], settings: Settings, stdin: str = "", **extra: str):
    return subprocess.run(
        [sys.executable, "-m", *module_args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment(settings, **extra),
        timeout=300,
    )


def start(module_args: list[str], settings: Settings, log: Path, **extra: str) -> subprocess.Popen:
    """A long-running process whose output goes to `log`: a pipe nobody reads would fill up
    and block the process."""
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *module_args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment(settings, **extra),
        )


def start_bot(
    settings: Settings, log: Path, emulator: BotAPIEmulator, **extra: str
) -> subprocess.Popen:
    """`python -m bot run` talking to the Bot API emulator."""
    return start(["bot", "run"], settings, log, **bot_variables(emulator), **extra)


def bot_variables(emulator: BotAPIEmulator) -> dict[str, str]:
    """What points a bot at the emulator."""
    return {"TELEGRAM_BOT_TOKEN": emulator.token, "TELEGRAM_API_BASE_URL": emulator.base_url}


@contextlib.contextmanager
def polling_bot(
    settings: Settings, log: Path, emulator: BotAPIEmulator, **extra: str
) -> Iterator[subprocess.Popen]:
    """`start_bot`, waiting until the bot polls (failing the test with its log if it never
    does), and stopped afterwards."""
    process = start_bot(settings, log, emulator, **extra)
    try:
        if not emulator.wait_for_call("getUpdates", timeout=120):
            process.kill()
            pytest.fail(f"the bot never polled: {log.read_text()[-3000:]}")
        yield process
    finally:
        stop(process)


def handled(log: Path, update_id: int, timeout: float = 60) -> bool:
    """Wait until the bot's log says it handled update `update_id`: everything the update
    caused (replies, relays, error messages) has happened, and so have all earlier updates of
    its chat. How a test proves that something did not happen, without sleeping."""
    return logged(log, f"update {update_id} handled\n", timeout=timeout)


def logged(log: Path, mark: str, times: int = 1, timeout: float = 60) -> bool:
    """Wait until `mark` is in the log `times` times."""
    deadline = time.monotonic() + timeout
    while log.read_text(errors="replace").count(mark) < times:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
