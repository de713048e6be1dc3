"""Every loader on real files, and every bad-input case reported with a reason."""

from pathlib import Path

import pytest
from conftest import KNOWLEDGE, markdown
from sample_files import make_docx, make_pdf

from ingest.documents import LoadError
from ingest.loaders import load_file

SIDECAR = """title: Handbook
topic: staff
audience: staff
lang: en
status: sample
source: test
updated: 2026-11-28
"""


def _load(tmp_path: Path, name: str, data: bytes | str, sidecar: str | None = None):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if sidecar is not None:
        (tmp_path / f"{name}.meta.yaml").write_text(sidecar)
    return load_file(path, name, path.read_bytes())


def test_markdown_with_front_matter(tmp_path):
    [document] = _load(tmp_path, "a.md", markdown("Alpha", "## One\n\nText.", "staff", "zh"))
    assert (document.meta.title, document.meta.audience, document.meta.lang) == (
        "Alpha",
        "staff",
        "zh",
    )
    assert document.body.startswith("# Alpha") and "Text." in document.body
    assert document.doc_id == document.path == "a.md"


def test_utf8_bom_is_accepted(tmp_path):
    [document] = _load(tmp_path, "a.md", "\ufeff" + markdown("Alpha", "Text."))
    assert document.meta.title == "Alpha"


def test_plain_text_with_sidecar_metadata(tmp_path):
    [document] = _load(tmp_path, "notes.txt", "Visiting teachers are paid.", SIDECAR)
    assert document.meta.audience == "staff" and "Visiting" in document.body


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("---\ntitle: A\n", "never closed"),
        ("---\ntitle: [unclosed\n---\nbody", "not valid YAML"),
        ("---\n- a list\n---\nbody", "must be a mapping"),
        (markdown("A", "x").replace("audience: public", "audience: everyone"), "audience"),
        (markdown("A", "x").replace("lang: en\n", ""), "lang: Field required"),
        (markdown("A", "x").replace("topic: faq", "topic: faq\naudiance: staff"), "audiance"),
        (markdown("A", "x").replace("updated: 2026-11-28", "updated: yesterday"), "updated"),
        (markdown("A", "").replace("# A", ""), "no text"),
        ("No front matter at all.", "no metadata"),
    ],
)
def test_bad_front_matter_is_a_clear_error(tmp_path, text, reason):
    with pytest.raises(LoadError, match=reason):
        _load(tmp_path, "bad.md", text)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"   \n\t\n", "empty file"),
        (b"---\ntitle: \xff\xfe\n---\n", "not valid UTF-8"),
        (b"abc\x00def", "binary content"),
    ],
)
def test_unreadable_text_is_a_clear_error(tmp_path, data, reason):
    with pytest.raises(LoadError, match=reason):
        _load(tmp_path, "bad.md", data)


def test_html_headings_become_sections_and_scripts_are_dropped(tmp_path):
    html = (
        "<html><head><title>x</title><script>alert('no')</script></head><body>"
        "<h2>Allowance</h2><p>200 yuan per class hour.</p><nav>menu</nav></body></html>"
    )
    [document] = _load(tmp_path, "page.html", html, SIDECAR)
    assert "## Allowance" in document.body and "200 yuan" in document.body
    assert "alert" not in document.body and "menu" not in document.body


def test_pdf_pages_become_sections(tmp_path):
    data = make_pdf(["Teaching allowance\n200 yuan per class hour", "Checks within 5 working days"])
    [document] = _load(tmp_path, "handbook.pdf", data, SIDECAR)
    assert "## Page 1" in document.body and "## Page 2" in document.body
    assert "200 yuan per class hour" in document.body


def test_docx_headings_paragraphs_and_tables(tmp_path):
    data = make_docx("Allowances", ["Visiting teachers get 200 yuan."], [["Level", "Credits"]])
    [document] = _load(tmp_path, "handbook.docx", data, SIDECAR)
    assert "# Allowances" in document.body
    assert "200 yuan" in document.body and "Level | Credits" in document.body


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("cut.pdf", make_pdf(["Some text here"])[:60], "PDF"),
        ("noise.pdf", b"%PDF-1.4\n" + bytes(range(1, 256)) * 20, "PDF"),
        ("cut.docx", make_docx("H", ["text"])[:200], "DOCX"),
        ("noise.docx", b"PK\x03\x04 not really a zip", "DOCX"),
        ("empty.pdf", make_pdf([""]), "no extractable text"),
    ],
)
def test_corrupt_binary_documents_are_clear_errors(tmp_path, name, data, reason):
    with pytest.raises(LoadError, match=reason):
        _load(tmp_path, name, data, SIDECAR)


def test_binary_without_metadata_says_how_to_add_it(tmp_path):
    with pytest.raises(LoadError, match=r"handbook.pdf.meta.yaml"):
        _load(tmp_path, "handbook.pdf", make_pdf(["text"]))


def test_bad_sidecar_is_a_clear_error(tmp_path):
    with pytest.raises(LoadError, match="audience"):
        _load(tmp_path, "a.txt", "text", SIDECAR.replace("audience: staff", "audience: all"))


def test_shipped_catalogue_gives_one_document_per_course_and_language():
    path = KNOWLEDGE / "courses" / "shared-course-catalogue.yaml"
    documents = load_file(path, "courses/shared-course-catalogue.yaml", path.read_bytes())
    codes = {document.extra["course_code"] for document in documents}
    assert codes >= {"SC-101", "CQ-210", "CD-115", "CQ-320", "SC-230"}
    assert len(documents) == 2 * len(codes)
    english = next(d for d in documents if d.doc_id.endswith("#CD-115@en"))
    assert english.meta.status == "sample" and english.meta.lang == "en"
    assert "Chengdu RTVU" in english.body and "blended" in english.body
    assert "spring" in english.body and "CD-115 is worth 2 credits" in english.body
    chinese = next(d for d in documents if d.doc_id.endswith("#CD-115@zh"))
    assert "巴蜀文化" in chinese.body and "成都广播电视大学" in chinese.body
    shared = ("course_code", "provider", "credits", "mode", "semester")
    assert [english.extra[k] for k in shared] == [chinese.extra[k] for k in shared]
    assert english.extra["credits"] == 2 and english.extra["semester"] == "spring"
    assert (english.extra["provider_name"], chinese.extra["provider_name"]) == (
        "Chengdu RTVU",
        "成都广播电视大学",
    )
    assert chinese.extra["semester_label"] == "春季学期"


CATALOGUE = (KNOWLEDGE / "courses" / "shared-course-catalogue.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("courses: [", "not valid YAML"),
        ("title: just a mapping", "must be a course catalogue"),
        (CATALOGUE.replace("provider: chengdu", "provider: nowhere"), "unknown provider"),
        (CATALOGUE.replace("credits: 4", "credits: many"), "credits"),
        (CATALOGUE.replace("code: CQ-320", "code: SC-101"), "unique"),
        (CATALOGUE.replace("mode: online", "mode: telepathy", 1), "mode"),
    ],
)
def test_bad_catalogue_is_a_clear_error(tmp_path, text, reason):
    with pytest.raises(LoadError, match=reason):
        _load(tmp_path, "catalogue.yaml", text)
