"""How well a text supports a question: the weighted share of the question's concepts that
the text contains, each concept weighed by its rarity in the index and by how much it says in
the language at large. A concept is a content word of the question, or, where the glossary
knows it, its group of words that mean the same here. It picks the sentences of an extractive
answer and decides abstention.

No vocabulary lives here: function words and word groups come from the glossary in the
knowledge folder (`knowledge/glossary/glossary.yaml`), which ingest stores with each index
version."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from alliance.index_format import Glossary, Vocabulary
from alliance.language import detect_language, has_chinese, words
from bot.engine.common_words import english, informativeness
from bot.engine.results import Passage

# A question word the text does not hold counts as found when one of the text's words means
# the same by the embedding model: cosine of the two words' own vectors at least this, by the
# question's language. Chosen on the tuning part of the gold set (`python -m bot.eval
# --calibrate`): for Chinese, where the model finds most words alike (0.93-0.98) and character
# substrings already match paraphrases, it cost more wrong answers than it saved refusals, so
# it is off (above 1).
SOFT_MATCH = {"en": 0.97, "zh": 1.01}

# How close a misspelt word must be to a known one (difflib's ratio) to be read as it.
TYPO_MATCH = 0.8
_LATIN_WORD = re.compile(r"(?<![A-Za-z0-9'’-])[A-Za-z]+(?![A-Za-z0-9'’-])")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=\.)\s+|\n+")


@dataclass(frozen=True)
class Concept:
    """One thing the question asks about: the word it used, the words that mean the same, and
    the word's vector for soft matching (None without a vocabulary)."""

    word: str
    variants: tuple[str, ...]
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)
    soft_match: float = 2.0  # the cosine at which a text's word counts as this one


