"""Admins add documents in Telegram, through the real bot and the Bot API emulator: a file sent
in a private chat is asked its audience, language and title with buttons (or a typed title),
added to knowledge/uploads/ with its metadata and indexed with /reindex's progress message;
anyone else's file, a file that is not a document and a stale button change nothing."""

import pytest
import yaml
from conftest import copy_of
from telegram_app import telegram_bot

from bench.bot_api_emulator import BotAPIEmulator, buttons

TOKEN = "123456789:TEST-token-for-uploads_abcdef"
ADMIN_ID, STAFF_ID, LEARNER_ID = 7, 99, 301
HANDBOOK = (
    b"# Key cabinet\n\nThe key to the Jinniu branch server room is kept in cabinet 14B, "
    b"behind the reception desk.\n"
)


@pytest.fixture(scope="module")
def bot(shipped_index, real_embeddings, tmp_path_factory):
    folder = tmp_path_factory.mktemp("uploads")
    settings = copy_of(shipped_index, folder)
    with (
        BotAPIEmulator(TOKEN) as emulator,
        telegram_bot(
            settings,
            real_embeddings,
            folder / "bot.log",
            emulator,
            ADMIN_USER_IDS=str(ADMIN_ID),
            STAFF_USER_IDS=str(STAFF_ID),
            DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'assistant.db'}",
            TELEGRAM_MESSAGES_PER_SECOND="0",
            USER_QUESTIONS_PER_MINUTE="100",
        ),
    ):
        yield emulator, settings


def _next(emulator, chat_id, before, condition=lambda m: True):
    def found():
        return [m for m in emulator.wait_for_messages(chat_id, 0, 0)[before:] if condition(m)]

    assert emulator.wait_for(lambda: found() != []), f"nothing new in chat {chat_id}"
    return found()[-1]


def _count(emulator, chat_id):
    return len(emulator.wait_for_messages(chat_id, 0, 0))


def _press(emulator, message, label, user_id=ADMIN_ID):
    before = _count(emulator, user_id)
    emulator.press(buttons(message)[label], message, user_id=user_id)
    return before


def _current(emulator, message):
    return next(m for m in emulator.sent if m["message_id"] == message["message_id"])


def _send(emulator, content, name, user_id=ADMIN_ID):
    """The bot's reply to a file (not the progress of an earlier re-index, still coming)."""
    before = _count(emulator, user_id)
    emulator.user_document(content, name, user_id=user_id)
    return _next(emulator, user_id, before, lambda m: not m["text"].startswith(("⏳", "✅")))


def _ask(emulator, question, user_id):
    before = _count(emulator, user_id)
    emulator.user_message(question, user_id=user_id)
    return _next(emulator, user_id, before)["text"]


def test_an_admin_adds_a_staff_only_document_with_buttons(bot):
    emulator, settings = bot
    asked = _send(emulator, HANDBOOK, "key-cabinet.md")
    assert "who may read it" in asked["text"]
    emulator.press(buttons(asked)["Staff only"], asked, user_id=ADMIN_ID)
    assert emulator.wait_for(lambda: "its language" in _current(emulator, asked)["text"])
    emulator.press(buttons(_current(emulator, asked))["English"], asked, user_id=ADMIN_ID)
    assert emulator.wait_for(lambda: "Its title" in _current(emulator, asked)["text"])
    before = _press(emulator, _current(emulator, asked), "“key-cabinet”")
    added = _next(emulator, ADMIN_ID, before, lambda m: m["text"].startswith("✅ Added"))
    assert "uploads/key-cabinet.md" in added["text"]
    done = _next(emulator, ADMIN_ID, before, lambda m: "1 added" in m["text"])
    assert done["text"].startswith("✅ Re-index done")
    meta = yaml.safe_load(
        (settings.knowledge_dir / "uploads" / "key-cabinet.md.meta.yaml").read_text()
    )
    assert meta["audience"] == "staff" and meta["lang"] == "en" and meta["title"] == "key-cabinet"
    question = "Where is the key to the Jinniu branch server room kept?"
    assert "14B" in _ask(emulator, question, STAFF_ID)
    assert "14B" not in _ask(emulator, question, LEARNER_ID)


