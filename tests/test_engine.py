"""The answer engine end to end: the real model, a real index, the one async entry point."""

import asyncio
import logging
import time

import pytest
from conftest import copy_of, markdown

from alliance.settings import Settings
from bot.engine.answering import Engine, clean_question
from bot.engine.results import Answer
from bot.engine.retrieval import PublishedIndex, Retriever
from ingest.pipeline import run_ingest


@pytest.fixture(scope="module")
def engine(shipped_index, real_embeddings) -> Engine:
    return Engine(shipped_index, Retriever(PublishedIndex.load(shipped_index), real_embeddings))


async def test_english_answer_is_short_cited_and_marks_sample_text(engine):
    answer = await engine.answer("Do learners pay anything to have their credits recognised?")
    assert not answer.abstained and answer.language == "en"
    assert "free of charge" in answer.answer and "[1]" in answer.answer
    assert answer.sources and all(s.audience == "public" for s in answer.sources)
    assert "sample text, not the official rules" in answer.answer
    assert answer.answer.count(".") <= 8 and len(answer.answer) < 900


async def test_chinese_answer_in_chinese(engine):
    answer = await engine.answer("联盟是哪一年在哪里创办的？")
    assert answer.language == "zh" and "2020年6月8日" in answer.answer
    assert answer.sources and all(source.path.endswith(".zh.md") for source in answer.sources)


async def test_unanswerable_question_abstains_and_points_to_the_branch(engine):
    answer = await engine.answer("What will the weather be like on Mars next spring festival?")
    assert answer.abstained and answer.sources == []
    assert "home branch" in answer.answer
    chinese = await engine.answer("火星上明天的天气怎么样？")
    assert chinese.abstained and "分校" in chinese.answer


@pytest.mark.parametrize(
    ("text", "language"),
    [("Hello!", "en"), ("thanks a lot", "en"), ("你好", "zh"), ("谢谢！", "zh")],
)
async def test_small_talk_gets_a_friendly_reply_without_retrieval(engine, text, language):
    answer = await engine.answer(text)
    assert answer.language == language and not answer.abstained
    assert answer.sources == [] and answer.retrieved == ()


@pytest.mark.parametrize(
    "question",
    [
        "", "   \n\t ", "credit " * 2_000, "\x00\x07\x1b[31mcredit\x7f bank", "😀🎓📚",
        "SC-101 课程 credits 学分 مرحبا Привет", "\u202e\u200bcredit\u2066 bank\u2069", "?" * 500,
    ],
)  # fmt: skip
async def test_bad_input_gets_an_answer_or_a_clear_refusal(engine, question):
    answer = await engine.answer(question)
    assert answer.answer and answer.language in {"en", "zh"}
    if not clean_question(question).strip("?"):
        assert answer.abstained


@pytest.mark.parametrize(
    ("question", "section"),
    [("What does Article 11 say?", "Article 11"), ("第十一条是什么？", "第十一条"),
     ("Article 12", "Article 12")],
)  # fmt: skip
async def test_a_question_naming_a_heading_gets_that_section(engine, question, section):
    # No sentence of Article 11 contains "11", only its heading: this was an empty answer.
    answer = await engine.answer(question)
    assert not answer.abstained and answer.answer
    assert answer.sources[0].section.startswith(section)


async def test_a_bare_number_gets_a_refusal_naming_the_closest_section(engine):
    """ "11" could be any article of any document: the judge does not guess one."""
    answer = await engine.answer("11")
    assert answer.abstained and "closest they come is" in answer.answer


def test_clean_question_strips_control_and_format_characters():
    assert clean_question("\x00cre\u200bdit\x07 \n bank\u202e ") == "credit bank"
    assert len(clean_question("x" * 10_000)) == 10_000  # never cut silently: the core refuses


