"""The real bot process over real HTTP against the Bot API emulator."""

import signal
import subprocess

import pytest
from bot_api_emulator import BotAPIEmulator, html_problem
from processes import start

TOKEN = "123456789:TEST-token-for-the-emulator-only_abcdef"
STAFF_ID = 99


@pytest.fixture(scope="module")
def telegram(shipped_index, tmp_path_factory):
    log = tmp_path_factory.mktemp("bot") / "bot.log"
    with BotAPIEmulator(TOKEN) as emulator:
        process = start(
            ["bot", "run"],
            shipped_index,
            log,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=emulator.base_url,
            STAFF_USER_IDS=str(STAFF_ID),
            LOG_LEVEL="INFO",
        )
        try:
            if not emulator.wait_for_call("getUpdates", timeout=120):
                process.kill()
                pytest.fail(f"the bot never polled: {log.read_text()[-3000:]}")
            yield emulator, process, log
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _reply(emulator, text, user_id, **kwargs):
    emulator.user_message(text, user_id=user_id, **kwargs)
    chat_id = kwargs.get("chat_id", user_id)
    [message] = emulator.wait_for_messages(chat_id)
    return message


def test_private_questions_get_cited_answers_in_both_languages(telegram):
    emulator, _, _ = telegram
    english = _reply(emulator, "When was the alliance established?", 42)
    assert "8 June 2020" in english["text"] and english["parse_mode"] == "HTML"
    assert "<b>Sources</b>" in english["text"]
    chinese = _reply(emulator, "联盟是什么时候成立的？", 43, language="zh")
    assert "2020年6月8日" in chinese["text"] and "<b>来源</b>" in chinese["text"]


def test_groups_only_answer_ask_commands(telegram):
    emulator, _, _ = telegram
    emulator.user_message(
        "When was the alliance established?", user_id=44, chat_id=-100, chat_type="group"
    )
    message = _reply(emulator, "/ask 联盟是什么时候成立的？", 44, chat_id=-100, chat_type="group")
    assert "2020年6月8日" in message["text"]
    assert len(emulator.wait_for_messages(-100, count=2, timeout=2)) == 1


def test_staff_documents_reach_staff_only(telegram):
    emulator, _, _ = telegram
    question = "How much is the teaching allowance for a visiting teacher per class hour?"
    learner = _reply(emulator, question, 45)
    assert "200 yuan" not in learner["text"] and "handbook" not in learner["text"].lower()
    staff = _reply(emulator, question, STAFF_ID)
    assert "200 yuan" in staff["text"]


def test_start_greets_in_the_users_language(telegram):
    emulator, _, _ = telegram
    assert "/ask" in _reply(emulator, "/start", 46)["text"]
    assert "您好" in _reply(emulator, "/start", 47, language="zh")["text"]


def test_commands_are_registered_in_both_languages(telegram):
    emulator, _, _ = telegram
    registered = [params for method, params in emulator.calls if method == "setMyCommands"]
    assert {params.get("language_code") for params in registered} == {None, "zh"}


def test_hostile_text_gets_a_valid_reply(telegram):
    # The emulator refuses HTML that Telegram would refuse, so every reply here is checked.
    emulator, _, _ = telegram
    message = _reply(emulator, "<b>credit</b> & <script>alert(1)</script> \u202e\x07", 48)
    assert "something went wrong" not in message["text"]
    assert html_problem(message["text"]) is None


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
    emulator, process, log = telegram
    _reply(emulator, "What is the credit bank?", 49)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0  # a clean shutdown
    output = log.read_text()
    assert "answered user 49" in output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert "What is the credit bank" not in output  # message text stays out of the log
