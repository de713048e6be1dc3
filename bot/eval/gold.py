"""Evaluation questions with the files that answer them and the facts a right answer holds.

The question corpus (`corpus/`, loaded by `bot.eval.corpus`) is what the answer judge is trained
(`train`), tuned (`dev`) and measured (`heldout`) on. The two older gold files are second checks
that nothing is chosen on any more: `gold.yaml` was the tuning part of the rules the judge
replaced, `gold-heldout.yaml` their held-out part; no command prints the latter's questions.
"""

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

HERE = Path(__file__).parent
TUNING_PATH = HERE / "gold.yaml"
HELDOUT_PATH = HERE / "gold-heldout.yaml"

# The corpus's parts, then the two gold files.
Split = Literal["train", "dev", "heldout", "gold", "gold-heldout"]
Kind = Literal[
    "fact",
    "paraphrase",
    "everyday",
    "typo",
    "mixed-script",
    "scenario",
    "multipart",
    "partial",
    "followup",
    "catalogue",
    "cross-language",
    "staff",
    "near-miss",
    "off-topic",
    "false-premise",
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
    split: Split = "gold"
    # The corpus's labels: the heading and the sentences that answer it (as written in the
    # documents), or what no document gives; and who wrote it.
    section: str = ""
    evidence: list[str] = Field(default_factory=list)
    missing: str = ""
    note: str = ""
    writer: str = ""

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


def load_gold(path: Path = TUNING_PATH, split: Split = "gold") -> list[GoldQuestion]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = [
        GoldQuestion.model_validate({**item, "split": split}) for item in data["questions"]
    ]
    if len({q.id for q in questions}) != len(questions):
        raise ValueError(f"{path}: question ids must be unique")
    return questions


def load_both() -> list[GoldQuestion]:
    """Both gold files; ids unique across both."""
    both = load_gold(TUNING_PATH, "gold") + load_gold(HELDOUT_PATH, "gold-heldout")
    if len({q.id for q in both}) != len(both):
        raise ValueError("question ids must be unique across the two parts")
    return both
