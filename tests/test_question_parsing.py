"""The heuristics around retrieval: follow-ups, course listings, small talk, evidence."""

import pytest

from alliance.index_format import Glossary
from alliance.language import split_sentences
from bot.engine.answer_kinds import asked_kinds, holds, question_parts, wanted_language
from bot.engine.courses import CourseQuery, parse_course_query
from bot.engine.evidence import Evidence
from bot.engine.followups import looks_like_followup, resolve_followup
from bot.engine.small_talk import small_talk_reply


@pytest.mark.parametrize(
    ("previous", "follow_up", "expected"),
    [
        ("四川广播电视大学开设了哪些线上共享课程？", "那重庆呢？", "重庆开设了哪些线上共享课程？"),
        ("Which online courses does Sichuan RTVU offer?", "And for Chongqing RTVU?",
         "Which online courses does Chongqing RTVU offer?"),
        ("How many credits is a level 3 certificate worth?", "What about a level 1 certificate?",
         "How many credits is a level 1 certificate worth?"),
        ("技师证书能换多少学分？", "高级技师呢？", "高级技师证书能换多少学分？"),
        ("秋季有哪些共享课程？", "那春季呢？", "春季有哪些共享课程？"),
        ("How long until I get the result?", "and the appeal deadline?",
         "How long until I get the result? the appeal deadline"),
    ],
)  # fmt: skip
def test_follow_ups_are_rewritten(previous, follow_up, expected):
    assert resolve_followup(follow_up, [(previous, "answer")]) == expected


@pytest.mark.parametrize(
    "question",
    [
        "When was the alliance established?",
        "联盟的宗旨是什么？",
        "What does the charter say about teachers?",
    ],
)
def test_full_questions_are_not_follow_ups(question):
    assert not looks_like_followup(question)
    assert resolve_followup(question, [("Which online courses?", "")]) == question


def test_follow_up_without_history_is_left_alone():
    assert resolve_followup("那重庆呢？", []) == "那重庆呢？"
    assert resolve_followup("呢？", [("秋季有哪些共享课程？", "")]) == "呢？"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "Which online courses does Sichuan RTVU offer?",
            CourseQuery(provider="sichuan", mode="online"),
        ),
        ("秋季有哪些共享课程？", CourseQuery(semester="autumn")),
        ("重庆开的混合式课程有哪些", CourseQuery(provider="chongqing", mode="blended")),
        ("List the 3-credit courses", CourseQuery(credits=3)),
        ("有哪些4学分的课程？", CourseQuery(credits=4)),
        ("How many shared courses can I take per semester?", None),
        ("How many credits is CD-115 worth?", None),
        ("When was the alliance established?", None),
        ("重庆的老师来上课，课时津贴多少？", None),
        ("When is the final exam for the smart logistics course this spring?", None),
    ],
)
def test_course_listing_questions_are_recognised(question, expected):
    assert parse_course_query(question) == expected


def test_course_query_matching_treats_every_semester_as_both():
    query = CourseQuery(semester="spring")
    assert query.matches({"semester": "every"}) and query.matches({"semester": "spring"})
    assert not query.matches({"semester": "autumn"})


@pytest.mark.parametrize(
    ("text", "reply"),
    [("hi", "Hello"), ("Good morning!", "Hello"), ("您好", "您好"), ("thank you!", "welcome"),
     ("多谢", "不客气"), ("hi, when was the alliance founded?", None),
     ("thanks for the credits rule", None)],
)  # fmt: skip
def test_small_talk(text, reply):
    language = "zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en"
    answer = small_talk_reply(text, language)
    assert (answer is None) if reply is None else (answer is not None and reply in answer)


GLOSSARY = Glossary(
    groups=(("established", "founded"), ("费用", "收费"), ("sign up", "enrol")),
    function_words=("when", "was", "is", "the", "吗", "how", "do", "i", "for"),
)


def _evidence(weights: dict[str, float] | None = None) -> Evidence:
    return Evidence(lambda term: (weights or {}).get(term, 1.0), GLOSSARY)


def test_support_counts_glossary_groups_stems_and_chinese_substrings():
    evidence = _evidence({"alliance": 1.0, "founded": 3.0})
    concepts = evidence.concepts("When was the alliance founded?")
    assert [c.word for c in concepts] == ["alliance", "founded"]
    assert evidence.support(concepts, "The alliance was established in 2020.") == 1.0
    assert evidence.support(concepts, "The alliance held a forum.") == 0.25
    fee = evidence.concepts("学分认定收费吗？")
    assert evidence.support(fee, "学分认定免收费用。") == 1.0
    assert evidence.support([], "anything") == 0.0


