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
SEMESTERS: Forms = {
    "every": (
        "every semester",
        "each semester",
        "all semesters",
        "every term",
        "each term",
        "每学期",
        "每个学期",
    ),
    "autumn": ("autumn", "fall", "秋季", "秋"),
    "spring": ("spring", "春季", "春"),
}
MODES: Forms = {
    "online": ("online", "线上", "在线", "网上", "网课"),
    "blended": ("blended", "hybrid", "weekend", "混合", "面授", "周末"),
}
_COURSE_WORDS = re.compile(r"courses?\b|课程|网课|共享课|门课", re.IGNORECASE)
# A listing asks which courses: "When is the exam of the spring course?" is not one, nor "what
# mark do I need in one of these online courses?".
_LISTING = re.compile(
    r"\b(?:which|what|list|any|all)\b(?:\s+[\w-]+){0,3}?\s+(?:shared\s+)?(?:courses|classes)\b"
    r"|\bcourses?\s+(?:are|is)\s+(?:there|offered|available|online|blended|taught)"
    r"|\bwhich ones?\b"
    r"|哪些|哪几|有什么课|有没有.{0,8}课|有哪|列出|什么课|哪门",
    re.IGNORECASE,
)
_CREDITS = re.compile(
    r"(\d+|one|two|three|four|five|six|[一二两三四五六])\s*(?:-\s*)?(?:credits?|个?学分)",
    re.IGNORECASE,
)
_CREDIT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "一": 1, "二": 2,
                 "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}  # fmt: skip
# A course code as learners type it: SC-101, sc101, CD-999 (also beside Chinese text).
CODE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2,4})-?(\d{2,4})(?![0-9])")

_DISPLAY = {
    "sichuan": {"en": "Sichuan RTVU", "zh": "四川广播电视大学"},
    "chongqing": {"en": "Chongqing RTVU", "zh": "重庆广播电视大学"},
    "chengdu": {"en": "Chengdu RTVU", "zh": "成都广播电视大学"},
    "autumn": {"en": "autumn", "zh": "秋季"},
    "spring": {"en": "spring", "zh": "春季"},
    "every": {"en": "every semester", "zh": "每学期"},
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
    if CODE.search(question):
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
        credits=_credits(credits.group(1)) if credits else None,
    )


def _credits(text: str) -> int:
    return int(text) if text.isdigit() else _CREDIT_WORDS[text.lower()]


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


@dataclass(frozen=True)
class CourseAnswer:
    text: str
    cited: list[Passage]
    found: bool = True  # False: the question names a course the catalogue does not have


_MOST = re.compile(
    r"\b(?:most|highest|largest|biggest)\s+(?:number of\s+)?credits|学分最多|最多学分|学分最高",
    re.I,
)
_FEWEST = re.compile(
    r"\b(?:fewest|least|lowest|smallest)\s+(?:number of\s+)?credits|学分最少|最少学分|学分最低",
    re.I,
)
# Words that ask for one of a course's fields, for a course the question names. They choose
# what an answer the judge accepted shows; whether the catalogue answers at all is the judge's.
_FIELDS = {
    "credits": r"credit|学分|几分",
    "mode": r"online|blended|mode|taught|in person|face[- ]to[- ]face|weekend|delivered|"
    r"attend|to a branch|线上|在线|网课|面授|混合|教学方式|上课方式|怎么上|到校|去分校",
    "semester": r"\bwhen\b|semester|\bterm\b|autumn|spring|\bfall\b|"
    r"学期|什么时候|春季|秋季|开课时间",
    "provider": r"\bwho\b|which (?:university|school|college)|offer|provid|\brun\b|"
    r"哪(?:个|所|家)?(?:学校|大学|高校)|谁开|哪里开|开设",
    "description": r"about|teach|cover|learn|content|topic|syllabus|讲什么|学什么|内容|介绍|关于",
}
# What the catalogue gives of each course: the fields of its schema (ingest.catalogue.Course).
_FIELD_NAMES = {
    "en": "code, title, provider, credits, mode, semester and description",
    "zh": "课程代码、名称、开设学校、学分、教学方式、开课学期和课程介绍",
}


