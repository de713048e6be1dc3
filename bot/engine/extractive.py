"""The default answer: the sentences the judge chose, in the documents' order, each fact stated
once and cited by every source that states it (the official document first)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from alliance.language import words
from bot.engine.judge_features import Candidate
from bot.engine.results import Passage

if TYPE_CHECKING:
    from bot.engine.retrieval import Retriever

# Two sentences that share this much of their words (of the longer one's) and the same
# numbers state the same fact (the FAQ restates the rules, often word for word): one is
# quoted, cited by both. Embeddings cannot tell: two sentences that open with the alliance's
# long name are 0.97 alike whatever they go on to say.
SAME_FACT = 0.8
CONTAINED_WORDS = 5
_OTHER_LANGUAGE = {"en": "From the Chinese documents:", "zh": "以下摘自英文文件："}
_SAMPLE = {
    "en": "Note: {refs} — sample text, not the official rules.",
    "zh": "注意：{refs} 为示例文本，并非正式规定。",
}
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


@dataclass
class _Fact:
    """One fact to state: its sentence as quoted and every passage that states it."""

    sentence: str
    order: tuple[int, int]  # where it stands in the documents as retrieved
    sources: list[Passage]


def compose(
    retriever: Retriever, chosen: Sequence[Candidate], language: str, wanted: str
) -> Extract:
    """The chosen sentences (best first) as an answer in the documents' order; a sentence that
    refers back keeps the one before it; sentences that state the same fact become one, quoted
    from an official document where one states it. `wanted`: the language the question asked
    the answer in (another than its own when it asks for a name there)."""
    facts: list[_Fact] = []
    for candidate in _with_antecedents(retriever, chosen):
        same = next((fact for fact in facts if _same_fact(candidate.text, fact.sentence)), None)
        if same is None:
            facts.append(_Fact(candidate.text, _order(candidate), [candidate.passage]))
            continue
        if candidate.passage not in same.sources:
            same.sources.append(candidate.passage)
        if _official(candidate.passage) and not _official(same.sources[0]):
            same.sentence = candidate.text  # the official wording, and the official first
            same.sources.remove(candidate.passage)
            same.sources.insert(0, candidate.passage)
    facts.sort(key=lambda fact: fact.order)
    cited: list[Passage] = []
    parts = []
    for fact in facts:
        for source in fact.sources:
            if source not in cited:
                cited.append(source)
        parts.append(_cite(fact.sentence, sorted(cited.index(s) + 1 for s in fact.sources)))
    joiner = "" if language == "zh" else " "
    other = [p for p in cited if p.metadata.get("lang") != wanted]
    lead = _OTHER_LANGUAGE[language] if cited and len(other) == len(cited) else ""
    lines = [lead, joiner.join(parts), sample_note(cited, language)]
    return Extract("\n\n".join(line for line in lines if line), cited)


def _order(candidate: Candidate) -> tuple[int, int]:
    return (candidate.rank, candidate.position)


def _official(passage: Passage) -> bool:
    return passage.metadata.get("status") == "official"


def _with_antecedents(retriever: Retriever, chosen: Sequence[Candidate]) -> list[Candidate]:
    """The chosen sentences, each that refers back ("Credits passed at that score…") preceded
    by the sentence before it in its passage, and each followed by the next sentence when that
    one refers back to it ("…initiated by three universities. These are …")."""
    whole: list[Candidate] = []
    for candidate in chosen:
        if _REFERS_BACK.search(candidate.text):
            _add(whole, _neighbour(retriever, candidate, -1))
        _add(whole, candidate)
        after = _neighbour(retriever, candidate, 1)
        if after is not None and _REFERS_BACK.search(after.text):
            _add(whole, after)
    return whole


def _neighbour(retriever: Retriever, candidate: Candidate, step: int) -> Candidate | None:
    """The sentence `step` places from `candidate` in its passage, if there is one."""
    rows = retriever.index.sentence_rows[candidate.passage.id]
    position = candidate.position + step
    if not 0 <= position < len(rows):
        return None
    text = retriever.index.sentences.texts[rows[position]]
    return Candidate(candidate.passage, candidate.rank, position, rows[position], text)


def _add(whole: list[Candidate], candidate: Candidate | None) -> None:
    if candidate is not None and all(c.row != candidate.row for c in whole):
        whole.append(candidate)


def _cite(sentence: str, numbers: Sequence[int]) -> str:
    """The references go before the sentence's closing punctuation."""
    body = sentence.rstrip("。！？；.!?;")
    refs = "".join(f"[{n}]" for n in numbers)
    return f"{body} {refs}{sentence[len(body) :]}"


def _same_fact(sentence: str, earlier: str) -> bool:
    """The two sentences say the same in nearly the same words, with the same numbers, or the
    shorter says nothing the longer does not ("The alliance was established in Chengdu on 8
    June 2020" in the FAQ, and the overview's sentence with the alliance's full name)."""
    a, b = set(words(sentence)), set(words(earlier))
    if not (a and b) or {w for w in a if w.isdigit()} != {w for w in b if w.isdigit()}:
        return False
    shorter = min(a, b, key=len)
    contained = len(shorter) >= CONTAINED_WORDS and len(a & b) / len(shorter) >= 0.9
    return contained or len(a & b) / max(len(a), len(b)) >= SAME_FACT


def sample_note(cited: Sequence[Passage], language: str) -> str:
    """Which numbered sources are sample text, not the official rules; empty when none."""
    samples = [
        f"[{n}]" for n, p in enumerate(cited, start=1) if p.metadata.get("status") == "sample"
    ]
    return _SAMPLE[language].format(refs=", ".join(samples)) if samples else ""
