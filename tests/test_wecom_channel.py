"""The WeCom bot against the emulator of WeCom's long-connection server, over a real WebSocket
on 127.0.0.1: learners' questions in both languages streamed back with their sources, a group
that mentions the bot, the welcome, each message answered once, what is not a question, hostile
callbacks; the bot run in the test's process on the session's model (tests/in_process.py), and
as `python -m bot wecom` for its exit codes."""

import re
import sqlite3
import urllib.request
from pathlib import Path

import pytest
from in_process import logging_to, on_a_thread, settings_for
from processes import free_port, logged, run
from webhook_replica import get

from alliance.settings import Settings
from bench.wecom_emulator import Shown, WeComEmulator
from bot.channels.wecom.app import connect, serve
from bot.channels.wecom.render import plain
from bot.channels.wecom.texts import LOOKING, TEXT_ONLY
from bot.engine.factory import build_engine
from bot.services.staff_loop import wecom_id


@pytest.fixture(scope="module")
def wecom(shipped_index, real_embeddings, tmp_path_factory):
    folder = tmp_path_factory.mktemp("wecom")
    log = folder / "bot.log"
    with WeComEmulator() as emulator:
        settings = settings_for(
            shipped_index,
            WECOM_BOT_ID=emulator.bot_id,
            WECOM_BOT_SECRET=emulator.secret,
            WECOM_WS_URL=emulator.url,
            DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'assistant.db'}",
            USER_QUESTIONS_PER_MINUTE="100",
            HEALTH_PORT=str(free_port()),
        )
        engine = build_engine(settings, without_index=True, embeddings=real_embeddings)
        connection = connect(settings)
        with (
            logging_to(log, settings.log_level),
            on_a_thread(lambda: serve(settings, engine, connection), connection.stop),
        ):
            assert emulator.wait_for(lambda: emulator.subscriptions == 1), log.read_text()
            yield emulator, log, folder / "assistant.db", settings.health_port


def _handled(log: Path, msgid: str, times: int = 1) -> bool:
    """Wait until the bot's log says it handled message `msgid` (`times` deliveries of it)."""
    return logged(log, f"WeCom message {wecom_id(msgid)} handled\n", times)


def _answer(emulator: WeComEmulator, log: Path, text: str, userid: str, **kwargs) -> Shown:
    msgid = f"m-{userid}-{len(emulator.frames)}"
    emulator.user_message(text, userid=userid, msgid=msgid, **kwargs)
    assert _handled(log, msgid), log.read_text()[-2000:]
    streams = [s for s in emulator.seen_by(kwargs.get("chatid") or userid) if s.kind == "stream"]
    return streams[-1]


def _card(emulator: WeComEmulator, chat: str) -> Shown:
    return [s for s in emulator.seen_by(chat) if s.kind == "card"][-1]


def _content(card: Shown) -> dict:
    """The card as it is now (an update replaces it)."""
    assert card.card is not None
    return card.card


def _keys(card: Shown) -> dict[str, str]:
    return {b["text"]: b["key"] for b in _content(card)["button_list"]}


def _press(emulator: WeComEmulator, log: Path, userid: str, task_id: str, key: str, **kw) -> None:
    emulator.click(userid, task_id, key, **kw)
    assert _handled(log, emulator.last_msgid), log.read_text()[-2000:]


def _votes(database: Path, user: str) -> list[tuple[int, int]]:
    with sqlite3.connect(database) as db:
        query = "SELECT question_id, vote FROM feedback WHERE user_id = ?"
        return db.execute(query, (wecom_id(user),)).fetchall()


def test_questions_in_either_language_are_streamed_back_with_their_sources(wecom):
    emulator, log, _, _ = wecom
    english = _answer(emulator, log, "When was the alliance established?", "learner-en")
    assert english.kind == "stream" and english.finished
    assert english.snapshots[0] == LOOKING["en"] and len(english.snapshots) == 2
    assert "8 June 2020" in english.content and "**Sources**" in english.content
    assert re.search(r"\\\[1\\\] \S", english.content)  # numbered, shown as written
    chinese = _answer(emulator, log, "联盟是什么时候成立的？", "learner-zh")
    assert chinese.snapshots[0] == LOOKING["zh"]
    assert "2020年6月8日" in chinese.content and "**来源**" in chinese.content


