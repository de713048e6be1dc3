"""The real bot process (`python -m bot run`, long polling) over real HTTP against the Bot API
emulator, tested as users and admins would use it."""

import shutil
import signal
import sqlite3

import pytest
import yaml
from conftest import markdown
from processes import polling_bot

from alliance.settings import Settings
from bench.bot_api_emulator import BotAPIEmulator, html_problem
from bench.bot_api_emulator import buttons as _buttons
from bot.store.invite_codes import hash_code
from ingest.pipeline import run_ingest

TOKEN = "123456789:TEST-token-for-the-emulator-only_abcdef"
INVITE_CODE = "jinniu-code-2026"
ADMIN_ID = 7
STAFF_ID = 99  # staff by STAFF_USER_IDS
QUESTIONS_PER_MINUTE = 5
STAFF_QUESTION = "How much is the teaching allowance for a visiting teacher per class hour?"
EXTRA_COURSES = 60  # a catalogue long enough that /courses needs several messages


@pytest.fixture(scope="module")
def bot_settings(shipped_index, real_embeddings, tmp_path_factory) -> Settings:
    """A copy of the shipped knowledge and index that /reindex may change, with a larger
    course catalogue."""
    root = tmp_path_factory.mktemp("telegram")
    shutil.copytree(shipped_index.knowledge_dir, root / "knowledge")
    shutil.copytree(shipped_index.index_dir, root / "index")
    path = root / "knowledge" / "courses" / "shared-course-catalogue.yaml"
    catalogue = yaml.safe_load(path.read_text(encoding="utf-8"))
    catalogue["courses"] += [
        {
            "code": f"TS-{500 + n}",
            "title": {"en": f"Regional Studies Seminar {n}", "zh": f"区域研究研讨课{n}"},
            "provider": "chengdu",
            "credits": 1,
            "mode": "blended",
            "semester": "spring",
            "description": {"en": f"Seminar number {n} on the region.", "zh": f"第{n}次区域研讨。"},
        }
        for n in range(EXTRA_COURSES)
    ]
    path.write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")
    settings = Settings(knowledge_dir=root / "knowledge", index_dir=root / "index")
    assert run_ingest(settings, embeddings_factory=lambda _: real_embeddings).errors == []
    return settings


