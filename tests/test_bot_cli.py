"""`python -m bot ask` and the console chat, end to end on the shipped knowledge base."""

import io
import json

import pytest
from processes import run

from bot.console import chat
from bot.engine import Engine
from bot.retrieval import Retriever

SOURCE_KEYS = {"title", "section", "path", "audience", "status"}
ANSWER_KEYS = {"question", "answer", "abstained", "language", "sources", "latency_ms"}


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


def test_ask_one_question_as_text_with_sources(shipped_index):
    result = run(["bot", "ask", "When was the alliance established?"], shipped_index)
    assert result.returncode == 0
    assert "8 June 2020" in result.stdout and "Sources:" in result.stdout


def test_ask_as_learner_never_cites_staff_documents(shipped_index):
    questions = (
        "What does the staff handbook say about teaching allowances?\n员工手册怎么规定课时津贴？\n"
    )
    learner = run(["bot", "ask", "--json", "--role", "learner"], shipped_index, stdin=questions)
    for line in learner.stdout.splitlines():
        answer = json.loads(line)
        assert all(source["audience"] == "public" for source in answer["sources"])
        assert "200" not in answer["answer"]
    staff = run(["bot", "ask", "--json", "--role", "staff"], shipped_index, stdin=questions)
    assert any(
        source["audience"] == "staff"
        for line in staff.stdout.splitlines()
        for source in json.loads(line)["sources"]
    )


def test_missing_index_exits_2_with_how_to_build_it(tmp_path, settings):
    result = run(["bot", "ask", "--index", str(tmp_path / "nowhere"), "hello"], settings)
    assert result.returncode == 2 and "python -m ingest" in result.stderr


@pytest.mark.parametrize(
    ("args", "extra", "message"),
    [
        (["run"], {}, "TELEGRAM_BOT_TOKEN is not set"),
        (["ask", "--role", "admin", "x"], {}, "invalid choice"),
        (["ask", "x"], {"TOP_K": "0"}, "invalid setting"),
        ([], {}, "required"),
    ],
)
def test_usage_errors_exit_2(settings, args, extra, message):
    result = run(["bot", *args], settings, **extra)
    assert result.returncode == 2 and message in result.stderr


async def test_console_chat_answers_until_exit(shipped_index, real_embeddings):
    engine = Engine(shipped_index, Retriever(shipped_index, real_embeddings))
    lines = iter(
        ["When was the alliance established?", "", "   ", "联盟是什么时候成立的？", "exit"]
    )
    out = io.StringIO()
    await chat(engine, "learner", read=lambda _prompt: next(lines), out=out)
    text = out.getvalue()
    assert "8 June 2020" in text and "2020年6月8日" in text and "来源" in text


async def test_console_chat_ends_on_end_of_input(shipped_index, real_embeddings):
    engine = Engine(shipped_index, Retriever(shipped_index, real_embeddings))

    def read(_prompt):
        raise EOFError

    out = io.StringIO()
    await chat(engine, "learner", read=read, out=out)
    assert "Alliance Assistant" in out.getvalue()


async def test_engine_handles_empty_and_oversized_questions(shipped_index, real_embeddings):
    engine = Engine(shipped_index, Retriever(shipped_index, real_embeddings))
    empty = await engine.answer("   ")
    assert empty.abstained and empty.sources == []
    huge = await engine.answer("credit " * 50_000 + "\u202e\u200b<b>")
    assert not huge.abstained and huge.sources
