"""A Telegram Bot API emulator on 127.0.0.1 for end-to-end tests and benchmarks of the real bot
process.

It serves the methods the bot uses (getMe, getUpdates with long polling and offsets,
sendMessage, editMessageText, sendPhoto with an uploaded PNG or JPEG, sendDocument with an
uploaded file, getFile with the download of a file a user sent, sendChatAction,
answerCallbackQuery, setMyCommands, setWebhook, deleteWebhook) in the Bot API's formats (JSON,
form or multipart bodies), records every call, lets a test queue updates as if users had
written them, and injects faults: error statuses (429 with retry_after, 500) and slow
responses.
"""

import itertools
import json
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

DROP = 0  # a fault status: the connection closes without an answer
_RAW_STRINGS = {"text", "caption", "parse_mode", "action", "language_code", "url", "secret_token"}
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")  # what Telegram takes as a photo
BOT_ID = 777
BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Alliance",
    "username": "alliance_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class BotAPIEmulator:
    def __init__(
        self, token: str, bot_id: int = BOT_ID, address: tuple[str, int] = ("127.0.0.1", 0)
    ) -> None:
        """One bot's side of the Bot API; another `bot_id` is another bot, whose update ids
        start from 1 again. It listens on `address` (a free port on 127.0.0.1 by default; a
        container's own address and port in scripts/test-image and scripts/test-stack)."""
        self.token = token
        self.bot_user = {**BOT_USER, "id": bot_id}
        self.calls: list[tuple[str, dict]] = []
        self.sent: list[dict] = []  # messages the bot sent, as they are now (edits applied)
        self.edits: list[dict] = []  # every editMessageText, in order
        # Photos the bot sent, each its message with the uploaded bytes under "upload"; apart
        # from `sent`, whose messages all have a text.
        self.photos: list[dict] = []
        self.documents: list[dict] = []  # likewise files, with "filename" and "content"
        self.answered_callbacks: list[dict] = []
        self.files: dict[str, bytes] = {}  # files users sent, by file_id, for getFile
        self._faults: dict[str, list[tuple[int, dict, float, int | None]]] = {}
        # Called with each message the bot sends, outside the lock (benchmarks drive users).
        self.on_sent: Callable[[dict], None] | None = None
        self._chats: dict[int, dict] = {}
        self._updates: list[dict] = []
        self.delivered: list[dict] = []  # every update handed out, for re-delivery
        self._update_ids = itertools.count(1)
        self.last_update_id = 0  # the latest update queued
        self._message_ids = itertools.count(1000)
        self._changed = threading.Condition()
        self._server = _QuietServer(address, self._handler())
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
        text: str | None,
        *,
        user_id: int = 42,
        chat_id: int | None = None,
        chat_type: str = "private",
        language: str = "en",
        reply_to: dict | None = None,
        extra: dict | None = None,
        entities: list[dict] | None = None,
    ) -> int:
        """Queue a message from a user: text (commands and @mentions get their entities, unless
        `entities` gives others, hostile ones included), or None with `extra` for other kinds,
        e.g. {"sticker": {...}}."""
        chat_id = chat_id if chat_id is not None else user_id
        chat = {"id": chat_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = "Study group"
        self._chats[chat_id] = chat
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": _user(user_id, language),
            **(extra or {}),
        }
        if text is not None:
            message["text"] = text
            message["entities"] = _entities(text) if entities is None else entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self._queue({"message": message})
        return message["message_id"]

    def user_document(
        self, content: bytes, file_name: str, *, user_id: int = 42, language: str = "en"
    ) -> int:
        """Queue a file a user sends in their private chat; the bot can fetch it with getFile."""
        file_id = f"doc{len(self.files) + 1}-{user_id}"
        self.files[file_id] = content
        document = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": file_name,
            "mime_type": "application/octet-stream",
            "file_size": len(content),
        }
        return self.user_message(
            None, user_id=user_id, language=language, extra={"document": document}
        )

    def add_group(self, chat_id: int, title: str = "Staff") -> None:
        """A group the bot is a member of (messages sent there carry its type and title)."""
        with self._changed:
            self._chats[chat_id] = {"id": chat_id, "type": "supergroup", "title": title}

    def press(self, button: dict, message: dict, *, user_id: int, language: str = "en") -> None:
        """Queue a press of an inline button under one of the bot's messages."""
        callback = {
            "id": str(next(self._update_ids) * 7919),
            "from": _user(user_id, language),
            "chat_instance": str(message["chat"]["id"]),
            "message": message,
            "data": button["callback_data"],
        }
        self._queue({"callback_query": callback})

    def post_raw_update(self, update: dict) -> None:
        """Queue an update exactly as given (hostile shapes included)."""
        self._queue(update)

    def _queue(self, body: dict) -> None:
        with self._changed:
            self.last_update_id = next(self._update_ids)
            self._updates.append({"update_id": self.last_update_id, **body})
            self._changed.notify_all()

    # Faults
    def fail(
        self,
        method: str,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        chat_id: int | None = None,
    ) -> None:
        """The next `times` calls of `method` (for `chat_id`, if given) fail with `status`
        (429 carries retry_after); status DROP closes the connection without an answer and
        without acting on the call."""
        extra = {"parameters": {"retry_after": retry_after}} if retry_after is not None else {}
        with self._changed:
            self._faults.setdefault(method, []).extend([(status, extra, 0.0, chat_id)] * times)

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `method` answer normally, after `seconds`."""
        with self._changed:
            self._faults.setdefault(method, []).extend([(200, {}, seconds, None)] * times)

    def pending_faults(self, method: str) -> int:
        """Injected faults and delays of `method` that no call has met yet."""
        with self._changed:
            return len(self._faults.get(method, []))

    def _fault(self, method: str, params: dict) -> tuple[int, dict, float] | None:
        with self._changed:
            for number, (status, extra, seconds, chat_id) in enumerate(
                self._faults.get(method, [])
            ):
                if chat_id is None or str(chat_id) == str(params.get("chat_id")):
                    del self._faults[method][number]
                    return status, extra, seconds
            return None

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
    def _call(self, method: str, params: dict) -> tuple[int, object]:
        with self._changed:
            self.calls.append((method, params))
            self._changed.notify_all()
        fault = self._fault(method, params)
        if fault is not None:
            status, extra, seconds = fault
            time.sleep(seconds)
            if status == DROP:
                return DROP, {}
            if status != 200:
                return status, {"description": f"injected fault {status}", **extra}
        if method == "getMe":
            return 200, self.bot_user
        if method == "getUpdates":
            return 200, self._get_updates(
                int(params.get("offset", 0)), float(params.get("timeout", 0))
            )
        if method == "sendMessage":
            return self._send_message(params)
        if method == "editMessageText":
            return self._edit_message(params)
        if method == "sendPhoto":
            return self._send_photo(params)
        if method == "sendDocument":
            return self._send_document(params)
        if method == "answerCallbackQuery":
            with self._changed:
                self.answered_callbacks.append(params)
                self._changed.notify_all()
            return 200, True
        if method == "getFile":
            file_id = str(params.get("file_id", ""))
            if file_id not in self.files:
                return 400, {"description": "Bad Request: invalid file_id"}
            size = len(self.files[file_id])
            path = f"documents/{file_id}"
            return 200, {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_size": size,
                "file_path": path,
            }
        if method in {"sendChatAction", "setMyCommands", "setWebhook", "deleteWebhook", "close"}:
            return 200, True
        return 404, {"description": f"Not Found: method {method} is not emulated"}

    def _send_message(self, params: dict) -> tuple[int, dict]:
        problem = _text_problem(params)
        if problem:
            return 400, {"description": f"Bad Request: {problem}"}
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chats.get(chat_id, {"id": chat_id, "type": "private"}),
            "from": self.bot_user,
            "text": params["text"],
            "parse_mode": params.get("parse_mode"),
            "reply_markup": params.get("reply_markup"),
        }
        with self._changed:
            self.sent.append(message)
            self._changed.notify_all()
        if self.on_sent is not None:
            self.on_sent(message)
        return 200, {key: value for key, value in message.items() if key != "parse_mode"}

    def _send_photo(self, params: dict) -> tuple[int, dict]:
        upload = params.get("photo")
        if not isinstance(upload, bytes):  # a file_id or URL: nothing here was ever uploaded
            return 400, {"description": "Bad Request: wrong file identifier/HTTP URL specified"}
        if not upload.startswith(_IMAGE_SIGNATURES):
            return 400, {"description": "Bad Request: IMAGE_PROCESS_FAILED"}
        if _utf16_length(params.get("caption", "")) > 1024:
            return 400, {"description": "Bad Request: message caption is too long"}
        chat_id = int(params["chat_id"])
        message_id = next(self._message_ids)
        width, height = _png_size(upload)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chats.get(chat_id, {"id": chat_id, "type": "private"}),
            "from": self.bot_user,
            "photo": [
                {
                    "file_id": f"photo-{message_id}",
                    "file_unique_id": f"p{message_id}",
                    "width": width,
                    "height": height,
                    "file_size": len(upload),
                }
            ],
        }
        if "caption" in params:
            message["caption"] = params["caption"]
        with self._changed:
            self.photos.append({**message, "upload": upload})
            self._changed.notify_all()
        return 200, message

    def _send_document(self, params: dict) -> tuple[int, dict]:
        upload = params.get("document")
        if not isinstance(upload, bytes):
            return 400, {"description": "Bad Request: wrong file identifier/HTTP URL specified"}
        if not upload:
            return 400, {"description": "Bad Request: file must be non-empty"}
        chat_id = int(params["chat_id"])
        message_id = next(self._message_ids)
        filename = str(params.get("document.filename", "file"))
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chats.get(chat_id, {"id": chat_id, "type": "private"}),
            "from": self.bot_user,
            "document": {
                "file_id": f"document-{message_id}",
                "file_unique_id": f"d{message_id}",
                "file_name": filename,
                "file_size": len(upload),
            },
        }
        if "caption" in params:
            message["caption"] = params["caption"]
        with self._changed:
            self.documents.append(
                {**message, "filename": filename, "content": upload, "chat_id": chat_id}
            )
            self._changed.notify_all()
        return 200, message

    def _edit_message(self, params: dict) -> tuple[int, dict]:
        problem = _text_problem(params)
        if problem:
            return 400, {"description": f"Bad Request: {problem}"}
        with self._changed:
            found = [
                m
                for m in self.sent
                if m["message_id"] == int(params["message_id"])
                and m["chat"]["id"] == int(params["chat_id"])
            ]
            if not found:
                return 400, {"description": "Bad Request: message to edit not found"}
            if found[0]["text"] == params["text"]:
                return 400, {"description": "Bad Request: message is not modified"}
            found[0]["text"] = params["text"]
            # As in Telegram, an edit without a keyboard removes the old one.
            found[0]["reply_markup"] = params.get("reply_markup")
            self.edits.append(params)
            self._changed.notify_all()
            return 200, {key: value for key, value in found[0].items() if key != "parse_mode"}

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60) -> bool:
        """Wait until `condition()` holds (checked whenever the bot calls)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                if time.monotonic() > deadline:
                    return False
                self._changed.wait(0.1)
            return True

    def _get_updates(self, offset: int, timeout: float) -> list[dict]:
        deadline = time.monotonic() + min(timeout, 2.0)
        with self._changed:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            known = {u["update_id"] for u in self.delivered}
            self.delivered += [u for u in self._updates if u["update_id"] not in known]
            return list(self._updates)

    def take_updates(self) -> list[dict]:
        """Hand out the queued updates for a test to post to a webhook, as Telegram does to a
        bot in webhook mode (which never calls getUpdates)."""
        with self._changed:
            taken, self._updates = self._updates, []
            self.delivered += taken
            return taken

    def redeliver(self) -> None:
        """Hand out again every update delivered so far, with its own update_id, as Telegram
        does when a bot died before confirming them."""
        with self._changed:
            every = {u["update_id"]: u for u in [*self.delivered, *self._updates]}
            self._updates = [every[update_id] for update_id in sorted(every)]
            self._changed.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep connections open, as Telegram's servers do

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # a file download, as Telegram's file server serves it
                prefix = f"/file/bot{emulator.token}/documents/"
                path = unquote(self.path)  # the client quotes the token's ":"
                content = emulator.files.get(path[len(prefix) :])
                if not path.startswith(prefix) or content is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_POST(self) -> None:
                prefix = f"/bot{emulator.token}/"
                if not self.path.startswith(prefix):
                    self._reply(
                        401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
                    )
                    return
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                kind = self.headers.get("Content-Type", "")
                if kind.startswith("application/json"):
                    params = json.loads(body or b"{}")
                elif kind.startswith("multipart/form-data"):
                    params = _multipart(kind, body)
                else:
                    pairs = parse_qsl(body.decode())
                    params = {key: _value(key, value) for key, value in pairs}
                status, result = emulator._call(self.path[len(prefix) :], params)
                if status == DROP:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif status == 200:
                    self._reply(200, {"ok": True, "result": result})
                else:
                    assert isinstance(result, dict)  # an error's extra fields
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
    request_queue_size = 1024  # a busy bot opens many connections at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-poll (the bot shutting down) is no test failure."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


_TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                  "span", "tg-spoiler", "blockquote"}  # fmt: skip
_MARKUP = re.compile(r"<(/?)([a-z-]+)(?:\s[^<>]*)?>|&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def buttons(message: dict) -> dict[str, dict]:
    """The inline buttons under one of the bot's messages, by their text."""
    return {
        button["text"]: button
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
    }


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


def _text_problem(params: dict) -> str | None:
    text = params.get("text", "")
    if not text.strip():
        return "message text is empty"
    if _utf16_length(text) > 4096:
        return "message is too long"
    if params.get("parse_mode") == "HTML":
        problem = html_problem(text)
        return f"can't parse entities: {problem}" if problem else None
    return None


def _user(user_id: int, language: str) -> dict:
    return {"id": user_id, "is_bot": False, "first_name": "Learner", "language_code": language}


def _entities(text: str) -> list[dict]:
    """bot_command and mention entities, with offsets in UTF-16 code units as Telegram counts."""
    found = []
    for match in re.finditer(r"(?:^/[a-z_]+(?:@\w+)?)|@\w+", text):
        kind = "bot_command" if match.group(0).startswith("/") else "mention"
        found.append(
            {
                "type": kind,
                "offset": _utf16_length(text[: match.start()]),
                "length": _utf16_length(match.group(0)),
            }
        )
    return found


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _multipart(content_type: str, body: bytes) -> dict:
    """A multipart/form-data body's fields: uploaded files as bytes, the rest as in a form."""
    parsed = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    params: dict[str, object] = {}
    for part in parsed.iter_parts():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(content, bytes), part
        filename = part.get_filename()
        params[name] = content if filename is not None else _value(name, content.decode())
        if filename is not None:
            params[f"{name}.filename"] = filename
    return params


def _png_size(data: bytes) -> tuple[int, int]:
    """A PNG's width and height from its IHDR chunk; (0, 0) for another image."""
    if data.startswith(_IMAGE_SIGNATURES[0]) and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    return 0, 0


def _value(key: str, value: str) -> object:
    if key in _RAW_STRINGS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
