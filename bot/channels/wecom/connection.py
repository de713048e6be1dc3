"""WeCom's long connection for intelligent bots: one WebSocket the bot dials out on (no public
URL, no message encryption), subscribed with the bot's id and secret, kept alive by heartbeats
and dialled again with back-off when lost; callbacks come in, replies go out, each acknowledged
by the server under its req_id. docs/wecom-protocol.md has the frames.

A bad secret is final (the server would refuse it again); so is another connection taking the
bot over (`disconnected_event`): dialling back would take it from the other, which would take
it back, without end."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from alliance.errors import AllianceError
from bot.services.in_order import InOrder

log = logging.getLogger(__name__)

HEARTBEAT_S = 30.0  # WeCom's documented interval
MISSED_HEARTBEATS = 2  # unanswered in a row: the connection is dead, dial again
ACK_TIMEOUT_S = 5.0
FIRST_RETRY_S, LAST_RETRY_S = 1.0, 30.0  # back-off between dials, doubling
RECONNECT_WAIT_S = 60.0  # how long a message waits for the connection to come back
DRAIN_S = 10.0  # at shutdown, how long answers under way may take to finish
BAD_SECRET = 853000
# Control characters WeCom may leave raw inside JSON strings (its SDK strips them too).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x0d\x0e-\x1f]")

Callback = dict[str, Any]
OnCallback = Callable[[Callback], Awaitable[None]]


class WeComRefused(AllianceError):
    """The server refused the bot's id or secret."""


class WeComReplyFailed(AllianceError):
    """A frame the bot sent was refused (its errcode), or not acknowledged in time."""

    def __init__(self, cmd: str, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"WeCom refused {cmd}: {errcode} {errmsg}")
        self.errcode = errcode


def new_req_id(prefix: str) -> str:
    """A fresh request id in the shape WeCom's SDK uses: prefix, milliseconds, 8 hex digits."""
    return f"{prefix}_{int(time.time() * 1000)}_{secrets.token_hex(4)}"


