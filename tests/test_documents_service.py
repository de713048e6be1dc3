"""The knowledge folder as admins manage it (bot.services.documents): uploads named safely,
checked by content, loaded before they are kept; and the listing of what is indexed."""

import io
import zipfile

import pytest

from bot.services.documents import (
    UploadError,
    add_document,
    check_content,
    documents,
    upload_name,
)
from ingest.pipeline import run_ingest

FIELDS = {
    "title": "Library hours",
    "topic": "faq",
    "audience": "public",
    "lang": "en",
    "status": "official",
    "source": "test",
}


@pytest.mark.parametrize(
    "name",
    [
        "../x.md",
        "a/b.md",
        "a\\b.md",
        ".env",
        ".x.md",
        "-rf.md",
        "x.md\0.txt",
        "noext",
        "x.tar.gz",
        "x.exe",
        "x.MD.exe",
        "",
        " ",
        "a" * 101 + ".md",
        "x.yaml",
    ],
)
def test_unsafe_or_unsupported_names_are_refused(name):
    with pytest.raises(UploadError):
        upload_name(name)


@pytest.mark.parametrize("name", ["notes.md", "学分 规则.txt", "Report_2026-12.PDF", "page.htm"])
def test_document_names_in_any_script_are_kept(name):
    assert upload_name(name) == name


def _docx() -> bytes:
    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_heading("Library", level=1)
    document.add_paragraph("The library opens at nine.")
    document.save(buffer)
    return buffer.getvalue()


def test_content_must_match_the_name():
    limit = 1_000_000
    check_content("a.docx", _docx(), limit)
    check_content("a.md", "# 标题\n\n正文".encode(), limit)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("other.txt", "x")
    for name, data in [
        ("a.docx", zipped.getvalue()),
        ("a.pdf", b"<html>"),
        ("a.md", b"\xff\xfe"),
        ("a.md", b"x" * (limit + 1)),
    ]:
        with pytest.raises(UploadError):
            check_content(name, data, limit)


def test_an_upload_is_kept_with_its_metadata_and_listed_once_indexed(settings, real_embeddings):
    path = add_document(settings, "hours.md", b"# Hours\n\nOpen until 21:30.", FIELDS)
    assert path == "uploads/hours.md"
    kept = settings.knowledge_dir / "uploads"
    assert sorted(p.name for p in kept.iterdir()) == ["hours.md", "hours.md.meta.yaml"]
    listed, version = documents(settings)
    entry = next(item for item in listed if item.path == path)
    assert entry.meta is not None and entry.meta.title == "Library hours"
    assert entry.chunks == 0 and not entry.indexed
    run_ingest(settings, embeddings_factory=lambda _: real_embeddings)
    listed, version = documents(settings)
    entry = next(item for item in listed if item.path == path)
    assert version and entry.chunks >= 1 and entry.indexed
    with pytest.raises(UploadError, match="exists"):
        add_document(settings, "hours.md", b"# Hours\n\nOpen until 22:00.", FIELDS)
    add_document(settings, "hours.md", b"# Hours\n\nOpen until 22:00.", FIELDS, replace=True)
    assert "22:00" in (kept / "hours.md").read_text()
    listed, _ = documents(settings)
    assert not next(item for item in listed if item.path == path).indexed  # changed since


def test_a_file_that_cannot_be_loaded_leaves_nothing_behind(settings):
    with pytest.raises(UploadError, match="cannot be indexed"):
        add_document(settings, "broken.pdf", b"%PDF-1.7\nnot really", FIELDS)
    with pytest.raises(UploadError, match="audience"):
        add_document(settings, "fine.md", b"# Fine\n\ntext", {**FIELDS, "audience": "all"})
    kept = settings.knowledge_dir / "uploads"
    assert not kept.exists() or list(kept.iterdir()) == []
