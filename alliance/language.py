"""Language detection and keyword tokenisation for Chinese and English text."""

import logging
import re
from functools import cache
from typing import Any

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_TOKEN_RUN = re.compile(f"[{_CJK}]+|[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=\.)\s+|\n+")


def has_chinese(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def detect_language(text: str) -> str:
    """Return "zh" when Chinese characters make up a fair share of the letters, else "en"."""
    cjk = len(_CJK_CHAR.findall(text))
    latin = sum(len(word) for word in _LATIN_WORD.findall(text.lower()))
    # One Chinese character carries about as much as four Latin letters.
    return "zh" if cjk * 4 >= latin and cjk > 0 else "en"


@cache
def _jieba() -> Any:  # jieba ships no types
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def words(text: str) -> list[str]:
    """Words: jieba's segmentation of Chinese runs, lower-cased Latin words and numbers."""
    found: list[str] = []
    for run in _TOKEN_RUN.findall(text):
        if _CJK_RUN.fullmatch(run):
            found.extend(word for word in _jieba().lcut(run) if word.strip())
        else:
            found.append(run.lower())
    return found


def tokenize(text: str) -> list[str]:
    """Keyword tokens: jieba words plus character bigrams for Chinese, lower-cased English words.

    Bigrams let paraphrases that jieba segments differently (成立 / 创建成立) still share terms.
    """
    bigrams = [run[i : i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1)]
    return words(text) + bigrams


def split_sentences(text: str) -> list[str]:
    """A passage's sentences: ingest embeds them and the engine weighs them, so both cut alike."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part and len(part.strip()) > 1]
