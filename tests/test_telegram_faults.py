"""Telegram misbehaving and the bot process dying: every question still gets exactly one answer,
and what the bot learnt (roles, feedback) survives a restart."""

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import copy_of, markdown
from postgres_server import PostgresServer
from processes import handled, start_bot, stop
from telegram_app import telegram_bot

from alliance.settings import Settings
from bench.bot_api_emulator import DROP, BotAPIEmulator
from bot.store.invite_codes import hash_code

TOKEN = "555666777:FAULTS-token-for-the-emulator-only"
CODE = "faults-code-1"
ADMIN = 9


@pytest.fixture
def emulator():
    with BotAPIEmulator(TOKEN) as running:
        yield running


@pytest.fixture
def launch(shipped_index, emulator, tmp_path):
    """Start (and finally stop) bot processes sharing one database."""
    processes: list[subprocess.Popen[bytes]] = []

    def launch_bot(settings: Settings = shipped_index) -> subprocess.Popen:
        before = sum(1 for method, _ in emulator.calls if method == "getUpdates")
        process = start_bot(
            settings,
            tmp_path / f"bot-{len(processes)}.log",
            emulator,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'assistant.db'}",
            STAFF_INVITE_CODES=f"jinniu={hash_code(CODE)}",
            ADMIN_USER_IDS=str(ADMIN),
            USER_QUESTIONS_PER_MINUTE="600",
        )
        processes.append(process)
        polled = emulator.wait_for(
            lambda: sum(1 for method, _ in emulator.calls if method == "getUpdates") > before, 120
        )
        assert polled, "the bot never polled"
        return process

    yield launch_bot
    for process in processes:
        stop(process)


@pytest.fixture(scope="module")
def shared(shipped_index, real_embeddings, tmp_path_factory):
    """One bot for the tests that fault Telegram's side only (each in its own chats): the
    emulator, and the bot's log."""
    folder = tmp_path_factory.mktemp("faults")
    log = folder / "bot.log"
    with (
        BotAPIEmulator(TOKEN) as running,
        telegram_bot(
            shipped_index,
            real_embeddings,
            log,
            running,
            DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'assistant.db'}",
            USER_QUESTIONS_PER_MINUTE="600",
        ),
    ):
        yield running, log


def _sends(emulator):
    return sum(1 for method, _ in emulator.calls if method == "sendMessage")


def _answers(emulator, chat_id):
    return [m for m in emulator.sent if m["chat"]["id"] == chat_id]


@pytest.mark.parametrize(("status", "times"), [(500, 2), (502, 1), (DROP, 1), (DROP, 3), (429, 2)])
def test_each_question_is_answered_exactly_once_through_send_failures(shared, status, times):
    emulator, log = shared
    english_user, chinese_user = 10_000 + 10 * status + times, 20_000 + 10 * status + times
    sent = _sends(emulator)
    emulator.fail("sendMessage", status, times=times, retry_after=1 if status == 429 else None)
    emulator.user_message("When was the alliance established?", user_id=english_user)
    updates = [emulator.last_update_id]
    emulator.delay("getUpdates", 2)
    emulator.user_message("联盟是什么时候成立的？", user_id=chinese_user, language="zh")
    updates.append(emulator.last_update_id)
    assert emulator.wait_for(
        lambda: _answers(emulator, english_user) and _answers(emulator, chinese_user), 60
    )
    assert all(handled(log, u) for u in updates)  # no retry still to come
    [english], [chinese] = _answers(emulator, english_user), _answers(emulator, chinese_user)
    assert "8 June 2020" in english["text"] and "2020年6月8日" in chinese["text"]
    assert _sends(emulator) - sent == 2 + times


