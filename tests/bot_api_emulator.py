"""A Telegram Bot API emulator on 127.0.0.1 for end-to-end tests of the real bot process.

It serves the methods the bot uses (getMe, getUpdates with long polling, sendMessage,
sendChatAction, setMyCommands, deleteWebhook), records every call, and lets a test queue
updates as if users had written them.
"""

import itertools
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

_RAW_STRINGS = {"text", "parse_mode", "action", "language_code"}
BOT_USER = {
    "id": 777,
    "is_bot": True,
    "first_name": "Alliance",
    "username": "alliance_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class BotAPIEmulator:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[tuple[str, dict]] = []
        self.sent: list[dict] = []
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._changed = threading.Condition()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    def __enter__(self) -> "BotAPIEmulator":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._changed:
            self._changed.notify_all()
        self._server.shutdown()
        self._server.server_close()

    # What users do
    def user_message(
        self,
        text: str,
        *,
        user_id: int = 42,
        chat_id: int | None = None,
        chat_type: str = "private",
        language: str = "en",
    ) -> int:
        chat_id = chat_id if chat_id is not None else user_id
        chat = {"id": chat_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = "Study group"
        entities = []
        if text.startswith("/"):
            entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": "Learner",
                "language_code": language,
            },
            "text": text,
            "entities": entities,
        }
        with self._changed:
            self._updates.append({"update_id": next(self._update_ids), "message": message})
            self._changed.notify_all()
        return message["message_id"]

    def wait_for_messages(self, chat_id: int, count: int = 1, timeout: float = 60) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [m for m in self.sent if m["chat"]["id"] == chat_id]
                if len(found) >= count or time.monotonic() > deadline:
                    return found
                self._changed.wait(0.1)

    def wait_for_call(self, method: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(name == method for name, _ in self.calls):
                if time.monotonic() > deadline:
                    return False
                self._changed.wait(0.1)
            return True

    # The Bot API side
    def _call(self, method: str, params: dict) -> tuple[int, dict]:
        with self._changed:
            self.calls.append((method, params))
            self._changed.notify_all()
        if method == "getMe":
            return 200, BOT_USER
        if method == "getUpdates":
            return 200, self._get_updates(
                int(params.get("offset", 0)), float(params.get("timeout", 0))
            )
        if method == "sendMessage":
            problem = html_problem(params["text"]) if params.get("parse_mode") == "HTML" else None
            if problem or len(params["text"]) > 4096:
                return 400, {"description": f"Bad Request: can't parse entities: {problem}"}
            message = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": BOT_USER,
                "text": params["text"],
                "parse_mode": params.get("parse_mode"),
                "reply_markup": params.get("reply_markup"),
            }
            with self._changed:
                self.sent.append(message)
                self._changed.notify_all()
            return 200, message
        if method in {"sendChatAction", "setMyCommands", "deleteWebhook", "close"}:
            return 200, True
        return 404, {"description": f"Not Found: method {method} is not emulated"}

    def _get_updates(self, offset: int, timeout: float) -> list[dict]:
        deadline = time.monotonic() + min(timeout, 2.0)
        with self._changed:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            return list(self._updates)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                prefix = f"/bot{emulator.token}/"
                if not self.path.startswith(prefix):
                    self._reply(
                        401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
                    )
                    return
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(body or "{}")
                else:
                    params = {key: _value(key, value) for key, value in parse_qsl(body)}
                status, result = emulator._call(self.path[len(prefix) :], params)
                if status == 200:
                    self._reply(200, {"ok": True, "result": result})
                else:
                    self._reply(status, {"ok": False, "error_code": status, **result})

            def _reply(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-poll (the bot shutting down) is no test failure."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


_TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                  "span", "tg-spoiler", "blockquote"}  # fmt: skip
_MARKUP = re.compile(r"<(/?)([a-z-]+)(?:\s[^<>]*)?>|&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def html_problem(text: str) -> str | None:
    """What Telegram's HTML parse mode would reject: unknown or unbalanced tags, or a bare
    <, > or & outside a tag or entity. None when the text is valid."""
    open_tags: list[str] = []
    for match in _MARKUP.finditer(text):
        closing, tag = match.group(1), match.group(2)
        if tag is None:
            continue
        if tag not in _TELEGRAM_TAGS:
            return f"unsupported tag <{tag}>"
        if not closing:
            open_tags.append(tag)
        elif not open_tags or open_tags.pop() != tag:
            return f"unexpected end tag </{tag}>"
    if open_tags:
        return f"unclosed tag <{open_tags[-1]}>"
    bare = re.search(r"[<>&]", _MARKUP.sub("", text))
    return f"bare {bare.group(0)!r}" if bare else None


def _value(key: str, value: str) -> object:
    if key in _RAW_STRINGS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
