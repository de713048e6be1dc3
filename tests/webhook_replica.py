"""A bot process in webhook mode, as each replica of a scale-out deployment runs, and the HTTP
calls Telegram (or the load balancer in front of the replicas) makes to it."""

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from processes import start_bot

from alliance.settings import Settings
from bench.bot_api_emulator import BotAPIEmulator


def start_replica(
    settings: Settings,
    log: Path,
    emulator: BotAPIEmulator,
    port: int,
    secret: str,
    **extra: str,
) -> subprocess.Popen:
    """`python -m bot run` taking updates on 127.0.0.1:`port`, once /healthz says it is ready."""
    process = start_bot(
        settings,
        log,
        emulator,
        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram-updates",
        TELEGRAM_WEBHOOK_SECRET=secret,
        TELEGRAM_WEBHOOK_PORT=str(port),
        **extra,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if get(port, "/healthz")[0] == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    pytest.fail(f"the webhook bot never became ready: {log.read_text()[-3000:]}")


def get(port: int, path: str) -> tuple[int, dict]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.status, json.loads(response.read())


def post(url: str, body: bytes, secret: str | None) -> int:
    """POST an update as Telegram does; the HTTP status the bot answered with, once it handled
    the update (or 25 s on, for a long one)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
