"""Backups (`python -m bot backup DIR`, `restore DIR`; bot.store.backups): every row that is not
rebuilt from knowledge/ survives a round trip between SQLite and PostgreSQL either way; a
backup made while the bot writes is one moment of the store; a restored database answers with
its curated answers in the web chat and in Telegram; what cannot be done is refused with the
reason."""

import asyncio
import json
from pathlib import Path

import pytest
from processes import handled, run
from telegram_app import telegram_bot
from web_app import web_client

from bench.bot_api_emulator import BotAPIEmulator
from bot.engine.factory import build_engine
from bot.services.people import People
from bot.store.backups import tables
from bot.store.curated import NewCurated
from bot.store.database import Store
from bot.store.records import Person
from bot.store.tickets import NewTicket

QUESTION = "Can I bring my child along to the weekend tutorial sessions?"
ANSWER = "Yes, children may sit in if they stay quiet; tell the tutor when you arrive."
PARAPHRASE = "can I bring my child along to weekend tutorial sessions"
TOKEN = "135792468:BACKUP-token-for-the-emulator-only"


async def _fill(store: Store) -> None:
    """A row or more in the tables operators would miss: people, curated answers, tickets and
    replies, votes, the question and action logs, registered staff."""
    people = People(store.accounts, store.guesses)
    admin, _ = await people.add("li.na", "admin", None, None)
    await people.add("zhou.min", "staff", "Chengdu-Jinniu", admin.id)
    await store.accounts.link_wecom(admin.id, "li.na")
    asked = await store.log_question(
        user_id=42,
        chat_id=42,
        question=QUESTION,
        answer="The documents do not say.",
        language="en",
        abstained=True,
        latency_ms=31.5,
        sources=[{"title": "Guide", "section": "", "audience": "public"}],
    )
    await store.record_feedback(asked, 42, -1)
    ticket, _ = await store.tickets.open(
        NewTicket(
            question_id=asked,
            learner_id=42,
            learner_chat_id=42,
            learner_name="Wang Fang 王芳",
            language="en",
            question=QUESTION,
            answer="The documents do not say.",
            branch="Chengdu-Jinniu",
            staff_chat_id=None,
            learner_contact="wang@example.cn",
        )
    )
    reply, _ = await store.tickets.add_reply(ticket.id, Person(7, admin.id), True, ANSWER)
    await store.curated.save(
        NewCurated(QUESTION, ANSWER, "en", "public", Person(7, admin.id), f"reply:{reply}")
    )
    await store.web.record(Person(7, admin.id), "ticket answer", f"ticket {ticket.id}")
    await store.register_staff(99, "Chengdu-Jinniu")