class Evidence:
    """Support of texts for questions in one index version's terms: its keyword weights and
    its glossary."""

    def __init__(
        self,
        idf: Callable[[str], float],
        glossary: Glossary,
        vocabulary: Vocabulary | None = None,
        embed_words: Callable[[list[str]], list[list[float]]] | None = None,
        soft_match: dict[str, float] = SOFT_MATCH,
        informative: Callable[[str], float] = informativeness,
    ) -> None:
        self._idf = idf
        self.informative = informative
        self.soft_match = dict(soft_match)
        self._vocabulary = vocabulary or Vocabulary.empty()
        self._rows = {word: row for row, word in enumerate(self._vocabulary.words)}
        self._embed_words = embed_words
        self._ignored = frozenset(glossary.function_words)
        self._groups = {word: group for group in glossary.groups for word in group}
        # Phrases and Chinese entries are found in the question's text, not among its words.
        self._phrases = sorted(
            (word for word in self._groups if " " in word or (has_chinese(word) and len(word) > 1)),
            key=len,
            reverse=True,
        )
        # What a typo is corrected to: the documents' words, the glossary's, then common English.
        self._spelling = sorted(
            {w for w in (*self._vocabulary.words, *self._groups, *self._ignored) if w.isascii()}
        )
        self._known = frozenset(self._spelling)

    def weight(self, word: str) -> float:
        """A word's weight as evidence: its rarity in the index times how much it says at all
        (an everyday word the documents never use is no sign that they miss the point)."""
        return self._idf(word) * self.informative(word)

    def corrected(self, question: str) -> str:
        """The question with misspelt English words ("corses", "onlien") replaced by the
        closest word the documents, the glossary or common questions use."""

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            lowered = word.lower()
            if not 4 <= len(lowered) <= 15 or lowered in self._known or _is_english(lowered):
                return word
            close = difflib.get_close_matches(lowered, self._spelling, n=1, cutoff=TYPO_MATCH)
            return close[0] if close else _english_correction(lowered) or word

        return _LATIN_WORD.sub(fix, question)

    def concepts(self, question: str) -> list[Concept]:
        """The question's concepts, without repeats: glossary phrases first, then the other
        content words (not function words, not single letters)."""
        lowered = question.lower()
        found: dict[str, Concept] = {}
        covered = lowered
        for phrase in self._phrases:
            if phrase in covered:
                found.setdefault(phrase, Concept(phrase, self._groups[phrase]))
                covered = covered.replace(phrase, " ")
        for word in words(covered):
            if word in self._ignored or (len(word) == 1 and not word.isdigit()):
                continue
            group = self._groups.get(word, (word,))
            found.setdefault(word, Concept(word, group))
        return self._with_vectors(list(found.values()), detect_language(question))

    def _with_vectors(self, concepts: list[Concept], language: str) -> list[Concept]:
        """Each word's vector: the vocabulary's, or the model's for a word it lacks (one call)."""
        threshold = self.soft_match.get(language, 2.0)
        if not len(self._vocabulary.words) or threshold > 1:
            return concepts
        unknown = [c.word for c in concepts if c.word not in self._rows and not c.word.isdigit()]
        embedded: dict[str, np.ndarray] = {}
        if unknown and self._embed_words is not None:
            vectors = np.asarray(self._embed_words(unknown), np.float32)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
            embedded = dict(zip(unknown, vectors, strict=True))
        with_vectors = []
        for concept in concepts:
            row = self._rows.get(concept.word)
            vector = (
                self._vocabulary.vectors[row] if row is not None else embedded.get(concept.word)
            )
            with_vectors.append(Concept(concept.word, concept.variants, vector, threshold))
        return with_vectors

    def support(self, concepts: Sequence[Concept], text: str) -> float:
        """Share (0..1) of the concepts' weight found in `text`: Chinese words and phrases as
        substrings, other words as stemmed words."""
        if not concepts:
            return 0.0
        lowered = text.lower()
        text_words = words(lowered)
        stems = {_stem(word) for word in text_words if not has_chinese(word)}
        rows = [row for word in set(text_words) if (row := self._rows.get(word)) is not None]
        total = found = 0.0
        for concept in concepts:
            weight = self.weight(concept.word)
            total += weight
            if any(_holds(variant, lowered, stems) for variant in concept.variants) or (
                self._soft_holds(concept, rows)
            ):
                found += weight
        return found / total if total else 0.0

    def _soft_holds(self, concept: Concept, rows: list[int]) -> bool:
        """One of the text's words means what the concept's word means, by the model."""
        if concept.vector is None or not rows:
            return False
        similarity = self._vocabulary.vectors[rows] @ concept.vector
        return bool(similarity.max() >= concept.soft_match)

    def states(self, term: str, text: str) -> bool:
        """The text holds the term or one of its glossary variants (no soft matching: a
        specific thing asked for must be there in words)."""
        lowered = text.lower()
        stems = {_stem(word) for word in words(lowered) if not has_chinese(word)}
        variants = self._groups.get(term, (term,))
        return any(_holds(variant, lowered, stems) for variant in variants)

    def missing(self, concepts: Sequence[Concept], passage: Passage) -> list[Concept]:
        """The concepts a passage (with its headings) does not hold, weightiest first."""
        text = f"{heading(passage)}\n{passage.text}"
        absent = [c for c in concepts if self.support([c], text) == 0.0]
        return sorted(absent, key=lambda c: self.weight(c.word), reverse=True)

    def passage_support(self, concepts: Sequence[Concept], passage: Passage) -> float:
        """How well a passage, with its title and section, supports the question."""
        return self.support(concepts, f"{heading(passage)}\n{passage.text}")


def _is_english(word: str) -> bool:
    return word in english()


@functools.lru_cache(maxsize=4096)
def _english_correction(word: str) -> str | None:
    """The most frequent English word one edit from a misspelt one ("waht" → "what")."""
    corrected = english().correction(word)
    return corrected if corrected and corrected != word and corrected.isalpha() else None


def heading(passage: Passage) -> str:
    return f"{passage.metadata.get('title', '')} {passage.metadata.get('section', '')}"


def _holds(variant: str, lowered: str, stems: set[str]) -> bool:
    if has_chinese(variant) or " " in variant:
        return variant in lowered
    return _stem(variant) in stems


def _stem(word: str) -> str:
    """A light English stemmer: enough to meet 'recognised' / 'recognition' / 'recognise'."""
    for suffix in ("ation", "ition", "ment", "ing", "ed", "es", "s", "e"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def split_sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part and len(part.strip()) > 1]
