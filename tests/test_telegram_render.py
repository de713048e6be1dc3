"""Telegram HTML rendering: escaped text, sources, and splitting under the length limit."""

from html import escape

from bench.bot_api_emulator import html_problem
from bot.channels.telegram.render import TELEGRAM_LIMIT, pack, render_answer
from bot.engine.results import Answer, Passage


def _cited(title: str, section: str, status: str) -> Passage:
    meta = {"title": title, "section": section, "path": "a.md", "audience": "public"}
    return Passage(id="a#0", text="passage", metadata={**meta, "status": status})


def _balanced(message: str) -> bool:
    """Valid for Telegram's HTML parse mode, by the emulator's check."""
    return html_problem(message) is None


def test_document_text_is_escaped_and_sources_numbered():
    answer = Answer(
        answer="[1] <script>x</script> & more",
        abstained=False,
        language="en",
        cited=(_cited("A <b>", "Part & 1", "sample"),),
    )
    [message] = render_answer(answer)
    assert "&lt;script&gt;" in message and "&amp; more" in message
    assert "[1] A &lt;b&gt; › Part &amp; 1" in message and "sample text" in message
    assert _balanced(message)


def test_long_answers_split_on_paragraphs_within_the_limit():
    paragraphs = [f"Paragraph {n} " + "x" * 900 for n in range(12)]
    answer = Answer(
        answer="\n\n".join(paragraphs),
        abstained=False,
        language="en",
        cited=(_cited("T", "S", "official"),),
    )
    messages = render_answer(answer)
    assert len(messages) > 2 and all(len(m) <= TELEGRAM_LIMIT for m in messages)
    assert all(_balanced(m) for m in messages)
    assert "".join(messages).count("Paragraph") == 12  # nothing lost


def test_a_paragraph_over_the_limit_is_cut_outside_entities():
    text = "credit & bank < rules > " * 2_000  # one line, no paragraph breaks
    messages = render_answer(Answer(answer=text, abstained=False, language="en"))
    assert len(messages) > 5
    assert all(len(m) <= TELEGRAM_LIMIT and _balanced(m) for m in messages)
    assert "".join(messages).replace("\n", "") == escape(text)


def test_tags_stay_whole_because_they_never_span_lines():
    lines = "\n".join(f"[{n}] <i>sample</i>" for n in range(1_000))
    messages = pack([lines], limit=200)
    assert len(messages) > 1 and "".join(messages).count("<i>sample</i>") == 1_000
    assert all(len(m) <= 200 and _balanced(m) for m in messages)