@pytest.mark.parametrize(("status", "times"), [(429, 3), (DROP, 2), (500, 3)])
def test_polling_goes_on_through_get_updates_failures(shared, status, times):
    emulator, log = shared
    first_user, second_user = 30_000 + 10 * status + times, 40_000 + 10 * status + times
    emulator.fail("getUpdates", status, times=times, retry_after=1 if status == 429 else None)
    assert emulator.wait_for(lambda: emulator.pending_faults("getUpdates") == 0, 60)
    emulator.user_message("When was the alliance established?", user_id=first_user)
    updates = [emulator.last_update_id]
    emulator.delay("getUpdates", 3)  # and a slow one after them
    emulator.user_message("What is the credit bank?", user_id=second_user)
    updates.append(emulator.last_update_id)
    assert emulator.wait_for(
        lambda: _answers(emulator, first_user) and _answers(emulator, second_user), 60
    )
    assert all(handled(log, u) for u in updates)  # no duplicate to come
    [first], [second] = _answers(emulator, first_user), _answers(emulator, second_user)
    assert "8 June 2020" in first["text"] and "credit" in second["text"].lower()
    assert emulator.pending_faults("getUpdates") == 0  # the slow poll was met too


def test_a_restarted_bot_keeps_what_it_learnt_and_answers_nothing_twice(emulator, launch, tmp_path):
    first = launch()
    emulator.user_message(f"/register {CODE}", user_id=83)
    assert emulator.wait_for(lambda: _answers(emulator, 83), 60)
    question = "How much is the teaching allowance for a visiting teacher per class hour?"
    emulator.user_message(question, user_id=83)
    assert emulator.wait_for(lambda: len(_answers(emulator, 83)) == 2, 60)
    answer = _answers(emulator, 83)[1]
    assert "200 yuan" in answer["text"]
    [vote] = [
        b for row in answer["reply_markup"]["inline_keyboard"] for b in row if b["text"] == "👍"
    ]
    emulator.press(vote, answer, user_id=83)
    assert emulator.wait_for(lambda: emulator.answered_callbacks, 30)

    def all_recorded() -> bool:  # each update marked done once its reply is out
        with sqlite3.connect(tmp_path / "assistant.db") as db:
            return db.execute("SELECT count(*) FROM update_claims WHERE NOT done").fetchone() == (
                0,
            )

    assert emulator.wait_for(all_recorded, 10)
    first.kill()  # SIGKILL: no clean shutdown, no confirmation of the last updates
    first.wait()

    emulator.redeliver()  # Telegram hands the unconfirmed updates out again
    launch()
    emulator.user_message(question, user_id=83)  # still staff after the restart
    assert emulator.wait_for(lambda: len(_answers(emulator, 83)) >= 3, 60)
    assert handled(tmp_path / "bot-1.log", emulator.last_update_id)  # and the re-delivered ones
    replies = _answers(emulator, 83)
    assert len(replies) == 3, [m["text"][:40] for m in replies]  # nothing answered twice
    assert "200 yuan" in replies[2]["text"]
    assert len(emulator.answered_callbacks) == 1  # nor the button press
    with sqlite3.connect(tmp_path / "assistant.db") as db:
        assert db.execute("SELECT vote FROM feedback WHERE user_id = 83").fetchall() == [(1,)]
    skipped = (tmp_path / "bot-1.log").read_text()
    assert skipped.count("was handled before; skipped") == 3  # each re-delivery, by id
    assert question not in skipped  # ids only, never the text


def _ask_fresh_bot(settings: Settings, database: Path, bot_id: int, log: Path) -> list[str]:
    """/start and a question to a bot whose update ids start from 1, on `database`."""
    with BotAPIEmulator(f"{bot_id}:another-token-for-the-emulator", bot_id=bot_id) as emulator:
        process = start_bot(settings, log, emulator, DATABASE_URL=f"sqlite+aiosqlite:///{database}")
        try:
            emulator.user_message("/start", user_id=90)
            emulator.user_message("When was the alliance established?", user_id=90)
            assert emulator.wait_for(lambda: len(_answers(emulator, 90)) >= 2, 120), log.read_text()
            return [m["text"] for m in _answers(emulator, 90)]
        finally:
            stop(process)


