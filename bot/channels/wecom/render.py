"""Answers as WeCom markdown: the answer's paragraphs, then its numbered sources; within the
20,480 bytes a message may carry."""

import re

from bot.channels.labels import SAMPLE, SOURCES
from bot.engine.results import Answer, Source

CONTENT_BYTES = 20480
# Markdown that would change how the text shows: emphasis, headings, links, code, quotes.
_MARKUP = re.compile(r"([\\`*_\[\]<>#|~])")


def plain(text: str) -> str:
    """Text shown as written, not read as markdown."""
    return _MARKUP.sub(r"\\\1", text)


def render_answer(answer: Answer) -> str:
    parts = [plain(part) for part in answer.answer.split("\n\n") if part.strip()]
    if answer.sources:
        lines = [f"**{SOURCES[answer.language]}**"]
        for number, source in enumerate(answer.sources, start=1):
            sample = f" *({SAMPLE[answer.language]})*" if source.status == "sample" else ""
            lines.append(f"\\[{number}\\] {plain(source.label)}{sample}")
        parts.append("\n".join(lines))
    return within_limit("\n\n".join(parts))


def render_sources(cited: list[dict[str, str]]) -> str:
    """Each cited passage under its numbered label."""
    parts = []
    for number, item in enumerate(cited, start=1):
        label = Source.from_metadata(item).label
        parts.append(f"**\\[{number}\\] {plain(label)}**\n{plain(str(item.get('text', '')))}")
    return within_limit("\n\n".join(parts))


def within_limit(text: str, limit: int = CONTENT_BYTES) -> str:
    """At most `limit` UTF-8 bytes, cut at a character, an ellipsis marking a cut."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore").rstrip("\\") + "…"
