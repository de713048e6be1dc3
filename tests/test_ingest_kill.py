"""Ingest killed with SIGKILL mid-run: the previous version serves on; the next run completes."""

import random
import shutil
import time

import pytest
from conftest import KNOWLEDGE, markdown
from processes import run, start

from alliance.index_format import IndexLayout
from alliance.settings import Settings
from bot.retrieval import PublishedIndex, Retriever
from ingest.pipeline import run_ingest

EXTRA_DOCUMENTS = 60


@pytest.fixture
def published(tmp_path, real_embeddings) -> Settings:
    shutil.copytree(KNOWLEDGE, tmp_path / "knowledge")
    settings = Settings(knowledge_dir=tmp_path / "knowledge", index_dir=tmp_path / "index")
    run_ingest(settings, embeddings_factory=lambda _: real_embeddings)
    # Enough new text that the next run spends seconds embedding and writing.
    for number in range(EXTRA_DOCUMENTS):
        body = f"## Topic {number}\n\n" + f"Branch notice {number} about weekend sessions. " * 40
        (settings.knowledge_dir / f"notice-{number}.md").write_text(
            markdown(f"Notice {number}", body)
        )
    return settings


def _still_serving(settings, real_embeddings, version):
    layout = IndexLayout(settings.index_dir)
    assert layout.current_version() == version
    retriever = Retriever(PublishedIndex.load(settings), real_embeddings)
    [top, *_] = retriever.search("When was the alliance established?", "learner", 4)
    assert "2020" in top.text


def _kill_when(process, condition, timeout=120.0) -> bool:
    """SIGKILL the process once `condition` holds; False if it had already finished."""
    deadline = time.monotonic() + timeout
    while not condition() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    finished = process.poll() is not None
    process.kill()
    process.wait()
    return not finished


def _after(seconds: float, once=lambda: True):
    """A condition that holds from `seconds` after `once` first held."""
    since = None

    def condition() -> bool:
        nonlocal since
        if since is None and once():
            since = time.monotonic()
        return since is not None and time.monotonic() - since >= seconds

    return condition


def test_killed_runs_leave_the_previous_version_serving(published, real_embeddings, tmp_path):
    layout = IndexLayout(published.index_dir)
    version = layout.current_version()
    log = tmp_path / "ingest.log"

    def writing() -> bool:
        return len(list(layout.versions.iterdir())) > 1

    started = time.monotonic()
    assert _kill_when(start(["ingest"], published, log), writing)
    _still_serving(published, real_embeddings, version)
    window = time.monotonic() - started  # model load and embedding
    rng = random.Random(20200608)
    early = [_after(rng.uniform(0.3, window)) for _ in range(2)]
    late = [_after(rng.uniform(0, 0.05), once=writing) for _ in range(2)]
    for condition in early + late:
        assert _kill_when(start(["ingest"], published, log), condition), "finished before the kill"
        _still_serving(published, real_embeddings, version)

    finished = run(["ingest", "--json"], published)
    assert finished.returncode == 0, finished.stderr
    new_version = layout.current_version()
    assert new_version != version
    assert {p.name for p in layout.versions.iterdir()} == {version, new_version}
    retriever = Retriever(PublishedIndex.load(published), real_embeddings)
    found = retriever.search("Branch notice 7", "learner", 4)
    assert any(p.metadata["title"] == "Notice 7" for p in found)