def course_answer(question: str, courses: list[Passage], language: str) -> CourseAnswer | None:
    """A course code the catalogue does not list, or the course with the most or fewest
    credits; None for any other question (a named course's fields are the judge's)."""
    local = [c for c in courses if c.metadata.get("lang") == language]
    if not local:
        return None
    by_code = {str(c.metadata.get("course_code")).upper(): c for c in local}
    # Codes are the catalogue's kind: its own prefixes (SC-, CQ-, ...), then digits.
    prefixes = {code.split("-")[0] for code in by_code}
    codes = [f"{a.upper()}-{b}" for a, b in CODE.findall(question) if a.upper() in prefixes]
    unknown = [code for code in codes if code not in by_code]
    if unknown:
        return CourseAnswer(_NO_SUCH_COURSE[language].format(codes=", ".join(unknown)), [], False)
    if codes or _by_title(question, local):
        return None
    if _COURSE_WORDS.search(question) or "credit" in question.lower() or "学分" in question:
        extreme = max if _MOST.search(question) else min if _FEWEST.search(question) else None
        if extreme is not None:
            value = extreme(int(c.metadata.get("credits", 0)) for c in local)
            chosen = sorted(
                (c for c in local if int(c.metadata.get("credits", 0)) == value),
                key=lambda c: str(c.metadata.get("course_code")),
            )
            lines = [_describe(c, ["credits"], language, n) for n, c in enumerate(chosen, 1)]
            return CourseAnswer(_joined(lines, chosen, language), chosen)
    return None


def course_fields(question: str, named: list[Passage], language: str) -> CourseAnswer | None:
    """The fields the question asks for of the courses it names, from the catalogue; None when
    it names none or asks for no field by name."""
    asked = [field for field, pattern in _FIELDS.items() if re.search(pattern, question, re.I)]
    if not named or not asked:
        return None
    lines = [_describe(course, asked, language, n) for n, course in enumerate(named, 1)]
    return CourseAnswer(_joined(lines, named, language), named)


def named_courses(question: str, courses: list[Passage], language: str) -> list[Passage]:
    """The catalogue's courses in `language` that the question names, by code or title."""
    local = [c for c in courses if c.metadata.get("lang") == language]
    codes = {f"{a.upper()}-{b}" for a, b in CODE.findall(question)}
    by_code = [c for c in local if str(c.metadata.get("course_code")).upper() in codes]
    return by_code or _by_title(question, local)


def catalogue_fields(language: str) -> str:
    """What the catalogue gives of every course, in words."""
    return _FIELD_NAMES[language]


_NO_SUCH_COURSE = {
    "en": "There is no course {codes} in the shared-course catalogue. Please check the code, "
    "or ask your home branch (workstation).",
    "zh": "共享课程目录中没有课程代码为 {codes} 的课程。请核对课程代码，或咨询所属分校（工作站）。",
}


def _by_title(question: str, courses: list[Passage]) -> list[Passage]:
    lowered = question.lower()
    return [c for c in courses if str(c.metadata.get("course_title", "")).lower() in lowered]


def _describe(course: Passage, asked: list[str], language: str, number: int) -> str:
    meta = course.metadata
    if language == "zh":
        parts = {
            "provider": f"由{meta['provider_name']}开设",
            "credits": f"{meta['credits']}学分",
            "mode": f"教学方式为{meta['mode_label']}",
            "semester": f"开课学期为{meta['semester_label']}",
        }
        facts = "，".join(parts[f] for f in asked if f in parts)
        head = f"{meta['course_code']}《{meta.get('course_title', '')}》"
        line = f"{head}：{facts} [{number}]。" if facts else f"{head} [{number}]。"
        if "description" in asked and meta.get("description"):
            line += f"{meta['description']} [{number}]"
        return line
    parts = {
        "provider": f"offered by {meta['provider_name']}",
        "credits": f"{meta['credits']} credits",
        "mode": f"taught {meta['mode_label']}",
        "semester": f"in {meta['semester_label']}",
    }
    facts = ", ".join(parts[f] for f in asked if f in parts)
    head = f"{meta['course_code']} {meta.get('course_title', '')}"
    line = f"{head}: {facts} [{number}]." if facts else f"{head} [{number}]."
    if "description" in asked and meta.get("description"):
        line += f" {meta['description']} [{number}]"
    return line


def _joined(lines: list[str], cited: list[Passage], language: str) -> str:
    text = "\n".join(lines)
    if any(c.metadata.get("status") == "sample" for c in cited):
        text += "\n\n" + _SAMPLE[language]
    return text
