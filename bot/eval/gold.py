"""The gold set: questions with the files that answer them and the facts a right answer holds."""

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

GOLD_PATH = Path(__file__).with_name("gold.yaml")


class GoldQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    lang: Literal["en", "zh"]
    question: str = Field(min_length=1)
    role: Literal["learner", "staff"] = "learner"
    answerable: bool = True
    docs: list[str] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)
    history: list[str] = Field(default_factory=list)
    leak: list[str] = Field(default_factory=list)


def load_gold(path: Path = GOLD_PATH) -> list[GoldQuestion]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = [GoldQuestion.model_validate(item) for item in data["questions"]]
    if len({q.id for q in questions}) != len(questions):
        raise ValueError(f"{path}: question ids must be unique")
    return questions
