"""What every web route is given: the services, the signed-in session, the page language."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup, escape
from sqlalchemy import Row

from alliance.settings import Settings
from bot.channels.web.security import AnswerIds
from bot.services.core import Core


@dataclass
class ReindexState:
    """The console's view of the latest re-index, which its page polls."""

    running: bool = False
    stage: str = ""
    done: int = 0
    total: int = 0
    result: str = ""
    failed: bool = False
    started_by: int | None = None


@dataclass
class WebServices:
    """What the routes use, kept in `app.state.services`."""

    core: Core
    answer_ids: AnswerIds
    reindex: ReindexState = field(default_factory=ReindexState)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


def cited_html(text: str) -> Markup:
    """An answer's text as HTML paragraphs, every `[n]` a link to its source."""
    paragraphs = [part for part in text.split("\n\n") if part.strip()]
    html = "".join(
        "<p>"
        + re.sub(
            r"\[(\d{1,2})\]", r'<a class="cite" href="#source-\1">[\1]</a>', str(escape(p))
        ).replace("\n", "<br>")
        + "</p>"
        for p in paragraphs
    )
    return Markup(html)  # built from escaped text only


def services_of(request: Request) -> WebServices:
    found: WebServices = request.app.state.services
    return found


# Language: ?lang= switches (and is remembered in a cookie), else the browser's preference.
LANG_COOKIE = "lang"


def page_language(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in ("en", "zh"):
        return chosen
    return accepted_language(request.headers.get("accept-language", ""))


def accepted_language(header: str) -> str:
    """zh when the browser prefers Chinese to English, else en."""
    ranked: list[tuple[float, str]] = []
    for part in header.split(",")[:20]:
        name, _, rest = part.strip().partition(";")
        weight = 1.0
        match = re.search(r"q=([0-9.]{1,5})", rest)
        if match:
            try:
                weight = float(match.group(1))
            except ValueError:
                weight = 0.0
        base = name.strip().lower()[:2]
        if base in ("zh", "en"):
            ranked.append((weight, base))
    return max(ranked, key=lambda item: item[0])[1] if ranked else "en"


# Sessions: a cookie holding a random token, looked up in the store
STAFF_COOKIE = "aa_staff"
ADMIN_COOKIE = "aa_admin"


def _secure_cookies(request: Request, settings: Settings) -> bool:
    """Cookies are Secure when the page is served over HTTPS (directly or behind a proxy)."""
    return request.url.scheme == "https" or settings.web_public_url.startswith("https://")


async def signed_in(
    request: Request,
    cookie: str,
    kind: str,
    user_id: int,
    *,
    branch: str | None = None,
    path: str = "/",
) -> RedirectResponse:
    """Open a session and send the browser on to `path` with its cookie: HttpOnly,
    SameSite=Strict, Secure over HTTPS, for WEB_SESSION_HOURS, sent only below `path`."""
    found = services_of(request)
    lasts = timedelta(hours=found.core.settings.web_session_hours)
    token = await found.core.store.web.open_session(kind, user_id, lasts, branch)
    response = RedirectResponse(path, status_code=303)
    response.set_cookie(
        cookie,
        token,
        max_age=int(lasts.total_seconds()),
        path=path,
        httponly=True,
        secure=_secure_cookies(request, found.core.settings),
        samesite="strict",
    )
    return response


async def session_of(request: Request, cookie: str, kind: str) -> Row[Any] | None:
    """The live session the request's cookie names, of that kind."""
    token = request.cookies.get(cookie)
    if not token or len(token) > 100:
        return None
    session = await services_of(request).core.store.web.session(token)
    return session if session is not None and session.kind == kind else None


def client_address(request: Request) -> str:
    """The client's address (uvicorn reads X-Forwarded-For from trusted proxies)."""
    return request.client.host if request.client else "unknown"