def test_the_connected_bot_serves_its_health_and_metrics_on_the_health_port(wecom):
    emulator, log, _, port = wecom
    _answer(emulator, log, "What is the credit bank?", "learner-health")
    status, health = get(port, "/healthz")
    assert status == 200 and health["ready"] is True and health["database"] is True
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert 'alliance_answers_total{channel="wecom"' in response.read().decode()


def test_a_group_that_mentions_the_bot_is_answered_in_the_group(wecom):
    emulator, log, _, _ = wecom
    shown = _answer(
        emulator, log, "@联盟助手 When was the alliance established?", "member", chatid="grp-1"
    )
    assert shown.chat == "grp-1" and "8 June 2020" in shown.content
    assert [s.kind for s in emulator.seen_by("grp-1")] == ["stream"]  # cards in single chats
    assert emulator.seen_by("member") == []  # nothing in the member's single chat
    only_named = _answer(emulator, log, "＠联盟助手  ", "member", chatid="grp-1")
    assert only_named.snapshots == [plain(TEXT_ONLY)]  # the mention is no question


def test_a_user_opening_the_chat_is_welcomed_in_both_languages(wecom):
    emulator, _, _, _ = wecom
    before = len(emulator.seen_by("newcomer"))
    emulator.enter_chat("newcomer")
    assert emulator.wait_for(lambda: len(emulator.seen_by("newcomer")) > before)
    [welcome] = emulator.seen_by("newcomer")[before:]
    assert welcome.kind == "welcome" and "您好" in welcome.content and "Hello" in welcome.content


def test_a_message_delivered_twice_is_answered_once(wecom):
    emulator, log, _, _ = wecom
    for _ in range(2):
        emulator.user_message("What is the credit bank?", userid="twice", msgid="dup-1")
    assert _handled(log, "dup-1", times=2)  # both deliveries handled: one answered, one skipped
    assert [s.kind for s in emulator.seen_by("twice")] == ["stream", "card"]
    assert "dup-1" not in log.read_text() and "credit bank" not in log.read_text()  # ids only


def test_what_is_not_a_question_gets_a_short_bilingual_reply(wecom):
    emulator, log, _, _ = wecom
    emulator.user_message("", userid="sender", msgid="img-1", msgtype="image")
    assert _handled(log, "img-1")
    [reply] = emulator.seen_by("sender")
    assert reply.finished and "文字" in reply.content and "text" in reply.content


def test_an_overlong_question_is_refused_whole_not_cut(wecom):
    emulator, log, _, _ = wecom
    shown = _answer(emulator, log, "学分" * 3000, "verbose")
    limit = Settings.model_fields["max_question_chars"].default
    assert shown.snapshots == [f"消息太长（6000 个字符，最多 {limit} 个），请简短地提一个问题。"]


def test_voice_is_answered_from_what_wecom_heard(wecom):
    emulator, log, _, _ = wecom
    shown = _answer(emulator, log, "联盟是什么时候成立的", "speaker", msgtype="voice")
    assert "2020年6月8日" in shown.content


def test_hostile_callbacks_are_skipped_and_the_next_question_answered(wecom):
    emulator, log, _, _ = wecom
    emulator.raw({"cmd": "aibot_msg_callback", "headers": {"req_id": "h1"}, "body": "x"})
    emulator.raw({"cmd": "aibot_msg_callback", "headers": {"req_id": "h2"}, "body": {}})
    forged = {"msgid": ["a"], "from": {"userid": 5}, "msgtype": "text", "text": None}
    emulator.raw({"cmd": "aibot_msg_callback", "headers": {"req_id": "h3"}, "body": forged})
    emulator.raw({"cmd": "aibot_event_callback", "headers": {"req_id": 7}, "body": forged})
    shown = _answer(emulator, log, "When was the alliance established?", "after-hostile")
    assert "8 June 2020" in shown.content
    assert "Traceback" not in log.read_text()


def test_the_command_names_missing_settings_and_a_refused_secret(shipped_index):
    missing = run(["bot", "wecom"], shipped_index)
    assert missing.returncode == 2 and "WECOM_BOT_ID and WECOM_BOT_SECRET" in missing.stderr
    with WeComEmulator() as emulator:
        refused = run(
            ["bot", "wecom"],
            shipped_index,
            WECOM_BOT_ID=emulator.bot_id,
            WECOM_BOT_SECRET="wrong-secret-7f3a",
            WECOM_WS_URL=emulator.url,
        )
    assert refused.returncode == 2 and "WECOM_BOT_SECRET" in refused.stderr
    assert "Traceback" not in refused.stderr and "wrong-secret-7f3a" not in refused.stderr


