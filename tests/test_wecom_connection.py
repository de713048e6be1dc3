"""WeCom's long connection over a real WebSocket against the emulator on 127.0.0.1: it
subscribes and keeps the connection alive, hands callbacks over and has replies acknowledged,
dials again after a drop, a clean close or unanswered heartbeats, stops for good on a bad
secret or when another connection takes the bot over, and skips hostile frames."""

import asyncio
import contextlib
import json

import pytest

from bench.wecom_emulator import INVALID_REQ_ID, WeComEmulator
from bot.channels.wecom.connection import LongConnection, WeComRefused, WeComReplyFailed


@pytest.fixture
def wecom():
    with WeComEmulator() as server:
        yield server


def _connection(server: WeComEmulator, **overrides) -> LongConnection:
    options = {"heartbeat_s": 0.2, "ack_timeout_s": 1.0, "first_retry_s": 0.05} | overrides
    secret = options.pop("secret", server.secret)
    return LongConnection(server.url, server.bot_id, secret, **options)


async def _wait(server: WeComEmulator, condition, timeout: float = 20) -> bool:
    return await asyncio.to_thread(server.wait_for, condition, timeout)


@contextlib.asynccontextmanager
async def _running(connection: LongConnection, received: list | None = None):
    """The connection serving in a task, its callbacks appended to `received`; the task, for
    its outcome."""

    async def record(frame):
        if received is not None:
            received.append(frame)

    task = asyncio.create_task(connection.run(record))
    try:
        await asyncio.wait_for(connection.subscribed.wait(), 20)
        yield task
    finally:
        connection.stop()  # at once, even in the middle of dialling again
        done, _ = await asyncio.wait({task}, timeout=5)
        assert done, "the connection was still running 5 s after stop()"


async def _received(received: list, count: int) -> bool:
    for _ in range(400):
        if len(received) >= count:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_it_subscribes_and_keeps_the_connection_alive_with_heartbeats(wecom):
    connection = _connection(wecom)
    async with _running(connection) as task:
        assert await _wait(wecom, lambda: len(wecom.commands("ping")) >= 3)
        [subscribe] = wecom.commands("aibot_subscribe")
        assert subscribe["body"] == {"bot_id": wecom.bot_id, "secret": wecom.secret}
        assert subscribe["headers"]["req_id"].startswith("aibot_subscribe_")
        pings = wecom.commands("ping")
        assert all(p["headers"]["req_id"].startswith("ping_") for p in pings)
        assert len({p["headers"]["req_id"] for p in pings}) == len(pings)
    assert task.result() == "stopped" and wecom.subscriptions == 1


async def test_callbacks_reach_the_handler_and_replies_are_acknowledged(wecom):
    received: list = []
    connection = _connection(wecom)
    async with _running(connection, received):
        req_id = wecom.user_message("联盟是什么时候成立的？", userid="zhangsan")
        assert await _received(received, 1)
        [frame] = received
        assert frame["cmd"] == "aibot_msg_callback" and frame["headers"]["req_id"] == req_id
        assert frame["body"]["text"]["content"] == "联盟是什么时候成立的？"
        for content, finish in (("联盟", False), ("联盟成立于2020年6月8日。", True)):
            stream = {"id": "stream-1", "finish": finish, "content": content}
            await connection.send(
                "aibot_respond_msg", {"msgtype": "stream", "stream": stream}, req_id
            )
        [shown] = wecom.seen_by("zhangsan")
        assert shown.finished and shown.snapshots == ["联盟", "联盟成立于2020年6月8日。"]
        with pytest.raises(WeComReplyFailed) as refused:  # not a callback's req_id
            stream = {"id": "stream-2", "finish": True, "content": "x"}
            await connection.send("aibot_respond_msg", {"msgtype": "stream", "stream": stream})
        assert refused.value.errcode == INVALID_REQ_ID


async def test_a_bad_secret_is_a_clear_error_and_the_socket_is_closed(wecom):
    connection = _connection(wecom, secret="not-the-secret")
    with pytest.raises(WeComRefused, match="WECOM_BOT_SECRET"):
        await asyncio.wait_for(connection.run(lambda frame: asyncio.sleep(0)), 20)
    assert await _wait(wecom, lambda: wecom.open_connections == 0)  # the server left it open
    assert len(wecom.commands("aibot_subscribe")) == 1 and wecom.subscriptions == 0


