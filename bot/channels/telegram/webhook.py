"""Webhook mode: a small tornado server that takes Telegram's updates, checking the secret token
on every request and answering each once it is handled (so that an update a dying replica had
in hand is delivered again), with /healthz and /metrics beside."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import tornado.web
from telegram import Update

from bot.channels import health
from bot.channels.telegram.context import core_of, health_status
from bot.channels.telegram.handlers import HANDLED_ELSEWHERE

if TYPE_CHECKING:
    from telegram.ext import Application

    from alliance.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1_000_000  # an update is a few kilobytes
HANDLED_WITHIN_S = 25  # well inside the time Telegram waits for a webhook's answer
_HANDLING: set[asyncio.Task[None]] = set()  # kept referenced until done


class _Updates(tornado.web.RequestHandler):
    def initialize(self, app: Application, secret: bytes) -> None:
        self._app = app
        self._secret = secret

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook request without the right secret from %s", self.request.remote_ip)
            self.set_status(403)
            return
        try:
            data = json.loads(self.request.body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("no update_id")
            update = Update.de_json(data, self._app.bot)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("webhook request that is no update: %s", type(exc).__name__)
            self.set_status(400)
            return
        app = self._app
        if not app.running:  # starting or stopping: Telegram delivers it again
            self.set_status(503)
            return
        # Answered once handled (or HANDLED_WITHIN_S on, for a re-index or a long upload, which
        # goes on): a replica that dies meanwhile leaves the request unanswered, and Telegram
        # delivers the update again, through the load balancer to another replica.
        handling = asyncio.create_task(
            app.update_processor.process_update(update, app.process_update(update))
        )
        _HANDLING.add(handling)
        handling.add_done_callback(_HANDLING.discard)
        await asyncio.wait({handling}, timeout=HANDLED_WITHIN_S)
        elsewhere: set[int] = app.bot_data.get(HANDLED_ELSEWHERE, set())
        if update.update_id in elsewhere:  # another replica has it in hand: again later
            elsewhere.discard(update.update_id)
            self.set_status(503)
            self.set_header("Retry-After", "5")
            return
        self.set_status(200)


def run_webhook(app: Application, settings: Settings) -> None:
    asyncio.run(_serve(app, settings))


async def _serve(app: Application, settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    url, secret_setting = settings.telegram_webhook_url, settings.telegram_webhook_secret
    if url is None or secret_setting is None:  # the settings' own check makes this a bug
        raise ValueError("webhook mode needs TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET")
    secret = secret_setting.get_secret_value()
    routes: list[tuple[str, type[tornado.web.RequestHandler], dict[str, object]]] = [
        (urlsplit(url).path or "/", _Updates, {"app": app, "secret": secret.encode()}),
        *health.routes(health_status(app), lambda: core_of(app)),
    ]
    web = tornado.web.Application(routes)
    server = web.listen(
        settings.telegram_webhook_port,
        settings.telegram_webhook_listen,
        max_body_size=MAX_BODY_BYTES,
        xheaders=True,
    )
    async with app:
        if app.post_init is not None:  # run_polling calls it; here it is ours to call
            await app.post_init(app)
        await app.bot.set_webhook(
            url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
        )
        await app.start()
        log.info(
            "Telegram bot in webhook mode on %s:%s",
            settings.telegram_webhook_listen,
            settings.telegram_webhook_port,
        )
        await stop.wait()
        log.info("stopping")
        server.stop()
        await app.stop()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