@pytest.fixture(scope="module")
def telegram(bot_settings, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bot")
    log, database = folder / "bot.log", folder / "assistant.db"
    with (
        BotAPIEmulator(TOKEN) as emulator,
        polling_bot(
            bot_settings,
            log,
            emulator,
            STAFF_USER_IDS=str(STAFF_ID),
            ADMIN_USER_IDS=str(ADMIN_ID),
            STAFF_INVITE_CODES=f"chengdu-jinniu={hash_code(INVITE_CODE)}",
            DATABASE_URL=f"sqlite+aiosqlite:///{database}",
            USER_QUESTIONS_PER_MINUTE=str(QUESTIONS_PER_MINUTE),
            LOG_LEVEL="INFO",
        ) as process,
    ):
        yield emulator, process, log, database


def _replies(emulator, text, user_id, count=1, **kwargs):
    """Send a message and wait for `count` new replies in its chat."""
    chat_id = kwargs.get("chat_id", user_id)
    before = len(emulator.wait_for_messages(chat_id, count=0, timeout=0))
    emulator.user_message(text, user_id=user_id, **kwargs)
    found = emulator.wait_for_messages(chat_id, count=before + count)
    assert len(found) >= before + count, f"no reply to {text!r}"
    return found[before:]


def _reply(emulator, text, user_id, **kwargs):
    return _replies(emulator, text, user_id, **kwargs)[0]


def _answered(message: dict) -> str:
    """A reply's text, once it is checked to be an answer: no error, no 'please wait'."""
    text = message["text"]
    assert "went wrong" not in text and "Please wait" not in text, text
    return text


def test_private_questions_get_cited_answers_in_both_languages(telegram):
    emulator, _, _, _ = telegram
    english = _reply(emulator, "When was the alliance established?", 42)
    assert "8 June 2020" in english["text"] and english["parse_mode"] == "HTML"
    assert "<b>Sources</b>" in english["text"] and "[1]" in english["text"]
    assert set(_buttons(english)) == {"👍", "👎", "Sources"}
    typing = [p for method, p in emulator.calls if method == "sendChatAction"]
    assert any(p["chat_id"] == 42 and p["action"] == "typing" for p in typing)
    chinese = _reply(emulator, "联盟是什么时候成立的？", 43, language="zh")
    assert "2020年6月8日" in chinese["text"] and "<b>来源</b>" in chinese["text"]
    assert "来源" in _buttons(chinese)


def test_a_follow_up_is_read_against_the_previous_question(telegram):
    emulator, _, _, _ = telegram
    first = _reply(emulator, "重庆广播电视大学有哪些在线课程？", 50, language="zh")
    assert "CQ-210" in first["text"]
    follow_up = _reply(emulator, "四川的呢？", 50, language="zh")
    assert "SC-101" in follow_up["text"] and "SC-230" in follow_up["text"]
    assert "Starting over" in _reply(emulator, "/new", 50)["text"]
    after = _answered(_reply(emulator, "四川的呢？", 50, language="zh"))
    assert "SC-230" not in after
    # The same as a user who never asked anything before.
    assert after == _reply(emulator, "四川的呢？", 150, language="zh")["text"]


def test_groups_answer_only_when_spoken_to(telegram):
    emulator, _, _, _ = telegram
    group = {"chat_id": -100, "chat_type": "group"}
    emulator.user_message("When was the alliance established?", user_id=44, **group)
    mentioned = _reply(emulator, "@alliance_bot 联盟是什么时候成立的？", 44, **group)
    assert "2020年6月8日" in mentioned["text"]
    replying = _reply(emulator, "Where was it founded?", 45, reply_to=mentioned, **group)
    assert "Chengdu" in replying["text"]
    asked = _reply(emulator, "/ask Which universities started the alliance?", 46, **group)
    assert "Chongqing RTVU" in asked["text"]
    # The unaddressed message got no reply: three questions, three replies.
    assert len(emulator.wait_for_messages(-100, count=4, timeout=2)) == 3


def test_a_long_answer_is_split_into_valid_messages(telegram):
    emulator, _, _, _ = telegram
    before = len(emulator.sent)
    emulator.user_message("/courses", user_id=51)
    assert emulator.wait_for(lambda: any("TS-559" in m["text"] for m in emulator.sent[before:]))
    parts = [m for m in emulator.sent[before:] if m["chat"]["id"] == 51]
    assert len(parts) >= 2
    assert all(len(m["text"]) <= 4096 and html_problem(m["text"]) is None for m in parts)
    listed = "\n".join(m["text"] for m in parts)
    assert all(f"TS-{500 + n}" in listed for n in range(EXTRA_COURSES))
    assert "SC-101" in listed  # the shipped courses too


def test_courses_filter_by_university_and_semester(telegram):
    emulator, _, _, _ = telegram
    online = _reply(emulator, "/courses Sichuan online", 52)["text"]
    assert "SC-101" in online and "CQ-210" not in online and "TS-500" not in online
    replies = _replies(emulator, "/courses 春季 重庆", 52, language="zh")
    spring = "\n".join(m["text"] for m in replies)
    assert "CQ-320" in spring and "春季" in spring


def test_feedback_is_recorded_and_sources_shown(telegram):
    emulator, _, _, database = telegram
    answer = _reply(emulator, "What is the pass mark for a shared course?", 53)
    emulator.press(_buttons(answer)["👍"], answer, user_id=53)
    emulator.press(_buttons(answer)["👎"], answer, user_id=53)  # a change of mind replaces it
    assert emulator.wait_for(lambda: len(emulator.answered_callbacks) >= 2)
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT user_id, vote, question, answer FROM feedback").fetchall()
    mine = [row for row in rows if row[0] == 53]
    assert len(mine) == 1 and mine[0][1] == -1 and "pass mark" in mine[0][2] and mine[0][3]
    emulator.press(_buttons(answer)["Sources"], answer, user_id=53)
    [shown] = emulator.wait_for_messages(53, count=2)[1:]
    assert shown["text"].startswith("<b>[1]") and "60" in shown["text"]


@pytest.mark.parametrize(
    "data", ["vote:1:5", "vote:x:1", "sources:99999999", "sources:-1", "vote:" + "9" * 60, "é"]
)
def test_forged_button_presses_change_nothing(telegram, data):
    emulator, _, _, database = telegram
    answered = len(emulator.answered_callbacks)
    message = {"message_id": 1, "chat": {"id": 56, "type": "private"}, "date": 0, "text": "x"}
    emulator.press({"callback_data": data}, message, user_id=56)
    assert emulator.wait_for(lambda: len(emulator.answered_callbacks) > answered)
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM feedback WHERE user_id = 56").fetchone() == (0,)
    assert emulator.wait_for_messages(56, timeout=2) == []


def test_hostile_course_filters_and_codes_get_valid_replies(telegram):
    emulator, _, _, _ = telegram
    courses = _reply(emulator, "/courses <b>Sichuan</b> & 999 credits", 57)
    assert html_problem(courses["text"]) is None and "No shared course" in courses["text"]
    assert "not valid" in _reply(emulator, "/register <i>&amp;\u0000", 57)["text"]
    assert "Usage" in _reply(emulator, "/register", 57)["text"]


def test_stickers_and_overlong_messages_get_a_short_reply(telegram):
    emulator, _, _, _ = telegram
    sticker = {"sticker": {"file_id": "x", "file_unique_id": "y", "width": 512, "height": 512,
                           "is_animated": False, "is_video": False, "type": "regular"}}  # fmt: skip
    emulator.user_message(None, user_id=54, extra=sticker)
    [reply] = emulator.wait_for_messages(54)
    assert "text questions" in reply["text"]
    too_long = _reply(emulator, "credit " * 500, 54)
    assert "too long" in too_long["text"]


def test_a_user_asking_too_fast_is_asked_to_wait(telegram):
    emulator, _, _, _ = telegram
    for _ in range(QUESTIONS_PER_MINUTE + 1):
        emulator.user_message("What is the credit bank?", user_id=55)
    replies = emulator.wait_for_messages(55, count=QUESTIONS_PER_MINUTE + 1)
    assert sum("Please wait" in m["text"] for m in replies) == 1


def test_staff_documents_reach_staff_only(telegram):
    emulator, _, _, _ = telegram
    learner = _answered(_reply(emulator, STAFF_QUESTION, 45))
    assert "200 yuan" not in learner and "handbook" not in learner.lower()
    assert "200 yuan" in _reply(emulator, STAFF_QUESTION, STAFF_ID)["text"]
    # Staff in a group get a learner's answer: everyone in the group reads it.
    in_group = _reply(emulator, f"/ask {STAFF_QUESTION}", STAFF_ID, chat_id=-200, chat_type="group")
    assert _answered(in_group) == learner


def test_registration_with_an_invite_code_makes_a_learner_staff(telegram):
    emulator, _, log, _ = telegram
    user = 60
    assert "200 yuan" not in _answered(_reply(emulator, STAFF_QUESTION, user))
    assert "not valid" in _reply(emulator, "/register wrong-code", user)["text"]
    group = _reply(emulator, f"/register {INVITE_CODE}", user, chat_id=-300, chat_type="group")
    assert "private chat" in group["text"]
    assert "chengdu-jinniu" in _reply(emulator, f"/register {INVITE_CODE}", user)["text"]
    assert "200 yuan" in _reply(emulator, STAFF_QUESTION, user)["text"]
    assert INVITE_CODE not in log.read_text()


def test_wrong_invite_codes_are_throttled(telegram):
    emulator, _, _, _ = telegram
    user = 61
    for attempt in range(5):
        assert "not valid" in _reply(emulator, f"/register guess-{attempt}", user)["text"]
    # Even the right code is refused while the user is locked out.
    assert "Too many" in _reply(emulator, f"/register {INVITE_CODE}", user)["text"]
    assert "200 yuan" not in _answered(_reply(emulator, STAFF_QUESTION, user))


def test_admin_commands_refuse_everyone_else(telegram):
    emulator, _, _, _ = telegram
    for command in ("/reindex", "/stats"):
        assert "Only admins" in _reply(emulator, command, 62)["text"]
        group = _reply(emulator, command, 62, chat_id=-400, chat_type="group")
        assert "Only admins" in group["text"]
    # No re-index started: its first message (edited later) was never sent.
    assert not any(
        method == "sendMessage" and str(params.get("text", "")).startswith("⏳")
        for method, params in emulator.calls
    )


def test_stats_show_questions_feedback_and_index_version(telegram):
    emulator, _, _, _ = telegram
    _reply(emulator, "What is the credit bank?", 63)
    stats = _reply(emulator, "/stats", ADMIN_ID)["text"]
    assert "questions" in stats and "Feedback: 👍" in stats and "Index version" in stats


def test_an_admin_reindex_reports_progress_and_the_new_document_answers(telegram, bot_settings):
    emulator, _, _, _ = telegram
    question = "What colour is the alliance's zorblat badge?"
    assert "cannot answer" in _reply(emulator, question, 64)["text"]  # not covered, yet
    (bot_settings.knowledge_dir / "faq" / "badge.en.md").write_text(
        markdown("Alliance badges", "## Zorblat badge\n\nThe alliance's zorblat badge is teal.")
    )
    start = len(emulator.edits)
    status = _reply(emulator, "/reindex", ADMIN_ID)
    assert status["text"].startswith("⏳")
    assert emulator.wait_for(lambda: status["text"].startswith("✅"), timeout=120), status["text"]
    assert "1 added" in status["text"]
    stages = [edit["text"] for edit in emulator.edits[start:]]
    assert any("Embedding" in text for text in stages) and len(stages) >= 2
    assert "teal" in _reply(emulator, question, 64)["text"]


def test_two_reindex_requests_do_not_run_twice(telegram, bot_settings):
    # One chat's updates are handled in order, so the two requests come from two chats.
    emulator, _, _, _ = telegram
    (bot_settings.knowledge_dir / "faq" / "more.en.md").write_text(
        markdown("More badges", "## Quibble badge\n\nThe quibble badge is orange.")
    )
    group = {"chat_id": -500, "chat_type": "group"}
    before = len(emulator.sent)
    emulator.user_message("/reindex", user_id=ADMIN_ID)
    emulator.user_message("/reindex", user_id=ADMIN_ID, **group)

    def replies() -> list[dict]:
        return [m for m in emulator.sent[before:] if m["chat"]["id"] in (ADMIN_ID, -500)]

    def finished() -> bool:
        return sum(m["text"].startswith(("✅", "A re-index")) for m in replies()) >= 2

    assert emulator.wait_for(finished, 120), [m["text"] for m in replies()]
    texts = [m["text"] for m in replies()]
    assert sum(text.startswith("✅") and "1 added" in text for text in texts) == 1
    assert sum("already running" in text for text in texts) == 1


def test_a_429_is_waited_out_and_the_answer_arrives_once(telegram):
    emulator, _, _, _ = telegram
    emulator.fail("sendMessage", 429, retry_after=1)
    before = sum(1 for method, _ in emulator.calls if method == "sendMessage")
    answer = _reply(emulator, "When was the alliance established?", 65)
    assert "8 June 2020" in answer["text"]
    attempts = sum(1 for method, _ in emulator.calls if method == "sendMessage") - before
    assert attempts == 2
    assert len(emulator.wait_for_messages(65, count=2, timeout=3)) == 1


def test_a_failing_update_is_reported_and_the_bot_carries_on(telegram):
    emulator, _, log, _ = telegram
    emulator.fail("sendMessage", 400, chat_id=66)  # e.g. Telegram refusing the reply
    failed = _reply(emulator, "What is the credit bank?", 66)
    assert "something went wrong" in failed["text"]
    assert "credit" in _reply(emulator, "What is the credit bank?", 66)["text"].lower()
    assert "update failed" in log.read_text()


def test_polling_survives_telegram_errors(telegram):
    emulator, _, _, _ = telegram
    emulator.fail("getUpdates", 500, times=2)
    emulator.delay("getUpdates", 3)
    # Every fault met before the question: its answer came through a poll after them.
    assert emulator.wait_for(lambda: emulator.pending_faults("getUpdates") == 0, 60)
    answer = _reply(emulator, "When was the alliance established?", 67)
    assert "8 June 2020" in answer["text"]


def test_commands_are_registered_in_both_languages(telegram):
    emulator, _, _, _ = telegram
    registered = [params for method, params in emulator.calls if method == "setMyCommands"]
    assert {params.get("language_code") for params in registered} == {None, "zh"}
    admin_menus = [params for params in registered if params.get("scope")]
    assert admin_menus and all(params["scope"]["chat_id"] == ADMIN_ID for params in admin_menus)
    assert any(c["command"] == "reindex" for c in admin_menus[0]["commands"])


def test_start_greets_in_the_users_language(telegram):
    emulator, _, _, _ = telegram
    assert "/ask" in _reply(emulator, "/start", 46)["text"]
    assert "您好" in _reply(emulator, "/start", 47, language="zh")["text"]
    help_text = _reply(emulator, "/help", 47, language="zh")["text"]
    assert "/courses" in help_text and "可以这样问" in help_text and "/reindex" not in help_text
    assert "/reindex" in _reply(emulator, "/help", ADMIN_ID)["text"]


def test_hostile_text_gets_a_valid_reply(telegram):
    # The emulator refuses HTML that Telegram would refuse, so every reply here is checked.
    emulator, _, _, _ = telegram
    message = _reply(emulator, "<b>credit</b> & <script>alert(1)</script> \u202e\x07", 48)
    text = _answered(message)
    assert message["parse_mode"] == "HTML" and html_problem(text) is None
    assert "<b>Sources</b>" in text or "cannot answer" in text


def test_hostile_entities_are_read_safely(telegram):
    emulator, _, _, _ = telegram
    question = "@alliance_bot When was the alliance established?"
    mention = {"type": "mention", "offset": 0, "length": 13}
    nested = [  # a thousand formatting entities, each inside the last
        {"type": kind, "offset": depth % 13, "length": len(question) - depth % 13}
        for depth, kind in enumerate(["bold", "italic", "underline", "spoiler"] * 250)
    ]
    broken = [
        {"type": "bold", "offset": 10_000, "length": 5},  # past the end
        {"type": "mention", "offset": -3, "length": 2},
        {"type": "mention", "offset": 14, "length": 10_000},
        {"type": "no_such_kind", "offset": 0, "length": 1},
        {"type": "text_link", "offset": 0, "length": 4, "url": "javascript:alert(1)"},
    ]
    for number, entities in enumerate([[mention, *nested], [*broken, mention], broken]):
        chat = -600 - number
        emulator.user_message(question, user_id=74, chat_id=chat, chat_type="group",
                              entities=entities)  # fmt: skip
        if entities is broken:  # no valid mention of the bot: the group is not for it
            assert emulator.wait_for_messages(chat, timeout=3) == []
            continue
        [reply] = emulator.wait_for_messages(chat)
        assert "8 June 2020" in reply["text"] and html_problem(reply["text"]) is None
    assert "2020" in _reply(emulator, "When was the alliance established?", 74)["text"]
    # By now a late reply to the message without a valid mention would have arrived.
    assert emulator.wait_for_messages(-602, timeout=0) == []


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("<b>Sources</b>\n[1] A &amp; B <i>(sample)</i>", True),
        ("a < b", False),
        ("Q&A", False),
        ("<b>open", False),
        ("<script>x</script>", False),
        ("<b><i>x</b></i>", False),
    ],
)
def test_the_emulator_checks_html_as_telegram_does(text, valid):
    assert (html_problem(text) is None) is valid


def test_the_token_never_reaches_the_log(telegram):
    emulator, process, log, _ = telegram
    _reply(emulator, "What is the credit bank?", 49)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0  # a clean shutdown
    output = log.read_text()
    assert "answered user 49" in output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert "What is the credit bank" not in output  # message text stays out of the log
