"""The staff loop's staff side in WeCom, against the emulators of WeCom's long connection and of
Telegram's Bot API, with both bots in the test's process on one database: a WeCom learner's
ticket answered by quoting it in the WeCom staff group (English and Chinese), kept for similar
questions; a Telegram learner answered from the WeCom group in Telegram; who may answer, where,
and the card's forged presses; /chatid, /register and /link in WeCom."""

import asyncio
import re
import sqlite3

import pytest
from in_process import logging_to, on_a_thread, settings_for
from processes import logged
from telegram_app import telegram_bot
from web_process import ARTIFACTS

from bench.bot_api_emulator import BotAPIEmulator, buttons
from bench.wecom_emulator import Shown, WeComEmulator
from bot.channels.wecom.app import connect, serve
from bot.engine.factory import build_engine
from bot.services.people import People
from bot.services.staff_loop import wecom_id
from bot.store.database import Store
from bot.store.invite_codes import hash_code

STAFF_ROOM, JINNIU_ROOM = "staff-room", "jinniu-room"
JINNIU = "Chengdu-Jinniu"
CODE = "jinniu-invite-code-2026"
TOKEN = "123456789:TEST-token-for-wecom-staff_abcdef"
QUESTIONS = {  # not covered by the documents, and a paraphrase of each
    "en": (
        "Can I bring my child along to the weekend tutorial sessions?",
        "Yes, children may sit in if they stay quiet; tell the tutor when you arrive.",
        "can I bring my child along to weekend tutorial sessions",
    ),
    "zh": (
        "分校能不能为周末上课的学员安排宿舍？",
        "可以，周末上课的学员可向分校申请宿舍，每晚 50 元，请提前三天登记。",
        "周末上课的学员分校能安排宿舍吗",
    ),
}


@pytest.fixture(scope="module")
def desk(shipped_index, real_embeddings, tmp_path_factory):
    """The WeCom bot and the Telegram bot on one database; the staff groups introduced (a
    group must write to the bot before it can post there) and a staff member registered."""
    folder = tmp_path_factory.mktemp("wecom-staff")
    log, database = folder / "bot.log", folder / "assistant.db"
    with WeComEmulator() as wecom, BotAPIEmulator(TOKEN) as telegram:
        shared = {  # what both bots read
            "WECOM_STAFF_CHAT_ID": STAFF_ROOM,
            "WECOM_BRANCH_STAFF_CHATS": f"{JINNIU}={JINNIU_ROOM}",
            "STAFF_INVITE_CODES": f"{JINNIU}={hash_code(CODE)}",
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "USER_QUESTIONS_PER_MINUTE": "100",
            "TICKET_RETRY_S": "0.3",
        }
        settings = settings_for(
            shipped_index,
            WECOM_BOT_ID=wecom.bot_id,
            WECOM_BOT_SECRET=wecom.secret,
            WECOM_WS_URL=wecom.url,
            **shared,
        )
        engine = build_engine(settings, without_index=True, embeddings=real_embeddings)
        connection = connect(settings)
        with (
            logging_to(log, settings.log_level),
            on_a_thread(lambda: serve(settings, engine, connection), connection.stop),
        ):
            # The Telegram bot once the WeCom bot's store is open: two first openings of one
            # SQLite file would migrate it at once.
            assert wecom.wait_for(lambda: wecom.subscriptions == 1), log.read_text()
            with telegram_bot(
                shipped_index,
                real_embeddings,
                folder / "telegram.log",
                telegram,
                TELEGRAM_MESSAGES_PER_SECOND="0",
                **shared,
            ):
                shown = _say(wecom, log, "@Assistant /chatid", "zhou", STAFF_ROOM)
                assert f"ID: {STAFF_ROOM}" in shown.content.replace("\\", "")
                _say(wecom, log, "@Assistant /chatid", "zhou", JINNIU_ROOM)
                registered = _say(wecom, log, f"/register {CODE}", "zhou")
                assert "Registered as staff of" in registered.content
                yield wecom, telegram, log, database
        # What WeCom's users did and saw, for a person to read (test-artifacts/)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        lines = "\n".join(wecom.transcript)
        (ARTIFACTS / "wecom-transcript.md").write_text(
            f"# WeCom, as the emulator saw it\n\n{lines}\n"
        )


def _say(wecom: WeComEmulator, log, text: str, userid: str, chatid: str | None = None, **kw):
    """A message to the bot, and the bot's streamed reply once it handled it."""
    msgid = f"m-{userid}-{len(wecom.frames)}-{len(wecom.shown)}"
    wecom.user_message(text, userid=userid, chatid=chatid, msgid=msgid, **kw)
    assert logged(log, f"WeCom message {wecom_id(msgid)} handled\n"), log.read_text()[-3000:]
    return [s for s in wecom.seen_by(chatid or userid) if s.kind == "stream"][-1]


