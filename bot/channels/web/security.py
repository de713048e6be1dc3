"""What every web response and request passes through: strict headers (Content-Security-Policy
with no inline script or style, framing only for the widget's allowed origins), request size
limits, a same-origin check on every unsafe request, and signed answer ids."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_BODY_LIMIT = 64 * 1024  # questions, votes and forms: far above any real one
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors {ancestors}"
)
EMBED_PATH = "/embed"
UPLOAD_PATH = "/admin/documents"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class Guard:
    """ASGI middleware: security headers on every response; a 413 for a body over its limit;
    a 403 for an unsafe request from another site (its Origin names a different host)."""

    def __init__(
        self, app: ASGIApp, embed_origins: list[str], upload_limit: int, public_url: str
    ) -> None:
        self.app = app
        parts = urlsplit(public_url)
        self._public_origin = f"{parts.scheme}://{parts.netloc}"
        self._embed_ancestors = " ".join(["'self'", *embed_origins])
        self._upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] in _UNSAFE and not _same_origin(headers, self._public_origin):
            await _plain(send, 403, "cross-site request refused", self._headers(path))
            return
        limit = self._upload_limit if path == UPLOAD_PATH else API_BODY_LIMIT
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _plain(send, 413, f"request body over {limit} bytes", self._headers(path))
            return
        if scope["method"] in _UNSAFE and not declared.isdigit():
            # A chunked body: read up to the limit before the app sees any of it.
            body = await _read_body(receive, limit)
            if body is None:
                await _plain(send, 413, f"request body over {limit} bytes", self._headers(path))
                return
            receive = _replay(body, receive)

        async def secured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self._headers(path)]
            await send(message)

        await self.app(scope, receive, secured_send)

    def _headers(self, path: str) -> list[tuple[bytes, bytes]]:
        embed = path == EMBED_PATH
        ancestors = self._embed_ancestors if embed else "'none'"
        headers = [
            ("content-security-policy", _CSP.format(ancestors=ancestors)),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "same-origin"),  # "no-referrer" makes form posts Origin: null
            ("cross-origin-opener-policy", "same-origin"),
        ]
        if not embed:
            headers.append(("x-frame-options", "DENY"))
        if path.startswith(("/admin", "/api", "/staff")):
            headers.append(("cache-control", "no-store"))
        return [(k.encode(), v.encode()) for k, v in headers]


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, None when it is over `limit` (or the client went away)."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return bytes(body)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body read already, then the client's own messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _same_origin(headers: dict[str, str], public_origin: str) -> bool:
    """No Origin (a form post from an old browser, a script) passes; CSRF tokens cover the
    console. An Origin must name this host, or the public address (a proxy may rewrite Host)."""
    origin = headers.get("origin")
    if origin is None:
        return True
    if origin == public_origin:
        return True
    return origin != "null" and urlsplit(origin).netloc == headers.get("host", "")


async def _plain(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), *extra]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AnswerIds:
    """Answer ids the web chat hands out: the logged question's id and a MAC of it, so a vote,
    an escalation or a passage request names only answers its client was given."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, question_id: int) -> str:
        return f"{question_id}.{self._mac(question_id)}"

    def verify(self, answer_id: Any) -> int | None:
        if not isinstance(answer_id, str):
            return None
        match = re.fullmatch(r"(\d{1,18})\.([0-9a-f]{24})", answer_id)
        if match is None:
            return None
        question_id = int(match.group(1))
        return question_id if hmac.compare_digest(self._mac(question_id), match.group(2)) else None

    def _mac(self, question_id: int) -> str:
        return hmac.new(self._key, str(question_id).encode(), hashlib.sha256).hexdigest()[:24]
