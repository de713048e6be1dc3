"""The staff workspace (`/workspace`), for branch staff (and admins) signed in with their
account: their branch's tickets from every channel and those of no branch, answered here (the
answer reaches the learner where they asked), kept as curated answers (public or staff-only),
and the 👎 of their branch's learners to put right. New tickets appear without a reload: the
page asks `/workspace/latest` every few seconds. In the browser's language, like the chat."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.channels.web.accounts import Account as Staff
from bot.channels.web.console import ROW_IDS, Services, record
from bot.channels.web.context import (
    Visitor,
    WebServices,
    check_csrf,
    page_language,
    visitor_of,
)
from bot.channels.web.texts import WORKSPACE
from bot.services import staff_loop
from bot.store.accounts import Account

log = logging.getLogger(__name__)

router = APIRouter(prefix="/workspace", include_in_schema=False)
RECENT = timedelta(days=7)  # answered and closed tickets stay in view this long


def _branch(account: Account) -> str | None:
    """The branch whose work the account sees; None: every branch's (admins)."""
    return None if account.role == "admin" else account.branch


@router.get("", response_class=HTMLResponse)
async def workspace_page(request: Request, found: Services) -> Response:
    visitor = await visitor_of(request)
    if visitor is None or visitor.account is None:
        return RedirectResponse("/signin", status_code=303)
    return await _page(request, found, visitor)


async def _page(
    request: Request, found: WebServices, visitor: Visitor, status: int = 200, **values: Any
) -> HTMLResponse:
    assert visitor.account is not None
    store, branch = found.core.store, _branch(visitor.account)
    tickets = await store.tickets.for_workspace(branch, RECENT)
    replies = defaultdict(list)
    for reply in await store.tickets.replies_to([ticket.id for ticket in tickets]):
        replies[reply.ticket_id].append(reply)
    language = page_language(request)
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request,
        "workspace.html",
        {
            "t": WORKSPACE[language],
            "lang": language,
            "visitor": visitor,
            "account": visitor.account,
            "csrf": visitor.csrf,
            "tickets": tickets,
            "replies": replies,
            "channels": {t.id: staff_loop.channel_of(t.learner_chat_id) for t in tickets},
            "latest": max((t.id for t in tickets), default=0),
            "votes": await store.curated.unreviewed_votes(branch),
        }
        | values,
        status_code=status,
    )
    return response


@router.get("/latest")
async def latest(found: Services, visitor: Staff) -> dict[str, int]:
    """The newest ticket the page would show and how many are open: the page compares."""
    assert visitor.account is not None
    tickets = await found.core.store.tickets.for_workspace(_branch(visitor.account), RECENT)
    return {
        "latest": max((t.id for t in tickets), default=0),
        "open": sum(t.state == "open" for t in tickets),
    }


@router.post("/tickets/{ticket_id}", response_class=HTMLResponse)
async def answer_ticket(
    request: Request,
    found: Services,
    visitor: Staff,
    ticket_id: Annotated[int, Path(ge=1, le=ROW_IDS)],
    csrf: Annotated[str, Form()],
    action: Annotated[str, Form(pattern=r"^(answer|close)$")] = "answer",
    answer: Annotated[str, Form(max_length=4000)] = "",
    keep: Annotated[str, Form(pattern=r"^(|public|staff)$")] = "",
) -> Response:
    check_csrf(visitor, csrf)
    account = visitor.account
    assert account is not None
    t = WORKSPACE[page_language(request)]
    core = found.core
    if action == "close":
        if not await core.close_ticket(ticket_id, account):
            raise HTTPException(404, "no such ticket")
        await record(found, visitor, "ticket close", f"ticket {ticket_id}")
        return await _page(request, found, visitor, notice=t["closed"].format(ticket=ticket_id))
    if not answer.strip():
        raise HTTPException(422, "the answer is empty")
    answered = await core.answer_ticket(ticket_id, answer.strip(), visitor.user_id, account, keep)
    if answered is None:
        raise HTTPException(404, "no such ticket")
    notice = t["sent"].format(ticket=ticket_id)
    if answered.curated_id is not None:
        notice = f"{notice} {t['kept'].format(curated=answered.curated_id)}"
    await record(found, visitor, "ticket answer", answered.action_detail)
    return await _page(request, found, visitor, notice=notice)


@router.post("/votes/{feedback_id}", response_class=HTMLResponse)
async def correct_vote(
    request: Request,
    found: Services,
    visitor: Staff,
    feedback_id: Annotated[int, Path(ge=1, le=ROW_IDS)],
    csrf: Annotated[str, Form()],
    answer: Annotated[str, Form(min_length=1, max_length=4000)],
) -> Response:
    check_csrf(visitor, csrf)
    assert visitor.account is not None
    corrected = await found.core.correct_vote(
        feedback_id, answer.strip(), visitor.user_id, visitor.account
    )
    if corrected is None:
        raise HTTPException(404, "no such 👎 waiting (or another branch's)")
    curated_id = corrected.curated_id
    await record(found, visitor, "vote correct", f"vote {feedback_id}, curated {curated_id}")
    notice = WORKSPACE[page_language(request)]["corrected"].format(curated=curated_id)
    return await _page(request, found, visitor, notice=notice)
