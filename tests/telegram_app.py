"""The bot of `python -m bot run` in the test's own process: the application `build_app` makes,
long polling the Bot API emulator over HTTP from a thread with its own event loop, on the
session's embedding model. No process to start and no model to load; the bot's log goes to a
file as a process's would, so tests wait for its markers (`processes.handled`) the same way.
The few tests about the process itself (signals, a kill, a restart) start the real one."""

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from in_process import logging_to, settings_for
from langchain_core.embeddings import Embeddings
from processes import bot_variables

from alliance.settings import Settings
from bench.bot_api_emulator import BotAPIEmulator
from bot.channels.telegram.app import build_app, poll
from bot.channels.telegram.context import BotApplication
from bot.engine.factory import build_engine


@contextlib.contextmanager
def telegram_bot(
    settings: Settings, embeddings: Embeddings, log: Path, emulator: BotAPIEmulator, **extra: str
) -> Iterator[Settings]:
    """The bot, polling until the block ends; what it runs with, for the test to read."""
    configured = settings_for(settings, **bot_variables(emulator), **extra)
    app = build_app(configured, build_engine(configured, without_index=True, embeddings=embeddings))
    loop = asyncio.new_event_loop()
    with logging_to(log, configured.log_level):
        polling = threading.Thread(target=_serve, args=(app, loop), name="bot", daemon=True)
        polling.start()
        try:
            started = emulator.wait_for(lambda: app.running, 60)
            if not (started and emulator.wait_for_call("getUpdates")):
                pytest.fail(f"the bot never polled: {log.read_text()[-3000:]}")
            yield configured
        finally:
            loop.call_soon_threadsafe(app.stop_running)
            polling.join(timeout=60)
    assert not polling.is_alive(), "the bot did not stop"


def _serve(app: BotApplication, loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)  # the thread's own; poll closes it
    poll(app, stop_signals=None)
