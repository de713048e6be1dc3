"""The real bot process (`python -m bot run`, long polling) over real HTTP against the Bot API
emulator, tested as users and admins would use it."""

import asyncio
import io
import itertools
import json
import re
import signal
import sqlite3
import struct
import urllib.request
from datetime import UTC, date, datetime, time, timedelta

import pytest
import yaml
from conftest import copy_of, markdown
from PIL import Image
from PIL.PngImagePlugin import PngImageFile
from processes import free_port, handled, polling_bot
from sqlalchemy import update
from webhook_replica import get

from alliance.settings import Settings
from bench.bot_api_emulator import BotAPIEmulator, html_problem
from bench.bot_api_emulator import buttons as _buttons
from bot.services.people import People
from bot.store.database import Store
from bot.store.invite_codes import hash_code
from bot.store.tables import Feedback, LoggedQuestion, Ticket
from bot.store.tickets import NewTicket
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
    settings = copy_of(shipped_index, tmp_path_factory.mktemp("telegram"))
    path = settings.knowledge_dir / "courses" / "shared-course-catalogue.yaml"
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
    assert run_ingest(settings, embeddings_factory=lambda _: real_embeddings).errors == []
    return settings


@pytest.fixture(scope="module")
def health_port():
    return free_port()


@pytest.fixture(scope="module")
def telegram(bot_settings, health_port, tmp_path_factory):
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
            HEALTH_PORT=str(health_port),
        ) as process,
    ):
        yield emulator, process, log, database


def test_long_polling_serves_its_health_and_metrics_on_the_health_port(telegram, health_port):
    emulator, _, _, _ = telegram
    _reply(emulator, "How do I transfer credits?", 4242)
    status, health = get(health_port, "/healthz")
    assert status == 200 and health["ready"] is True and health["database"] is True
    assert health["index_version"]
    with urllib.request.urlopen(f"http://127.0.0.1:{health_port}/metrics", timeout=10) as response:
        exposition = response.read().decode()
    assert 'alliance_answers_total{channel="telegram"' in exposition


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
    assert "SC-101" not in after and "•" not in after  # no listing: nothing to follow
    # The same as a user who never asked anything before.
    assert after == _reply(emulator, "四川的呢？", 150, language="zh")["text"]


def test_groups_answer_only_when_spoken_to(telegram):
    emulator, _, log, _ = telegram
    group = {"chat_id": -100, "chat_type": "group"}
    emulator.user_message("When was the alliance established?", user_id=44, **group)
    mentioned = _reply(emulator, "@alliance_bot 联盟是什么时候成立的？", 44, **group)
    assert "2020年6月8日" in mentioned["text"]
    replying = _reply(emulator, "Where was it founded?", 45, reply_to=mentioned, **group)
    assert "Chengdu" in replying["text"]
    asked = _reply(emulator, "/ask Which universities started the alliance?", 46, **group)
    assert "Chongqing RTVU" in asked["text"]
    # The unaddressed message got no reply: three questions, three replies.
    assert handled(log, emulator.last_update_id)
    assert len(emulator.wait_for_messages(-100, count=0, timeout=0)) == 3


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
    emulator, _, log, database = telegram
    answered = len(emulator.answered_callbacks)
    message = {"message_id": 1, "chat": {"id": 56, "type": "private"}, "date": 0, "text": "x"}
    emulator.press({"callback_data": data}, message, user_id=56)
    assert emulator.wait_for(lambda: len(emulator.answered_callbacks) > answered)
    assert handled(log, emulator.last_update_id)
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM feedback WHERE user_id = 56").fetchone() == (0,)
    assert emulator.wait_for_messages(56, timeout=0) == []


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


async def _account_code(database, name: str, role: str, branch: str | None) -> str:
    """An account made as `python -m bot admin add` does, and its /link code from the web."""
    store = await Store.open(f"sqlite+aiosqlite:///{database}")
    people = People(store.accounts, store.guesses)
    account, _ = await people.add(name, role, branch)  # type: ignore[arg-type]
    code = await people.link_code(account)
    await store.close()
    return code


