"""Property-based tests of every calculator against its rule table: rules with numbers drawn at
random (so the calculators must read them from the text), the learner's own numbers drawn at
random on both sides of each limit and at it, in English and Chinese."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.engine.calculators import calculate
from bot.engine.results import Passage

ZH_DIGITS = "零一二三四五六七八九十"
ZH_NAMES = ("高级工", "技师", "高级技师", "特级工", "首席技师", "技能大师", "八级工", "九级工")
EN_NAMES = (
    "senior worker",
    "technician",
    "senior technician",
    "master worker",
    "chief technician",
    "skills master",
    "grade eight worker",
    "grade nine worker",
)


def _rules(language: str, *sentences: str) -> list[Passage]:
    text = ("" if language == "zh" else " ").join(sentences)
    metadata = {"lang": language, "path": "credit/rules.md", "audience": "public"}
    return [Passage(id=f"rules-{language}", text=text, metadata=metadata)]


def _check(question: str, language: str, rules: list[Passage], allowed: bool, en: str, zh: str):
    calculation = calculate(question, language, rules)
    assert calculation is not None, question
    text = calculation.text
    assert calculation.covered
    assert text.startswith(("Yes" if allowed else "No") if language == "en" else text[:0])
    assert (zh if language == "zh" else en) in text, (question, text)
    assert calculation.rule.sentence in text.replace(" [1]", ""), text  # the rule, cited


languages = st.sampled_from(["en", "zh"])


@given(mark=st.integers(30, 90), offset=st.integers(-10, 10), language=languages)
@example(mark=60, offset=0, language="en")
@example(mark=60, offset=-1, language="zh")
def test_a_score_passes_exactly_when_it_reaches_the_pass_mark(mark, offset, language):
    score = mark + offset
    rules = _rules(
        language,
        f"Credits from a shared course are recognised when the learner passes the course with "
        f"a score of at least {mark} out of 100."
        if language == "en"
        else f"学习者参加共享课程，成绩达到{mark}分及以上（满分100分）的，其学分予以认定。",
    )
    question = (
        f"I got {score} in my shared course, does it count?"
        if language == "en"
        else f"我考了{score}分，学分能认定吗？"
    )
    passed = score >= mark
    _check(
        question,
        language,
        rules,
        passed,
        en=f"{score} {'reaches' if passed else 'is below'} the pass mark of {mark}",
        zh=f"{score}分{'达到了' if passed else '低于'}{mark}分",
    )


@given(window=st.integers(1, 8), offset=st.integers(-3, 3), language=languages)
@example(window=4, offset=0, language="zh")
@example(window=4, offset=1, language="en")
def test_an_application_is_in_time_exactly_within_the_first_weeks(window, offset, language):
    week = max(1, window + offset)
    rules = _rules(
        language,
        f"Applications must be submitted within the first {window} weeks of a semester."
        if language == "en"
        else f"申请须在每学期开学后的前{window}周内提交。",
    )
    question = (
        f"It is week {week} of the semester. Can I still apply for credit recognition?"
        if language == "en"
        else f"现在是开学第{week}周，还能申请学分认定吗"
    )
    in_time = week <= window
    _check(
        question,
        language,
        rules,
        in_time,
        en=f"week {week} is {'within' if in_time else 'past'} the first {window} weeks",
        zh=f"第{week}周{'仍在' if in_time else '已超过'}开学后的前{window}周",
    )


@given(limit=st.integers(3, 30), offset=st.integers(-3, 3), language=languages)
@example(limit=10, offset=0, language="en")
@example(limit=10, offset=1, language="zh")
def test_an_appeal_is_in_time_exactly_within_its_working_days(limit, offset, language):
    days = max(1, limit + offset)
    rules = _rules(
        language,
        f"An appeal must be submitted within {limit} working days of the result."
        if language == "en"
        else f"申诉须在认定结果公布后{limit}个工作日内提出。",
    )
    question = (
        f"My result came {days} days ago and I disagree. Can I still appeal?"
        if language == "en"
        else f"结果出来{days}天了，我不服，还能申诉吗"
    )
    in_time = days <= limit
    _check(
        question,
        language,
        rules,
        in_time,
        en=f"{days} days is {'within' if in_time else 'past'} the {limit} working days",
        zh=f"{days}天{'仍在' if in_time else '已超过'}结果公布后{limit}个工作日",
    )


@given(limit=st.integers(1, 5), wanted=st.integers(2, 8), language=languages)
@example(limit=2, wanted=2, language="en")
@example(limit=2, wanted=3, language="zh")
def test_courses_fit_a_semester_exactly_up_to_its_limit(limit, wanted, language):
    """(One course is no case for the limit: "can I take one course?" is answered otherwise.)"""
    rules = _rules(
        language,
        f"A learner can take at most {limit} shared courses per semester."
        if language == "en"
        else f"每名学习者每学期最多可以选修{limit}门共享课程。",
    )
    question = (
        f"Can I take {wanted} shared courses this semester?"
        if language == "en"
        else f"这学期我想选{wanted}门共享课可以吗"
    )
    fits = wanted <= limit
    _check(
        question,
        language,
        rules,
        fits,
        en=f"{wanted} courses is {'within the limit' if fits else 'more than the limit'} of "
        f"{limit}",
        zh=f"{wanted}门{'没有超过' if fits else '超过了'}每学期",
    )


@given(limit=st.integers(1, 10), offset=st.integers(-3, 3), language=languages)
@example(limit=5, offset=0, language="en")
@example(limit=5, offset=1, language="zh")
def test_credits_can_be_deposited_exactly_within_the_time_limit(limit, offset, language):
    years = max(1, limit + offset)
    rules = _rules(
        language,
        f"Credits can be deposited in the credit bank within {limit} years of being earned."
        if language == "en"
        else f"学分自取得之日起{limit}年内可以存入学分银行。",
    )
    question = (
        f"I earned my credits {years} years ago, can I still deposit them?"
        if language == "en"
        else f"{years}年前拿的学分还能存进学分银行吗"
    )
    within = years <= limit
    _check(
        question,
        language,
        rules,
        within,
        en=f"{years} years ago are {'within' if within else 'past'} the {limit}-year limit",
        zh=f"{years}年前取得的学分{'仍在' if within else '已超过'}{limit}年",
    )


@given(share=st.integers(10, 90), required=st.integers(20, 400), language=languages)
@example(share=50, required=91, language="en")
def test_the_cap_on_credits_from_elsewhere_is_the_stated_share(share, required, language):
    rules = _rules(
        language,
        f"Credits recognised from outside the learner's home university can count for at most "
        f"{share}% of the credits required for graduation."
        if language == "en"
        else f"学习者在所属学校以外获得并经认定的学分，最多可抵免毕业所需学分的{share}%。",
    )
    question = (
        f"My degree needs {required} credits, how many can come from other universities?"
        if language == "en"
        else f"毕业要求{required}学分，外校的学分最多能算多少？"
    )
    calculation = calculate(question, language, rules)
    assert calculation is not None and calculation.covered
    most = f"{required * share / 100:g}"
    expected = f"at most {most} can be" if language == "en" else f"最多{most}学分"
    assert expected in calculation.text, calculation.text


def _certificate_rules(language: str, values: dict[int, int]) -> list[Passage]:
    if language == "zh":
        lines = [
            f"{ZH_DIGITS[level]}级（{ZH_NAMES[level - 1]}）证书折算为{credits}学分。"
            for level, credits in values.items()
        ]
        return _rules(language, "国家职业资格证书可以折算为学分。", *lines)
    lines = [
        f"A level {level} certificate ({EN_NAMES[level - 1]}) converts to {credits} credits."
        for level, credits in values.items()
    ]
    return _rules(language, "National certificates can be converted into credits.", *lines)


def _mention(level: int, language: str, how: str) -> str:
    """A certificate as a learner names it: by level, by the rule's name, or both."""
    if language == "zh":
        number, name = f"{ZH_DIGITS[level]}级", ZH_NAMES[level - 1]
        return {"number": f"{number}证书", "name": f"{name}证", "both": f"{number}（{name}）证书"}[
            how
        ]
    number, name = f"level {level}", EN_NAMES[level - 1]
    return {
        "number": f"a {number} certificate",
        "name": f"a {name} certificate",
        "both": f"a {number} ({name}) certificate",
    }[how]


