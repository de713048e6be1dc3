"""The web chat for learners (and staff signed in with an invite code): the page, which works
without JavaScript as a form, and the JSON API its script and other clients use."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bot.channels.web.context import (
    LANG_COOKIE,
    STAFF_COOKIE,
    WebServices,
    client_address,
    page_language,
    services_of,
    session_of,
    signed_in,
    visitor_of,
)
from bot.channels.web.errors import error_page
from bot.channels.web.texts import PAGE
from bot.engine.results import Role, audiences_for
from bot.services import staff_loop
from bot.services.asking import Asked, Asker, SlowDown, TooLong
from bot.services.metrics import CONTENT_TYPE as METRICS_TYPE

log = logging.getLogger(__name__)

router = APIRouter()
Services = Annotated[WebServices, Depends(services_of)]
CONVERSATION_ID = r"^[A-Za-z0-9_-]{16,64}$"
# An email address, or a phone number (digits, spaces, + ( ) -), or nothing
CONTACT = r"^(|[^@\s<>]{1,64}@[^@\s<>]{1,100}\.[A-Za-z]{2,24}|\+?[0-9][0-9 ()-]{5,24})$"
ESCALATED_NAME = "web learner"


def _unicode(text: str) -> str:
    """Text that can be stored and shown: JSON may carry lone surrogates ("\\ud800"), which
    no database or page can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the text contains characters that are not valid Unicode") from None
    return text


Text = Annotated[str, AfterValidator(_unicode)]


# The API's shapes (its OpenAPI schema is served at /openapi.json)
class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Text = Field(description="The question, in Chinese or English.")
    conversation_id: str | None = Field(
        None,
        pattern=CONVERSATION_ID,
        description="The conversation to follow up in, as an earlier answer gave it; null "
        "starts a new one.",
    )


class SourceOut(BaseModel):
    title: str
    section: str
    path: str
    audience: str
    status: str = Field(description="official, or sample: illustrative text, not the rule")


class AskResponse(BaseModel):
    answer: str = Field(description="The answer; [n] cites sources[n-1].")
    abstained: bool = Field(description="True when the documents do not cover the question.")
    language: Literal["en", "zh"]
    sources: list[SourceOut]
    conversation_id: str
    answer_id: str = Field(description="Names this answer in /api/feedback and /api/person.")
    latency_ms: float


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer_id: Text
    vote: Literal[1, -1]


class PersonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer_id: Text
    name: Text = Field("", max_length=100, description="How staff may address the learner.")
    branch: Text | None = Field(
        None, max_length=100, description="The branch whose staff should answer (/api/branches)."
    )
    contact: str = Field(
        "",
        max_length=100,
        pattern=CONTACT,
        description="An email address or phone number staff may also use (optional).",
    )


class PersonResponse(BaseModel):
    ticket: int
    state: str
    created: bool


class TicketOut(BaseModel):
    ticket: int
    state: str = Field(description="open, answered, closed or expired")
    question: str


class Passage(BaseModel):
    title: str
    section: str
    status: str
    text: str


class StaffReply(BaseModel):
    id: int
    ticket: int
    branch: str | None
    question: str
    text: str
    kind: str  # "answer", or "correction": the right answer to a question voted 👎


class Problem(BaseModel):
    detail: str


async def _role(request: Request) -> tuple[Role, str | None]:
    """Staff while signed in with an account (their branch; admins the alliance's) or with a
    branch's code that is still in the settings."""
    visitor = await visitor_of(request)
    session = await session_of(request, STAFF_COOKIE, "staff")
    roles = services_of(request).core.roles
    account = visitor.account if visitor is not None else None
    role, branch = roles.on_the_web(account, session.branch if session is not None else None)
    if role == "staff" and branch is None:
        return role, PAGE[page_language(request)]["alliance_staff"]
    return role, branch


async def _ask(
    request: Request, found: WebServices, question: str, conversation_id: str | None
) -> tuple[str, Asked | TooLong | SlowDown]:
    conversation_id = conversation_id or staff_loop.new_conversation_id()
    conversation = staff_loop.web_chat_id(conversation_id)
    role, _ = await _role(request)
    asker = Asker(
        user_id=conversation,
        chat_id=conversation,
        role=role,
        pace_id=staff_loop.web_client_id(client_address(request)),
        per_minute=found.core.settings.web_questions_per_minute,
    )
    return conversation_id, await found.core.ask(asker, question)


