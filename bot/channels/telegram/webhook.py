"""Webhook mode: a small tornado server that takes Telegram's updates, checking the secret token
on every request, and answers /healthz with the index version and whether the bot is ready."""

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

from bot.services.metrics import CONTENT_TYPE

if TYPE_CHECKING:
    from telegram.ext import Application

    from alliance.settings import Settings
    from bot.channels.telegram.context import Services
    from bot.engine.answering import Engine

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1_000_000  # an update is a few kilobytes


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
        await self._app.update_queue.put(update)
        self.set_status(200)


class _Health(tornado.web.RequestHandler):
    def initialize(self, app: Application, engine: Engine) -> None:
        self._app = app
        self._engine = engine

    async def get(self) -> None:
        found: Services | None = self._app.bot_data.get("services")
        health = await found.core.health() if found is not None else None
        ready = self._app.running and health is not None and health.ready
        self.set_status(200 if ready else 503)
        self.write(
            {
                "ready": ready,
                "index_version": self._engine.index_version,
                "database": health is not None and health.database,
            }
        )


class _Metrics(tornado.web.RequestHandler):
    """This process's metrics, in Prometheus's text format (bot.services.metrics)."""

    def initialize(self, app: Application) -> None:
        self._app = app

    async def get(self) -> None:
        found: Services | None = self._app.bot_data.get("services")
        if found is None:  # the core is not open yet
            self.set_status(503)
            return
        self.set_header("Content-Type", CONTENT_TYPE)
        self.write(await found.core.metrics())


def run_webhook(app: Application, settings: Settings, engine: Engine) -> None:
    asyncio.run(_serve(app, settings, engine))


async def _serve(app: Application, settings: Settings, engine: Engine) -> None:
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
        ("/healthz", _Health, {"app": app, "engine": engine}),
        ("/metrics", _Metrics, {"app": app}),
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
