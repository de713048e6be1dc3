"""Property-based tests of the message path: whatever a user or a document contains, the
engine answers without an exception and every reply is valid for Telegram's HTML parse mode and
within its length limit (in UTF-16 units, as Telegram counts)."""

import asyncio
from html import unescape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.bot_api_emulator import html_problem
from bot.channels.telegram.render import (
    TELEGRAM_LIMIT,
    render_answer,
    render_sources,
    telegram_length,
)
from bot.engine.factory import build_engine
from bot.engine.results import Answer, Passage

# Pieces that break naive renderers: markup, entities, bidi and zero-width marks, controls.
_NASTY = st.sampled_from(
    [
        "<",
        ">",
        "&",
        "&amp;",
        "&#x",
        "<b>",
        "</i>",
        "<a href='x'>",
        "<tg-spoiler>",
        "*_`[",
        "](",
        "\u202e",
        "\u202d",
        "\u200f",
        "\u200b",
        "\ufeff",
        "\x00",
        "\x07",
        "\r\n",
        "\n\n",
        "😀",
        "𝕏",
        "联盟",
        "\U0010ffff",
        "‮‭",
        "<<<>>>",
        "&&;;",
    ]
)
_TEXT = st.lists(st.one_of(st.text(max_size=40), _NASTY), max_size=60).map("".join)


def _valid(messages: list[str]) -> bool:
    return bool(messages) and all(
        html_problem(m) is None and 0 < telegram_length(m) <= TELEGRAM_LIMIT and m.strip()
        for m in messages
    )


@given(
    answer=_TEXT.filter(lambda text: text.strip()),
    titles=st.lists(st.tuples(_TEXT, _TEXT), max_size=4),
)
@settings(max_examples=300, deadline=None)
def test_any_answer_and_sources_render_valid_messages(answer, titles):
    cited = tuple(
        Passage(id=str(n), text="", metadata={"title": title, "section": section})
        for n, (title, section) in enumerate(titles)
    )
    assert _valid(render_answer(Answer(answer=answer, abstained=False, language="en", cited=cited)))


@given(passages=st.lists(st.tuples(_TEXT, _TEXT), min_size=1, max_size=5))
@settings(max_examples=200, deadline=None)
def test_any_cited_passages_render_valid_messages(passages):
    cited = [{"title": title, "section": "", "text": text} for title, text in passages]
    assert _valid(render_sources(cited))


@pytest.mark.parametrize("size", [4096, 4097, 20_000, 100_000])
@pytest.mark.parametrize("unit", ["a", "&", "<b>", "😀", "联"])
def test_huge_answers_are_split_without_losing_a_character(size, unit):
    text = (unit * size)[:size]
    messages = render_answer(Answer(answer=text, abstained=False, language="en"))
    assert _valid(messages)
    assert unescape("".join(messages)) == text


@pytest.fixture(scope="module")
def engine(shipped_index, real_embeddings):
    return build_engine(shipped_index, embeddings=real_embeddings)


@given(question=st.one_of(_TEXT, st.text(min_size=1000, max_size=3000)))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_question_gets_an_answer_that_renders_valid_messages(engine, question):
    answer = asyncio.run(engine.answer(question))
    assert answer.answer.strip()
    assert _valid(render_answer(answer))


# The most any channel hands the engine is MAX_QUESTION_CHARS (at most 4,096): the core refuses
# longer questions whole (a 100,000-character one: test_bot_cli). Past that, 10,000.
@pytest.mark.parametrize("size", [4_096, 10_000])
def test_the_longest_questions_are_answered_and_render_valid_messages(engine, size):
    answer = asyncio.run(engine.answer("学分 credit <b>&amp; " * (size // 20)))
    assert answer.answer.strip() and _valid(render_answer(answer))
