"""The web application in the test's own process: its lifespan run by hand (httpx's ASGI
transport does not), requests through httpx's ASGI transport. No server, no port."""

import contextlib
from collections.abc import AsyncIterator, Callable

import httpx

from alliance.settings import Settings
from bot.channels.web.app import build_app
from bot.engine.answering import Engine


@contextlib.asynccontextmanager
async def web_clients(
    settings: Settings, engine: Engine
) -> AsyncIterator[Callable[[], httpx.AsyncClient]]:
    """One application; each call of what this yields is another browser (its own cookies)."""
    app = build_app(settings, engine)
    async with contextlib.AsyncExitStack() as browsers:

        def browser() -> httpx.AsyncClient:
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=settings.web_public_url
            )
            browsers.push_async_callback(client.aclose)
            return client

        async with app.router.lifespan_context(app):
            yield browser


@contextlib.asynccontextmanager
async def web_client(settings: Settings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    async with web_clients(settings, engine) as browser:
        yield browser()