def test_each_answer_has_a_card_whose_vote_is_kept_and_thanked(wecom):
    emulator, log, database, _ = wecom
    _answer(emulator, log, "What is the credit bank?", "voter")
    card = _card(emulator, "voter")
    assert set(_keys(card)) == {"👍", "👎", "Sources"}
    assert _content(card)["main_title"]["title"] == "Did this answer help?"
    _press(emulator, log, "voter", _content(card)["task_id"], _keys(card)["👎"])
    assert _content(card)["main_title"]["desc"] == "Thank you for the feedback!"  # updated in place
    [(question_id, vote)] = _votes(database, "voter")
    assert vote == -1 and _keys(card)["👎"] == f"vote:{question_id}:-1"
    _press(emulator, log, "voter", _content(card)["task_id"], _keys(card)["👍"])  # a changed mind
    assert _votes(database, "voter") == [(question_id, 1)]


def test_the_sources_button_shows_the_cited_passages_in_the_chat(wecom):
    emulator, log, _, _ = wecom
    _answer(emulator, log, "联盟是什么时候成立的？", "reader")
    card = _card(emulator, "reader")
    assert set(_keys(card)) == {"👍", "👎", "来源"}
    _press(emulator, log, "reader", _content(card)["task_id"], _keys(card)["来源"])
    [passages] = [s for s in emulator.seen_by("reader") if s.kind == "markdown"]
    assert passages.content.startswith("**\\[1\\] ") and "2020" in passages.content


def test_forged_card_presses_change_nothing(wecom):
    emulator, log, database, _ = wecom
    _answer(emulator, log, "What is the credit bank?", "owner")
    card = _card(emulator, "owner")
    task, keys = _content(card)["task_id"], _keys(card)
    question_id = int(keys["👍"].split(":")[1])
    before = len(emulator.shown)
    forgeries = [
        ("intruder", task, keys["👍"]),  # another user's single chat: not where it was answered
        ("owner", task, f"vote:{question_id}:5"),  # a vote the card never had
        ("owner", task, f"vote:{question_id + 1}:1"),  # a key moved to another answer's card
        ("owner", f"answer_{question_id}_zzzz", keys["👍"]),  # a task id it never had
        ("owner", task, "sources:999999999"),
        ("owner", task, "x" * 2000),
    ]
    for userid, forged_task, key in forgeries:
        _press(emulator, log, userid, forged_task, key)
    assert len(emulator.shown) == before and _content(card)["main_title"].get("desc") is None
    assert _votes(database, "owner") == [] and _votes(database, "intruder") == []


def test_an_answer_cut_off_by_a_lost_connection_comes_once_it_is_back(wecom):
    emulator, log, _, _ = wecom
    subscriptions = emulator.subscriptions
    emulator.drop_on_finish = True  # the answer's last frame is lost with the connection
    emulator.user_message("When was the alliance established?", userid="cut-off", msgid="cut-1")
    assert _handled(log, "cut-1")
    assert emulator.subscriptions == subscriptions + 1
    [stream, message, *_] = emulator.seen_by("cut-off")  # then its card, if WeCom takes it
    assert stream.snapshots == [LOOKING["en"]] and not stream.finished
    assert message.kind == "markdown" and "8 June 2020" in message.content


def test_each_channel_delivers_only_to_its_own_learners():
    """The rounds of every channel see every staff answer: each sends only its own."""
    from bot.channels.telegram.notifier import TelegramNotifier
    from bot.channels.wecom.notifier import WeComNotifier
    from bot.services.staff_loop import is_web, web_chat_id

    wecom_learner, web_learner, telegram_learner = wecom_id("wang.fang"), web_chat_id("c1"), 42
    telegram = TelegramNotifier(None, None)  # type: ignore[arg-type]
    wecom = WeComNotifier(None, None)  # type: ignore[arg-type]
    assert [telegram.reaches(c) for c in (wecom_learner, web_learner, telegram_learner)] == [
        False,
        False,
        True,
    ]
    assert [wecom.reaches(c) for c in (wecom_learner, web_learner, telegram_learner)] == [
        True,
        False,
        False,
    ]
    assert not is_web(wecom_learner) and wecom_id("wang.fang") != wecom_id("wang.fang2")
