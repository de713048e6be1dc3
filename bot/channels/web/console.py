"""The admin console (`/admin`): for admins signed in with their account (`/signin`) or through
a /weblogin one-time link from the Telegram bot. The dashboard, the review of 👎 votes, curated
answers, open tickets, and the knowledge folder's documents with upload and re-index. Every form
carries the session's CSRF token; every action is logged with who did it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Path,
    Query,
    Request,
    UploadFile,
)
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from bot.channels.web.context import (
    ACCOUNT_COOKIE,
    ADMIN_COOKIE,
    LANG_COOKIE,
    ReindexState,
    Visitor,
    WebServices,
    check_csrf,
    page_language,
    services_of,
    session_of,
    signed_in,
    visitor_of,
)
from bot.channels.web.texts import CONSOLE, refusal
from bot.engine.results import Source
from bot.services import curation, documents, staff_loop, stats_chart
from bot.services.documents import DocumentError, UploadError
from bot.services.reindex import ReindexBusyError, ReindexError
from bot.store.curated import AUDIENCES
from bot.store.records import Person
from ingest.pipeline import Summary

log = logging.getLogger(__name__)

router = APIRouter(prefix="/admin", include_in_schema=False)
Services = Annotated[WebServices, Depends(services_of)]
DASHBOARD_DAYS = 30
TOP_GAPS = 10
PAGE_SIZE = 20
LOGIN_TOKEN = r"^[A-Za-z0-9_-]{20,100}$"
ROW_IDS = 2**62  # ids in forms and paths above this are no row's (and would overflow SQL)


class SignInNeededError(Exception):
    """No live admin session: the console sends the browser to its sign-in page."""


async def admin_session(request: Request, found: Services) -> Visitor:
    """An admin's account, or else a /weblogin session of a Telegram id that is still an
    admin's."""
    visitor = await visitor_of(request)
    if visitor is not None and visitor.is_admin:
        return visitor
    session = await session_of(request, ADMIN_COOKIE, "admin")
    if session is None or not await found.core.roles.is_admin(session.user_id):
        raise SignInNeededError
    return Visitor(session.csrf, session.user_id)


Admin = Annotated[Visitor, Depends(admin_session)]


async def record(found: WebServices, session: Visitor, action: str, detail: str) -> None:
    """The action log's entry for what this admin did."""
    await found.core.store.web.record(session.person, action, detail)


def console_page(
    request: Request, template: str, session: Visitor | None, **values: Any
) -> HTMLResponse:
    """A console page in the browser's language (`?lang=` switches and is remembered)."""
    language = page_language(request)
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request,
        template,
        {
            "t": CONSOLE[language],
            "lang": language,
            "session": session,
            "csrf": session.csrf if session else "",
            "here": request.url.path,
        }
        | values,
    )
    if request.query_params.get("lang") == language:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax")
    return response


# Signing in and out
@router.get("/login/{token}", response_class=HTMLResponse)
async def login_page(request: Request, token: str) -> HTMLResponse:
    """The link /weblogin sent: a button that spends it (a link preview does not)."""
    return console_page(request, "admin_login.html", None, token=token)


@router.post("/login")
async def login(
    request: Request, found: Services, token: Annotated[str, Form(pattern=LOGIN_TOKEN)]
) -> Response:
    admin_id = await found.core.store.web.redeem_login(token)
    if admin_id is None or not await found.core.roles.is_admin(admin_id):
        page = console_page(request, "admin_login.html", None, failed=True)
        page.status_code = 403
        return page
    await found.core.store.web.record(Person(admin_id), "sign-in", "admin console")
    log.info("admin %s signed in to the console", admin_id)
    return await signed_in(request, ADMIN_COOKIE, "admin", admin_id, path="/admin")


@router.post("/logout")
async def logout(
    request: Request, found: Services, session: Admin, csrf: Annotated[str, Form()]
) -> Response:
    check_csrf(session, csrf)
    cookie, path = (ADMIN_COOKIE, "/admin") if session.account is None else (ACCOUNT_COOKIE, "/")
    await found.core.store.web.close_session(request.cookies[cookie])
    await record(found, session, "sign-out", "admin console")
    response = RedirectResponse("/admin/signed-out", status_code=303)
    response.delete_cookie(cookie, path=path)
    return response


