"""Retrieval over the shipped knowledge base with the real model and a real Chroma index."""

import pytest

from alliance.index_format import KeywordEntry
from bot.engine.keyword_search import KeywordIndex
from bot.engine.retrieval import PublishedIndex, Retriever, reciprocal_rank_fusion


@pytest.fixture(scope="module")
def retriever(shipped_index, real_embeddings):
    return Retriever(PublishedIndex.load(shipped_index), real_embeddings)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When was the alliance established?", "8 June 2020"),
        ("联盟是什么时候成立的？", "2020年6月8日"),
        ("Who initiated the alliance?", "Chengdu RTVU"),
        ("联盟由哪些学校发起？", "成都广播电视大学"),
        ("What score do I need for shared-course credits to be recognised?", "60"),
        ("学分认定收费吗？", "免收费用"),
        ("How many credits is a technician certificate worth?", "6 credits"),
        ("技师证书可以换多少学分？", "6学分"),
        ("秋季有哪些共享课程？", "秋季学期"),
    ],
)
def test_questions_find_the_passage_that_answers_them(retriever, question, expected):
    passages = retriever.search(question, "learner", 4)
    assert any(expected in p.text for p in passages[:3]), [p.text[:80] for p in passages]


def test_learners_never_retrieve_staff_chunks(retriever):
    for question in [
        "teaching allowance per class hour",
        "员工手册 教务员 审核",
        "branch operations handbook",
    ]:
        found = retriever.search(question, "learner", 20)
        assert found and all(p.metadata["audience"] == "public" for p in found)


def test_staff_see_the_staff_handbook(retriever):
    passages = retriever.search(
        "teaching allowance for a visiting teacher per class hour", "staff", 4
    )
    assert any("200 yuan" in p.text and p.metadata["audience"] == "staff" for p in passages)


def test_course_catalogue_is_searchable(retriever):
    passages = retriever.search("巴蜀文化课程几个学分？", "learner", 4)
    assert passages[0].metadata.get("course_code") == "CD-115"


def test_passages_carry_their_sources(retriever):
    [top, *_] = retriever.search("When was the alliance established?", "learner", 4)
    source = top.source
    assert source.title and source.path.endswith(".md") and source.audience == "public"
    assert source.status in {"official", "sample"}


def test_keyword_index_ranks_by_bm25_and_filters_audience():
    index = KeywordIndex(
        [
            KeywordEntry("a", "public", "en", ["credit", "bank", "credit"]),
            KeywordEntry("b", "public", "en", ["credit", "course", "course", "course"]),
            KeywordEntry("c", "staff", "en", ["credit", "credit", "credit", "allowance"]),
        ]
    )
    assert [i for i, _ in index.search(["credit", "bank"], ["public"], 5)] == ["a", "b"]
    assert index.search(["allowance"], ["public"], 5) == []
    assert [i for i, _ in index.search(["allowance"], ["public", "staff"], 5)] == ["c"]
    assert index.search(["unknown"], ["public"], 5) == []
    assert KeywordIndex([]).search(["credit"], ["public"], 5) == []


def test_reciprocal_rank_fusion_weighs_rankings():
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "c"]], [1.0, 1.0])
    assert [item for item, _ in fused] == ["b", "a", "c"]
    fused = reciprocal_rank_fusion([["a", "b"], ["c"]], [1.0, 3.0])
    assert [item for item, _ in fused] == ["c", "a", "b"]
    assert reciprocal_rank_fusion([["a"], ["b"]], [0.0, 1.0])[0][0] == "b"