def _shown(wecom: WeComEmulator, chat: str, kind: str, containing: str = "") -> list[Shown]:
    return [s for s in wecom.seen_by(chat) if s.kind == kind and containing in s.content]


def _wait(wecom: WeComEmulator, found) -> None:
    assert wecom.wait_for(found, 60)


def _number(text: str) -> int:
    found = re.search(r"#(\d+)", text)
    assert found is not None, text
    return int(found.group(1))


def _ask_a_person(wecom: WeComEmulator, log, question: str, userid: str) -> int:
    """A WeCom learner's question, then *Ask a person* on its card: the ticket's number."""
    _say(wecom, log, question, userid)
    card = [s for s in wecom.seen_by(userid) if s.kind == "card"][-1]
    assert card.card is not None
    person = next(b for b in card.card["button_list"] if b["key"].startswith("person:"))
    wecom.click(userid, card.card["task_id"], person["key"])
    _wait(wecom, lambda: _shown(wecom, userid, "markdown", "#"))
    return _number(_shown(wecom, userid, "markdown", "#")[-1].content)


def _announcement(wecom: WeComEmulator, room: str, ticket: int) -> Shown:
    _wait(wecom, lambda: _shown(wecom, room, "markdown", f"Ticket #{ticket}**"))
    return _shown(wecom, room, "markdown", f"Ticket #{ticket}**")[0]


def _keep_card(wecom: WeComEmulator, room: str) -> dict:
    card = [s for s in wecom.seen_by(room) if s.kind == "card"][-1].card
    assert card is not None
    return card


def _curated(database) -> list[tuple[str, str, str]]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT question, answer, audience FROM curated_answers").fetchall()


def _reply_authors(database, ticket: int) -> list[tuple[int, int | None]]:
    with sqlite3.connect(database) as db:
        query = "SELECT author_id, author_account_id FROM ticket_replies WHERE ticket_id = ?"
        return db.execute(query + " AND from_staff", (ticket,)).fetchall()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_wecom_ticket_is_answered_in_the_staff_group_kept_and_reused(desk, language):
    wecom, _, log, database = desk
    question, answer, paraphrase = QUESTIONS[language]
    learner = f"learner-{language}"
    ticket = _ask_a_person(wecom, log, question, learner)
    sent = _shown(wecom, learner, "markdown", f"#{ticket}")[-1].content
    assert ("Sent to branch staff" if language == "en" else "转给分校工作人员") in sent

    announced = _announcement(wecom, STAFF_ROOM, ticket)
    assert question.replace("?", "") in announced.content.replace("\\", "")
    assert f"{language} · WeCom 企业微信" in announced.content
    confirmed = _say(
        wecom, log, f"@Assistant {answer}", "zhou", STAFF_ROOM, quote=announced.content
    )
    assert "answer sent to the learner" in confirmed.content

    staff_answer = "Answer from your branch staff" if language == "en" else "分校工作人员的回复"
    [delivered] = _shown(wecom, learner, "markdown", staff_answer)
    assert f"#{ticket}" in delivered.content and answer[:12] in delivered.content
    assert _reply_authors(database, ticket) == [(wecom_id("zhou"), None)]

    card = _keep_card(wecom, STAFF_ROOM)
    keep = next(b["key"] for b in card["button_list"] if b["key"].endswith(":public"))
    wecom.click("zhou", card["task_id"], keep, chatid=STAFF_ROOM)
    _wait(
        wecom, lambda: "curated answer" in _keep_card(wecom, STAFF_ROOM).get("sub_title_text", "")
    )
    assert (question, answer, "public") in _curated(database)

    reused = _say(wecom, log, paraphrase, f"next-{language}")
    assert answer[:12] in reused.content


def test_a_telegram_learner_is_answered_from_the_wecom_group_in_telegram(desk):
    wecom, telegram, log, _ = desk
    telegram.user_message("Is there a quiet room for exams at the branch?", user_id=501)
    [answer] = telegram.wait_for_messages(501, count=1)
    telegram.press(buttons(answer)["Ask a person"], answer, user_id=501)
    [_, confirm] = telegram.wait_for_messages(501, count=2)
    telegram.press(buttons(confirm)["Send"], confirm, user_id=501)
    _wait(wecom, lambda: _shown(wecom, STAFF_ROOM, "markdown", "Telegram\n"))
    announced = _shown(wecom, STAFF_ROOM, "markdown", "Telegram\n")[-1]
    ticket = _number(announced.content)

    confirmed = _say(wecom, log, f"@Assistant #{ticket} Yes: room 204.", "zhou", STAFF_ROOM)
    assert "the Telegram bot sends it" in confirmed.content

    def relayed():
        found = telegram.wait_for_messages(501, count=0, timeout=0)
        return [m for m in found if "Answer from your branch staff" in m["text"]]

    assert telegram.wait_for(relayed, 60)
    assert f"#{ticket}" in relayed()[0]["text"] and "room 204" in relayed()[0]["text"]