@router.get("/signed-out", response_class=HTMLResponse)
async def signed_out(request: Request) -> HTMLResponse:
    return console_page(request, "admin_login.html", None, signed_out=True)


# The dashboard
@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, found: Services, session: Admin) -> HTMLResponse:
    today = datetime.now(UTC).date()
    figures = await found.core.store.stats(days=DASHBOARD_DAYS, today=today)
    plotted = stats_chart.series(figures, DASHBOARD_DAYS, today)
    gaps = await curation.content_gaps(
        found.core.store, found.core.engine, found.core.settings.gaps_days
    )
    questions = sum(plotted.answered) + sum(plotted.abstained)
    return console_page(
        request,
        "admin_dashboard.html",
        session,
        days=DASHBOARD_DAYS,
        rows=figures.days,
        questions=questions,
        abstained=sum(plotted.abstained),
        escalated=sum(plotted.escalated),
        rate=100 * sum(plotted.abstained) / questions if questions else None,
        helpful=figures.helpful,
        unhelpful=figures.unhelpful,
        gaps=gaps[:TOP_GAPS],
        gaps_days=found.core.settings.gaps_days,
        version=found.core.engine.index_version,
    )


@router.get("/chart.png")
async def chart(found: Services, session: Admin) -> Response:
    """The dashboard's chart: the same drawing /stats sends in Telegram."""
    today = datetime.now(UTC).date()
    figures = await found.core.store.stats(days=DASHBOARD_DAYS, today=today)
    png = await asyncio.to_thread(stats_chart.render, figures, DASHBOARD_DAYS, today)
    return Response(png, media_type="image/png", headers={"cache-control": "no-store"})


# The review of 👎 votes
@router.get("/review", response_class=HTMLResponse)
async def review_page(request: Request, found: Services, session: Admin) -> HTMLResponse:
    queue = await curation.review_queue(found.core.store, found.core.engine)
    items = [
        {
            "queued": queued,
            "labels": [Source.from_metadata(item).label for item in queued.vote.sources or []],
        }
        for queued in queue[:PAGE_SIZE]
    ]
    return console_page(request, "admin_review.html", session, items=items, waiting=len(queue))