class LongConnection:
    def __init__(
        self,
        url: str,
        bot_id: str,
        secret: str,
        heartbeat_s: float = HEARTBEAT_S,
        ack_timeout_s: float = ACK_TIMEOUT_S,
        first_retry_s: float = FIRST_RETRY_S,
    ) -> None:
        self.url, self.bot_id, self._secret = url, bot_id, secret
        self.heartbeat_s, self.ack_timeout_s, self.first_retry_s = (
            heartbeat_s,
            ack_timeout_s,
            first_retry_s,
        )
        self._socket: ClientConnection | None = None
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._in_turn = InOrder()  # frames under one req_id go one at a time
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self.subscribed = asyncio.Event()

    async def run(self, on_callback: OnCallback) -> str:
        """Serve until another connection takes the bot over ("displaced") or `stop()`
        ("stopped"); `on_callback` runs for each message or event, concurrently, and those
        still running are given DRAIN_S to finish before it returns. Raises `WeComRefused` for
        a bad id or secret."""
        try:
            return await self._run(on_callback)
        finally:
            await self._drain()

    async def _drain(self) -> None:
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=DRAIN_S)
        for task in late:
            task.cancel()
        if late:
            log.warning("%d WeCom callbacks cut short at shutdown", len(late))
            await asyncio.wait(late)

    async def _run(self, on_callback: OnCallback) -> str:
        failures = 0
        while not self._stopping.is_set():
            try:
                async with websockets.connect(
                    self.url, ping_interval=None, compression=None, open_timeout=10
                ) as socket:
                    await self._subscribe(socket)
                    failures = 0
                    if await self._serve(socket, on_callback):
                        return "displaced"
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as exc:
                log.warning("WeCom connection lost: %s", type(exc).__name__)
            except InvalidURI as exc:
                raise WeComRefused(f"WECOM_WS_URL is not a WebSocket URL: {exc}") from exc
            finally:
                self.subscribed.clear()
            if self._stopping.is_set():
                break
            failures += 1
            delay = min(self.first_retry_s * 2 ** (failures - 1), LAST_RETRY_S)
            log.info("dialling WeCom again in %.1f s", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
        return "stopped"

    def stop(self) -> None:
        self._stopping.set()
        if self._socket is not None:
            self._spawn(self._socket.close())

    async def send(self, cmd: str, body: dict[str, Any], req_id: str | None = None) -> None:
        """Send a frame and wait for its acknowledgement: a reply under the req_id of the
        callback it answers, anything else under a fresh one. Frames under one req_id go one at
        a time (the server acknowledges each before the next)."""
        req_id = req_id or new_req_id(cmd)
        async with self._in_turn.turn(req_id):
            ack = await self._request({"cmd": cmd, "headers": {"req_id": req_id}, "body": body})
        if ack.get("errcode"):
            raise WeComReplyFailed(cmd, ack.get("errcode"), str(ack.get("errmsg", "")))

    async def push(self, chatid: str, markdown: str, wait_s: float = RECONNECT_WAIT_S) -> None:
        """Send a message of the bot's own to a user (their userid) or a group (its chatid):
        what cannot be a reply, or a reply whose callback was lost with its connection. Waits
        up to `wait_s` for a connection."""
        try:
            await asyncio.wait_for(self.subscribed.wait(), wait_s)
        except TimeoutError:
            raise WeComReplyFailed("aibot_send_msg", None, "not connected") from None
        body = {"chatid": chatid, "msgtype": "markdown", "markdown": {"content": markdown}}
        await self.send("aibot_send_msg", body)

    async def _request(self, frame: dict[str, Any]) -> dict[str, Any]:
        socket = self._socket
        if socket is None:
            raise WeComReplyFailed(frame["cmd"], None, "not connected")
        req_id = frame["headers"]["req_id"]
        waiting = asyncio.get_running_loop().create_future()
        self._acks[req_id] = waiting
        try:
            await socket.send(json.dumps(frame, ensure_ascii=False))
            return await asyncio.wait_for(waiting, self.ack_timeout_s)
        except TimeoutError:
            raise WeComReplyFailed(frame["cmd"], None, "no acknowledgement") from None
        except ConnectionClosed:
            raise WeComReplyFailed(frame["cmd"], None, "connection lost") from None
        finally:
            self._acks.pop(req_id, None)

    async def _subscribe(self, socket: ClientConnection) -> None:
        req_id = new_req_id("aibot_subscribe")
        frame = {"bot_id": self.bot_id, "secret": self._secret}
        await socket.send(
            json.dumps({"cmd": "aibot_subscribe", "headers": {"req_id": req_id}, "body": frame})
        )
        async with asyncio.timeout(self.ack_timeout_s * 2):
            while True:
                ack = _parse(await socket.recv())
                if ack is not None and ack.get("headers", {}).get("req_id") == req_id:
                    break
        if ack.get("errcode") == BAD_SECRET:
            raise WeComRefused(
                "WeCom refused the bot id or secret (WECOM_BOT_ID, WECOM_BOT_SECRET): "
                f"{ack.get('errmsg', '')}"
            )
        if ack.get("errcode"):
            raise ConnectionError(f"subscribe refused: {ack.get('errcode')} {ack.get('errmsg')}")
        self._socket = socket
        if self._stopping.is_set():  # stop() came while subscribing, when there was no socket
            await socket.close()
            return
        self.subscribed.set()
        log.info("subscribed to WeCom as bot %s", self.bot_id)

    async def _serve(self, socket: ClientConnection, on_callback: OnCallback) -> bool:
        """Read frames until the connection ends; True if another connection took over."""
        heartbeat = asyncio.create_task(self._heartbeat(socket))
        try:
            async for message in socket:
                frame = _parse(message)
                if frame is None:
                    log.warning("an unreadable frame from WeCom was skipped")
                elif "cmd" not in frame or "errcode" in frame:
                    self._acknowledged(frame)
                elif _displaced(frame):
                    log.warning("another connection took this WeCom bot over; stopping")
                    return True
                elif frame["cmd"] in ("aibot_msg_callback", "aibot_event_callback"):
                    self._spawn(on_callback(frame))
                else:
                    log.warning("an unknown frame from WeCom was skipped: %.40s", frame["cmd"])
            return False
        finally:
            heartbeat.cancel()
            self._socket = None
            for waiting in self._acks.values():
                if not waiting.done():
                    waiting.set_exception(ConnectionClosed(None, None))

    async def _heartbeat(self, socket: ClientConnection) -> None:
        missed = 0
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await self._request({"cmd": "ping", "headers": {"req_id": new_req_id("ping")}})
                missed = 0
            except WeComReplyFailed:
                missed += 1
                if missed >= MISSED_HEARTBEATS:
                    log.warning("WeCom stopped answering heartbeats; dialling again")
                    await socket.close()
                    return

    def _acknowledged(self, frame: dict[str, Any]) -> None:
        waiting = self._acks.get(str(frame.get("headers", {}).get("req_id")))
        if waiting is not None and not waiting.done():
            waiting.set_result(frame)

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a WeCom callback failed", exc_info=task.exception())


def _parse(message: str | bytes) -> dict[str, Any] | None:
    """A frame as a dict; None for anything that is not a JSON object."""
    text = message.decode(errors="replace") if isinstance(message, bytes) else message
    try:
        frame = json.loads(_CONTROL.sub("", text))
    except ValueError:
        return None
    return frame if isinstance(frame, dict) else None


def _displaced(frame: dict[str, Any]) -> bool:
    body = frame.get("body")
    event = body.get("event") if isinstance(body, dict) else None
    return isinstance(event, dict) and event.get("eventtype") == "disconnected_event"