@pytest.mark.parametrize("loss", ["drop", "close"])
async def test_a_lost_connection_is_dialled_again(wecom, loss):
    received: list = []
    async with _running(_connection(wecom), received):
        getattr(wecom, loss)()
        assert await _wait(wecom, lambda: wecom.subscriptions == 2 and wecom.connected)
        wecom.user_message("When was the alliance founded?", userid="lisi")
        assert await _received(received, 1)


async def test_unanswered_heartbeats_mean_a_dead_connection_and_a_new_one(wecom):
    async with _running(_connection(wecom, ack_timeout_s=0.2)):
        wecom.answers_heartbeats = False
        assert await _wait(wecom, lambda: wecom.subscriptions == 2)
        wecom.answers_heartbeats = True


async def test_a_stop_while_subscribing_stops_the_bot_at_once(wecom):
    """A stop (SIGTERM) between dialling and the subscription's acknowledgement, as when it comes
    while the bot dials again, is not lost."""
    wecom.subscribe_delay = 1.0
    connection = _connection(wecom)
    task = asyncio.create_task(connection.run(_ignore))
    assert await _wait(wecom, lambda: wecom.commands("aibot_subscribe"))  # not acknowledged yet
    connection.stop()
    assert await asyncio.wait_for(task, 5) == "stopped"


async def _ignore(frame: dict) -> None:
    pass


async def test_a_takeover_stops_the_bot_without_dialling_back(wecom):
    connection = _connection(wecom)
    async with _running(connection) as task:
        wecom.take_over()
        assert await asyncio.wait_for(task, 20) == "displaced"
    assert wecom.subscriptions == 1  # run() has returned: nothing dials again


async def test_a_stalled_acknowledgement_fails_the_reply_clearly(wecom):
    received: list = []
    connection = _connection(wecom, ack_timeout_s=0.3)
    async with _running(connection, received):
        req_id = wecom.user_message("hello", userid="wangwu")
        assert await _received(received, 1)
        wecom.ack_delay = 1.0
        with pytest.raises(WeComReplyFailed, match="no acknowledgement"):
            body = {"msgtype": "stream", "stream": {"id": "s", "finish": True, "content": "hi"}}
            await connection.send("aibot_respond_msg", body, req_id)
        wecom.ack_delay = 0.0


async def test_hostile_frames_are_skipped_and_the_connection_goes_on(wecom):
    received: list = []
    async with _running(_connection(wecom), received):
        wecom.raw("not json at all")
        wecom.raw("[1, 2, 3]")
        wecom.raw({"cmd": "aibot_unknown_command", "headers": {"req_id": "x"}})
        wecom.raw({"headers": {"req_id": "nobody-asked"}, "errcode": 0, "errmsg": "ok"})
        body = {"msgid": "m1", "from": {"userid": "u1"}, "chattype": "single", "msgtype": "text"}
        body["text"] = {"content": "a\x01b"}
        frame = json.dumps({"cmd": "aibot_msg_callback", "headers": {"req_id": "r1"}, "body": body})
        wecom.raw(frame.replace("\\u0001", "\x01"))  # raw, as WeCom may send it
        wecom.user_message("still there?", userid="u2")
        assert await _received(received, 2)
        assert [f["body"]["text"]["content"] for f in received] == ["ab", "still there?"]
    assert wecom.subscriptions == 1


async def test_an_unreachable_server_is_dialled_with_back_off_until_stopped():
    with WeComEmulator() as server:
        url = server.url
    connection = LongConnection(url, "bot", "secret", first_retry_s=0.05)
    task = asyncio.create_task(connection.run(lambda frame: asyncio.sleep(0)))
    await asyncio.sleep(0.5)
    assert not task.done()
    connection.stop()
    assert await asyncio.wait_for(task, 20) == "stopped"


async def test_a_url_that_is_not_a_websocket_one_is_a_clear_error():
    connection = LongConnection("https://openws.example.invalid", "bot", "secret")
    with pytest.raises(WeComRefused, match="WECOM_WS_URL"):
        await asyncio.wait_for(connection.run(lambda frame: asyncio.sleep(0)), 20)
