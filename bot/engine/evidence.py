"""How well a text supports a question in words: the weighted share of the question's concepts
that the text contains, each concept weighed by its rarity in the index and by how much it says
in the language at large. A concept is a content word of the question, or, where the glossary
knows it, its group of words that mean the same here. It is one of the answer judge's features
(`judge_features`); the judge, not this share, decides what answers a question.

No vocabulary lives here: function words and word groups come from the glossary in the
knowledge folder (`knowledge/glossary/glossary.yaml`), which ingest stores with each index
version."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from alliance.index_format import Glossary
from alliance.language import has_chinese, words
from bot.engine.common_words import english, informativeness
from bot.engine.results import Passage

# How close a misspelt word must be to a known one (difflib's ratio) to be read as it.
TYPO_MATCH = 0.8
_LATIN_WORD = re.compile(r"(?<![A-Za-z0-9'’-])[A-Za-z]+(?![A-Za-z0-9'’-])")


@dataclass(frozen=True)
class Concept:
    """One thing the question asks about: the word it used, the words that mean the same, and
    its weight as evidence (`Evidence.weight`)."""

    word: str
    variants: tuple[str, ...]
    weight: float = 1.0

    @functools.cached_property
    def forms(self) -> tuple[tuple[bool, str], ...]:
        """How a text holds each variant: (True, it) as a substring (Chinese, a phrase), or
        (False, its stem) among the text's stemmed words."""
        return tuple(
            (True, variant) if has_chinese(variant) or " " in variant else (False, _stem(variant))
            for variant in self.variants
        )

    def held_by(self, lowered: str, stems: frozenset[str]) -> bool:
        return any(form in lowered if whole else form in stems for whole, form in self.forms)


class Evidence:
    """Support of texts for questions in one index version's terms: its keyword weights and
    its glossary."""

    def __init__(
        self,
        idf: Callable[[str], float],
        glossary: Glossary,
        known_words: Iterable[str] = (),
        informative: Callable[[str], float] = informativeness,
    ) -> None:
        """`known_words`: the index's own words, what a misspelt question word is read as."""
        self._idf = idf
        self.informative = informative
        self._ignored = frozenset(glossary.function_words)
        self._groups = {word: group for group in glossary.groups for word in group}
        # Phrases and Chinese entries are found in the question's text, not among its words.
        self._phrases = sorted(
            (word for word in self._groups if " " in word or (has_chinese(word) and len(word) > 1)),
            key=len,
            reverse=True,
        )
        # What a typo is corrected to: the documents' words, the glossary's, then common English.
        known = (*known_words, *self._groups, *self._ignored)
        self._spelling = sorted({w for w in known if w.isascii() and w.isalpha()})
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
                found.setdefault(phrase, self._concept(phrase, self._groups[phrase]))
                covered = covered.replace(phrase, " ")
        for word in words(covered):
            if word in self._ignored or (len(word) == 1 and not word.isdigit()):
                continue
            group = self._groups.get(word, (word,))
            found.setdefault(word, self._concept(word, group))
        return list(found.values())

    def _concept(self, word: str, variants: tuple[str, ...]) -> Concept:
        return Concept(word, variants, self.weight(word))

    def support(self, concepts: Sequence[Concept], text: str) -> float:
        """Share (0..1) of the concepts' weight found in `text`: Chinese words and phrases as
        substrings, other words as stemmed words."""
        if not concepts:
            return 0.0
        lowered, stems = _analysed(text)
        total = sum(concept.weight for concept in concepts)
        found = sum(concept.weight for concept in concepts if concept.held_by(lowered, stems))
        return found / total if total else 0.0

    def missing(self, concepts: Sequence[Concept], passage: Passage) -> list[Concept]:
        """The concepts a passage (with its headings) does not hold, weightiest first."""
        text = f"{heading(passage)}\n{passage.text}"
        absent = [c for c in concepts if self.support([c], text) == 0.0]
        return sorted(absent, key=lambda c: c.weight, reverse=True)

    def passage_support(self, concepts: Sequence[Concept], passage: Passage) -> float:
        """How well a passage, with its title and section, supports the question."""
        return self.support(concepts, f"{heading(passage)}\n{passage.text}")


@functools.lru_cache(maxsize=65536)
def _analysed(text: str) -> tuple[str, frozenset[str]]:
    """A text lower-cased, with the stems of its Latin words: the same sentences are weighed
    for question after question."""
    lowered = text.lower()
    return lowered, frozenset(_stem(word) for word in words(lowered) if not has_chinese(word))


def _is_english(word: str) -> bool:
    return word in english()


@functools.lru_cache(maxsize=4096)
def _english_correction(word: str) -> str | None:
    """The most frequent English word one edit from a misspelt one ("waht" → "what")."""
    corrected = english().correction(word)
    return corrected if corrected and corrected != word and corrected.isalpha() else None


def heading(passage: Passage) -> str:
    return f"{passage.metadata.get('title', '')} {passage.metadata.get('section', '')}"


def _stem(word: str) -> str:
    """A light English stemmer: enough to meet 'recognised' / 'recognition' / 'recognise'."""
    for suffix in ("ation", "ition", "ment", "ing", "ed", "es", "s", "e"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word