def test_a_second_bot_on_the_same_database_is_not_taken_for_the_first(shipped_index, tmp_path):
    """Update ids are counted per bot: a staging bot or a replaced token on an earlier bot's
    database numbers its updates from 1 again, and is answered all the same."""
    database = tmp_path / "shared.db"
    for bot_id in (777, 778):
        welcome, answer = _ask_fresh_bot(shipped_index, database, bot_id, tmp_path / "bot.log")
        assert "/ask" in welcome and "8 June 2020" in answer, bot_id
    with sqlite3.connect(database) as db:
        claims = set(db.execute("SELECT bot_id, update_id FROM update_claims"))
    assert claims == {(777, 1), (777, 2), (778, 1), (778, 2)}


def test_update_ids_numbered_afresh_after_a_quiet_week_are_answered(shipped_index, tmp_path):
    """Telegram numbers updates afresh after a week without any; claims older than a day can
    be no re-delivery (Telegram keeps updates for 24 hours)."""
    database = tmp_path / "quiet.db"
    _ask_fresh_bot(shipped_index, database, 777, tmp_path / "before.log")
    with sqlite3.connect(database) as db:
        db.execute("UPDATE update_claims SET claimed_at = '2026-01-01 00:00:00.000000'")
    welcome, answer = _ask_fresh_bot(shipped_index, database, 777, tmp_path / "after.log")
    assert "/ask" in welcome and "8 June 2020" in answer


def test_an_answer_cut_short_by_a_crash_is_given_after_the_restart(emulator, launch, tmp_path):
    first = launch()
    emulator.fail("sendMessage", DROP, times=3, chat_id=88)  # the answer cannot get out

    def attempts() -> int:
        return sum(1 for m, p in emulator.calls if m == "sendMessage" and p.get("chat_id") == 88)

    emulator.user_message("When was the alliance established?", user_id=88)
    assert emulator.wait_for(lambda: attempts() >= 1, 60)
    first.kill()  # mid-answer: the update was claimed, never finished
    first.wait()
    assert _answers(emulator, 88) == []  # the answer really was cut short

    emulator.redeliver()
    launch()  # at once, well within the time after which a claim counts as abandoned
    assert emulator.wait_for(lambda: _answers(emulator, 88), 60), "the question was lost"
    assert handled(tmp_path / "bot-1.log", emulator.last_update_id)
    [answer] = _answers(emulator, 88)
    assert "8 June 2020" in answer["text"]