def _rows(folder: Path) -> dict[str, list[dict]]:
    return {
        table.name: [json.loads(line) for line in (folder / f"{table.name}.jsonl").open()]
        for table in tables()
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def other_url(request, tmp_path):
    """An empty database of either kind to restore into."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'assistant.db'}"
    return request.getfixturevalue("postgres").new_database()


async def test_every_row_survives_a_round_trip_between_databases(database_url, other_url, tmp_path):
    source = await Store.open(database_url)
    try:
        await _fill(source)
        counts = await source.back_up(tmp_path / "backup")
    finally:
        await source.close()
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["tables"] == counts and counts["accounts"] == 2
    for name in ("question_log", "feedback", "tickets", "ticket_replies", "curated_answers"):
        assert counts[name] == 1, name

    target = await Store.open(other_url)
    try:
        assert await target.restore(tmp_path / "backup") == counts
        await target.back_up(tmp_path / "again")
        # New rows get new ids (PostgreSQL's sequences moved past the restored ones).
        logged = await target.log_question(
            user_id=43, chat_id=43, question="q", answer="a", language="en",
            abstained=False, latency_ms=1.0, sources=[],
        )  # fmt: skip
        assert logged == 2
        staff, admin = (
            await target.accounts.named("zhou.min"),
            await target.accounts.with_wecom_id("li.na"),
        )
        assert staff is not None and staff.branch == "Chengdu-Jinniu"
        assert admin is not None and admin.role == "admin"
    finally:
        await target.close()
    assert _rows(tmp_path / "again") == _rows(tmp_path / "backup")


async def test_a_backup_taken_while_the_bot_writes_is_one_moment(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'assistant.db'}"
    store = await Store.open(url)
    stop = asyncio.Event()

    async def writer() -> int:
        written = 0
        while not stop.is_set():
            question = await store.log_question(
                user_id=5, chat_id=5, question=f"q{written}", answer="a", language="en",
                abstained=False, latency_ms=1.0, sources=[],
            )  # fmt: skip
            await store.record_feedback(question, 5, 1)  # each question with its vote
            written += 1
            await asyncio.sleep(0)
        return written

    try:
        writing = asyncio.create_task(writer())
        while writing.done() is False and await store.logged(20) is None:
            await asyncio.sleep(0.01)
        counts = await store.back_up(tmp_path / "backup")
        stop.set()
        written = await writing
    finally:
        await store.close()
    assert 20 <= counts["question_log"] <= written
    # One moment: every logged question's vote is in it too (none half-written).
    assert counts["feedback"] in (counts["question_log"], counts["question_log"] - 1)
    rows = _rows(tmp_path / "backup")
    assert len(rows["question_log"]) == counts["question_log"]


def test_a_restored_database_answers_with_its_curated_answers_on_the_web_and_in_telegram(
    shipped_index, real_embeddings, tmp_path
):
    source_url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    restored_url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"

    async def back_up() -> None:
        store = await Store.open(source_url)
        await _fill(store)
        await store.close()

    asyncio.run(back_up())
    made = run(["bot", "backup", str(tmp_path / "backup")], shipped_index, DATABASE_URL=source_url)
    assert made.returncode == 0 and "rows backed up to" in made.stdout, made.stderr
    restored = run(
        ["bot", "restore", str(tmp_path / "backup")], shipped_index, DATABASE_URL=restored_url
    )
    assert restored.returncode == 0 and "curated_answers 1" in restored.stdout, restored.stderr

    settings = shipped_index.model_copy(update={"database_url": restored_url})

    async def on_the_web() -> str:
        engine = build_engine(settings, embeddings=real_embeddings)
        async with web_client(settings, engine) as http:
            return (await http.post("/api/ask", json={"question": PARAPHRASE})).json()["answer"]

    assert asyncio.run(on_the_web()).startswith(ANSWER)
    log = tmp_path / "bot.log"
    with (
        BotAPIEmulator(TOKEN) as emulator,
        telegram_bot(shipped_index, real_embeddings, log, emulator, DATABASE_URL=restored_url),
    ):
        emulator.user_message(PARAPHRASE, user_id=501)
        assert handled(log, emulator.last_update_id)
        [reply] = emulator.wait_for_messages(501, count=1)
        assert ANSWER in reply["text"]


def test_what_cannot_be_backed_up_or_restored_is_refused_with_the_reason(settings, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'assistant.db'}"
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    refused = run(["bot", "backup", str(busy)], settings, DATABASE_URL=url)
    assert refused.returncode == 2 and "not empty" in refused.stderr
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]  # nothing written there

    made = run(["bot", "backup", str(tmp_path / "backup")], settings, DATABASE_URL=url)
    assert made.returncode == 0, made.stderr
    asyncio.run(_filled(url))
    into_data = run(["bot", "restore", str(tmp_path / "backup")], settings, DATABASE_URL=url)
    assert into_data.returncode == 2 and "already holds data" in into_data.stderr

    fresh = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    for folder, broken, reason in (
        ("empty", None, "no readable backup"),
        ("garbled", "{not json", "no readable backup"),
        ("future", json.dumps({"format": 1, "revision": "9999", "tables": {}}), "newer"),
        ("other", json.dumps({"format": 7}), "format"),
    ):
        (tmp_path / folder).mkdir()
        if broken is not None:
            (tmp_path / folder / "manifest.json").write_text(broken)
        result = run(["bot", "restore", str(tmp_path / folder)], settings, DATABASE_URL=fresh)
        assert result.returncode == 2 and reason in result.stderr, (folder, result.stderr)
        assert "Traceback" not in result.stderr
    # A backup whose rows were tampered with: refused, and nothing of it kept.
    (tmp_path / "backup" / "accounts.jsonl").write_text('{"id": "x"}\n')
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    manifest["tables"]["accounts"] = 1
    (tmp_path / "backup" / "manifest.json").write_text(json.dumps(manifest))
    tampered = run(["bot", "restore", str(tmp_path / "backup")], settings, DATABASE_URL=fresh)
    assert tampered.returncode == 2 and "accounts" in tampered.stderr, tampered.stderr
    assert "Traceback" not in tampered.stderr


async def _filled(url: str) -> None:
    store = await Store.open(url)
    await _fill(store)
    await store.close()
