"""What a test needs to run a channel in its own process: the channel's log in a file, as the
process writes it (tests wait for its markers), and an event loop on a thread of its own."""

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from processes import environment

from alliance.logging_setup import FORMAT, quiet_libraries
from alliance.settings import Settings


def settings_for(settings: Settings, **variables: str) -> Settings:
    """The settings a process started on `settings` with these variables would read."""
    with mock.patch.dict(os.environ, environment(settings, **variables), clear=True):
        return Settings()


@contextlib.contextmanager
def logging_to(log: Path, level: str) -> Iterator[None]:
    """Every record in `log`, formatted as the process writes them."""
    root = logging.getLogger()
    handler = logging.FileHandler(log, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    before = root.level
    root.setLevel(level)
    quiet_libraries(level)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
        handler.close()


@contextlib.contextmanager
def on_a_thread(
    main: Callable[[], Coroutine[Any, Any, object]], stop: Callable[[], None]
) -> Iterator[asyncio.AbstractEventLoop]:
    """`main()` running on an event loop of its own thread until the block ends, then `stop()`
    (called on that loop) and waited for."""
    loop = asyncio.new_event_loop()
    done = threading.Event()

    def serve() -> None:
        try:
            loop.run_until_complete(main())
        finally:
            done.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        if not done.is_set():
            loop.call_soon_threadsafe(stop)
        thread.join(timeout=60)
        assert not thread.is_alive(), "it did not stop"
        loop.close()
