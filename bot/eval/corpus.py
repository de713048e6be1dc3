"""The question corpus (`corpus/`): questions in everyday wording by twelve writers who read only
the documents (`corpus/BRIEF.md`), split by writer (`corpus/split.yaml`) into the part the
answer judge is trained on, the part its settings are chosen on, and a held-out part; the check
of its labels against the documents; and which candidate sentences answer each question (the
judge's training labels)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml

from bot.engine.known_questions import sentence_key
from bot.eval.gold import GoldQuestion
from ingest.catalogue import load_catalogue

if TYPE_CHECKING:
    from bot.engine.judge_features import Candidate

CORPUS = Path(__file__).parent / "corpus"
Part = Literal["train", "dev", "heldout"]
PARTS: tuple[Part, ...] = ("train", "dev", "heldout")
# A run of this many words (English) or characters (Chinese) copied from a document is a copy.
COPIED_WORDS, COPIED_CHARACTERS = 9, 14
_CODE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2,4})-?(\d{2,4})(?![0-9])")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def writers(folder: Path = CORPUS) -> dict[str, Part]:
    """Each writer's part."""
    parts = yaml.safe_load((folder / "split.yaml").read_text(encoding="utf-8"))["parts"]
    found: dict[str, Part] = {}
    for part in PARTS:
        for writer in parts[part]:
            if writer in found:
                raise ValueError(f"{folder}/split.yaml: {writer} is in two parts")
            found[writer] = part
    return found


def load_corpus(parts: Sequence[Part] = PARTS, folder: Path = CORPUS) -> list[GoldQuestion]:
    """The questions of `parts`, each with its writer and part, in the writers' order."""
    assigned = writers(folder)
    questions: list[GoldQuestion] = []
    for path in sorted(folder.glob("w*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        writer = str(data["writer"])
        if writer not in assigned:
            raise ValueError(f"{path}: writer {writer} has no part in split.yaml")
        if assigned[writer] not in parts:
            continue
        for item in data["questions"]:
            questions.append(
                GoldQuestion.model_validate({**item, "writer": writer, "split": assigned[writer]})
            )
    if len({q.id for q in questions}) != len(questions):
        raise ValueError(f"{folder}: question ids must be unique")
    return questions


def label_problems(questions: Sequence[GoldQuestion], knowledge: Path) -> list[str]:
    """What is wrong with the labels: evidence not word for word in its documents (in the
    question's language, unless it asks across languages), facts found in none of them,
    unanswerable questions without what they miss, questions copied from a document."""
    texts = {}
    for path in knowledge.rglob("*"):
        if path.is_file():
            relpath, text = str(path.relative_to(knowledge)), path.read_text(encoding="utf-8")
            if relpath.endswith(".yaml") and "courses:" in text:  # with its courses as rendered
                text += " ".join(document.body for document in load_catalogue(relpath, text))
            texts[relpath] = _flat(text)
    everything = [text.lower() for text in texts.values()]
    problems = []
    for q in questions:
        where = q.id
        copied = _copied(q.question, everything)
        if copied:
            problems.append(f"{where}: the question copies document text: {copied!r}")
        if q.category == "followup" and not q.history:
            problems.append(f"{where}: a follow-up needs its history")
        missing = [doc for doc in q.docs if doc not in texts]
        problems += [f"{where}: no document {doc} under {knowledge}" for doc in missing]
        found = [texts[doc] for doc in q.docs if doc in texts]
        if q.answerable:
            if not q.facts or not q.evidence:
                problems.append(f"{where}: an answerable question needs evidence and facts")
            for sentence in q.evidence:
                if not any(_flat(sentence) in text for text in found):
                    problems.append(f"{where}: evidence not in its documents: {sentence[:50]!r}")
            computed = q.category in ("scenario", "catalogue")  # a sum of the learner's case
            for fact in q.facts:
                stated = any(holds_fact(fact, text) for text in found)
                if not stated and not (computed and fact.isdigit()):
                    problems.append(f"{where}: fact {fact!r} is in none of its documents")
            if q.category == "staff" and q.role != "staff":
                problems.append(f"{where}: a staff question is asked by staff")
        elif not q.missing:
            problems.append(f"{where}: an unanswerable question says what no document gives")
    return problems


def answers(question: GoldQuestion, candidates: Sequence[Candidate]) -> list[bool]:
    """Which candidate sentences answer the question: those its evidence quotes; the named
    course's sentences holding one of its facts (the catalogue's evidence quotes its YAML);
    and any sentence of its documents that holds one of its facts in words (the FAQ restating
    a rule the writer quoted from the rules)."""
    if not question.answerable:
        return [False] * len(candidates)
    quoted = [key for key in map(sentence_key, question.evidence) if len(key) > 3]
    named = " ".join([*question.evidence, question.section, question.question, *question.facts])
    codes = {f"{letters.upper()}-{digits}" for letters, digits in _CODE.findall(named)}
    worded = [fact for fact in question.facts if not fact.isdigit()]
    found = []
    for candidate in candidates:
        key = sentence_key(candidate.text)
        meta = candidate.passage.metadata
        holds = any(holds_fact(fact, candidate.text) for fact in question.facts)
        found.append(
            any(quote in key or key in quote for quote in quoted)
            or (meta.get("course_code") in codes and holds)
            or (
                meta.get("path") in question.docs
                and not meta.get("course_code")
                and any(holds_fact(fact, candidate.text) for fact in worded)
            )
        )
    return found


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def holds_fact(fact: str, text: str) -> bool:
    """`text` holds `fact`, a number only as a whole number ("3" is not in "CQ-320")."""
    if fact.isdigit():
        return re.search(rf"(?<!\d){fact}(?!\d)", text) is not None
    return fact.lower() in text.lower()


def _copied(question: str, texts: Sequence[str]) -> str | None:
    lowered = _flat(question).lower()
    words = lowered.split()
    for start in range(len(words) - COPIED_WORDS + 1):
        run = " ".join(words[start : start + COPIED_WORDS])
        if any(run in text for text in texts):
            return run
    squeezed = lowered.replace(" ", "")
    for start in range(len(squeezed) - COPIED_CHARACTERS + 1):
        run = squeezed[start : start + COPIED_CHARACTERS]
        if _HAN.search(run) and any(run in text.replace(" ", "") for text in texts):
            return run
    return None
