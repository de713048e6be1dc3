"""The card under each answer: 👍 / 👎 and the sources, as WeCom's button_interaction card.
Each button's key names the answer it belongs to; a press comes back with that key."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from bot.channels.labels import SOURCES, THANKS
from bot.channels.wecom.texts import ASK_PERSON

_TITLE = {"en": "Did this answer help?", "zh": "这个回答有帮助吗？"}
_KEY = re.compile(r"(vote|sources|person):(\d{1,18})(?::(-1|1))?")
_TASK = re.compile(r"answer_\d{1,18}_[0-9a-f]{8}")


@dataclass(frozen=True)
class Press:
    action: str  # "vote", "sources" or "person"
    question_id: int
    task_id: str  # the card's
    vote: int = 0


def answer_card(
    question_id: int,
    language: str,
    voted: int = 0,
    task: str | None = None,
    person: bool = False,
) -> dict[str, Any]:
    """The card for the answer logged as `question_id` (`task`: the card it replaces), with
    *Ask a person* when the staff loop is on; once voted, it says thanks."""
    buttons = [
        {"text": "👍", "style": 1 if voted >= 0 else 2, "key": f"vote:{question_id}:1"},
        {"text": "👎", "style": 1 if voted <= 0 else 2, "key": f"vote:{question_id}:-1"},
        {"text": SOURCES[language], "style": 2, "key": f"sources:{question_id}"},
    ]
    if person:
        buttons.append({"text": ASK_PERSON[language], "style": 2, "key": f"person:{question_id}"})
    title = {"title": _TITLE[language]}
    if voted:
        title["desc"] = THANKS[language]
    return {
        "card_type": "button_interaction",
        "main_title": title,
        "button_list": buttons,
        # unique per card (WeCom wants every task id of a bot unique), naming its answer
        "task_id": task or f"answer_{question_id}_{secrets.token_hex(4)}",
    }


def pressed(clicked: dict[str, Any]) -> Press | None:
    """The press a card event stands for: a key this card had, on a card of the same answer;
    None for anything else."""
    key, task = clicked.get("event_key"), clicked.get("task_id")
    found = _KEY.fullmatch(key) if isinstance(key, str) else None
    if found is None or (found.group(1) == "vote") != (found.group(3) is not None):
        return None
    question_id = int(found.group(2))
    if not isinstance(task, str) or _TASK.fullmatch(task) is None:
        return None
    if task.split("_")[1] != str(question_id):  # a key moved onto another answer's card
        return None
    return Press(found.group(1), question_id, task, int(found.group(3) or 0))