def test_only_staff_answer_and_only_the_tickets_of_their_group(desk):
    wecom, _, log, database = desk
    ticket = _ask_a_person(wecom, log, "Do branches lend laptops for the online exams?", "li.lei")
    announced = _announcement(wecom, STAFF_ROOM, ticket)
    refused = _say(wecom, log, "@Assistant yes", "stranger", STAFF_ROOM, quote=announced.content)
    assert "Only registered staff answer tickets" in refused.content
    missing = _say(wecom, log, "@Assistant #99999 yes", "zhou", STAFF_ROOM)
    assert "There is no ticket" in missing.content
    # The Jinniu group cannot answer a ticket posted to the general group.
    other = _say(wecom, log, f"@Assistant #{ticket} yes", "zhou", JINNIU_ROOM)
    assert "belongs to another staff group" in other.content
    assert _reply_authors(database, ticket) == []

    answered = _say(wecom, log, f"@Assistant #{ticket} Yes, ask at the desk.", "zhou", STAFF_ROOM)
    assert "answer sent" in answered.content
    card = _keep_card(wecom, STAFF_ROOM)
    keep = next(b["key"] for b in card["button_list"] if b["key"].endswith(":staff"))
    before = _curated(database)
    forged = [
        ("stranger", card["task_id"], keep, STAFF_ROOM),  # not staff
        ("zhou", card["task_id"], keep, JINNIU_ROOM),  # pressed from another group
        ("zhou", card["task_id"].replace("keep_", "keep_1"), keep, STAFF_ROOM),  # another card
        ("zhou", card["task_id"], keep.replace(":staff", ":all"), STAFF_ROOM),  # no such key
    ]
    for userid, task, key, room in forged:
        wecom.click(userid, task, key, chatid=room)
        assert logged(log, f"WeCom message {wecom_id(wecom.last_msgid)} handled\n")
    assert _curated(database) == before


def test_a_linked_account_answers_its_branch_tickets_as_itself(desk):
    wecom, _, log, database = desk

    async def accounts() -> tuple[str, str, int]:
        store = await Store.open(f"sqlite+aiosqlite:///{database}")
        try:
            people = People(store.accounts, store.guesses)
            jinniu, _ = await people.add("zhou.min", "staff", JINNIU, None)
            yubei, _ = await people.add("he.yun", "staff", "Chongqing-Yubei", None)
            codes = await people.link_code(jinniu), await people.link_code(yubei)
            return *codes, jinniu.id
        finally:
            await store.close()

    jinniu_code, yubei_code, account = asyncio.run(accounts())
    in_group = _say(wecom, log, f"@Assistant /link {jinniu_code}", "zhou.min", JINNIU_ROOM)
    assert "in a private chat" in in_group.content
    linked = _say(wecom, log, f"/link {jinniu_code}", "zhou.min")
    assert "this WeCom account is now zhou.min's (staff, Chengdu-Jinniu)" in linked.content
    assert "not valid" in _say(wecom, log, f"/link {jinniu_code}", "he.yun").content  # spent
    _say(wecom, log, f"/link {yubei_code}", "he.yun")

    # The learner chooses the branch whose staff their questions go to.
    listed = _say(wecom, log, "/branch", "wang.fang").content
    assert "Which branch do you study at?" in listed and "- Chengdu-Jinniu" in listed
    assert "No branch" in _say(wecom, log, "/branch Wanzhou", "wang.fang").content
    chosen = _say(wecom, log, "/branch jinniu", "wang.fang").content
    assert "Your branch is now **Chengdu-Jinniu**" in chosen
    ticket = _ask_a_person(wecom, log, "Can I pay the fees in two parts?", "wang.fang")
    announced = _announcement(wecom, JINNIU_ROOM, ticket)
    assert "Chengdu-Jinniu" in announced.content
    # Yubei's staff may not answer Jinniu's tickets, even in Jinniu's group.
    other = _say(wecom, log, f"@Assistant #{ticket} No.", "he.yun", JINNIU_ROOM)
    assert "belongs to another staff group" in other.content
    _say(wecom, log, f"@Assistant #{ticket} Yes, in two parts.", "zhou.min", JINNIU_ROOM)
    assert _reply_authors(database, ticket) == [(wecom_id("zhou.min"), account)]


def test_staff_read_staff_documents_in_single_chats_only(desk):
    wecom, _, log, _ = desk
    question = "How much is the teaching allowance for a visiting teacher per class hour?"
    assert "200 yuan" in _say(wecom, log, question, "zhou").content
    assert "200 yuan" not in _say(wecom, log, f"@Assistant {question}", "zhou", STAFF_ROOM).content
    assert "200 yuan" not in _say(wecom, log, question, "learner-x").content
    wrong = _say(wecom, log, "/register not-the-code", "learner-x")
    assert "That code is not valid." in wrong.content
    assert "200 yuan" not in _say(wecom, log, question, "learner-x").content