@router.post("/review/{feedback_id}")
async def review_action(
    found: Services,
    session: Admin,
    feedback_id: Annotated[int, Path(ge=1, le=ROW_IDS)],
    csrf: Annotated[str, Form()],
    action: Annotated[str, Form(pattern=r"^(correct|right|skip)$")],
    answer: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_csrf(session, csrf)
    admin = session.user_id
    if action == "correct":
        if not answer.strip():
            raise HTTPException(422, "write the right answer first")
        corrected = await found.core.correct_vote(
            feedback_id, answer.strip(), admin, session.account
        )
        if corrected is None:
            raise HTTPException(409, "this vote was settled already")
        detail = f"vote {feedback_id} → curated answer {corrected.curated_id}, sent to the voter"
    else:
        outcome = "right" if action == "right" else "skipped"
        if not await found.core.store.curated.review(feedback_id, outcome, session.person):
            raise HTTPException(409, "this vote was settled already")
        detail = f"vote {feedback_id}: {outcome}"
    await record(found, session, f"review {action}", detail)
    log.info("admin %s reviewed in the console: %s", admin, detail)
    return RedirectResponse("/admin/review", status_code=303)


# Curated answers
@router.get("/curated", response_class=HTMLResponse)
async def curated_page(
    request: Request,
    found: Services,
    session: Admin,
    offset: Annotated[int, Query(ge=0, le=ROW_IDS)] = 0,
) -> HTMLResponse:
    rows, total = await found.core.store.curated.page(offset, PAGE_SIZE)
    return console_page(
        request,
        "admin_curated.html",
        session,
        rows=rows,
        names=await account_names(found),
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        audiences=AUDIENCES,
    )


@router.post("/curated/{answer_id}")
async def curated_action(
    found: Services,
    session: Admin,
    answer_id: Annotated[int, Path(ge=1, le=ROW_IDS)],
    csrf: Annotated[str, Form()],
    action: Annotated[str, Form(pattern=r"^(edit|retire)$")],
    answer: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_csrf(session, csrf)
    if action == "edit":
        if not answer.strip():
            raise HTTPException(422, "the answer must not be empty")
        changed = await found.core.store.curated.edit(answer_id, answer.strip(), session.person)
    else:
        changed = await found.core.store.curated.retire(answer_id, session.person)
    if not changed:
        raise HTTPException(404, "no such curated answer (or it was retired)")
    await record(found, session, f"curated {action}", f"curated answer {answer_id}")
    return RedirectResponse("/admin/curated", status_code=303)


# Tickets
@router.get("/tickets", response_class=HTMLResponse)
async def tickets_page(request: Request, found: Services, session: Admin) -> HTMLResponse:
    rows = await found.core.store.tickets.open_tickets()
    channels = {row.id: staff_loop.channel_of(row.learner_chat_id) for row in rows}
    return console_page(request, "admin_tickets.html", session, rows=rows, channels=channels)


@router.post("/tickets/{ticket_id}")
async def answer_ticket(
    found: Services,
    session: Admin,
    ticket_id: Annotated[int, Path(ge=1, le=ROW_IDS)],
    csrf: Annotated[str, Form()],
    answer: Annotated[str, Form(max_length=4000)],
    keep: Annotated[str, Form(pattern=r"^(|public|staff)$")] = "",
) -> Response:
    """An admin answers a ticket here, from any channel: the learner's page shows it or the
    channel's rounds deliver it, and it may be kept as a curated answer."""
    check_csrf(session, csrf)
    if not answer.strip():
        raise HTTPException(422, "write the answer first")
    answered = await found.core.answer_ticket(
        ticket_id, answer.strip(), session.user_id, session.account, keep
    )
    if answered is None:
        raise HTTPException(404, "no such ticket")
    await record(found, session, "ticket answer", answered.action_detail)
    return RedirectResponse("/admin/tickets", status_code=303)


# Documents, upload and re-index
@router.get("/documents", response_class=HTMLResponse)
async def documents_page(
    request: Request, found: Services, session: Admin, added: str = ""
) -> HTMLResponse:
    return await _documents_page(request, found, session, added=added[:200])


async def _documents_page(
    request: Request, found: WebServices, session: Visitor, **values: Any
) -> HTMLResponse:
    listed, version = await asyncio.to_thread(documents.documents, found.core.settings)
    return console_page(
        request,
        "admin_documents.html",
        session,
        listed=listed,
        version=version,
        max_mb=found.core.settings.web_upload_max_mb,
        suffixes=", ".join(documents.UPLOAD_SUFFIXES),
        **values,
    )


@router.post("/documents", response_class=HTMLResponse)
async def upload(
    request: Request,
    found: Services,
    session: Admin,
    csrf: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
    title: Annotated[str, Form(max_length=300)],
    topic: Annotated[str, Form(max_length=20)],
    audience: Annotated[str, Form(max_length=10)],
    lang: Annotated[str, Form(max_length=5)],
    status: Annotated[str, Form(max_length=10)] = "official",
    source: Annotated[str, Form(max_length=500)] = "",
    replace: Annotated[bool, Form()] = False,
) -> Response:
    check_csrf(session, csrf)
    data = await file.read()
    fields = {
        "title": title,
        "topic": topic,
        "audience": audience,
        "lang": lang,
        "status": status,
        "source": source.strip() or f"uploaded in the admin console by {session.name}",
    }
    try:
        path = await asyncio.to_thread(
            documents.add_document, found.core.settings, file.filename or "", data, fields, replace
        )
    except UploadError as exc:
        error = refusal(exc, page_language(request))
        page = await _documents_page(request, found, session, error=error)
        page.status_code = 422
        return page
    await record(found, session, "upload", f"{path} ({len(data)} bytes, {audience})")
    start_reindex(found, session)
    return RedirectResponse(f"/admin/documents?added={path}", status_code=303)


@router.post("/documents/change")
async def change_document(
    request: Request,
    found: Services,
    session: Admin,
    csrf: Annotated[str, Form()],
    path: Annotated[str, Form(max_length=500)],
    action: Annotated[str, Form(pattern=r"^(disable|enable|delete|delete-disabled)$")],
) -> Response:
    """Disable, enable or delete a document; the re-index that follows takes it out (or in)."""
    check_csrf(session, csrf)
    settings = found.core.settings
    try:
        if action in ("disable", "enable"):
            await asyncio.to_thread(documents.set_enabled, settings, path, action == "enable")
        else:
            disabled = action == "delete-disabled"
            await asyncio.to_thread(documents.delete_document, settings, path, disabled)
    except DocumentError as exc:
        page = await _documents_page(request, found, session, error=str(exc))
        page.status_code = 404
        return page
    await record(found, session, f"document {action}", path)
    start_reindex(found, session)
    return RedirectResponse("/admin/documents", status_code=303)


@router.post("/reindex")
async def reindex(found: Services, session: Admin, csrf: Annotated[str, Form()]) -> Response:
    check_csrf(session, csrf)
    start_reindex(found, session)
    return RedirectResponse("/admin/documents", status_code=303)


@router.get("/reindex/status")
async def reindex_status(request: Request, found: Services, session: Admin) -> JSONResponse:
    """The latest re-index for the documents page's script: while it runs, its stage (in the
    page's language) and figures; after, its result in a line."""
    state, t = found.reindex, CONSOLE[page_language(request)]
    return JSONResponse(
        {
            "running": state.running,
            "stage": t[f"reindex_{state.stage}"] if state.running else "",
            "done": state.done,
            "total": state.total,
            "result": "" if state.running else _reindex_result(state, t),
            "failed": state.busy or state.failure is not None,
        }
    )


def _reindex_result(state: ReindexState, t: dict[str, str]) -> str:
    if state.busy:
        return t["reindex_busy"]
    if state.failure is not None:
        return t["reindex_failed"].format(reason=state.failure)
    if state.summary is not None:
        return t["reindexed"].format(summary=_reindex_summary(state.summary, t))
    return ""


def _reindex_summary(summary: Summary, t: dict[str, str]) -> str:
    figures = t["reindex_summary"].format(
        version=summary.index_version or "-",
        added=summary.added,
        updated=summary.updated,
        removed=summary.removed,
        unchanged=summary.unchanged,
        chunks=summary.chunks,
    )
    skipped = t["reindex_skipped"].format(count=len(summary.errors)) if summary.errors else ""
    return figures + skipped


def start_reindex(found: WebServices, session: Visitor) -> None:
    """Re-index in the background; the documents page shows its progress."""
    state = found.reindex
    if state.running or found.core.reindexer.running:
        return
    state.running, state.stage, state.done, state.total = True, "starting", 0, 0
    state.summary, state.busy, state.failure = None, False, None

    async def progress(stage: str, done: int, total: int) -> None:
        state.stage, state.done, state.total = stage, done, total

    async def run() -> None:
        try:
            summary = await found.core.reindexer.run(progress)
        except ReindexBusyError:
            state.busy = True
        except ReindexError as exc:
            state.failure = str(exc)
        except Exception as exc:  # shown to the admin; the console carries on
            log.exception("re-index from the console failed")
            state.failure = str(exc)
        else:
            state.summary = summary
            detail = _reindex_summary(summary, CONSOLE["en"])  # the action log is in English
            await record(found, session, "reindex", detail)
        finally:
            state.running = False

    task = asyncio.create_task(run())
    found.tasks.add(task)
    task.add_done_callback(found.tasks.discard)


# What admins did
@router.get("/actions", response_class=HTMLResponse)
async def actions_page(request: Request, found: Services, session: Admin) -> HTMLResponse:
    rows = await found.core.store.web.actions()
    names = await account_names(found)
    return console_page(request, "admin_actions.html", session, rows=rows, names=names)


async def account_names(found: WebServices) -> dict[int, str]:
    """Every account's name by its id, for pages that say who did what."""
    return {account.id: account.name for account in await found.core.people.accounts.all()}