async def test_follow_ups_are_resolved_against_the_previous_question(engine):
    first = "Which online courses does Sichuan RTVU offer?"
    answer = await engine.answer(first)
    assert "SC-101" in answer.answer and "SC-230" in answer.answer
    follow_up = await engine.answer("And for Chongqing RTVU?", history=[(first, answer.answer)])
    assert "CQ-210" in follow_up.answer and "SC-101" not in follow_up.answer
    chinese = await engine.answer("那春季呢？", history=[("秋季有哪些共享课程？", "")])
    assert "CD-115" in chinese.answer and "CQ-320" in chinese.answer


async def test_course_catalogue_answers_listing_questions(engine):
    answer = await engine.answer("秋季有哪些共享课程？")
    for code in ("CQ-210", "SC-230", "SC-101"):  # SC-101 runs every semester
        assert code in answer.answer
    assert "CD-115" not in answer.answer and "示例" in answer.answer
    assert {source.path for source in answer.sources} == {"courses/shared-course-catalogue.yaml"}
    four = await engine.answer("Which shared courses are worth 4 credits?")
    assert "CQ-320" in four.answer and "SC-101" not in four.answer


async def test_learners_never_get_staff_text(engine):
    question = "How much is the teaching allowance for a visiting teacher per class hour?"
    learner = await engine.answer(question, "learner")
    assert "200" not in learner.answer
    assert learner.retrieved and all(p.metadata["audience"] == "public" for p in learner.retrieved)
    staff = await engine.answer(question, "staff")
    assert "200 yuan" in staff.answer


@pytest.fixture
def own_index(shipped_index, tmp_path, real_embeddings) -> tuple[Settings, Engine]:
    """A private copy of the knowledge base and its index, for tests that change them."""
    settings = copy_of(shipped_index, tmp_path)
    return settings, Engine(settings, Retriever(PublishedIndex.load(settings), real_embeddings))


async def test_a_new_index_version_is_picked_up_without_a_failed_request(
    own_index, real_embeddings
):
    settings, engine = own_index
    old_version = engine.index_version
    question = "What is the opening time of the Chengdu learning centre library?"
    assert "9:00 to 21:00" not in (await engine.answer(question)).answer
    body = "## Opening time\n\nThe Chengdu learning centre library opens 9:00 to 21:00 daily."
    (settings.knowledge_dir / "library.md").write_text(markdown("Learning centre library", body))

    seen: list[str | None] = []  # the version each answer came from

    async def keep_asking() -> list[Answer]:
        """Questions until the new version has answered some: across the switch."""
        answers: list[Answer] = []
        deadline = time.monotonic() + 120
        while (len(seen) < 30 or seen[-1] == old_version) and time.monotonic() < deadline:
            answers.append(await engine.answer("When was the alliance established?"))
            seen.append(engine.index_version)
        return answers

    asking = asyncio.create_task(keep_asking())
    await asyncio.to_thread(run_ingest, settings, embeddings_factory=lambda _: real_embeddings)
    answers = await asking
    assert old_version in seen and seen[-1] != old_version  # the questions straddled the switch
    assert all("8 June 2020" in a.answer for a in answers)  # none failed during the switch
    answer = await engine.answer(question)
    assert engine.index_version != old_version
    assert "9:00 to 21:00" in answer.answer


async def test_an_unreadable_new_version_keeps_the_old_one_serving(own_index, caplog):
    settings, engine = own_index
    (settings.index_dir / "CURRENT").write_text("no-such-version\n")
    with caplog.at_level(logging.WARNING, logger="bot.engine.index_watch"):
        answer = await engine.answer("When was the alliance established?")
    assert "keeping index version" in caplog.text  # the new pointer was read, and refused
    assert "8 June 2020" in answer.answer


async def test_repeated_questions_are_cached_per_role(engine):
    question = "How much is the teaching allowance for a visiting teacher per class hour?"
    first = await engine.answer(question)
    staff = await engine.answer(question, "staff")
    hits = engine.cache_hits
    again = await engine.answer(question)
    assert engine.cache_hits == hits + 1  # from memory, not recomputed
    assert "200 yuan" in staff.answer and "200 yuan" not in again.answer
    assert again.answer == first.answer and again.sources == first.sources
