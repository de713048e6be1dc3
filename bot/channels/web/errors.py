"""What the web app answers when something is wrong: a page for a person's browser (a 404, a
failure, with the no-script form's question kept), JSON as FastAPI gives it for the API."""

from __future__ import annotations

import json

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.channels.web.context import page_language
from bot.channels.web.texts import PAGE


def _wants_page(request: Request) -> bool:
    """A person's browser, not a script: HTML pages for them, JSON for the API."""
    path = request.url.path
    api = path.startswith(("/api/", "/admin/reindex/", "/workspace/latest")) or path == "/healthz"
    return not api and "text/html" in request.headers.get("accept", "")


async def http_error(request: Request, exc: Exception) -> Response:
    """A 404 (or another refusal) as a page for a browser; JSON, as FastAPI gives it, else."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code != 404 or not _wants_page(request):
        return await http_exception_handler(request, exc)
    return error_page(request, 404, "not_found", "not_found_text")


async def server_error(request: Request, exc: Exception) -> Response:
    """What an unexpected failure shows: a page, or JSON for the API. (The server logs the
    failure itself.)"""
    if not _wants_page(request):
        return JSONResponse({"detail": "internal error; please try again"}, 500)
    return error_page(request, 500, "server_error", "server_error_text")


async def invalid_request(request: Request, exc: Exception) -> Response:
    """A 422 as FastAPI words it, its JSON in ASCII: the input it echoes may hold what UTF-8
    cannot (a lone surrogate), which would otherwise turn the refusal into a 500."""
    assert isinstance(exc, RequestValidationError)
    body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
    return Response(body, 422, media_type="application/json")


def error_page(
    request: Request, status: int, heading: str, message: str, question: str = ""
) -> HTMLResponse:
    language = page_language(request)
    t = PAGE[language]
    services = getattr(request.app.state, "services", None)
    limit = services.core.settings.max_question_chars if services is not None else 1000
    page: HTMLResponse = request.app.state.templates.TemplateResponse(
        request,
        "error.html",
        {
            "t": t,
            "lang": language,
            "other": "zh" if language == "en" else "en",
            "heading": t[heading],
            "message": t[message],
            "question": question,
            "action": request.url.path,
            "limit": limit,
        },
        status_code=status,
    )
    return page
