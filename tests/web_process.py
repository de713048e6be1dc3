"""The web channel as a real process (`python -m bot web`) on 127.0.0.1, and Debian's Chromium
driven through its chromedriver, for the web tests."""

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from processes import free_port, start, stop

from alliance.settings import Settings

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# Where the browser tests keep their screenshots (the test command's artefacts).
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts"))


@contextlib.contextmanager
def web_server(settings: Settings, log: Path, **extra: str) -> Iterator[str]:
    """`python -m bot web` on a free port, waited for until /healthz answers; its base URL.
    Stopped afterwards; a server that never comes up fails the test with its log."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    extra.setdefault("WEB_PUBLIC_URL", base)
    process = start(["bot", "web", "--port", str(port)], settings, log, **extra)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the web server exited: {log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            pytest.fail(f"the web server never answered: {log.read_text()[-3000:]}")
        yield base
    finally:
        stop(process)


def chromium(language: str = "en-US", width: int = 1000, height: int = 1100):
    """Headless Chromium from Debian's package, through its chromedriver: nothing downloads a
    browser. Flags as a closed network needs them (no background connections)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("Debian's chromium and chromium-driver are not installed (scripts/test does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        f"--lang={language}",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


def screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def staff_answer(emulator, staff_chat: int, staff_id: int, ticket: int, text: str) -> dict:
    """Wait for the bot to post ticket #`ticket` to the staff chat, then reply to it there as
    a staff member would; the announcement."""

    def announcement():
        return next(
            (
                m
                for m in emulator.sent
                if m["chat"]["id"] == staff_chat and f"#{ticket}<" in m["text"]
            ),
            None,
        )

    assert emulator.wait_for(lambda: announcement() is not None), f"#{ticket} never announced"
    posted = announcement()
    emulator.user_message(
        text, user_id=staff_id, chat_id=staff_chat, chat_type="supergroup", reply_to=posted
    )
    return posted
