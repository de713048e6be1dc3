"""Render answers as Telegram HTML: every piece of text escaped, split under the length limit."""

from html import escape

from bot.channels.labels import SAMPLE, SOURCES
from bot.engine.results import Answer, Source

TELEGRAM_LIMIT = 4096


def render_answer(answer: Answer) -> list[str]:
    """HTML paragraphs of the answer and its numbered sources, packed into messages."""
    paragraphs = [escape(part) for part in answer.answer.split("\n\n") if part.strip()]
    if answer.sources:
        lines = [f"<b>{SOURCES[answer.language]}</b>"]
        for number, source in enumerate(answer.sources, start=1):
            sample = f" <i>({SAMPLE[answer.language]})</i>" if source.status == "sample" else ""
            lines.append(f"[{number}] {escape(source.label)}{sample}")
        paragraphs.append("\n".join(lines))
    return pack(paragraphs)


def render_sources(cited: list[dict[str, str]]) -> list[str]:
    """Each cited passage under its numbered label, escaped and packed into messages."""
    paragraphs = []
    for number, item in enumerate(cited, start=1):
        label = Source.from_metadata(item).label
        paragraphs.append(f"<b>[{number}] {escape(label)}</b>\n{escape(str(item.get('text', '')))}")
    return pack(paragraphs)


def pack(paragraphs: list[str], limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Join whole paragraphs into messages of at most `limit` characters. A paragraph over the
    limit is split at line ends, then at the limit but never inside a tag or an entity; as
    tags never span lines here, every message stays valid HTML."""
    messages: list[str] = []
    for paragraph in (piece for p in paragraphs for piece in _fit(p, limit)):
        if messages and telegram_length(messages[-1]) + 2 + telegram_length(paragraph) <= limit:
            messages[-1] += "\n\n" + paragraph
        else:
            messages.append(paragraph)
    return messages or [""]


def shortened(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(paragraph: str, limit: int) -> list[str]:
    if telegram_length(paragraph) <= limit:
        return [paragraph]
    pieces, current = [], ""
    for line in paragraph.split("\n"):
        while telegram_length(line) > limit:
            cut = _safe_cut(line, _within(line, limit))
            pieces.append(line[:cut])
            line = line[cut:]
        if current and telegram_length(current) + 1 + telegram_length(line) > limit:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    return [*pieces, current] if current else pieces


def _within(text: str, limit: int) -> int:
    """The longest prefix of `text`, in characters, that is at most `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _safe_cut(text: str, limit: int) -> int:
    """A cut position at or below `limit` that is inside neither a tag nor an entity."""
    cut = limit
    tag, entity = text.rfind("<", 0, cut), text.rfind("&", 0, cut)
    if tag > text.rfind(">", 0, cut):
        cut = tag
    if entity > text.rfind(";", 0, cut):
        cut = min(cut, entity)
    return cut or limit
