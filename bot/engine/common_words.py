"""How much a word says, from how common it is in the language at large.

A question's words that the documents never use are of two sorts: everyday words that carry
little ("people", "keep", "something", "自己", "到底"), and the specific thing asked for that
the documents lack ("scholarship", "dormitory", "奖学金"). The index's idf cannot tell them
apart (both are unseen), general word frequencies can: the English list inside pyspellchecker
(160,000 words with counts) and jieba's Chinese dictionary (350,000 words with counts). No list
is kept here.
"""

from __future__ import annotations

import functools
import math

import jieba
from spellchecker import SpellChecker

from alliance.language import has_chinese

# Rarity is -log10 of a word's share of the language's running text. At or below the first
# bound a word is an everyday one and weighs MIN_INFORMATIVE of its idf; at or above the second
# it weighs its full idf; in between, in proportion. By language, as the two lists count
# differently; chosen on the tuning part of the gold set (`python -m bot.eval --calibrate`).
BOUNDS = {"en": (3.4, 4.4), "zh": (4.0, 5.4)}
MIN_INFORMATIVE = 0.2


@functools.cache
def english() -> SpellChecker:
    # One edit (a transposition counts as one) reads "waht", "haveing", "somewere"; two would
    # read "chatbot" as "chariot".
    return SpellChecker(distance=1)


@functools.cache
def _chinese() -> tuple[dict[str, int], int]:
    jieba.initialize()
    return jieba.dt.FREQ, jieba.dt.total


@functools.lru_cache(maxsize=65536)
def rarity(word: str) -> float:
    """-log10 of the word's share of running text; a word neither list holds is rarest, but a
    Chinese word the dictionary lacks ("这版", "来出") says as much as its rarest character."""
    if has_chinese(word):
        counts, total = _chinese()
        count = counts.get(word, 0)
        if not count and len(word) > 1:
            return max(rarity(character) for character in word)
    else:
        frequencies = english().word_frequency
        count, total = frequencies.dictionary.get(word, 0), frequencies.total_words
    return -math.log10(max(count, 1) / total)


def informativeness(
    word: str, bounds: dict[str, tuple[float, float]] = BOUNDS, least: float = MIN_INFORMATIVE
) -> float:
    """From `least` (an everyday word) to 1 (a rare one); digits and codes count in full."""
    if any(character.isdigit() for character in word):
        return 1.0
    common, rare = bounds["zh" if has_chinese(word) else "en"]
    share = (rarity(word) - common) / (rare - common)
    return min(1.0, max(least, share))
