"""Which files ingest sees, and the ones it refuses before reading them."""

import os

from ingest.discovery import discover


def test_supported_files_in_path_order_with_hashes(knowledge):
    (knowledge / "sub").mkdir()
    (knowledge / "sub" / "d.txt").write_text("text")
    found, errors = discover(knowledge, 10**6)
    assert [source.relpath for source in found] == ["a.md", "b.md", "c.md", "sub/d.txt"]
    assert errors == []
    assert len({source.hash for source in found}) == 4


def test_hidden_unsupported_and_sidecar_files_are_not_documents(knowledge):
    (knowledge / ".draft.md").write_text("x")
    (knowledge / ".git").mkdir()
    (knowledge / ".git" / "x.md").write_text("x")
    (knowledge / "image.png").write_bytes(b"\x89PNG")
    (knowledge / "a.md.meta.yaml").write_text("title: x")
    found, errors = discover(knowledge, 10**6)
    assert [source.relpath for source in found] == ["a.md", "b.md", "c.md"]
    assert errors == []


def test_sidecar_changes_change_the_hash(knowledge):
    before = {s.relpath: s.hash for s in discover(knowledge, 10**6)[0]}
    (knowledge / "a.md.meta.yaml").write_text("title: x")
    after = {s.relpath: s.hash for s in discover(knowledge, 10**6)[0]}
    assert before["a.md"] != after["a.md"] and before["b.md"] == after["b.md"]


def test_oversized_files_are_refused_unread(knowledge):
    (knowledge / "huge.md").write_bytes(b"x" * 2_000)
    found, errors = discover(knowledge, 1_000)
    assert "huge.md" not in [source.relpath for source in found]
    assert [(e.path, "over the" in e.error) for e in errors] == [("huge.md", True)]


def test_symlinks_out_of_the_folder_are_not_followed(knowledge, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("outside")
    os.symlink(secret, knowledge / "link.md")
    os.symlink(tmp_path, knowledge / "loop")
    os.symlink(knowledge / "a.md", knowledge / "inside.md")
    found, errors = discover(knowledge, 10**6)
    relpaths = [source.relpath for source in found]
    assert "link.md" not in relpaths and "inside.md" in relpaths
    reasons = {error.path: error.error for error in errors}
    assert "outside the knowledge folder" in reasons["link.md"]
    assert "not followed" in reasons["loop"]


def test_special_files_are_refused_without_blocking(knowledge):
    os.mkfifo(knowledge / "pipe.md")  # reading a FIFO would hang the run
    found, errors = discover(knowledge, 10**6)
    assert "pipe.md" not in [source.relpath for source in found]
    assert [(e.path, e.error) for e in errors] == [("pipe.md", "not a regular file")]


def test_dangling_symlink_is_reported(knowledge):
    os.symlink(knowledge / "gone.md", knowledge / "dangling.md")
    _, errors = discover(knowledge, 10**6)
    assert [error.path for error in errors] == ["dangling.md"]
