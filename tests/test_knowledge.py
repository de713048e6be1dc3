"""The shipped knowledge base: every file loads, in both languages, with the required facts."""

from collections import defaultdict

import pytest
from conftest import KNOWLEDGE

from alliance.language import has_chinese
from ingest.discovery import discover
from ingest.glossary import GLOSSARY_NAME, is_glossary, load_glossary
from ingest.loaders import load_file


@pytest.fixture(scope="module")
def documents():
    sources, errors = discover(KNOWLEDGE, 10**7)
    assert errors == []
    documents = [s for s in sources if not is_glossary(s.relpath)]
    assert len(documents) == len(sources) - 1  # the glossary is no document
    return [doc for s in documents for doc in load_file(s.path, s.relpath, s.data)]


def test_the_shipped_glossary_loads_with_groups_in_both_languages():
    path = KNOWLEDGE / "glossary" / GLOSSARY_NAME
    title, glossary = load_glossary("glossary/glossary.yaml", path.read_bytes())
    assert title and len(glossary.groups) >= 20 and glossary.characters
    words = [word for group in glossary.groups for word in group]
    assert any(has_chinese(word) for word in words) and any(word.isascii() for word in words)
    assert "电大" in words and "网课" in words and "what" in glossary.function_words
    assert glossary.simplified("學分認定") == "学分认定"


def _text(documents, lang, audience=("public",)):
    return "\n".join(
        d.body for d in documents if d.meta.lang == lang and d.meta.audience in audience
    )


def test_every_public_document_exists_in_english_and_chinese(documents):
    languages = defaultdict(set)
    for document in documents:
        if document.meta.audience == "public":
            stem = document.doc_id.rsplit("@", 1)[0].removesuffix(".en.md").removesuffix(".zh.md")
            languages[stem].add(document.meta.lang)
    assert languages and all(found == {"en", "zh"} for found in languages.values()), languages


@pytest.mark.parametrize(
    "fact",
    [
        "8 June 2020", "online and offline", "Sichuan RTVU", "Chongqing RTVU", "Chengdu RTVU",
        "260", "Sichuan Coal Group", "ICDE", "AAOU", "Belt and Road", "Tan Wenjin", "Guo Qing",
        "Hu Weifeng", "Declaration on the Establishment", "quality assurance",
        "60", "50%", "5 years", "4 credits", "6 credits", "8 credits", "4 weeks",
        "20 working days", "10 working days", "free of charge", "at most 2 shared courses",
        "SC-101", "CQ-210", "CD-115", "CQ-320", "SC-230",
    ],
)  # fmt: skip
def test_english_facts(documents, fact):
    assert fact in _text(documents, "en")


@pytest.mark.parametrize(
    "fact",
    [
        "2020年6月8日", "线上线下", "四川广播电视大学", "重庆广播电视大学", "成都广播电视大学",
        "260", "四川煤炭集团", "一带一路", "60分", "50%", "5年", "4学分", "6学分", "8学分",
        "4周", "20个工作日", "10个工作日", "免", "终身学习导论", "教育大数据应用", "巴蜀文化",
        "成渝智慧物流", "社区教育实务",
    ],
)  # fmt: skip
def test_chinese_facts(documents, fact):
    assert fact in _text(documents, "zh")


def test_staff_facts_are_in_staff_documents_only(documents):
    staff = _text(documents, "en", ("staff",))
    assert "200 yuan" in staff and "5 working days" in staff
    assert "200 yuan" not in _text(documents, "en")
    assert "200元" in _text(documents, "zh", ("staff",))


def test_sample_documents_are_marked(documents):
    assert {d.meta.topic for d in documents} >= {"credit", "courses", "staff", "charter"}
    for document in documents:
        if document.meta.topic in {"credit", "courses", "staff"}:
            assert document.meta.status == "sample", document.doc_id
        if document.meta.topic == "charter":
            assert document.meta.status == "official", document.doc_id
