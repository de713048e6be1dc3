"""What kind of answer a question asks for (a contact, an amount, a time, a count, a person, a
place), part by part for a question that asks several things, and whether sentences hold one:
quoting sentences without it would answer another question."""

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


# Specific things a question can name that only an answer stating them answers: a role (whose
# holder is asked for), a person's name, a venue, a fee or pay, a time of day, an exam, a share
# or head count. The reply must hold the very word (or a glossary variant); neighbouring rules
# do not answer "who is the president". Chosen on the tuning part of the gold set.
_SPECIFICS = re.compile(
    r"\b(president|principal|director|dean|chair(?:man|woman|person)?|head of|in charge|"
    r"name of|names of|building|room|campus|venue|floor|tuition|salary|allowance|hourly rate|"
    r"opening hours|what time|o'clock|exams?|examination|percentage|percent|pass rate)\b"
    r"|校长|院长|主任|书记|主席|负责人|处长|局长|名字|姓名|教室|校区|场地|学费|课时费|报酬|工资|"
    r"津贴|几点|开放时间|营业时间|办公时间|考试|期末|补考|比例|通过率|百分之|人数",
    re.IGNORECASE,
)


def named_specifics(question: str) -> list[str]:
    """The specific things the question names, as written (lower-cased)."""
    return list(dict.fromkeys(match.group(0).lower() for match in _SPECIFICS.finditer(question)))


def answer_kind(question: str) -> str | None:
    """The first kind the question asks for, or None for an open question."""
    kinds = asked_kinds(question)
    return kinds[0] if kinds else None


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


def holds(kind: str, text: str) -> bool:
    return (
        re.search(_HOLDS[kind], text if kind in ("person", "place") else text.lower()) is not None
    )
