"""Structured questions about the shared-course catalogue, answered from course metadata."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.engine.results import Passage

# Surface forms in questions, per catalogue value. Longer forms first where one contains another.
# Surface forms per value of one catalogue field.
Forms = dict[str, tuple[str, ...]]

PROVIDERS: Forms = {
    "sichuan": ("sichuan rtvu", "sichuan", "四川广播电视大学", "四川电大", "四川"),
    "chongqing": ("chongqing rtvu", "chongqing", "重庆广播电视大学", "重庆电大", "重庆"),
    "chengdu": ("chengdu rtvu", "chengdu", "成都广播电视大学", "成都电大", "成都"),
}
SEMESTERS: Forms = {"autumn": ("autumn", "fall", "秋季", "秋"), "spring": ("spring", "春季", "春")}
MODES: Forms = {
    "online": ("online", "线上", "在线", "网上", "网课"),
    "blended": ("blended", "hybrid", "weekend", "混合", "面授", "周末"),
}
_COURSE_WORDS = re.compile(r"courses?\b|课程|网课", re.IGNORECASE)
# A listing asks which courses: "When is the exam of the spring course?" is not one.
_LISTING = re.compile(
    r"\b(which|what|list|any|courses)\b|哪些|哪几|有什么|列出|什么课|哪门", re.IGNORECASE
)
_CREDITS = re.compile(r"(\d+)\s*(?:-\s*)?(?:credits?|学分)", re.IGNORECASE)
_CODE = re.compile(r"\b[A-Z]{2,4}-\d{2,4}\b", re.IGNORECASE)

_DISPLAY = {
    "sichuan": {"en": "Sichuan RTVU", "zh": "四川广播电视大学"},
    "chongqing": {"en": "Chongqing RTVU", "zh": "重庆广播电视大学"},
    "chengdu": {"en": "Chengdu RTVU", "zh": "成都广播电视大学"},
    "autumn": {"en": "autumn", "zh": "秋季"},
    "spring": {"en": "spring", "zh": "春季"},
    "online": {"en": "online", "zh": "线上"},
    "blended": {"en": "blended", "zh": "混合式"},
}
_HEADER = {"en": "Shared courses ({filters}):", "zh": "符合条件（{filters}）的共享课程："}
_ALL = {"en": "All shared courses:", "zh": "全部共享课程："}
_NONE = {
    "en": "No shared course in the catalogue matches ({filters}).",
    "zh": "共享课程目录中没有符合条件（{filters}）的课程。",
}
_LINE = {
    "en": "• {title} — {provider}, {credits} credits, {mode}, {semester} [{n}]",
    "zh": "• {title}——{provider}，{credits}学分，{mode}，{semester} [{n}]",
}
_SAMPLE = {
    "en": "Note: the catalogue is sample text, not the official course list.",
    "zh": "注意：课程目录为示例文本，并非正式课程清单。",
}


@dataclass(frozen=True)
class CourseQuery:
    provider: str | None = None
    semester: str | None = None
    mode: str | None = None
    credits: int | None = None

    def matches(self, meta: Mapping[str, Any]) -> bool:
        semester_ok = self.semester is None or meta.get("semester") in (self.semester, "every")
        return (
            (self.provider is None or meta.get("provider") == self.provider)
            and semester_ok
            and (self.mode is None or meta.get("mode") == self.mode)
            and (self.credits is None or meta.get("credits") == self.credits)
        )


def _find(text: str, table: Forms) -> str | None:
    lowered = text.lower()
    hits = {key for key, forms in table.items() if any(form in lowered for form in forms)}
    return hits.pop() if len(hits) == 1 else None


def parse_course_query(question: str) -> CourseQuery | None:
    """A listing question about courses with at least one filter, else None. A question naming
    one course code is about that course, and goes to ordinary retrieval."""
    if not (_COURSE_WORDS.search(question) and _LISTING.search(question)):
        return None
    if _CODE.search(question):
        return None
    query = parse_course_filters(question)
    return None if query == CourseQuery() else query


def parse_course_filters(text: str) -> CourseQuery:
    """The provider, semester, mode and credits named in `text` (`/courses spring online`); an
    empty query lists every course."""
    credits = _CREDITS.search(text) or re.fullmatch(r"\s*(\d+)\s*", text)
    return CourseQuery(
        provider=_find(text, PROVIDERS),
        semester=_find(text, SEMESTERS),
        mode=_find(text, MODES),
        credits=int(credits.group(1)) if credits else None,
    )


def _filters(query: CourseQuery, language: str) -> str:
    parts = [
        _DISPLAY[value][language]
        for value in (query.provider, query.semester, query.mode)
        if value is not None
    ]
    if query.credits is not None:
        parts.append(f"{query.credits} credits" if language == "en" else f"{query.credits}学分")
    return ", ".join(parts) if language == "en" else "，".join(parts)


def list_courses(
    query: CourseQuery, courses: list[Passage], language: str
) -> tuple[str, list[Passage]]:
    """The matching courses in the question's language, each cited; sorted by code."""
    matching = sorted(
        (c for c in courses if c.metadata.get("lang") == language and query.matches(c.metadata)),
        key=lambda c: str(c.metadata.get("course_code")),
    )
    filters = _filters(query, language)
    if not matching:
        return _NONE[language].format(filters=filters), []
    lines = [_HEADER[language].format(filters=filters) if filters else _ALL[language]]
    for number, course in enumerate(matching, start=1):
        meta = course.metadata
        lines.append(
            _LINE[language].format(
                title=meta["title"],
                provider=meta["provider_name"],
                credits=meta["credits"],
                mode=meta["mode_label"],
                semester=meta["semester_label"],
                n=number,
            )
        )
    if any(c.metadata.get("status") == "sample" for c in matching):
        lines.append(_SAMPLE[language])
    return "\n".join(lines), matching
