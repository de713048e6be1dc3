"""What every web route is given: the services, the signed-in session, the page language."""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup, escape

from alliance.settings import Settings
from bot.channels.web.security import AnswerIds
from bot.services.core import Core
from bot.store.accounts import Account
from bot.store.records import Person, Session
from ingest.pipeline import Summary


@dataclass
class ReindexState:
    """The console's view of the latest re-index, which its page polls: figures, phrased in
    each admin's language when they ask."""

    running: bool = False
    stage: str = ""  # "starting", then the ingest's: "reading", "embedding", "publishing"
    done: int = 0
    total: int = 0
    summary: Summary | None = None  # what the last run published
    busy: bool = False  # the last run found another one under way
    failure: str | None = None  # why the last run published nothing (the error's message)


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
STAFF_COOKIE = "aa_staff"  # branch staff signed in with an invite code
ADMIN_COOKIE = "aa_admin"  # an admin signed in through Telegram's /weblogin
ACCOUNT_COOKIE = "aa_account"  # a person signed in with their account, on every page
DEVICE_COOKIE = "aa_device"  # a browser that signed in to an account before (sign-in only)


@dataclass(frozen=True)
class Visitor:
    """Who is signed in: a person with an account, or an admin through Telegram's /weblogin."""

    csrf: str
    # Their Telegram id: a /weblogin admin's, or the one their account linked (0: none).
    user_id: int
    account: Account | None = None

    @property
    def person(self) -> Person:
        """Who the store records as having done what they do here."""
        return Person(self.user_id, self.id)

    @property
    def id(self) -> int | None:
        """The account's id (None for a /weblogin admin)."""
        return self.account.id if self.account is not None else None

    @property
    def name(self) -> str:
        return self.account.name if self.account is not None else f"Telegram {self.user_id}"

    @property
    def is_admin(self) -> bool:
        return self.account is None or self.account.role == "admin"


async def visitor_of(request: Request) -> Visitor | None:
    """The person the request's account cookie names, while their account is enabled."""
    session = await session_of(request, ACCOUNT_COOKIE, "account")
    if session is None:
        return None
    account = await services_of(request).core.people.accounts.get(session.user_id)
    if account is None or account.disabled_at is not None:
        return None
    return Visitor(session.csrf, account.telegram_id or 0, account)


def check_csrf(visitor: Visitor, token: str) -> None:
    """A form must carry its session's CSRF token."""
    if not secrets.compare_digest(token.encode(), visitor.csrf.encode()):
        raise HTTPException(403, "the form is out of date: reload the page and try again")


def secure_cookies(request: Request, settings: Settings) -> bool:
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
    to: str | None = None,
) -> RedirectResponse:
    """Open a session and send the browser on to `to` (default: `path`) with its cookie:
    HttpOnly, SameSite=Strict, Secure over HTTPS, for WEB_SESSION_HOURS, sent only below
    `path`."""
    found = services_of(request)
    lasts = timedelta(hours=found.core.settings.web_session_hours)
    token = await found.core.store.web.open_session(kind, user_id, lasts, branch)
    response = RedirectResponse(to or path, status_code=303)
    response.set_cookie(
        cookie,
        token,
        max_age=int(lasts.total_seconds()),
        path=path,
        httponly=True,
        secure=secure_cookies(request, found.core.settings),
        samesite="strict",
    )
    return response


async def session_of(request: Request, cookie: str, kind: str) -> Session | None:
    """The live session the request's cookie names, of that kind."""
    token = request.cookies.get(cookie)
    if not token or len(token) > 100:
        return None
    session = await services_of(request).core.store.web.session(token)
    return session if session is not None and session.kind == kind else None


def client_address(request: Request) -> str:
    """The client's address (uvicorn reads X-Forwarded-For from trusted proxies)."""
    return request.client.host if request.client else "unknown"
