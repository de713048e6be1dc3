"""The rule calculators on their edges, reading their numbers from the shipped rules, and
silent when the rules no longer say what they look for."""

import pytest

from bot.engine.calculators import RuleBook, calculate
from bot.engine.results import Passage
from bot.engine.retrieval import PublishedIndex


@pytest.fixture(scope="module")
def public(shipped_index) -> list[Passage]:
    index = PublishedIndex.load(shipped_index)
    return [p for p in index.passages.values() if p.metadata.get("audience") == "public"]


@pytest.mark.parametrize(
    ("question", "language", "says", "covered"),
    [
        ("I got 59 in my shared course, does it count?", "en", "No: 59 is below", True),
        ("I scored 60 out of 100. Will the credits be recognised?", "en", "Yes: 60 reaches", True),
        ("我考了61分，学分能认定吗？", "zh", "61分达到了60分", True),
        ("成绩只有45分，算及格吗", "zh", "45分低于60分", True),
        ("My degree needs 90 credits, how many can come from other universities?", "en",
         "at most 45 can be", True),
        ("The programme requires 91 credits. How many may be transferred from elsewhere?", "en",
         "at most 45.5", True),
        ("毕业要求120学分，外校的学分最多能算多少？", "zh", "最多60学分", True),
        ("It is week 4 of the semester. Can I still apply for credit recognition?", "en",
         "Yes: week 4 is within the first 4 weeks", True),
        ("It's week 5, can I still submit my application?", "en", "No: week 5 is past", True),
        ("现在开学第三周了，还能申请学分认定吗", "zh", "第3周仍在", True),
        ("My result came 10 days ago, can I still appeal?", "en", "Yes: 10 days is within", True),
        ("I disagree with a result I got 11 working days ago. Can I appeal?", "en",
         "No: 11 days is past the 10 working days", True),
        ("结果出来12天了还能申诉吗", "zh", "已超过结果公布后10个工作日", True),
        ("Can I take 2 shared courses this semester?", "en", "Yes: 2 courses is within", True),
        ("Can I take three courses in one term?", "en", "No: 3 courses is more than", True),
        ("这学期我想选三门共享课可以吗", "zh", "不可以：3门超过", True),
        ("I have a level 2 and a level 3 certificate. How many credits in total?", "en",
         "6 + 4 = 10 credits", True),
        ("我有一级和三级证书，一共能折算多少学分？", "zh", "8 + 4 = 12学分", True),
        ("I have a level 2 (technician) certificate, how many credits is that?", "en",
         "A level 2 certificate (technician) converts to 6 credits [1].", True),
        ("我有二级（技师）证书，能折算多少学分？", "zh", "二级（技师）证书折算为6学分 [1]。", True),
        ("What does a level 4 vocational certificate convert to?", "en",
         "do not cover a level 4 certificate", False),
        ("五级职业资格证书能折算学分吗", "zh", "没有涉及5级证书", False),
        ("I earned credits 5 years ago, can I still deposit them?", "en",
         "Yes: credits earned 5 years ago are within the 5-year limit", True),
        ("六年前拿的学分还能存进学分银行吗", "zh", "已超过5年", True),
    ],
)  # fmt: skip
def test_a_rule_applied_to_the_learners_own_numbers(public, question, language, says, covered):
    calculation = calculate(question, language, public)
    assert calculation is not None
    assert says in calculation.text and "[1]" in calculation.text
    assert calculation.covered is covered
    assert calculation.rule.sentence in calculation.text.replace(" [1]", "")  # cited as stated
    assert calculation.rule.passage.metadata["path"].startswith(("credit/", "courses/", "faq/"))


@pytest.mark.parametrize(
    "question",
    [
        "When was the alliance founded?",
        "How many credits is SC-101?",  # a course's fields, not a rule
        "What score do I need to pass?",  # no number of the learner's own
        "I got 250 points in a game, does it count?",  # not a score out of 100
    ],
)
def test_questions_without_a_case_to_apply_a_rule_to_get_none(public, question):
    assert calculate(question, "en", public) is None


def test_a_rule_reworded_beyond_recognition_is_not_applied(public):
    reworded = [
        Passage(
            id="r", text="Learners pass a shared course with sixty points.", metadata={"lang": "en"}
        )
    ]
    assert calculate("I got 55, does it count?", "en", reworded) is None
    assert RuleBook(reworded, "en").find(r"score of at least (\d+)") is None
