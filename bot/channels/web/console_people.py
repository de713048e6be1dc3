"""The console's People page (`/admin/people`): the accounts of admins and branch staff, inviting
someone (the page shows their one-time link once, to pass on), a new link for a forgotten
password, and disabling or enabling an account. Every change is in the action log."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.channels.web.console import ROW_IDS, Admin, Services, console_page, record
from bot.channels.web.context import check_csrf, page_language
from bot.channels.web.texts import refusal
from bot.services.people import PeopleError

log = logging.getLogger(__name__)

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/people", response_class=HTMLResponse)
async def people_page(request: Request, found: Services, session: Admin) -> HTMLResponse:
    return await _people_page(request, found, session)


async def _people_page(
    request: Request, found: Services, session: Admin, status: int = 200, **values: object
) -> HTMLResponse:
    accounts = await found.core.people.accounts.all()
    page = console_page(request, "admin_people.html", session, accounts=accounts, **values)
    page.status_code = status
    return page


@router.post("/people", response_class=HTMLResponse)
async def invite(
    request: Request,
    found: Services,
    session: Admin,
    csrf: Annotated[str, Form()],
    name: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(pattern=r"^(admin|staff)$")],
    branch: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    check_csrf(session, csrf)
    try:
        account, token = await found.core.people.add(
            name, "admin" if role == "admin" else "staff", branch, created_by=session.id
        )
    except PeopleError as exc:
        error = refusal(exc, page_language(request))
        return await _people_page(request, found, session, 422, error=error)
    await record(found, session, "account add", f"{account.name} ({account.role}, {branch})")
    link = _password_url(found, token)
    return await _people_page(request, found, session, link=link, link_for=account.name)


@router.post("/people/{account_id}", response_class=HTMLResponse)
async def change(
    request: Request,
    found: Services,
    session: Admin,
    account_id: Annotated[int, Path(ge=1, le=ROW_IDS)],
    csrf: Annotated[str, Form()],
    action: Annotated[str, Form(pattern=r"^(link|disable|enable)$")],
) -> Response:
    check_csrf(session, csrf)
    accounts = found.core.people.accounts
    account = await accounts.get(account_id)
    if account is None:
        raise HTTPException(404, "no such account")
    if action == "disable" and account.id == session.id:
        raise HTTPException(409, "you cannot disable your own account")
    await record(found, session, f"account {action}", account.name)
    if action == "link":
        token = await found.core.people.password_link(account.id)
        link = _password_url(found, token)
        return await _people_page(request, found, session, link=link, link_for=account.name)
    await (accounts.disable if action == "disable" else accounts.enable)(account.id)
    return RedirectResponse("/admin/people", status_code=303)


def _password_url(found: Services, token: str) -> str:
    return f"{found.core.settings.web_public_url.rstrip('/')}/account/password/{token}"
