"""Questions about one course, answered from the catalogue's fields: the fields asked for, by
code or by title, the most and fewest credits, and plainly "no such course" for a code it does
not list."""

import pytest

from bot.engine.courses import course_answer, course_fields, named_courses
from bot.engine.results import Passage
from bot.engine.retrieval import PublishedIndex


@pytest.fixture(scope="module")
def courses(shipped_index) -> list[Passage]:
    return PublishedIndex.load(shipped_index).courses


def _says_with_a_cited_sample(answer, says, not_says) -> None:
    assert answer is not None and answer.found and answer.cited
    for fact in says:
        assert fact in answer.text
    for fact in not_says:
        assert fact not in answer.text
    assert "[1]" in answer.text and ("sample" in answer.text or "示例" in answer.text)


@pytest.mark.parametrize(
    ("question", "language", "says", "not_says"),
    [
        ("How many credits is SC-101?", "en", ["SC-101", "2 credits"], ["online", "CQ-210"]),
        ("Is CD-115 taught online?", "en", ["blended"], ["2 credits"]),
        ("When is cq-320 offered?", "en", ["spring semester"], []),
        ("Who runs SC230?", "en", ["SC-230", "Sichuan RTVU"], []),
        ("What does Big Data Applications in Education teach?", "en",
         ["CQ-210", "learning analytics"], []),
        ("SC-101 这门课几个学分?", "zh", ["2学分"], []),
        ("《巴蜀文化》是哪所学校开的？", "zh", ["成都广播电视大学"], []),
        ("CQ-210 讲什么内容？", "zh", ["学习分析"], []),
    ],
)  # fmt: skip
def test_a_named_course_gets_the_fields_asked_for(courses, question, language, says, not_says):
    answer = course_fields(question, named_courses(question, courses, language), language)
    _says_with_a_cited_sample(answer, says, not_says)


@pytest.mark.parametrize(
    ("question", "language", "named"),
    [("CQ-210 用什么教材？", "zh", 1), ("When was the alliance founded?", "en", 0)],
)
def test_no_field_named_or_no_course_named_gets_no_field_answer(courses, question, language, named):
    found = named_courses(question, courses, language)
    assert len(found) == named
    assert course_fields(question, found, language) is None


@pytest.mark.parametrize(
    ("question", "language", "says", "not_says"),
    [
        ("Which shared course has the most credits?", "en", ["CQ-320", "4 credits"], ["SC-101"]),
        ("学分最少的共享课程是哪门？", "zh", ["SC-101", "CD-115", "2学分"], ["CQ-320"]),
    ],
)  # fmt: skip
def test_the_most_and_fewest_credits(courses, question, language, says, not_says):
    answer = course_answer(question, courses, language)
    _says_with_a_cited_sample(answer, says, not_says)


@pytest.mark.parametrize(
    ("question", "language", "says"),
    [
        ("How many credits is CD-999?", "en", "There is no course CD-999"),
        ("SC-404 是线上课吗？", "zh", "没有课程代码为 SC-404"),
    ],
)
def test_a_code_the_catalogue_does_not_list_is_said_to_be_missing(
    courses, question, language, says
):
    answer = course_answer(question, courses, language)
    assert answer is not None and not answer.found and answer.cited == []
    assert says in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "When was the alliance founded?",
        "Is COVID-19 a reason to defer?",
        "Which courses are online?",
        "How many credits is SC-101?",  # a named course's fields: the judge decides
    ],
)
def test_other_questions_are_left_to_other_answers(courses, question):
    assert course_answer(question, courses, "en") is None
