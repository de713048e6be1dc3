"""Settings: every field documented in .env.example, typed parsing, clear errors."""

import re

import pytest
from conftest import REPO
from pydantic import ValidationError

from alliance.settings import Settings


def test_env_example_lists_every_setting():
    text = (REPO / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    assert listed == {name.upper() for name in Settings.model_fields}


def test_every_setting_is_described():
    assert all(field.description for field in Settings.model_fields.values())


def test_ids_are_read_as_comma_separated_lists(monkeypatch):
    monkeypatch.setenv("ADMIN_USER_IDS", "1, 22,333")
    monkeypatch.setenv("STAFF_USER_IDS", "")
    settings = Settings()
    assert settings.admin_user_ids == [1, 22, 333] and settings.staff_user_ids == []


def test_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("TOP_K=7\nCHROMA_HOST=127.0.0.1\n")
    settings = Settings()
    assert settings.top_k == 7 and settings.chroma_host == "127.0.0.1"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMIN_USER_IDS", "1,abc"),
        ("CHUNK_SIZE", "10"),
        ("CHROMA_COLLECTION_PREFIX", "bad name!"),
        ("STAFF_INVITE_CODES", "jinniu=plain-code"),
        ("STAFF_INVITE_CODES", "=scrypt$00$00"),
        ("TELEGRAM_WEBHOOK_SECRET", "has spaces"),
        ("USER_QUESTIONS_PER_MINUTE", "0"),
        ("DATABASE_URL", "postgresql://user:pw@host/db"),  # not an async driver
        ("DATABASE_URL", "assistant.db"),
        ("STAFF_CHAT_ID", "staff-group"),
        ("BRANCH_STAFF_CHATS", "jinniu"),
        ("BRANCH_STAFF_CHATS", "jinniu=-100x"),
        ("BRANCH_STAFF_CHATS", "=-100"),
        ("WECOM_STAFF_CHAT_ID", "has spaces"),
        ("WECOM_BRANCH_STAFF_CHATS", "jinniu"),
        ("WECOM_BRANCH_STAFF_CHATS", "jinniu=wrk/../x"),
        ("TICKET_REMIND_HOURS", "0"),
        ("TICKET_RETRY_S", "-1"),
    ],
)
def test_bad_values_are_clear_errors(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.lower()):
        Settings()


def test_the_token_is_secret_in_reprs(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:secret-value")
    settings = Settings()
    token = settings.telegram_bot_token
    assert token is not None and token.get_secret_value() == "123:secret-value"
    assert "secret-value" not in repr(settings) and "secret-value" not in str(settings.model_dump())


def test_invite_codes_are_read_as_branch_hash_pairs(monkeypatch):
    monkeypatch.setenv("STAFF_INVITE_CODES", "jinniu=scrypt$aa$bb, wanzhou=scrypt$cc$dd")
    assert Settings().staff_invite_codes == {"jinniu": "scrypt$aa$bb", "wanzhou": "scrypt$cc$dd"}


def test_webhook_mode_needs_a_secret(monkeypatch):
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.org/telegram")
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET"):
        Settings()
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cret_token")
    secret = Settings().telegram_webhook_secret
    assert secret is not None and secret.get_secret_value() == "s3cret_token"


def test_branch_staff_chats_are_pairs_and_need_a_general_staff_chat(monkeypatch):
    monkeypatch.setenv("BRANCH_STAFF_CHATS", "Chengdu-Jinniu=-1001, Chongqing-Yubei=-1002")
    with pytest.raises(ValidationError, match="needs STAFF_CHAT_ID"):
        Settings()
    monkeypatch.setenv("STAFF_CHAT_ID", "-1000")
    settings = Settings()
    assert settings.staff_chat_id == -1000
    assert settings.branch_staff_chats == {"Chengdu-Jinniu": -1001, "Chongqing-Yubei": -1002}


def test_wecom_branch_staff_chats_need_a_general_staff_chat_in_either_app(monkeypatch):
    monkeypatch.setenv("WECOM_BRANCH_STAFF_CHATS", "Chengdu-Jinniu=wrkA1, Chongqing-Yubei=wrkB2")
    with pytest.raises(ValidationError, match="needs WECOM_STAFF_CHAT_ID or STAFF_CHAT_ID"):
        Settings()
    monkeypatch.setenv("WECOM_STAFF_CHAT_ID", "wrkGeneral")
    settings = Settings()
    assert settings.wecom_branch_staff_chats == {
        "Chengdu-Jinniu": "wrkA1",
        "Chongqing-Yubei": "wrkB2",
    }