def test_a_typed_title_names_the_document(bot):
    emulator, settings = bot
    asked = _send(
        emulator, "# 开放时间\n\n金牛分校图书馆工作日开放到晚上九点半。\n".encode(), "library.md"
    )
    emulator.press(buttons(asked)["Everyone"], asked, user_id=ADMIN_ID)
    assert emulator.wait_for(lambda: "its language" in _current(emulator, asked)["text"])
    emulator.press(buttons(_current(emulator, asked))["中文"], asked, user_id=ADMIN_ID)
    assert emulator.wait_for(lambda: "Its title" in _current(emulator, asked)["text"])
    before = _count(emulator, ADMIN_ID)
    emulator.user_message("金牛分校图书馆开放时间", user_id=ADMIN_ID)
    _next(emulator, ADMIN_ID, before, lambda m: m["text"].startswith("✅ Added"))
    meta = yaml.safe_load((settings.knowledge_dir / "uploads" / "library.md.meta.yaml").read_text())
    assert meta["title"] == "金牛分校图书馆开放时间" and meta["audience"] == "public"


def _add_as_is(emulator, asked, stem):
    """Everyone, English, the file's own name as the title; the ✅ Added message."""
    emulator.press(buttons(asked)["Everyone"], asked, user_id=ADMIN_ID)
    assert emulator.wait_for(lambda: "its language" in _current(emulator, asked)["text"])
    emulator.press(buttons(_current(emulator, asked))["English"], asked, user_id=ADMIN_ID)
    assert emulator.wait_for(lambda: "Its title" in _current(emulator, asked)["text"])
    before = _press(emulator, _current(emulator, asked), f"“{stem}”")
    return _next(emulator, ADMIN_ID, before, lambda m: m["text"].startswith("✅ Added"))


def test_a_file_named_like_an_earlier_upload_replaces_it_only_when_the_admin_says_so(bot):
    emulator, settings = bot
    path = settings.knowledge_dir / "uploads" / "opening-hours.md"
    first = b"# Opening hours\n\nThe Wuhou branch office opens at 8:30 on weekdays.\n"
    _add_as_is(emulator, _send(emulator, first, "opening-hours.md"), "opening-hours")
    assert path.read_bytes() == first

    second = b"# Opening hours\n\nThe Wuhou branch office opens at 9:00 on weekdays.\n"
    warned = _send(emulator, second, "opening-hours.md")
    assert "is in the knowledge base already" in warned["text"]
    assert set(buttons(warned)) == {"Replace it", "Cancel"}
    emulator.press(buttons(warned)["Cancel"], warned, user_id=ADMIN_ID)
    assert emulator.wait_for(lambda: "not added" in _current(emulator, warned)["text"])
    assert path.read_bytes() == first  # kept as it was

    warned = _send(emulator, second, "opening-hours.md")
    emulator.press(buttons(warned)["Replace it"], warned, user_id=ADMIN_ID)
    assert emulator.wait_for(lambda: "who may read it" in _current(emulator, warned)["text"])
    _add_as_is(emulator, _current(emulator, warned), "opening-hours")
    assert path.read_bytes() == second


def test_files_from_others_unsupported_files_and_stale_buttons_change_nothing(bot):
    emulator, settings = bot
    uploads = settings.knowledge_dir / "uploads"
    kept = _kept(uploads)
    learner = _send(emulator, HANDBOOK, "notes.md", user_id=LEARNER_ID)
    assert "only read text" in learner["text"] and not buttons(learner)
    refused = _send(emulator, b"MZ\x90\x00", "tool.exe")
    assert "not added" in refused["text"] and "can be uploaded" in refused["text"]
    fake = _send(emulator, b"# not a pdf", "report.pdf")
    emulator.press(buttons(fake)["Everyone"], fake, user_id=ADMIN_ID)
    assert emulator.wait_for(lambda: "its language" in _current(emulator, fake)["text"])
    emulator.press(buttons(_current(emulator, fake))["English"], fake, user_id=ADMIN_ID)
    assert emulator.wait_for(lambda: "Its title" in _current(emulator, fake)["text"])
    # A learner's press on the admin's button does nothing; the admin's adds (and refuses) it
    title = buttons(_current(emulator, fake))["“report”"]
    _expired_press(emulator, title, _current(emulator, fake), LEARNER_ID)
    before = _press(emulator, _current(emulator, fake), "“report”")
    failed = _next(emulator, ADMIN_ID, before, lambda m: "not added" in m["text"])
    assert "not a PDF" in failed["text"]
    _expired_press(emulator, title, _current(emulator, fake), ADMIN_ID)  # spent already
    assert _kept(uploads) == kept


def _kept(uploads):
    return sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []


def _expired_press(emulator, button, message, user_id):
    """Press `button` as `user_id`; the bot must answer the press as expired."""
    answered = len(emulator.answered_callbacks)
    emulator.press(button, message, user_id=user_id)
    assert emulator.wait_for(lambda: len(emulator.answered_callbacks) > answered)
    assert (
        emulator.answered_callbacks[answered].get("text") == "This answer is no longer on record."
    )
