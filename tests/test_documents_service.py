"""The knowledge folder as admins manage it (bot.services.documents): uploads named safely,
checked by content, loaded before they are kept; and the listing of what is indexed."""

import io
import zipfile

import pytest

from bot.services.documents import (
    DocumentError,
    UploadError,
    add_document,
    check_content,
    delete_document,
    documents,
    set_enabled,
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
    assert entry.about.title == "Library hours" and entry.about.languages == "en"
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


def test_the_glossary_and_the_catalogue_are_listed_as_what_they_are(shipped_settings):
    listed, _ = documents(shipped_settings)
    by_path = {item.path: item.about for item in listed}
    glossary = by_path["glossary/glossary.yaml"]
    assert (glossary.kind, glossary.title, glossary.error) == (
        "glossary",
        "Alliance glossary",
        None,
    )
    catalogue = by_path["courses/shared-course-catalogue.yaml"]
    assert catalogue.kind == "catalogue" and catalogue.languages == "en, zh"
    assert catalogue.title == "Shared course catalogue / 共享课程目录"
    assert catalogue.documents >= 10 and catalogue.error is None
    assert by_path["charter/alliance-charter.zh.md"].languages == "zh"
    assert not any(item.about.error for item in listed)


def test_a_disabled_document_leaves_the_index_and_comes_back_and_a_deleted_one_is_gone(
    settings, real_embeddings
):
    (settings.knowledge_dir / "uploads").mkdir()
    add_document(settings, "hours.md", b"# Hours\n\nOpen until 21:30.", FIELDS)

    def state() -> dict[str, tuple[bool, bool]]:
        return {i.path: (i.disabled, i.indexed) for i in documents(settings)[0]}

    run_ingest(settings, embeddings_factory=lambda _: real_embeddings)
    assert state()["uploads/hours.md"] == (False, True)
    set_enabled(settings, "uploads/hours.md", False)
    kept = settings.knowledge_dir / ".disabled" / "uploads"
    assert sorted(p.name for p in kept.iterdir()) == ["hours.md", "hours.md.meta.yaml"]
    summary = run_ingest(settings, embeddings_factory=lambda _: real_embeddings)
    assert summary.removed == 1 and state()["uploads/hours.md"] == (True, False)
    with pytest.raises(DocumentError):
        set_enabled(settings, "uploads/hours.md", False)  # disabled already
    set_enabled(settings, "uploads/hours.md", True)
    assert run_ingest(settings, embeddings_factory=lambda _: real_embeddings).added == 1
    delete_document(settings, "a.md", disabled=False)
    assert "a.md" not in state() and not (settings.knowledge_dir / "a.md").exists()


@pytest.mark.parametrize(
    "path", ["", "../outside.md", "/etc/passwd", "uploads/../../outside.md", "missing.md", "x\0y"]
)
def test_paths_outside_the_folder_or_missing_change_nothing(settings, path):
    (settings.knowledge_dir.parent / "outside.md").write_text("# Outside\n\nkeep me")
    (settings.knowledge_dir / "linked.md").symlink_to(settings.knowledge_dir.parent / "outside.md")
    for change in (
        lambda p: set_enabled(settings, p, False),
        lambda p: set_enabled(settings, p, True),
        lambda p: delete_document(settings, p, disabled=False),
    ):
        for target in (path, "linked.md"):
            with pytest.raises(DocumentError):
                change(target)
    assert (settings.knowledge_dir.parent / "outside.md").read_text() == "# Outside\n\nkeep me"
    assert sorted(p.name for p in settings.knowledge_dir.iterdir()) == [
        "a.md",
        "b.md",
        "c.md",
        "linked.md",
    ]
