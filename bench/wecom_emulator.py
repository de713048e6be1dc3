"""An emulator of WeCom's long-connection server for intelligent bots (智能机器人长连接) on
127.0.0.1, for the tests and benchmarks of the WeCom channel, as the Bot API emulator is for
Telegram. docs/wecom-protocol.md describes the protocol it follows.

It checks the subscription's bot id and secret (853000 otherwise, the socket left open as the
real server does), acknowledges heartbeats, lets a test send users' messages and events
(welcome, card clicks) as callbacks, checks and acknowledges every reply (stream frames,
welcome, card updates, proactive sends) and keeps what each user would see: each stream's
latest snapshot, cards with their updates, proactive messages. Its faults: a dropped
connection (no close frame), a clean close, another connection taking over (the
`disconnected_event`), and stalled acknowledgements.
"""

import contextlib
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

BAD_SECRET = 853000
INVALID_REQ_ID = 846605
STREAM_EXPIRED = 846608
NOT_IN_CONVERSATION = 846609  # made up: the real code for a push to a stranger is undocumented
CONTENT_BYTES = 20480


@dataclass
class Shown:
    """One message as the user sees it: a stream's latest snapshot, a card, a markdown push."""

    chat: str  # the user id of a single chat, the chat id of a group
    kind: str  # "stream", "card", "markdown", "welcome"
    content: str = ""
    finished: bool = False
    stream_id: str | None = None
    card: dict[str, Any] | None = None
    snapshots: list[str] = field(default_factory=list)  # every content a stream showed
    req_id: str | None = None  # the callback it answers (None: a proactive send)


@dataclass
class _Callback:
    kind: str  # "msg", "enter_chat", "template_card_event"
    chat: str
    userid: str
    at: float


