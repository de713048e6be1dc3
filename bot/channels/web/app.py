"""The web application: one factory that wires the chat, the widget and the admin console to
the services, and the runner (`python -m bot web`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from alliance.settings import Settings
from bot.channels.web import accounts, chat, console, console_people, errors, workspace
from bot.channels.web.context import WebServices, cited_html
from bot.channels.web.security import AnswerIds, Guard
from bot.engine.answering import Engine
from bot.services.core import Core, open_core

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
STOP_CHECK_S = 0.5  # how often a start-up waiting for the database looks for a stop signal


class StoppedWhileStarting(Exception):
    """A stop signal came while the server was still starting."""


def build_app(settings: Settings, engine: Engine) -> FastAPI:
    """The web application. The store opens (and closes) with it, on its event loop."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        key = settings.web_secret_key
        if key is None:
            log.warning("WEB_SECRET_KEY is not set: answer ids last as long as this process")
        async with contextlib.AsyncExitStack() as scope:
            opening = scope.enter_async_context(open_core(settings, engine))
            core = await _unless_stopped(opening, app)
            app.state.services = WebServices(
                core=core,
                answer_ids=AnswerIds(
                    key.get_secret_value().encode() if key else secrets.token_bytes(32)
                ),
            )
            rounds = asyncio.create_task(core.rounds(None).keep_running(), name="rounds")
            app.state.services.tasks.add(rounds)
            try:
                yield
            finally:
                for task in app.state.services.tasks:
                    task.cancel()

    app = FastAPI(
        title="Alliance Assistant",
        summary="Answers from the alliance's documents, with their sources.",
        version="1",
        lifespan=lifespan,
        # The interactive docs pages load their scripts from a CDN: the schema alone is served.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["cited"] = cited_html
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(chat.router)
    app.include_router(console.router)
    app.include_router(console_people.router)
    app.include_router(accounts.router)
    app.include_router(workspace.router)
    app.add_exception_handler(console.SignInNeededError, _sign_in_needed)
    app.add_exception_handler(StarletteHTTPException, errors.http_error)
    app.add_exception_handler(RequestValidationError, errors.invalid_request)
    app.add_exception_handler(Exception, errors.server_error)
    upload_limit = int(settings.web_upload_max_mb * 1_000_000) + 256 * 1024  # the form's fields
    app.add_middleware(
        Guard,
        embed_origins=settings.web_embed_origins,
        upload_limit=upload_limit,
        public_url=settings.web_public_url,
    )
    return app


async def _sign_in_needed(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/admin/reindex/") or request.method != "GET":
        return JSONResponse({"detail": "sign in first: /signin (or /weblogin to the bot)"}, 401)
    page = console.console_page(request, "admin_login.html", None)
    page.status_code = 401
    return page


async def _unless_stopped(opening: Awaitable[Core], app: FastAPI) -> Core:
    """The core, once open; a stop signal while it waits (for a database server that has not
    started) ends the wait, where uvicorn would only act on it after the start-up."""
    server: uvicorn.Server | None = getattr(app.state, "server", None)
    task = asyncio.ensure_future(opening)
    while not task.done():
        await asyncio.wait({task}, timeout=STOP_CHECK_S)
        if server is not None and server.should_exit and not task.done():
            task.cancel()
            raise StoppedWhileStarting("stopped while waiting for the database")
    return task.result()


def run_web(settings: Settings, engine: Engine, host: str, port: int) -> None:
    """Serve the web channel until interrupted."""
    log.info("web chat on http://%s:%d (public address %s)", host, port, settings.web_public_url)
    app = build_app(settings, engine)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=settings.web_trusted_proxies,
        log_config=None,  # the entry point configured logging
        access_log=False,  # paths carry one-time tokens and conversation ids
        server_header=False,
    )
    app.state.server = server = uvicorn.Server(config)
    server.run()
