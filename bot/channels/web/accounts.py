"""People's own pages, for admins and branch staff without Telegram: choosing a password from a
one-time link, signing in and out (name, password and, when turned on, a one-time code), and the
account page: the second factor and a code that links a Telegram id. Admins go on to the
console; staff use the chat as staff."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alliance.settings import Settings
from bot.channels.web.context import (
    ACCOUNT_COOKIE,
    DEVICE_COOKIE,
    Visitor,
    WebServices,
    check_csrf,
    client_address,
    page_language,
    secure_cookies,
    services_of,
    signed_in,
    visitor_of,
)
from bot.channels.web.texts import ACCOUNT, refusal
from bot.services.people import TRUSTED_BROWSER, PeopleError, SignedIn
from bot.store.records import Person

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
Services = Annotated[WebServices, Depends(services_of)]
TOKEN = r"^[A-Za-z0-9_-]{20,100}$"
# Form fields are checked for length before anything else reads them.
NAME_FIELD = Form(max_length=200)
SECRET_FIELD = Form(max_length=1000)


def _page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    language = page_language(request)
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request,
        template,
        {"t": ACCOUNT[language], "lang": language, "visitor": None, "csrf": ""} | values,
        status_code=status,
    )
    return response


async def _visitor(request: Request) -> Visitor:
    visitor = await visitor_of(request)
    if visitor is None or visitor.account is None:
        raise HTTPException(401, "sign in first: /signin")
    return visitor


Account = Annotated[Visitor, Depends(_visitor)]


# Choosing a password
@router.get("/account/password/{token}", response_class=HTMLResponse)
async def password_page(request: Request, found: Services, token: str) -> HTMLResponse:
    holder = None
    if len(token) <= 100:
        holder = await found.core.people.accounts.link_holder(token, "password")
    if holder is None or holder.disabled_at is not None:
        return _page(request, "account_password.html", 404, invalid=True)
    return _page(request, "account_password.html", name=holder.name, token=token)


@router.post("/account/password", response_class=HTMLResponse)
async def choose_password(
    request: Request,
    found: Services,
    token: Annotated[str, Form(pattern=TOKEN)],
    password: Annotated[str, SECRET_FIELD],
    repeated: Annotated[str, SECRET_FIELD],
) -> Response:
    try:
        account = await found.core.people.choose_password(token, password, repeated)
    except PeopleError as exc:
        holder = await found.core.people.accounts.link_holder(token, "password")
        if holder is None:
            return _page(request, "account_password.html", 404, invalid=True)
        error = refusal(exc, page_language(request))
        return _page(
            request, "account_password.html", 422, name=holder.name, token=token, error=error
        )
    return RedirectResponse(f"/signin?chosen={account.name}", status_code=303)


# Signing in and out
@router.get("/signin", response_class=HTMLResponse)
async def signin_page(request: Request, chosen: str = "", out: str = "") -> Response:
    visitor = await visitor_of(request)
    if visitor is not None and visitor.account is not None:
        return RedirectResponse(_home(visitor), status_code=303)
    return _page(request, "signin.html", name=chosen[:40], chosen=bool(chosen), out=bool(out))


@router.post("/signin", response_class=HTMLResponse)
async def signin(
    request: Request,
    found: Services,
    name: Annotated[str, NAME_FIELD],
    password: Annotated[str, SECRET_FIELD],
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    browser = request.cookies.get(DEVICE_COOKIE)
    outcome = await found.core.people.sign_in(
        name, password, code, client_address(request), browser if browser else None
    )
    if not isinstance(outcome, SignedIn):
        status = {"locked": 429, "code": 401, "wrong": 401}[outcome.reason]
        return _page(request, "signin.html", status, name=name[:40], refused=outcome.reason)
    account = outcome.account
    await found.core.store.web.record(Person(account_id=account.id), "sign-in", "web")
    home = "/admin" if account.role == "admin" else "/workspace"
    response = await signed_in(
        request, ACCOUNT_COOKIE, "account", account.id, branch=account.branch, to=home
    )
    if outcome.browser is not None:  # this browser is known to the account from now on
        response.set_cookie(
            DEVICE_COOKIE,
            outcome.browser,
            max_age=int(TRUSTED_BROWSER / timedelta(seconds=1)),
            path="/signin",
            httponly=True,
            secure=secure_cookies(request, found.core.settings),
            samesite="strict",
        )
    return response


def _home(visitor: Visitor) -> str:
    return "/admin" if visitor.is_admin else "/account"


@router.post("/signout")
async def signout(
    request: Request, found: Services, visitor: Account, csrf: Annotated[str, Form()]
) -> Response:
    check_csrf(visitor, csrf)
    await found.core.store.web.close_session(request.cookies[ACCOUNT_COOKIE])
    await found.core.store.web.record(visitor.person, "sign-out", "web")
    response = RedirectResponse("/signin?out=1", status_code=303)
    response.delete_cookie(ACCOUNT_COOKIE, path="/")
    return response


# The account page
@router.get("/account", response_class=HTMLResponse)
async def account_page(request: Request, found: Services) -> Response:
    visitor = await visitor_of(request)
    if visitor is None or visitor.account is None:
        return RedirectResponse("/signin", status_code=303)
    return _account_page(request, found, visitor)


def _account_page(
    request: Request, found: WebServices, visitor: Visitor, status: int = 200, **values: Any
) -> HTMLResponse:
    return _page(
        request,
        "account.html",
        status,
        visitor=visitor,
        account=visitor.account,
        csrf=visitor.csrf,
        apps=_messaging_apps(found.core.settings),
        **values,
    )


def _messaging_apps(settings: Settings) -> list[str]:
    """The messaging apps whose bot runs here, where a person may link their id."""
    apps = ["Telegram"] if settings.telegram_bot_token is not None else []
    return apps + (["WeCom"] if settings.wecom_bot_id else [])


@router.post("/account/second-factor/new", response_class=HTMLResponse)
async def new_second_factor(
    request: Request, found: Services, visitor: Account, csrf: Annotated[str, Form()]
) -> HTMLResponse:
    check_csrf(visitor, csrf)
    secret = found.core.people.new_totp_secret()
    uri = found.core.people.totp_uri(secret, visitor.name)
    return _account_page(request, found, visitor, new_secret=secret, uri=uri)


@router.post("/account/second-factor", response_class=HTMLResponse)
async def set_second_factor(
    request: Request,
    found: Services,
    visitor: Account,
    csrf: Annotated[str, Form()],
    action: Annotated[str, Form(pattern=r"^(on|off)$")],
    code: Annotated[str, Form(max_length=20)],
    secret: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(visitor, csrf)
    people, account = found.core.people, visitor.account
    assert account is not None  # the dependency checked it
    try:
        if action == "on":
            await people.enable_totp(account, secret, code)
        else:
            await people.disable_totp(account, code)
    except PeopleError as exc:
        error = refusal(exc, page_language(request))
        if action == "on" and secret:
            uri = people.totp_uri(secret, visitor.name)
            return _account_page(
                request, found, visitor, 422, new_secret=secret, uri=uri, error=error
            )
        return _account_page(request, found, visitor, 422, error=error)
    detail = f"second factor {action}"
    await found.core.store.web.record(visitor.person, "account", detail)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/link", response_class=HTMLResponse)
async def link_code(
    request: Request, found: Services, visitor: Account, csrf: Annotated[str, Form()]
) -> HTMLResponse:
    check_csrf(visitor, csrf)
    assert visitor.account is not None  # the dependency checked it
    code = await found.core.people.link_code(visitor.account)
    return _account_page(request, found, visitor, link_code=code)