class WeComEmulator:
    def __init__(
        self, bot_id: str = "aibot-test", secret: str = "secret-for-the-emulator-only"
    ) -> None:
        self.bot_id, self.secret = bot_id, secret
        self.frames: list[dict[str, Any]] = []  # every frame a client sent, in order
        self.shown: list[Shown] = []
        self.subscriptions = 0  # successful ones, over all connections
        self.stream_seconds = 360.0  # a stream must finish this soon after its first frame
        self.ack_delay = 0.0  # seconds before each reply is acknowledged (a slow server)
        self.subscribe_delay = 0.0  # seconds between a subscribe frame and its acknowledgement
        self.answers_heartbeats = True  # False: pings go unanswered (a half-dead connection)
        # True: the next frame that would finish a stream is lost with the connection
        self.drop_on_finish = False
        self.on_finish: Callable[[Shown], None] | None = None  # told of each finished stream
        self.transcript: list[str] = []  # what users did and saw, as markdown lines
        self.open_connections = 0
        self._current: ServerConnection | None = None
        self._callbacks: dict[str, _Callback] = {}
        self._streams: dict[str, tuple[Shown, float]] = {}  # stream id -> shown, first frame
        self._chats: set[str] = set()  # conversations that wrote to the bot
        self.last_msgid = ""  # of the latest callback sent
        self._ids = itertools.count(1)
        self._changed = threading.Condition()
        self._server: Server | None = None

    # lifecycle

    def __enter__(self) -> "WeComEmulator":
        listening = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{listening.getsockname()[1]}"
        self._server = serve(self._serve, sock=listening, ping_interval=None, compression=None)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()

    # what a test does as users

    def user_message(
        self,
        text: str,
        userid: str,
        chatid: str | None = None,
        msgid: str | None = None,
        msgtype: str = "text",
        quote: str | None = None,
    ) -> str:
        """A user writes to the bot: in a single chat, or in group `chatid` (where the real
        server passes only messages that mention the bot, with the mention in the text),
        quoting a message of `quote`'s text if given. The callback's req_id."""
        body: dict[str, Any] = {
            "msgid": msgid or f"msg-{next(self._ids)}",
            "aibotid": self.bot_id,
            "chattype": "group" if chatid else "single",
            "from": {"userid": userid},
            "msgtype": msgtype,
        }
        if chatid:
            body["chatid"] = chatid
        if quote is not None:
            body["quote"] = {"msgtype": "text", "text": {"content": quote}}
        quoted = " (quoting a ticket)" if quote is not None else ""
        self._note(f"**{userid}** in {chatid or 'a single chat'}{quoted}: {text}")
        if msgtype == "text":
            body["text"] = {"content": text}
        elif msgtype == "voice":
            body["voice"] = {"content": text}
        else:
            body[msgtype] = {"url": "https://example.invalid/media", "aeskey": "x"}
        return self._callback("aibot_msg_callback", "msg", body)

    def enter_chat(self, userid: str) -> str:
        """A user opens the single chat with the bot for the first time today."""
        return self._event("enter_chat", userid, None, {})

    def click(self, userid: str, task_id: str, key: str, chatid: str | None = None) -> str:
        """A user presses button `key` of card `task_id`."""
        card_event = {"card_type": "button_interaction", "event_key": key, "task_id": task_id}
        self._note(f"**{userid}** presses `{key}` in {chatid or 'a single chat'}")
        return self._event("template_card_event", userid, chatid, card_event)

    def raw(self, frame: dict[str, Any] | str) -> None:
        """Send a frame exactly as given (hostile shapes included)."""
        self._send(frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False))

    # faults

    def drop(self) -> None:
        """The connection is lost: no close frame (1006 at the client)."""
        connection = self._require_connection()
        connection.socket.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """The server closes the connection cleanly (1000)."""
        self._require_connection().close()

    def take_over(self) -> None:
        """Another connection subscribed with this bot's id: the server tells this one, and
        leaves it open for a while as the real one does."""
        body = {
            "msgid": f"evt-{next(self._ids)}",
            "create_time": int(time.time()),
            "aibotid": self.bot_id,
            "msgtype": "event",
            "event": {"eventtype": "disconnected_event"},
        }
        self._send(
            json.dumps({"cmd": "aibot_event_callback", "headers": self._req(), "body": body})
        )

    # what a test reads

    def wait_for(self, condition: Callable[[], object], timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.1))
            return True

    def seen_by(self, chat: str) -> list[Shown]:
        with self._changed:
            return [s for s in self.shown if s.chat == chat]

    def commands(self, cmd: str) -> list[dict[str, Any]]:
        with self._changed:
            return [f for f in self.frames if f.get("cmd") == cmd]

    @property
    def connected(self) -> bool:
        return self._current is not None

    # the server

    def _serve(self, connection: ServerConnection) -> None:
        subscribed = False
        with self._changed:
            self.open_connections += 1
        try:
            for message in connection:
                frame = json.loads(message)
                with self._changed:
                    self.frames.append(frame)
                    self._changed.notify_all()
                cmd, req_id = frame.get("cmd"), frame.get("headers", {}).get("req_id", "")
                if cmd == "aibot_subscribe":
                    subscribed = self._subscribe(connection, frame.get("body") or {}, req_id)
                elif not subscribed:
                    connection.close(4001, "subscribe first")
                elif cmd == "ping":
                    if self.answers_heartbeats:
                        self._ack(connection, req_id)
                elif self.drop_on_finish and _finishes(frame):
                    self.drop_on_finish = False
                    connection.socket.shutdown(socket.SHUT_RDWR)
                else:
                    time.sleep(self.ack_delay)
                    self._ack(connection, req_id, self._reply(cmd, req_id, frame.get("body")))
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self.open_connections -= 1
                if self._current is connection:
                    self._current = None
                self._changed.notify_all()

    def _subscribe(self, connection: ServerConnection, body: dict[str, Any], req_id: str) -> bool:
        time.sleep(self.subscribe_delay)
        if (body.get("bot_id"), body.get("secret")) != (self.bot_id, self.secret):
            self._ack(connection, req_id, BAD_SECRET, "invalid bot_id or secret")
            return False  # the real server keeps the socket open
        with self._changed:
            self._current = connection
            self.subscriptions += 1
            self._changed.notify_all()
        self._ack(connection, req_id)
        return True

    def _reply(self, cmd: str | None, req_id: str, body: Any) -> int:
        """Apply a reply frame to what users see; its errcode."""
        with self._changed:
            callback = self._callbacks.get(req_id)
            if cmd == "aibot_send_msg":
                code = self._proactive(body or {})
            elif cmd == "aibot_respond_msg" and callback and callback.kind == "msg":
                code = self._respond(callback, req_id, body or {})
            elif cmd == "aibot_respond_welcome_msg" and callback and callback.kind == "enter_chat":
                code = self._show(callback.chat, "welcome", req_id, body or {})
            elif (
                cmd == "aibot_respond_update_msg"
                and callback
                and callback.kind == "template_card_event"
            ):
                code = self._update_card(body or {})
            else:
                code = INVALID_REQ_ID
            self._changed.notify_all()
            return code

    def _respond(self, callback: _Callback, req_id: str, body: dict[str, Any]) -> int:
        if body.get("msgtype") != "stream":
            return self._show(callback.chat, "card", req_id, body)
        stream = body.get("stream") or {}
        content = str(stream.get("content", ""))
        if len(content.encode()) > CONTENT_BYTES or not stream.get("id"):
            return INVALID_REQ_ID
        shown, first = self._streams.get(stream["id"], (None, time.monotonic()))
        if shown is None:
            shown = Shown(callback.chat, "stream", stream_id=stream["id"], req_id=req_id)
            self.shown.append(shown)
            self._streams[stream["id"]] = (shown, first)
        elif shown.finished or time.monotonic() - first > self.stream_seconds:
            return STREAM_EXPIRED
        shown.content, shown.finished = content, bool(stream.get("finish"))
        shown.snapshots.append(content)
        if shown.finished:
            self._note(f"bot → {callback.chat} (streamed in {len(shown.snapshots)}): {content}")
            if self.on_finish is not None:
                self.on_finish(shown)
        return 0

    def _show(self, chat: str, kind: str, req_id: str | None, body: dict[str, Any]) -> int:
        msgtype = str(body.get("msgtype"))
        card = body.get("template_card") if msgtype == "template_card" else None
        content = "" if card is not None else str((body.get(msgtype) or {}).get("content", ""))
        if kind == "card" and card is None:
            kind = "markdown"
        if card is None and not content:
            return INVALID_REQ_ID
        self.shown.append(Shown(chat, kind, content=content, card=card, req_id=req_id))
        self._note(f"bot → {chat} ({kind}): {content or _card_text(card)}")
        return 0

    def _proactive(self, body: dict[str, Any]) -> int:
        chat = str(body.get("chatid", ""))
        if chat not in self._chats:
            return NOT_IN_CONVERSATION
        content = (body.get("markdown") or {}).get("content", "")
        if len(str(content).encode()) > CONTENT_BYTES:
            return INVALID_REQ_ID
        kind = "card" if body.get("msgtype") == "template_card" else "markdown"
        return self._show(chat, kind, None, body)

    def _update_card(self, body: dict[str, Any]) -> int:
        card = body.get("template_card") or {}
        if body.get("response_type") != "update_template_card":
            return INVALID_REQ_ID
        for shown in reversed(self.shown):
            if shown.card and shown.card.get("task_id") == card.get("task_id"):
                shown.card = card
                self._note(f"bot updates the card in {shown.chat}: {_card_text(card)}")
                return 0
        return INVALID_REQ_ID

    # frames

    def _callback(self, cmd: str, kind: str, body: dict[str, Any]) -> str:
        headers = self._req()
        chat = body.get("chatid") or body["from"]["userid"]
        with self._changed:
            self.last_msgid = body["msgid"]
            self._callbacks[headers["req_id"]] = _Callback(
                kind, chat, body["from"]["userid"], time.monotonic()
            )
            self._chats.add(chat)
        self._send(json.dumps({"cmd": cmd, "headers": headers, "body": body}, ensure_ascii=False))
        return headers["req_id"]

    def _event(self, eventtype: str, userid: str, chatid: str | None, data: dict) -> str:
        body: dict[str, Any] = {
            "msgid": f"evt-{next(self._ids)}",
            "create_time": int(time.time()),
            "aibotid": self.bot_id,
            "chattype": "group" if chatid else "single",
            "from": {"userid": userid},
            "msgtype": "event",
            "event": {"eventtype": eventtype, **({eventtype: data} if data else {})},
        }
        if chatid:
            body["chatid"] = chatid
        return self._callback("aibot_event_callback", eventtype, body)

    def _note(self, line: str) -> None:
        with self._changed:
            self.transcript.append("- " + " ".join(line.split()))

    def _req(self) -> dict[str, str]:
        return {"req_id": f"callback_{next(self._ids)}_{time.monotonic_ns():x}"}

    def _ack(
        self, connection: ServerConnection, req_id: str, errcode: int = 0, errmsg: str = ""
    ) -> None:
        ack = {"headers": {"req_id": req_id}, "errcode": errcode, "errmsg": errmsg or "ok"}
        with contextlib.suppress(ConnectionClosed):
            connection.send(json.dumps(ack))

    def _send(self, text: str) -> None:
        self._require_connection().send(text)

    def _require_connection(self) -> ServerConnection:
        if not self.wait_for(lambda: self._current is not None, 30):
            raise AssertionError("no subscribed connection")
        assert self._current is not None
        return self._current


def _card_text(card: dict[str, Any] | None) -> str:
    """A card as a line: its title, its text, its buttons."""
    if not card:
        return ""
    title = card.get("main_title") or {}
    parts = [title.get("title", ""), title.get("desc", ""), card.get("sub_title_text", "")]
    buttons = " ".join(f"[{b.get('text')}]" for b in card.get("button_list") or [])
    return " — ".join(part for part in parts if part) + f" {buttons}"


def _finishes(frame: dict[str, Any]) -> bool:
    body = frame.get("body")
    stream = body.get("stream") if isinstance(body, dict) else None
    return isinstance(stream, dict) and stream.get("finish") is True