def test_questions_keep_flowing_while_an_admin_reindexes(emulator, launch, shipped_index, tmp_path):
    settings = copy_of(shipped_index, tmp_path)
    launch(settings)
    body = "## Zorblat badge\n\nThe alliance's zorblat badge is teal."
    (settings.knowledge_dir / "badge.md").write_text(markdown("Badges", body))
    for number in range(40):  # seconds of embedding, for the questions to arrive during
        sections = "\n\n".join(
            f"## Notice {number}.{part}\n\nBranch notice {number}.{part} about study rooms."
            for part in range(4)
        )
        (settings.knowledge_dir / f"notice-{number}.md").write_text(markdown("Notices", sections))
    emulator.user_message("/reindex", user_id=ADMIN)
    questions = ["When was the alliance established?", "联盟是什么时候成立的？"] * 30
    updates = []
    for number, question in enumerate(questions):
        emulator.user_message(question, user_id=100 + number, language="en")
        updates.append(emulator.last_update_id)
    everyone = range(100, 100 + len(questions))
    assert emulator.wait_for(lambda: all(_answers(emulator, u) for u in everyone), 120)
    assert emulator.wait_for(
        lambda: any(m["text"].startswith("✅") for m in _answers(emulator, ADMIN)), 120
    )
    assert all(handled(tmp_path / "bot-0.log", u) for u in updates)
    for user, question in zip(everyone, questions, strict=True):
        [reply] = _answers(emulator, user)  # one each, none failed
        assert ("8 June 2020" if question.startswith("When") else "2020年6月8日") in reply["text"]
    # Some were answered while the re-index ran, between its first message and its last.
    calls = list(emulator.calls)
    started = next(
        n for n, (method, params) in enumerate(calls)
        if method == "sendMessage" and str(params.get("text", "")).startswith("⏳")
    )  # fmt: skip
    finished = next(
        n for n, (method, params) in enumerate(calls)
        if method == "editMessageText" and str(params.get("text", "")).startswith("✅")
    )  # fmt: skip
    meanwhile = {
        int(params["chat_id"])
        for method, params in calls[started:finished]
        if method == "sendMessage"
    }
    assert meanwhile & set(everyone), "no question was answered during the re-index"
    emulator.user_message("What colour is the alliance's zorblat badge?", user_id=99)
    assert emulator.wait_for(lambda: _answers(emulator, 99), 60)
    assert "teal" in _answers(emulator, 99)[0]["text"]


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_without_a_usable_index_the_bot_says_how_to_rebuild_it(
    emulator, launch, shipped_index, tmp_path, damage
):
    # Only the charter: /reindex builds from scratch, which takes seconds for a few documents.
    shutil.copytree(shipped_index.knowledge_dir / "charter", tmp_path / "knowledge" / "charter")
    (tmp_path / "index").mkdir()
    if damage == "corrupt":
        (tmp_path / "index" / "CURRENT").write_text("20260101T000000Z-gone\n")
    settings = Settings(knowledge_dir=tmp_path / "knowledge", index_dir=tmp_path / "index")
    process = launch(settings)
    emulator.user_message("When was the alliance established?", user_id=71)
    assert emulator.wait_for(lambda: _answers(emulator, 71), 60)
    told = _answers(emulator, 71)[0]["text"]  # a learner: no admin's instructions
    assert "temporarily unavailable" in told and "/reindex" not in told
    emulator.user_message("When was the alliance established?", user_id=ADMIN)
    assert emulator.wait_for(lambda: _answers(emulator, ADMIN), 60)
    assert "/reindex" in _answers(emulator, ADMIN)[0]["text"]
    assert process.poll() is None  # running, not crashing
    emulator.user_message("/reindex", user_id=ADMIN)
    assert emulator.wait_for(
        lambda: any(m["text"].startswith("✅") for m in _answers(emulator, ADMIN)), 120
    )
    emulator.user_message("When was the alliance established?", user_id=72)
    assert emulator.wait_for(lambda: _answers(emulator, 72), 60)
    assert "8 June 2020" in _answers(emulator, 72)[0]["text"]
    log = (tmp_path / "bot-0.log").read_text()
    assert "no usable index" in log and "python -m ingest" in log


def test_the_database_may_start_late_and_restart(emulator, shipped_index, tmp_path):
    password = "db-Pa55word-never-logged"
    server = PostgresServer()
    log = tmp_path / "bot.log"
    process = start_bot(
        shipped_index,
        log,
        emulator,
        DATABASE_URL=server.url("alliance", password),
    )
    question = "When was the alliance established?"
    try:
        assert emulator.wait_for(lambda: "not reachable" in log.read_text(), 60), log.read_text()
        server.start().create_database("alliance")  # the bot waited for it
        assert emulator.wait_for_call("getUpdates", 60)
        emulator.user_message(question, user_id=95)
        assert emulator.wait_for(lambda: _answers(emulator, 95), 60)
        assert "8 June 2020" in _answers(emulator, 95)[0]["text"]

        server.stop(keep_data=True)  # a restart between two questions: pooled connections
        server.start()  # to the old server are checked and replaced, not used
        emulator.user_message(question, user_id=98)
        assert emulator.wait_for(lambda: _answers(emulator, 98), 60)
        assert "8 June 2020" in _answers(emulator, 98)[0]["text"]

        server.stop(keep_data=True)
        emulator.user_message(question, user_id=96)  # told, not left waiting
        assert emulator.wait_for(lambda: _answers(emulator, 96), 60)
        assert "went wrong" in _answers(emulator, 96)[0]["text"]

        server.start()
        emulator.user_message(question, user_id=97)
        assert emulator.wait_for(lambda: _answers(emulator, 97), 60)
        assert "8 June 2020" in _answers(emulator, 97)[0]["text"]
        assert password not in log.read_text()
    finally:
        stop(process)
        server.stop()