def test_linking_an_account_gives_its_role_in_telegram(telegram):
    emulator, _, log, database = telegram
    user, admin = 4701, 4702  # ids no other test here uses: they become staff and admin
    code = asyncio.run(_account_code(database, "zhou.min", "staff", "chengdu-wuhou"))
    assert "200 yuan" not in _answered(_reply(emulator, STAFF_QUESTION, user))
    assert "Usage" in _reply(emulator, "/link", user)["text"]
    in_group = _reply(emulator, f"/link {code}", user, chat_id=-301, chat_type="group")
    assert "private chat" in in_group["text"]
    assert "not valid" in _reply(emulator, "/link forged-code-<b>\u0000", user)["text"]
    linked = _reply(emulator, f"/link {code}", user)["text"]
    assert "zhou.min" in linked and "chengdu-wuhou" in linked
    assert "not valid" in _reply(emulator, f"/link {code}", user)["text"]  # spent
    assert "200 yuan" in _reply(emulator, STAFF_QUESTION, user)["text"]  # staff answers now
    assert code not in log.read_text()
    admin_code = asyncio.run(_account_code(database, "li.na", "admin", None))
    assert "Only admins" in _reply(emulator, "/stats", admin)["text"]
    assert "li.na" in _reply(emulator, f"/link {admin_code}", admin)["text"]
    assert "Only admins" not in _reply(emulator, "/stats", admin)["text"]


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
    refused = (62, -400)
    assert not emulator.wait_for(
        lambda: any(p["chat"]["id"] in refused for p in emulator.photos), 2
    )
    # No re-index started: its first message (edited later) was never sent.
    assert not any(
        method == "sendMessage" and str(params.get("text", "")).startswith("⏳")
        for method, params in emulator.calls
    )


def _stats(emulator) -> tuple[str, dict]:
    """/stats from the admin: its text, and the chart that follows it (in a chat the bot
    handles one update at a time, so a photo sent after the text is this one's)."""
    reply = _reply(emulator, "/stats", ADMIN_ID)

    def charts() -> list[dict]:
        return [
            photo
            for photo in emulator.photos
            if photo["chat"]["id"] == ADMIN_ID and photo["message_id"] > reply["message_id"]
        ]

    assert emulator.wait_for(lambda: bool(charts())), "no chart after the /stats text"
    [chart] = charts()
    return reply["text"], chart


def test_stats_show_questions_feedback_and_index_version(telegram):
    emulator, _, _, _ = telegram
    _reply(emulator, "What is the credit bank?", 63)
    stats, chart = _stats(emulator)
    assert "questions" in stats and "Feedback: 👍" in stats and "Index version" in stats
    assert chart["upload"].startswith(b"\x89PNG")


# Days ago: questions (the first ones abstained), tickets opened and votes, all at noon UTC.
PAST = {
    3: {"questions": 2, "abstained": 1, "escalated": 1, "helpful": 1, "unhelpful": 1},
    7: {"questions": 0, "abstained": 0, "escalated": 1, "helpful": 0, "unhelpful": 0},
    11: {"questions": 1, "abstained": 1, "escalated": 0, "helpful": 0, "unhelpful": 0},
    29: {"questions": 3, "abstained": 0, "escalated": 0, "helpful": 0, "unhelpful": 1},
    31: {"questions": 1, "abstained": 1, "escalated": 1, "helpful": 1, "unhelpful": 0},  # before
}
DAY_FIGURES = ("answered", "abstained", "escalated", "helpful", "unhelpful")  # as the chart has
STATS_DAY = re.compile(
    r"^(\d{4}-\d{2}-\d{2}): (\d+) questions, (\d+) not covered, (\d+) escalated"
    r"(?:, votes: (\d+) \(👍 (\d+) / 👎 (\d+)\))?$",
    re.MULTILINE,
)


async def _record_past(database, today: date) -> None:
    """PAST in the bot's database: written through the store, then moved back in time (tickets
    and votes go with questions asked 40 days ago, before the window)."""
    store = await Store.open(f"sqlite+aiosqlite:///{database}")
    users = itertools.count(900)

    async def moved(table, row, column: str, days_ago: int) -> None:
        noon = datetime.combine(today - timedelta(days=days_ago), time(12), tzinfo=UTC)
        async with store._engine.begin() as connection:
            await connection.execute(update(table).where(row).values({column: noon}))

    async def question(days_ago: int, abstained: bool = False) -> tuple[int, int]:
        user = next(users)
        question_id = await store.log_question(
            user_id=user, chat_id=user, question="Is there a dormitory?", answer="-",
            language="en", abstained=abstained, latency_ms=1.0, sources=[],
        )  # fmt: skip
        await moved(LoggedQuestion, LoggedQuestion.id == question_id, "asked_at", days_ago)
        return question_id, user

    for days_ago, counts in PAST.items():
        for number in range(counts["questions"]):
            await question(days_ago, abstained=number < counts["abstained"])
        for _ in range(counts["escalated"]):
            question_id, user = await question(40)
            await store.tickets.open(
                NewTicket(
                    question_id=question_id, learner_id=user, learner_chat_id=user,
                    learner_name="Learner", language="en", question="Is there a dormitory?",
                    answer="-", branch=None, staff_chat_id=-900,
                )
            )  # fmt: skip
            await moved(Ticket, Ticket.question_id == question_id, "opened_at", days_ago)
        votes = [1] * counts["helpful"] + [-1] * counts["unhelpful"]
        for vote in votes:
            question_id, user = await question(40)
            assert await store.record_feedback(question_id, user, vote)
            await moved(Feedback, Feedback.question_id == question_id, "voted_at", days_ago)
    await store.close()