def test_a_glossary_phrase_in_a_question_is_one_concept():
    evidence = _evidence()
    concepts = evidence.concepts("How do I sign up for a course?")
    assert [c.word for c in concepts] == ["sign up", "course"]
    assert evidence.support(concepts, "Learners enrol in each course at their branch.") == 1.0


def test_sentences_split_in_both_languages():
    assert split_sentences("第一条 学分。成绩60分以上！Line two. Line three?\nok") == [
        "第一条 学分。", "成绩60分以上！", "Line two.", "Line three?", "ok",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("question", "kind", "answer", "holds_it"),
    [
        ("What's the phone number of the office?", "contact", "The office is in Chengdu.", False),
        ("联盟办公室的电话是多少？", "contact", "电话：028-12345678。", True),
        ("How much are the tuition fees?", "amount", "Degree education is integrated.", False),
        ("Is credit recognition free?", None, "", True),
        ("How much does recognition cost?", "amount", "It is free of charge.", True),
        ("学分认定要多少钱？", "amount", "免收费用。", True),
        ("When was the alliance founded?", "time", "It was founded on 8 June 2020.", True),
        ("CD-115的期末考试安排在哪一天？", "time", "包含周末面授。", True),
        ("How many credits is SC-101 worth?", "count", "SC-101 carries 2 credits.", True),
        ("联盟有几所发起学校？", "count", "由三所学校共同发起。", True),
        ("Who founded the alliance?", "person", "It was initiated by Sichuan RTVU.", True),
        ("Where do I apply?", "place", "Apply through your home branch.", True),
    ],
)  # fmt: skip
def test_answer_kinds(question, kind, answer, holds_it):
    kinds = asked_kinds(question)
    assert (kinds[0] if kinds else None) == kind
    if kind is not None:
        assert holds(kind, answer) is holds_it


@pytest.mark.parametrize(
    ("question", "parts", "kinds"),
    [
        ("Where do I apply and when?", ["Where do I apply", "when"], ["place", "time"]),
        ("学分认定要收费吗？交了申请以后要等多久出结果？",
         ["学分认定要收费吗", "交了申请以后要等多久出结果"], ["count"]),
        ("How many credits is SC-101?", ["How many credits is SC-101"], ["count"]),
    ],
)  # fmt: skip
def test_a_question_is_split_into_the_things_it_asks(question, parts, kinds):
    assert question_parts(question) == parts
    assert asked_kinds(question) == kinds


@pytest.mark.parametrize(
    ("text", "reply"),
    [("Thank you 🙏", "welcome"), ("谢谢！🙏", "不客气"), ("ok thanks!!", "welcome"),
     ("好的，谢谢", "不客气"), ("👍", "welcome"), ("🙏🙏", "welcome"), ("😀🎓📚", "Hello"),
     ("hi there! 😊", "Hello"), ("您好呀～", "您好"), ("bye 👋", "Goodbye"), ("再见！", "再见"),
     ("明白了", "不客气"), ("thx", "welcome"), ("???", None), ("", None),
     ("ok so how do I apply 🙏", None), ("谢谢，那申诉要多久？", None),
     ("thanks, and the fee?", None)],
)  # fmt: skip
def test_small_talk_with_emoji_and_punctuation_is_small_talk(text, reply):
    language = "zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en"
    answer = small_talk_reply(text, language)
    assert (answer is None) if reply is None else (answer is not None and reply in answer)


@pytest.mark.parametrize(
    ("question", "language", "wanted"),
    [
        ("what's 巴蜀文化 called in English?", "en", "en"),
        ("How is Sichuan Coal Group written in Chinese?", "en", "zh"),
        ("what is the Chinese name of the Smart Logistics course", "en", "zh"),
        ("学分银行办公室用英文怎么讲？", "zh", "en"),
        ("混合式教学翻成英文是哪个词？", "zh", "en"),
        ("学分银行办公室在哪里？", "zh", "zh"),
        ("When was the alliance founded?", "en", "en"),
    ],
)
def test_a_name_asked_in_the_other_language_wants_that_language(question, language, wanted):
    assert wanted_language(question, language) == wanted
