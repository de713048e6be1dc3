"""`python -m ingest` as an admin runs it: real model and files, the JSON contract, exit codes."""

import json
import shutil

import pytest
from conftest import KNOWLEDGE, markdown
from processes import run

from alliance.index_format import IndexLayout
from alliance.settings import Settings
from ingest import cli, pipeline
from ingest.vector_writer import VersionWriter

SUMMARY_KEYS = {"added", "updated", "removed", "unchanged", "chunks", "errors", "index_version"}


@pytest.fixture
def kb(tmp_path) -> Settings:
    shutil.copytree(KNOWLEDGE, tmp_path / "knowledge")
    return Settings(knowledge_dir=tmp_path / "knowledge", index_dir=tmp_path / "index")


def _summary(result) -> dict:
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(summary) == SUMMARY_KEYS
    return summary


def test_full_then_unchanged_then_changed_run_with_the_real_model(kb):
    first = run(["ingest", "--json"], kb)
    assert first.returncode == 0, first.stderr
    summary = _summary(first)
    files = len(list(KNOWLEDGE.rglob("*.md"))) + len(list(KNOWLEDGE.rglob("*.yaml")))
    assert (summary["added"], summary["errors"]) == (files, [])
    assert summary["chunks"] > 50 and summary["index_version"]
    assert "indexed:" in first.stderr  # the one-line summary
    assert "loading embedding model" in first.stderr

    again = run(["ingest", "--json"], kb)
    assert again.returncode == 0
    assert _summary(again)["unchanged"] == files
    assert _summary(again)["index_version"] == summary["index_version"]
    assert "loading embedding model" not in again.stderr  # nothing re-embedded

    (kb.knowledge_dir / "faq" / "learner-faq.en.md").unlink()
    (kb.knowledge_dir / "broken.md").write_text("---\naudience: [\n---\n")
    changed = run(["ingest", "--json"], kb)
    assert changed.returncode == 1
    result = _summary(changed)
    assert (result["removed"], result["unchanged"]) == (1, files - 1)
    assert result["errors"][0]["path"] == "broken.md" and "YAML" in result["errors"][0]["error"]
    assert result["index_version"] != summary["index_version"]


def test_dry_run_publishes_nothing(kb):
    result = run(["ingest", "--dry-run", "--json"], kb)
    assert result.returncode == 0 and _summary(result)["index_version"] is None
    assert not (kb.index_dir / "CURRENT").exists()


@pytest.mark.parametrize(
    ("args", "extra", "message"),
    [
        (["--knowledge", "/nonexistent/folder"], {}, "is not a folder"),
        (["--index", "/dev/null/index"], {}, "cannot write the index folder"),
        ([], {"CHUNK_SIZE": "lots"}, "invalid setting"),
        (["--bogus"], {}, "unrecognized arguments"),
    ],
)
def test_usage_and_configuration_errors_exit_2(kb, args, extra, message):
    result = run(["ingest", "--json", *args], kb, **extra)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (kb.index_dir / "CURRENT").exists()


def test_every_file_broken_exits_2_and_keeps_the_published_index(tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.md").write_text(markdown("A", "Alpha."))
    settings = Settings(knowledge_dir=folder, index_dir=tmp_path / "index")
    assert run(["ingest"], settings).returncode == 0
    version = (tmp_path / "index" / "CURRENT").read_text()
    (folder / "a.md").unlink()
    (folder / "b.md").write_bytes(b"\x00\x01 random bytes")
    result = run(["ingest", "--json"], settings)
    assert result.returncode == 2 and "no document could be indexed" in result.stderr
    assert (tmp_path / "index" / "CURRENT").read_text() == version


@pytest.fixture
def small_kb(tmp_path, monkeypatch) -> Settings:
    """A two-document knowledge base, named by the environment as an admin's shell would."""
    folder = tmp_path / "small"
    folder.mkdir()
    (folder / "a.md").write_text(markdown("Alpha", "## One\n\nAlpha text about credits."))
    (folder / "b.md").write_text(markdown("Beta", "## Two\n\nBeta text about courses."))
    monkeypatch.setenv("KNOWLEDGE_DIR", str(folder))
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "small-index"))
    return Settings(knowledge_dir=folder, index_dir=tmp_path / "small-index")


def _last_json(out: str) -> dict:
    summary = json.loads(out.strip().splitlines()[-1])
    assert set(summary) == SUMMARY_KEYS
    return summary


def test_a_failure_while_writing_exits_2_with_the_summary_and_publishes_nothing(
    small_kb, monkeypatch, capsys, caplog
):
    assert cli.main(["--json"]) == 0
    published = _last_json(capsys.readouterr().out)["index_version"]
    (small_kb.knowledge_dir / "c.md").write_text(markdown("Gamma", "Gamma text."))

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(VersionWriter, "add", disk_full)
    assert cli.main(["--json"]) == 2
    out, err = capsys.readouterr()
    summary = _last_json(out)
    [error] = summary["errors"]
    assert error["path"] == "" and "No space left on device" in error["error"]
    assert summary["index_version"] == published and summary["added"] == 0
    assert "nothing was published" in err
    assert "Traceback" in caplog.text  # the unexpected failure, logged with its traceback
    layout = IndexLayout(small_kb.index_dir)
    assert layout.current_version() == published
    assert [p.name for p in layout.versions.iterdir()] == [published]  # the failed one removed


def test_cleanup_failing_after_a_publish_is_only_logged(small_kb, monkeypatch, capsys, caplog):
    assert cli.main(["--json"]) == 0
    capsys.readouterr()
    (small_kb.knowledge_dir / "c.md").write_text(markdown("Gamma", "Gamma text."))

    def stuck(*args, **kwargs):
        raise PermissionError("old version folder is busy")

    monkeypatch.setattr(pipeline, "remove_stale_versions", stuck)
    assert cli.main(["--json"]) == 0
    summary = _last_json(capsys.readouterr().out)
    assert summary["added"] == 1 and summary["errors"] == []
    assert IndexLayout(small_kb.index_dir).current_version() == summary["index_version"]
    assert "removing older index versions failed" in caplog.text
