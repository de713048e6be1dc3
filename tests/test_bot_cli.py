"""`python -m bot ask` and the console chat, end to end on the shipped knowledge base."""

import io
import json
import re
import shutil
import subprocess
import sys

import pytest
from fakes import FakeEmbeddings
from processes import environment, run

from alliance.index_format import IndexLayout
from bot.channels.console import chat
from bot.engine.answering import Engine
from bot.engine.retrieval import PublishedIndex, Retriever
from bot.services.core import open_core
from ingest.pipeline import run_ingest


@pytest.fixture(scope="module")
def engine(shipped_index, real_embeddings) -> Engine:
    return Engine(shipped_index, Retriever(PublishedIndex.load(shipped_index), real_embeddings))


SOURCE_KEYS = {"title", "section", "path", "audience", "status"}
ANSWER_KEYS = {"question", "answer", "abstained", "language", "sources", "latency_ms", "timings"}
STAGES = {"embed", "dense", "keyword", "fusion", "judge", "compose"}


def test_ask_json_reads_questions_from_standard_input(shipped_index):
    result = run(
        ["bot", "ask", "--json"],
        shipped_index,
        stdin="When was the alliance established?\n\n联盟是什么时候成立的？\n",
    )
    assert result.returncode == 0, result.stderr
    english, chinese = (json.loads(line) for line in result.stdout.splitlines())
    assert set(english) == ANSWER_KEYS and all(set(s) == SOURCE_KEYS for s in english["sources"])
    assert "8 June 2020" in english["answer"] and english["language"] == "en"
    assert "2020年6月8日" in chinese["answer"] and chinese["language"] == "zh"
    assert not english["abstained"] and english["latency_ms"] > 0
    # Each stage's time: a first ask pays for all of them, within the whole answer's time.
    assert set(english["timings"]) == STAGES
    assert 0 < sum(english["timings"].values()) <= english["latency_ms"]


def test_ask_one_question_as_text_with_sources(shipped_index):
    result = run(["bot", "ask", "When was the alliance established?"], shipped_index)
    assert result.returncode == 0
    assert "8 June 2020" in result.stdout and "Sources:" in result.stdout


def test_ask_as_learner_never_cites_staff_documents(shipped_index):
    questions = (
        "What does the staff handbook say about teaching allowances?\n员工手册怎么规定课时津贴？\n"
    )
    learner = run(["bot", "ask", "--json", "--role", "learner"], shipped_index, stdin=questions)
    assert learner.returncode == 0, learner.stderr
    answers = [json.loads(line) for line in learner.stdout.splitlines()]
    assert len(answers) == 2
    for answer in answers:
        assert all(source["audience"] == "public" for source in answer["sources"])
        assert "200" not in answer["answer"]
    staff = run(["bot", "ask", "--json", "--role", "staff"], shipped_index, stdin=questions)
    assert staff.returncode == 0, staff.stderr
    staff_answers = [json.loads(line) for line in staff.stdout.splitlines()]
    assert len(staff_answers) == 2
    # The staff text the learner did not get: the allowance, cited from a staff document.
    assert all("200" in answer["answer"] for answer in staff_answers)
    assert all(
        any(source["audience"] == "staff" for source in answer["sources"])
        for answer in staff_answers
    )


def test_hostile_standard_input_is_answered_line_by_line(shipped_index):
    hostile = (
        "\x00\x07\u202e\u200b\n<b>credit</b> & bank\n".encode() + b"\xff\xfe\n" + b"x" * 100_000
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"],
        input=hostile,
        capture_output=True,
        env=environment(shipped_index),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(answers) == 4 and all(set(a) == ANSWER_KEYS for a in answers[:3])
    # Over MAX_QUESTION_CHARS: refused whole, never cut and answered in part.
    assert answers[3] == {"question": "x" * 100_000, "error": "too long", "limit": 1000}
    assert "100000 characters; the limit is 1000" in result.stderr.decode()


def test_missing_index_exits_2_with_how_to_build_it(tmp_path, settings):
    result = run(["bot", "ask", "--index", str(tmp_path / "nowhere"), "hello"], settings)
    assert result.returncode == 2 and "python -m ingest" in result.stderr


@pytest.mark.parametrize("damage", ["pointer", "manifest", "keywords", "chroma"])
def test_corrupt_index_exits_2_with_a_clear_message(tmp_path, settings, damage):
    run_ingest(settings, embeddings_factory=lambda _: FakeEmbeddings())
    layout = IndexLayout(settings.index_dir)
    version = layout.published_version()
    if damage == "pointer":
        layout.pointer.write_text("gone\n")
    elif damage == "manifest":
        layout.manifest_path(version).write_text("{not json")
    elif damage == "keywords":
        layout.keywords_path(version).write_text("[1, 2]\n")
    else:
        shutil.rmtree(layout.chroma_path(version))
    result = run(["bot", "ask", "hello"], settings)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip(), "a message says what is wrong"


@pytest.mark.parametrize(
    ("args", "extra", "message"),
    [
        (["run"], {}, "TELEGRAM_BOT_TOKEN is not set"),
        (["ask", "--role", "admin", "x"], {}, "invalid choice"),
        (["ask", "x"], {"TOP_K": "0"}, "invalid setting"),
        ([], {}, "required"),
        (["invite-code", "two words"], {}, "without spaces"),
        (["invite-code", "a,b"], {}, "without spaces"),
        (["run"], {"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_URL": "https://x"}, "SECRET"),
    ],
)
def test_usage_errors_exit_2(settings, args, extra, message):
    result = run(["bot", *args], settings, **extra)
    assert result.returncode == 2 and message in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "postgresql+asyncpg//alliance:Db-Pa55word@db/alliance"),
        ("STAFF_INVITE_CODES", "jinniu=plain-invite-code-Pa55word"),
    ],
)
def test_a_bad_setting_is_named_without_its_value(settings, name, value):
    result = run(["bot", "ask", "x"], settings, **{name: value})
    assert result.returncode == 2 and f"invalid setting: {name}" in result.stderr
    assert "Pa55word" not in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
