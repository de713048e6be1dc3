"""The web application in the test's own process: its lifespan run by hand (httpx's ASGI
transport does not), requests through httpx's ASGI transport. No server, no port."""

import contextlib
from collections.abc import AsyncIterator

import httpx

from alliance.settings import Settings
from bot.channels.web.app import build_app
from bot.engine.answering import Engine


@contextlib.asynccontextmanager
async def web_client(settings: Settings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(settings, engine)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=settings.web_public_url
        ) as http,
    ):
        yield http
