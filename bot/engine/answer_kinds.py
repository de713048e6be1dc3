"""What kind of answer a question asks for (a contact, an amount, a time, a count, a person, a
place), part by part for a question that asks several things, and whether a sentence holds one:
features of the answer judge, and the line an answer adds when no quoted sentence holds a kind
of fact asked for."""

import functools
import re

_ASKS = (
    (
        "contact",
        r"\b(phone|telephone|e-?mail|address|website|hotline)\b"
        r"|电话|邮箱|地址|网址|热线|联系方式",
    ),
    (
        "amount",
        r"\bhow much\b|\b(fees?|costs?|price|tuition|salary|earn|paid)\b"
        r"|多少钱|学费|价格|工资|给多少",
    ),
    (
        "time",
        r"^\s*when\b|\b(?:and|by) when\b|\bwhat (date|day|time)\b|\bwhich (day|date)\b"
        r"|什么时候|哪天|哪一天|何时|几号|日期",
    ),
    ("count", r"\bhow (many|long)\b|多少|几|多久|多长时间"),
    ("person", r"^\s*who\b|\bwho (is|are|was|were|gave|will|can|do|does|should)\b|谁|哪位|哪几位"),
    ("place", r"^\s*where\b|\bwhere (do|can|should|is|are|was|were|to)\b|哪里|在哪|哪儿|何处|地点"),
)
_HOLDS = {
    "contact": r"\d{5,}|@|https?://|www\.",
    "amount": r"\d|元|yuan|free|免|不收|charge",
    "time": r"\d|[年月日周]|week|day|month|year|semester|学期|spring|autumn|[春秋]",
    "count": r"\d|[一二两三四五六七八九十百千半]|\b(half|one|two|three|four|five|six|seven|eight|"
    r"nine|ten|twelve)\b",
    "person": r"\b[A-Z][a-z]+ [A-Z][a-z]+\b|(?i:office|branch|workstation|universit|rtvu|"
    r"department|officer|staff)|办公室|分校|工作站|大学|学校|教育厅|人员|讲话|致辞",
    "place": r"\bin [A-Z]|(?i:branch|office|workstation|online)"
    r"|成都|重庆|四川|分校|工作站|办公室|线上",
}
# Only these decide that a reply does not answer: a person or a place is too often named in
# words the patterns cannot see.
DECISIVE = frozenset({"contact", "amount", "time", "count"})
# Between two asked things: "where and when", "…？…？", "以及", "还有".
_PART_BREAK = re.compile(
    r"[?？]\s*(?=\S)|\band\b(?=\s+(?:how|when|where|who|what|which|is|are|do|does|can)\b)|以及|，?还有|，?另外|；"
)


def asked_kinds(question: str) -> list[str]:
    """Every kind the question asks for, part by part, in order and without repeats."""
    found: dict[str, None] = {}
    for part in question_parts(question):
        lowered = part.lower()
        for kind, pattern in _ASKS:
            if re.search(pattern, lowered):
                found.setdefault(kind, None)
    return list(found)


def question_parts(question: str) -> list[str]:
    """The things a question asks, split where it moves on to the next one."""
    parts = [part.strip(" ,，。.?？") for part in _PART_BREAK.split(question)]
    return [part for part in parts if part]


@functools.lru_cache(maxsize=65536)
def holds(kind: str, text: str) -> bool:
    return (
        re.search(_HOLDS[kind], text if kind in ("person", "place") else text.lower()) is not None
    )


# A question that asks what something is called in the other language ("what's 巴蜀文化 in
# English", "学分银行英文怎么说"): its answer is the other language's wording.
_OTHER_LANGUAGE = {
    "en": re.compile(
        r"\b(?:in|into|to) (?:chinese|mandarin)\b|\bchinese (?:name|word|term|title|version|"
        r"characters?|for|translation)\b|中文|汉语|汉字",
        re.IGNORECASE,
    ),
    "zh": re.compile(r"英文|英语|\benglish\b", re.IGNORECASE),
}


def wanted_language(question: str, language: str) -> str:
    """The language the answer should quote: the question's own, or the other one when it
    asks what something is called there."""
    if _OTHER_LANGUAGE[language].search(question):
        return "zh" if language == "en" else "en"
    return language