async def core(shipped_index, engine, tmp_path):
    settings = shipped_index.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'assistant.db'}"}
    )
    async with open_core(settings, engine) as opened:
        yield opened


async def test_console_chat_answers_until_exit(core):
    lines = iter(
        ["When was the alliance established?", "", "   ", "联盟是什么时候成立的？", "exit"]
    )
    out = io.StringIO()
    await chat(core, "learner", read=lambda _prompt: next(lines), out=out)
    text = out.getvalue()
    assert "8 June 2020" in text and "2020年6月8日" in text and "来源" in text


async def test_console_chat_keeps_history_turns_and_refuses_long_questions(core, monkeypatch):
    seen: list[int] = []
    answer = core.engine.answer

    async def counted(question, role="learner", history=()):
        seen.append(len(history))
        return await answer(question, role, history)

    monkeypatch.setattr(core.engine, "answer", counted)
    questions = ["What is the credit bank?", "And an account?", "Who runs it?", "Since when?"]
    long_question = "credits " * 200  # 1,600 characters, over the default 1,000
    lines = iter([*questions, "And fees?", long_question, "exit"])
    out = io.StringIO()
    await chat(core, "learner", read=lambda _prompt: next(lines), out=out)
    assert core.settings.history_turns == 3
    assert seen == [0, 1, 2, 3, 3]  # HISTORY_TURNS, and the long one never reached the engine
    assert "1600 characters; the limit is 1000" in out.getvalue()


async def test_console_chat_ends_on_end_of_input(core):

    def read(_prompt):
        raise EOFError

    out = io.StringIO()
    await chat(core, "learner", read=read, out=out)
    assert "Alliance Assistant" in out.getvalue()


def test_invite_code_prints_a_code_and_its_hash_entry(settings):
    from bot.store.invite_codes import branch_for

    result = run(["bot", "invite-code", "chengdu-jinniu"], settings)
    assert result.returncode == 0
    code = result.stdout.splitlines()[0].rsplit(": ", 1)[1]
    branch, code_hash = result.stdout.splitlines()[1].rsplit(": ", 1)[1].split("=", 1)
    assert branch == "chengdu-jinniu" and code not in code_hash
    assert branch_for(code, {branch: code_hash}) == "chengdu-jinniu"


def test_admin_accounts_are_added_listed_and_reset_from_the_command_line(settings, tmp_path):
    database = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'accounts.db'}"}
    public = {"WEB_PUBLIC_URL": "https://assistant.example.edu.cn"}
    added = run(["bot", "admin", "add", "Li.Na"], settings, **database, **public)
    assert added.returncode == 0, added.stderr
    link = re.search(r"https://assistant\.example\.edu\.cn/account/password/(\S+)", added.stdout)
    assert link and "added li.na (admin)" in added.stdout
    assert link.group(1) not in added.stderr  # the one-time link is not logged

    staff = run(["bot", "admin", "add", "zhou", "--staff", "jinniu"], settings, **database)
    assert staff.returncode == 0 and "added zhou (staff, jinniu)" in staff.stdout
    assert run(["bot", "admin", "disable", "ZHOU"], settings, **database).returncode == 0
    listed = run(["bot", "admin", "list"], settings, **database).stdout.splitlines()
    assert listed == [
        "li.na\tadmin\t-\tno password\t",
        "zhou\tstaff\tjinniu\tdisabled\t",
    ]
    again = run(["bot", "admin", "link", "li.na", "--second-factor-off"], settings, **database)
    assert again.returncode == 0 and "/account/password/" in again.stdout
    assert link.group(1) not in again.stdout  # a new link; the first one lapsed


BAD_ADMIN_COMMANDS = [
    ["add", "li na"],
    ["add", "x"],
    ["add", "周敏"],
    ["add", "zhou", "--staff", "a,b"],
    ["add", "li.na"],  # taken
    ["link", "nobody"],
    ["disable", "nobody"],
    ["enable", "\x01"],
]


def test_admin_commands_refuse_bad_input_with_a_reason(settings, tmp_path):
    database = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'accounts.db'}"}
    assert run(["bot", "admin", "add", "li.na"], settings, **database).returncode == 0
    for args in BAD_ADMIN_COMMANDS:
        refused = run(["bot", "admin", *args], settings, **database)
        assert refused.returncode == 2 and refused.stderr.startswith("bot: "), args
        assert "Traceback" not in refused.stderr
    listed = run(["bot", "admin", "list"], settings, **database)
    assert listed.stdout.splitlines() == ["li.na\tadmin\t-\tno password\t"]
