"""What kind of answer a question asks for (a contact, an amount, a time, a count), and whether
the chosen sentences hold one: quoting sentences without it would answer another question."""

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
        r"^\s*when\b|\bwhat (date|day|time)\b|\bwhich (day|date)\b"
        r"|什么时候|哪天|哪一天|何时|几号|日期",
    ),
    ("count", r"\bhow (many|long)\b|多少|几|多久|多长时间"),
)
_HOLDS = {
    "contact": r"\d{5,}|@|https?://|www\.",
    "amount": r"\d|元|yuan|free|免|不收|charge",
    "time": r"\d|[年月日周]|week|day|month|year|semester|学期|spring|autumn|[春秋]",
    "count": r"\d|[一二两三四五六七八九十百千半]|\b(half|one|two|three|four|five|six|seven|eight|"
    r"nine|ten|twelve)\b",
}


def answer_kind(question: str) -> str | None:
    """The first kind the question asks for, or None for an open question."""
    lowered = question.lower()
    return next((kind for kind, pattern in _ASKS if re.search(pattern, lowered)), None)


def holds(kind: str, text: str) -> bool:
    return re.search(_HOLDS[kind], text.lower()) is not None
