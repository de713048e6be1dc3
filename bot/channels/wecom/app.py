"""The WeCom bot as a process: the application core, the long connection and its handlers,
until SIGINT or SIGTERM, or until another connection takes the bot over."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from alliance.errors import AllianceError
from alliance.settings import Settings
from bot.channels import health
from bot.channels.wecom.connection import LongConnection
from bot.channels.wecom.handlers import WeComHandlers
from bot.channels.wecom.notifier import WeComNotifier
from bot.engine.answering import Engine
from bot.services.core import open_core

log = logging.getLogger(__name__)


class WeComNotConfigured(AllianceError):
    """WECOM_BOT_ID or WECOM_BOT_SECRET is not set."""


class WeComDisplaced(AllianceError):
    """Another connection took the bot over."""


def run_wecom(settings: Settings, engine: Engine) -> None:
    if asyncio.run(_until_signalled(settings, engine)) == "displaced":
        raise WeComDisplaced(
            "another connection took this WeCom bot over (a second `bot wecom` with the same "
            "WECOM_BOT_ID?); this one stopped rather than take it back"
        )


def connect(settings: Settings) -> LongConnection:
    """The bot's long connection, as the settings describe it (not dialled yet)."""
    if not settings.wecom_bot_id or settings.wecom_bot_secret is None:
        raise WeComNotConfigured("WECOM_BOT_ID and WECOM_BOT_SECRET must both be set")
    secret = settings.wecom_bot_secret.get_secret_value()
    return LongConnection(settings.wecom_ws_url, settings.wecom_bot_id, secret)


async def serve(settings: Settings, engine: Engine, connection: LongConnection) -> str:
    """Serve until `connection.stop()` ("stopped") or a takeover ("displaced")."""
    async with open_core(settings, engine) as core:
        handlers = WeComHandlers(core, connection, connection.bot_id)
        # The staff loop's rounds for WeCom: staff answers to learners who asked here.
        rounds = asyncio.create_task(core.rounds(WeComNotifier(connection, core)).keep_running())

        async def status() -> tuple[bool, dict[str, object]]:
            return await health.core_status(core, running=connection.subscribed.is_set())

        server = health.listen(settings, status, lambda: core)
        log.info("starting the WeCom bot (long connection)")
        try:
            return await connection.run(handlers.on_callback)
        finally:
            if server is not None:
                server.stop()
            rounds.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await rounds


async def _until_signalled(settings: Settings, engine: Engine) -> str:
    connection = connect(settings)
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, connection.stop)
    return await serve(settings, engine, connection)
