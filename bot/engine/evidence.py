"""How well a text supports a question: the idf-weighted share of the question's content words
that the text contains. It picks the sentences of an extractive answer and decides abstention."""

import re
from collections.abc import Callable, Sequence

from alliance.language import has_chinese, words

# Question words and function words carry no evidence either way.
_STOPWORD_TEXT = """
a an the of to in on at for by with from and or but if is are was were be been being do does did
doing have has had can could may might must shall should will would i me my we our you your he
she it its they them their this that these those what which who whom whose when where why how
much many any some there here as about into than then so not no yes please tell know want need
get got also just only very more most other such own same too s t am long until going kind
kinds exactly currently ever still really actually like way ways what's don't doesn't can't
吗 呢 吧 啊 呀 的 了 是 在 有 和 与 及 或 我 我们 你 您 他 她 它 他们 这 那 这个 那个 什么 哪些 哪个
哪 哪里 哪儿 哪一年 怎么 怎样 如何 为什么 多少 几 时候 什么时候 时间 是否 可以 能 能否 会 要
需要 请问 请 一下 也 都
就 还 又 从 对 把 被 给 让 向 到 为 以 之 其 该 及其 关于 告诉 哪天 哪一天 多久 多长时间 几天 还是
大概 一共 现在 有没有 算不算 什么样 几所 最多 这门 几个 能不能 是不是
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# Words learners use for what the documents say in other words; any member counts for all.
_SYNONYM_GROUPS = (
    ("成立", "创办", "创建", "创立", "建立", "组建", "成立的"),
    ("线上", "在线", "网上", "网课", "网络"),
    ("费用", "收费", "交钱", "交费", "付费", "花钱"),
    ("学习者", "学员", "学生"),
    ("分校", "工作站"),
    ("established", "founded", "founding", "set", "launched", "created", "started"),
    ("free", "fee", "fees", "cost", "pay", "charge", "charged"),
    ("learner", "learners", "student", "students"),
    ("semester", "term"),
    ("teacher", "teachers", "lecturer", "lecturers", "tutor"),
)
_SYNONYMS = {word: group for group in _SYNONYM_GROUPS for word in group}
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=\.)\s+|\n+")


def content_terms(question: str) -> list[str]:
    """The question's words that can be evidence, without repeats."""
    seen: dict[str, None] = {}
    for word in words(question):
        if word not in _STOPWORDS and not (len(word) == 1 and not word.isdigit()):
            seen.setdefault(word, None)
    return list(seen)


def _stem(word: str) -> str:
    """A light English stemmer: enough to meet 'recognised' / 'recognition' / 'recognise'."""
    for suffix in ("ation", "ition", "ment", "ing", "ed", "es", "s", "e"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def support(terms: Sequence[str], weight: Callable[[str], float], text: str) -> float:
    """Share (0..1) of the terms' weight found in `text`: Chinese terms as substrings, other
    terms as stemmed words."""
    if not terms:
        return 0.0
    lowered = text.lower()
    stems = {_stem(word) for word in words(lowered) if not has_chinese(word)}
    total = found = 0.0
    for term in terms:
        w = weight(term)
        total += w
        if any(
            (variant in lowered) if has_chinese(variant) else (_stem(variant) in stems)
            for variant in _SYNONYMS.get(term, (term,))
        ):
            found += w
    return found / total if total else 0.0


def split_sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part and len(part.strip()) > 1]