certificate_tables = st.dictionaries(
    st.integers(1, 3), st.integers(1, 20), min_size=3, max_size=3
).map(lambda table: dict(sorted(table.items())))


@settings(max_examples=150)
@given(
    values=certificate_tables,
    held=st.lists(
        st.tuples(st.integers(1, 3), st.sampled_from(["number", "name", "both"])),
        min_size=1,
        max_size=3,
    ),
    language=languages,
)
@example(values={1: 8, 2: 6, 3: 4}, held=[(2, "both")], language="en")  # not 6 + 6
@example(values={1: 8, 2: 6, 3: 4}, held=[(2, "both")], language="zh")
def test_certificates_convert_to_their_values_and_several_to_their_sum(values, held, language):
    rules = _certificate_rules(language, values)
    joiner = "和" if language == "zh" else " and "
    mentions = joiner.join(_mention(level, language, how) for level, how in held)
    question = (
        f"我有{mentions}，一共能折算多少学分？"
        if language == "zh"
        else f"I have {mentions}. How many credits is that?"
    )
    calculation = calculate(question, language, rules)
    assert calculation is not None, question
    assert calculation.covered
    levels = [level for level, _ in held]
    total = sum(values[level] for level in levels)
    if len(levels) == 1:
        unit = "学分" if language == "zh" else " credits"
        assert f"{total}{unit}" in calculation.text, (question, calculation.text)
        assert "+" not in calculation.text
    else:
        parts = " + ".join(str(values[level]) for level in levels)
        unit = "学分" if language == "zh" else " credits"
        assert f"{parts} = {total}{unit}" in calculation.text, (question, calculation.text)


@given(values=certificate_tables, unlisted=st.integers(4, 9), language=languages)
def test_a_level_the_rules_do_not_list_is_not_covered(values, unlisted, language):
    rules = _certificate_rules(language, values)
    question = (
        f"{ZH_DIGITS[unlisted]}级职业资格证书能折算学分吗"
        if language == "zh"
        else f"What does a level {unlisted} vocational certificate convert to?"
    )
    calculation = calculate(question, language, rules)
    assert calculation is not None
    assert not calculation.covered
    said = f"没有涉及{unlisted}级证书" if language == "zh" else f"level {unlisted} certificate"
    assert said in calculation.text