def _refusal(outcome: TooLong | SlowDown, language: str) -> JSONResponse:
    text = PAGE[language]
    if isinstance(outcome, TooLong):
        detail = text["too_long"].format(length=outcome.length, limit=outcome.limit)
        return JSONResponse({"detail": detail}, status_code=413)
    detail = text["slow_down"].format(seconds=outcome.seconds)
    headers = {"Retry-After": str(outcome.seconds)}
    return JSONResponse({"detail": detail}, status_code=429, headers=headers)


@router.post(
    "/api/ask",
    response_model=AskResponse,
    responses={
        413: {"model": Problem, "description": "The question is over the length limit."},
        429: {"model": Problem, "description": "Too many questions; see Retry-After."},
    },
    tags=["chat"],
)
async def api_ask(body: AskRequest, request: Request, found: Services) -> Any:
    """Answer a question from the alliance's documents, citing them."""
    language = page_language(request)
    if not body.question.strip():
        raise HTTPException(422, PAGE[language]["empty"])
    conversation_id, outcome = await _ask(request, found, body.question, body.conversation_id)
    if not isinstance(outcome, Asked):
        return _refusal(outcome, language)
    return _answer_out(found, conversation_id, outcome)


@router.post(
    "/api/ask/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "Server-sent events: `thinking` at once, then a `delta` for each of "
            "the answer's paragraphs, then `answer` (as /api/ask answers); or `error` "
            "(`detail`, `status`: 413, 429 with `retry_after`, 500).",
        }
    },
    tags=["chat"],
)
async def api_ask_stream(body: AskRequest, request: Request, found: Services) -> Any:
    """/api/ask as a stream, for pages that show the answer as it comes."""
    language = page_language(request)
    if not body.question.strip():
        raise HTTPException(422, PAGE[language]["empty"])

    async def events() -> AsyncIterator[str]:
        yield _event("thinking", {"text": PAGE[language]["thinking"]})
        try:
            conversation_id, outcome = await _ask(
                request, found, body.question, body.conversation_id
            )
        except Exception:  # the stream has begun: the failure is an event, not a status
            log.exception("a streamed question failed")
            yield _event("error", {"detail": PAGE[language]["failed"], "status": 500})
            return
        if not isinstance(outcome, Asked):
            refusal = _refusal(outcome, language)
            detail = json.loads(bytes(refusal.body))["detail"]
            wait = refusal.headers.get("retry-after")
            failed = {"detail": detail, "status": refusal.status_code}
            yield _event("error", failed | ({"retry_after": int(wait)} if wait else {}))
            return
        answer = _answer_out(found, conversation_id, outcome)
        for part in answer.answer.split("\n\n"):
            if part.strip():
                yield _event("delta", {"text": part})
        yield _event("answer", answer.model_dump())

    # No buffering on the way (nginx): each event reaches the page as it is sent.
    headers = {"x-accel-buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def _event(name: str, data: dict[str, Any]) -> str:
    """One server-sent event; its JSON on one line."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _answer_out(found: WebServices, conversation_id: str, outcome: Asked) -> AskResponse:
    answer = outcome.answer
    return AskResponse(
        answer=answer.answer,
        abstained=answer.abstained,
        language="zh" if answer.language == "zh" else "en",
        sources=[SourceOut(**vars(source)) for source in answer.sources],
        conversation_id=conversation_id,
        answer_id=found.answer_ids.sign(outcome.question_id),
        latency_ms=round(answer.latency_ms, 1),
    )


@router.post("/api/feedback", responses={404: {"model": Problem}}, tags=["chat"])
async def api_feedback(body: FeedbackRequest, found: Services) -> dict[str, bool]:
    """👍 (1) or 👎 (-1) on an answer; voting again changes the vote."""
    question_id = found.answer_ids.verify(body.answer_id)
    logged = await found.core.store.logged(question_id) if question_id is not None else None
    if logged is None:
        raise HTTPException(404, "no such answer (or it is no longer kept)")
    await found.core.store.record_feedback(logged.id, logged.user_id, body.vote)
    log.info("web conversation voted %+d on question %s", body.vote, logged.id)
    return {"recorded": True}


@router.post(
    "/api/person",
    response_model=PersonResponse,
    responses={404: {"model": Problem}, 429: {"model": Problem}, 503: {"model": Problem}},
    tags=["chat"],
)
async def api_person(body: PersonRequest, request: Request, found: Services) -> Any:
    """Pass an answered question to branch staff ("Ask a person"); their answer appears in
    /api/replies."""
    language = page_language(request)
    question_id = found.answer_ids.verify(body.answer_id)
    logged = await found.core.store.logged(question_id) if question_id is not None else None
    if logged is None:
        raise HTTPException(404, "no such answer (or it is no longer kept)")
    name = " ".join(body.name.split()) or ESCALATED_NAME
    if body.branch and body.branch not in await found.core.branches():
        raise HTTPException(422, PAGE[language]["no_such_branch"])
    contact = body.contact.strip() or None
    opened = await found.core.open_ticket(
        logged, logged.chat_id, name, body.branch or None, contact
    )
    if opened is None:
        raise HTTPException(503, PAGE[language]["person_off"])
    if isinstance(opened, SlowDown):
        return _refusal(opened, language)
    return PersonResponse(
        ticket=opened.ticket.id, state=opened.ticket.state, created=opened.created
    )


@router.get("/api/branches", response_model=list[str], tags=["chat"])
async def api_branches(found: Services) -> Any:
    """The branches whose staff answer "Ask a person" (empty when nobody does)."""
    return await found.core.branches() if await found.core.staff_loop_on() else []


@router.get("/api/replies", response_model=list[StaffReply], tags=["chat"])
async def api_replies(
    found: Services,
    conversation_id: Annotated[str, Query(pattern=CONVERSATION_ID)],
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> Any:
    """Staff answers to this conversation's tickets, newer than reply `after`."""
    learner = staff_loop.web_chat_id(conversation_id)
    rows = await found.core.store.tickets.staff_replies(learner, after)
    return [
        StaffReply(
            id=r.id,
            ticket=r.ticket_id,
            branch=r.branch,
            question=r.question,
            text=r.text,
            kind=r.kind,
        )
        for r in rows
    ]


@router.get("/api/tickets", response_model=list[TicketOut], tags=["chat"])
async def api_tickets(
    found: Services, conversation_id: Annotated[str, Query(pattern=CONVERSATION_ID)]
) -> Any:
    """This conversation's tickets and their states, oldest first."""
    learner = staff_loop.web_chat_id(conversation_id)
    rows = await found.core.store.tickets.of_learner_chat(learner)
    return [TicketOut(ticket=t.id, state=t.state, question=t.question) for t in rows]


@router.get("/api/passages", response_model=list[Passage], tags=["chat"])
async def api_passages(
    request: Request, found: Services, answer_id: Annotated[str, Query(max_length=60)]
) -> Any:
    """The passages an answer cites, as far as the one asking may read them."""
    return await _passages(request, found, answer_id)


async def _passages(request: Request, found: WebServices, answer_id: str) -> list[Passage]:
    question_id = found.answer_ids.verify(answer_id)
    logged = await found.core.store.logged(question_id) if question_id is not None else None
    if logged is None:
        raise HTTPException(404, "no such answer (or it is no longer kept)")
    role, _ = await _role(request)
    allowed = audiences_for(role)
    return [
        Passage(
            title=str(item.get("title", "")),
            section=str(item.get("section", "")),
            status=str(item.get("status", "")),
            text=str(item.get("text", "")),
        )
        for item in logged.sources
        if item.get("audience") in allowed
    ]


@router.get("/healthz", tags=["operations"])
async def healthz(found: Services) -> JSONResponse:
    """Ready (200) or not (503): an index is published and the database answers."""
    health = await found.core.health()
    return JSONResponse(health.to_json_dict(), status_code=200 if health.ready else 503)


@router.get("/metrics", tags=["operations"], response_class=Response)
async def metrics(found: Services) -> Response:
    """This process's metrics, in Prometheus's text format (bot.services.metrics)."""
    return Response(await found.core.metrics(), media_type=METRICS_TYPE)


# The page
def _page(request: Request, template: str, language: str, **values: Any) -> HTMLResponse:
    templates = request.app.state.templates
    response: HTMLResponse = templates.TemplateResponse(
        request,
        template,
        {"t": PAGE[language], "lang": language, "other": "zh" if language == "en" else "en"}
        | values,
    )
    if request.query_params.get("lang") == language:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax")
    return response


async def _chat_page(
    request: Request, template: str, found: WebServices, **values: Any
) -> HTMLResponse:
    language = page_language(request)
    _, branch = await _role(request)
    visitor = await visitor_of(request)
    staff_loop_on = await found.core.staff_loop_on()
    values.setdefault("staff_loop", staff_loop_on)
    values.setdefault("limit", found.core.settings.max_question_chars)
    values.setdefault("suggestions", await found.core.engine.suggestions(language))
    values.setdefault("keep_days", found.core.settings.web_keep_conversation_days)
    values.setdefault("branches", await found.core.branches() if staff_loop_on else [])
    return _page(
        request,
        template,
        language,
        branch=branch,
        account=visitor.name if visitor is not None else None,
        embedded=template == "embed.html",
        **values,
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def chat_page(request: Request, found: Services) -> HTMLResponse:
    return await _chat_page(request, "chat.html", found)


@router.get("/embed", response_class=HTMLResponse, include_in_schema=False)
async def embed_page(request: Request, found: Services) -> HTMLResponse:
    """The chat inside the widget's frame (only the allowed origins may frame it)."""
    return await _chat_page(request, "embed.html", found)


@router.get("/embed/allowed", include_in_schema=False)
async def embed_allowed(request: Request, found: Services) -> Response:
    """Whether the page asking (its Origin) may show the widget: 204 with CORS for the origins
    in WEB_EMBED_ORIGINS, whose pages may frame the chat; 403 for any other, whose frame would
    stay grey, so the widget shows no button there."""
    origin = request.headers.get("origin", "")
    if origin not in found.core.settings.web_embed_origins:
        return Response(status_code=403)
    return Response(
        status_code=204, headers={"access-control-allow-origin": origin, "vary": "Origin"}
    )


@router.post("/", response_class=HTMLResponse, include_in_schema=False)
@router.post("/embed", response_class=HTMLResponse, include_in_schema=False)
async def chat_form(
    request: Request,
    found: Services,
    question: Annotated[str, Form(max_length=20000)] = "",
    conversation_id: Annotated[str | None, Form(pattern=CONVERSATION_ID)] = None,
) -> Response:
    """The page without JavaScript: the question as a form post, the answer in the page."""
    language = page_language(request)
    template = "embed.html" if request.url.path == "/embed" else "chat.html"
    if not question.strip():
        return await _chat_page(request, template, found, error=PAGE[language]["empty"])
    try:
        conversation_id, outcome = await _ask(request, found, question, conversation_id)
    except Exception:  # a page that keeps the question, not a bare error
        log.exception("a question from the page's form failed")
        return error_page(request, 500, "server_error", "server_error_text", question=question)
    if not isinstance(outcome, Asked):
        refusal = _refusal(outcome, language)
        detail = json.loads(bytes(refusal.body))["detail"]
        page = await _chat_page(request, template, found, error=detail, question=question)
        page.status_code = refusal.status_code
        page.headers.update({k: v for k, v in refusal.headers.items() if k == "retry-after"})
        return page
    answer_id = found.answer_ids.sign(outcome.question_id)
    return await _chat_page(
        request,
        template,
        found,
        asked=question,
        answer=outcome.answer,
        answer_id=answer_id,
        passages=await _passages(request, found, answer_id),
        conversation_id=conversation_id,
    )


# Staff sign-in with an invite code
@router.post("/staff/signin", include_in_schema=False)
async def staff_signin(
    request: Request, found: Services, code: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    language = page_language(request)
    client = staff_loop.web_client_id(client_address(request))
    outcome, branch = await found.core.roles.check_code(client, code.strip())
    if branch is None:
        page = await _chat_page(request, "chat.html", found, signin_error=PAGE[language][outcome])
        page.status_code = 403
        return page
    log.info("web staff of %s signed in", branch)
    return await signed_in(request, STAFF_COOKIE, "staff", 0, branch=branch)


@router.post("/staff/signout", include_in_schema=False)
async def staff_signout(request: Request, found: Services) -> Response:
    token = request.cookies.get(STAFF_COOKIE)
    if token:
        await found.core.store.web.close_session(token[:100])
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(STAFF_COOKIE)
    return response
