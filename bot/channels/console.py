"""Plain-text rendering and the interactive console chat."""

from collections.abc import Callable
from typing import TextIO

from bot.engine.answering import Engine
from bot.engine.results import Answer, Role

_SOURCES = {"en": "Sources", "zh": "来源"}
_SAMPLE = {"en": "sample text", "zh": "示例文本"}
_GREETING = (
    "Alliance Assistant — ask about the alliance charter, credit transfer or shared courses, "
    "in Chinese or English. 请用中文或英文提问。Type 'exit' or press Ctrl-D to leave."
)


def format_answer(answer: Answer) -> str:
    """The answer, then its numbered sources: title › section (path)."""
    lines = [answer.answer]
    if answer.sources:
        lines.append(f"\n{_SOURCES[answer.language]}:")
        for number, source in enumerate(answer.sources, start=1):
            sample = f" [{_SAMPLE[answer.language]}]" if source.status == "sample" else ""
            lines.append(f"[{number}] {source.label} ({source.path}){sample}")
    return "\n".join(lines)


async def chat(
    engine: Engine,
    role: Role,
    read: Callable[[str], str] = input,
    out: TextIO | None = None,
) -> None:
    """Question and answer on the terminal until 'exit' or end of input."""
    print(_GREETING, file=out, flush=True)
    history: list[tuple[str, str]] = []
    while True:
        try:
            question = read("\nyou> ")
        except (EOFError, KeyboardInterrupt):
            print(file=out)
            return
        if question.strip().lower() in {"exit", "quit", "退出"}:
            return
        if not question.strip():
            continue
        answer = await engine.answer(question, role, history)
        history = [*history, (question, answer.answer)][-6:]
        print(f"\n{format_answer(answer)}", file=out, flush=True)