def _stats_days(text: str) -> dict[str, dict[str, int]]:
    """A /stats reply's day lines, by day."""
    days = {}
    for day, asked, abstained, escalated, votes, up, down in STATS_DAY.findall(text):
        figures = [int(asked), int(abstained), int(escalated), int(up or 0), int(down or 0)]
        assert not votes or int(votes) == figures[3] + figures[4], text
        days[day] = dict(zip(["questions", *DAY_FIGURES[1:]], figures, strict=True))
    return days


def test_stats_send_a_30_day_chart_with_the_numbers_of_the_text(telegram):
    emulator, _, _, database = telegram
    today = datetime.now(UTC).date()
    asyncio.run(_record_past(database, today))
    text, photo = _stats(emulator)
    assert text.startswith("<b>Last 30 days</b>") and html_problem(text) is None

    listed = _stats_days(text)
    for days_ago, counts in PAST.items():
        day = (today - timedelta(days=days_ago)).isoformat()
        assert listed.get(day) == (counts if days_ago < 30 else None), (day, text)
    assert today.isoformat() in listed  # the other tests' questions

    png = photo["upload"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert 600 <= width <= 2000 and 600 <= height <= 2000, (width, height)
    image = Image.open(io.BytesIO(png))
    image.load()
    assert isinstance(image, PngImageFile) and image.size == (width, height)
    assert photo["caption"] == "Last 30 days" and photo["photo"][0]["width"] == width
    # The chart's numbers (its PNG text chunk) are the text's, day by day over all 30 days.
    plotted = json.loads(image.text["Series"])
    assert plotted["days"][0] == (today - timedelta(days=29)).isoformat()
    assert plotted["days"][-1] == today.isoformat() and len(plotted["days"]) == 30
    assert set(listed) <= set(plotted["days"])
    quiet = dict.fromkeys(["questions", *DAY_FIGURES[1:]], 0)
    for index, day in enumerate(plotted["days"]):
        shown = {name: plotted[name][index] for name in DAY_FIGURES}
        shown["questions"] = shown.pop("answered") + shown["abstained"]
        assert shown == listed.get(day, quiet), day


def test_stats_text_still_arrives_when_the_chart_cannot_be_sent(telegram):
    emulator, _, log, _ = telegram
    photos = len(emulator.photos)
    sent = len(emulator.wait_for_messages(ADMIN_ID, count=0, timeout=0))
    emulator.fail("sendPhoto", 400, chat_id=ADMIN_ID)  # refused: not sent again
    assert "Index version" in _reply(emulator, "/stats", ADMIN_ID)["text"]
    assert emulator.wait_for(lambda: emulator.pending_faults("sendPhoto") == 0)
    logged = emulator.wait_for(lambda: "could not send the /stats chart" in log.read_text(), 10)
    assert logged
    assert len(emulator.photos) == photos
    # Nothing but the figures: no "something went wrong" after them.
    assert handled(log, emulator.last_update_id)
    assert len(emulator.wait_for_messages(ADMIN_ID, count=0, timeout=0)) == sent + 1


def test_an_admin_reindex_reports_progress_and_the_new_document_answers(telegram, bot_settings):
    emulator, _, _, _ = telegram
    question = "What colour is the alliance's zorblat badge?"
    assert "teal" not in _reply(emulator, question, 64)["text"]  # not in the documents, yet
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
    emulator, _, log, _ = telegram
    emulator.fail("sendMessage", 429, retry_after=1)
    before = sum(1 for method, _ in emulator.calls if method == "sendMessage")
    answer = _reply(emulator, "When was the alliance established?", 65)
    assert "8 June 2020" in answer["text"]
    attempts = sum(1 for method, _ in emulator.calls if method == "sendMessage") - before
    assert attempts == 2
    assert handled(log, emulator.last_update_id)
    assert len(emulator.wait_for_messages(65, count=0, timeout=0)) == 1


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
    emulator, _, log, _ = telegram
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
            assert handled(log, emulator.last_update_id)
            assert emulator.wait_for_messages(chat, timeout=0) == []
            continue
        [reply] = emulator.wait_for_messages(chat)
        assert "8 June 2020" in reply["text"] and html_problem(reply["text"]) is None
    assert "2020" in _reply(emulator, "When was the alliance established?", 74)["text"]


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
