from datetime import date

from ingest.chunking import chunk_document, chunk_id, estimate_tokens, sections, split_text
from ingest.documents import Document, DocumentMeta


def _document(body: str, lang: str = "en") -> Document:
    meta = DocumentMeta(
        title="Rules", topic="credit", audience="public", lang=lang, status="sample",
        source="test", updated=date(2026, 11, 28),
    )  # fmt: skip
    return Document(doc_id="rules.md", path="rules.md", meta=meta, body=body)


def test_sections_follow_heading_paths_and_drop_the_title_heading():
    body = (
        "# Rules\n\nIntro.\n\n## Part A\n\nA text.\n\n### Detail\n\nD text.\n\n## Part B\n\nB text."
    )
    assert sections(body, "Rules") == [
        ("", "Intro."),
        ("Part A", "A text."),
        ("Part A › Detail", "D text."),
        ("Part B", "B text."),
    ]


def test_headings_inside_code_fences_are_text():
    body = "## Real\n\n```\n# not a heading\n```\n"
    assert [name for name, _ in sections(body, "T")] == ["Real"]


def test_chinese_articles_start_new_chunks():
    text = "第一条 学分认定。成绩60分以上。\n第二条 上限。不超过50%。\n第十二条 附则。"
    assert split_text(text, 300, 30) == [
        "第一条 学分认定。成绩60分以上。",
        "第二条 上限。不超过50%。",
        "第十二条 附则。",
    ]


def test_english_articles_start_new_chunks():
    text = "Article 1 Scores of 60 pass.\nArticle 2 At most half."
    assert split_text(text, 300, 30) == ["Article 1 Scores of 60 pass.", "Article 2 At most half."]


def test_long_chinese_text_splits_at_sentence_ends_within_the_limit():
    sentence = "学习者通过所属分校申请学分认定并在二十个工作日内得到结果。"
    pieces = split_text(sentence * 30, 100, 10)
    assert len(pieces) > 5
    assert all(estimate_tokens(piece) <= 100 for piece in pieces)
    assert all(piece.endswith("。") for piece in pieces)


def test_long_english_text_splits_within_the_limit():
    pieces = split_text("Credits transfer within five years of being earned. " * 80, 60, 10)
    assert len(pieces) > 5
    assert all(estimate_tokens(piece) <= 60 for piece in pieces)
    assert all(piece.endswith(".") for piece in pieces)


def test_chunks_carry_metadata_and_stable_ids():
    document = _document("## Article 1\n\nScores of 60 pass.\n\n## Article 2\n\nAt most half.")
    chunks = chunk_document(document, "hash1", 300, 30)
    assert [chunk.metadata["section"] for chunk in chunks] == ["Article 1", "Article 2"]
    first = chunks[0].metadata
    assert (first["title"], first["audience"], first["lang"], first["status"]) == (
        "Rules", "public", "en", "sample",
    )  # fmt: skip
    assert first["updated"] == "2026-11-28" and first["path"] == "rules.md"
    assert chunks[0].embedding_text.startswith("Rules › Article 1\n")
    assert [c.id for c in chunk_document(document, "hash1", 300, 30)] == [c.id for c in chunks]
    assert chunk_document(document, "hash2", 300, 30)[0].id != chunks[0].id
    assert chunk_id("a", "h", 0) != chunk_id("b", "h", 0)


def test_estimate_tokens_counts_chinese_characters_one_each():
    assert estimate_tokens("学分银行") == 4
    assert estimate_tokens("abcdefgh") == 2
