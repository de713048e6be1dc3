"""Plain-text rendering and the interactive console chat."""

from collections.abc import Callable
from typing import TextIO

from bot.channels.labels import SOURCES
from bot.engine.results import Answer, Role
from bot.services.asking import TooLong
from bot.services.core import Core

_SAMPLE = {"en": "sample text", "zh": "示例文本"}
_GREETING = (
    "Alliance Assistant — ask about the alliance charter, credit transfer or shared courses, "
    "in Chinese or English. 请用中文或英文提问。Type 'exit' or press Ctrl-D to leave."
)


def format_answer(answer: Answer) -> str:
    """The answer, then its numbered sources: title › section (path)."""
    lines = [answer.answer]
    if answer.sources:
        lines.append(f"\n{SOURCES[answer.language]}:")
        for number, source in enumerate(answer.sources, start=1):
            sample = f" [{_SAMPLE[answer.language]}]" if source.status == "sample" else ""
            lines.append(f"[{number}] {source.label} ({source.path}){sample}")
    return "\n".join(lines)


def format_too_long(refused: TooLong) -> str:
    return (
        f"The question is {refused.length} characters; the limit is {refused.limit}. "
        f"问题有 {refused.length} 个字符，上限为 {refused.limit}。"
    )


async def chat(
    core: Core,
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
        answer = await core.answer_once(question, role, history)
        if isinstance(answer, TooLong):
            print(f"\n{format_too_long(answer)}", file=out, flush=True)
            continue
        turns = core.settings.history_turns
        history = [*history, (question, answer.answer)][-turns:] if turns else []
        print(f"\n{format_answer(answer)}", file=out, flush=True)
