"""The gold set: questions with the files that answer them and the facts a right answer holds.

Two parts. `gold.yaml` is the tuning part: weights, thresholds, glossary entries and rules may be
chosen on it. `gold-heldout.yaml` was written apart from the engine (by someone who read only the
documents) and nothing is ever chosen on it: the harness reports it, the test suite gates on it,
and no command prints its questions.
"""

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

HERE = Path(__file__).parent
TUNING_PATH = HERE / "gold.yaml"
HELDOUT_PATH = HERE / "gold-heldout.yaml"

Split = Literal["tune", "heldout"]
Kind = Literal[
    "fact",
    "paraphrase",
    "typo",
    "mixed-script",
    "scenario",
    "multipart",
    "followup",
    "catalogue",
    "staff",
    "near-miss",
    "off-topic",
    "leak",
]


class GoldQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    lang: Literal["en", "zh"]
    question: str = Field(min_length=1)
    kind: Kind | None = None  # inferred from the other fields when not given
    role: Literal["learner", "staff"] = "learner"
    answerable: bool = True
    docs: list[str] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)
    history: list[str] = Field(default_factory=list)
    leak: list[str] = Field(default_factory=list)
    split: Split = "tune"

    @property
    def category(self) -> Kind:
        if self.kind is not None:
            return self.kind
        if self.leak:
            return "leak"
        if self.history:
            return "followup"
        if not self.answerable:
            return "near-miss"
        return "staff" if self.role == "staff" else "fact"


def load_gold(path: Path = TUNING_PATH, split: Split = "tune") -> list[GoldQuestion]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = [
        GoldQuestion.model_validate({**item, "split": split}) for item in data["questions"]
    ]
    if len({q.id for q in questions}) != len(questions):
        raise ValueError(f"{path}: question ids must be unique")
    return questions


def load_both() -> list[GoldQuestion]:
    """The tuning part, then the held-out part; ids unique across both."""
    both = load_gold(TUNING_PATH, "tune") + load_gold(HELDOUT_PATH, "heldout")
    if len({q.id for q in both}) != len(both):
        raise ValueError("question ids must be unique across the two parts")
    return both
