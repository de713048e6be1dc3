"""What asking the assistant takes and gives, for every channel: who asks, and the outcomes
(an answer with its place in the question log, too long, too fast)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from bot.engine.results import Answer, Role


@dataclass(frozen=True)
class Asker:
    """Who asks, where: the conversation is (chat_id, user_id); `pace_id` is whose allowance of
    questions a question spends (the user in Telegram, the client's address on the web), a
    burst of `per_minute`."""

    user_id: int
    chat_id: int
    role: Role
    pace_id: int
    per_minute: int


@dataclass(frozen=True)
class Asked:
    answer: Answer
    question_id: int


@dataclass(frozen=True)
class TooLong:
    length: int
    limit: int


@dataclass(frozen=True)
class SlowDown:
    seconds: int  # until the next question may be asked, at least 1


def cited_passages(answer: Answer) -> list[dict[str, str]]:
    """The answer's citations with their passage text, as a channel's sources view shows them
    (and the question log keeps them)."""
    return [{**asdict(passage.source), "text": passage.text} for passage in answer.cited]
