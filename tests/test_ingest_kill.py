"""Ingest killed with SIGKILL at random moments over many trials: the published index is always
a complete one (the previous version, or none before the first build) and the next run
completes. The moments are drawn over a whole run, timed first on a copy, and two thirds of them
within its writing and publishing stretch, counted from when each run starts writing.
INGEST_KILL_TRIALS sets the number of trials (4 by default, a new seed each run; more for a
release), and INGEST_KILL_SEED replays a failed draw."""

import os
import random
import shutil
import subprocess
import time
from dataclasses import dataclass

import pytest
from conftest import KNOWLEDGE, copy_of, markdown
from processes import run, start

from alliance.index_format import IndexLayout
from alliance.settings import Settings
from bot.engine.retrieval import PublishedIndex, Retriever

EXTRA_DOCUMENTS = 10
TRIALS = int(os.environ.get("INGEST_KILL_TRIALS", "4"))
SEED = int(os.environ.get("INGEST_KILL_SEED", str(random.randrange(1_000_000))))


@dataclass(frozen=True)
class RunTimes:
    writing_from: float  # seconds from start until the new version's folder appears
    total: float  # seconds from start until the process exits


def _settings(root) -> Settings:
    return Settings(knowledge_dir=root / "knowledge", index_dir=root / "index")


def _add_documents(settings: Settings) -> None:
    """Enough new text that a run spends seconds embedding and writing."""
    for number in range(EXTRA_DOCUMENTS):
        body = f"## Topic {number}\n\n" + f"Branch notice {number} about weekend sessions. " * 40
        (settings.knowledge_dir / f"notice-{number}.md").write_text(
            markdown(f"Notice {number}", body)
        )


@pytest.fixture
def published(shipped_index, tmp_path) -> Settings:
    settings = copy_of(shipped_index, tmp_path)
    _add_documents(settings)
    return settings


def _versions(layout: IndexLayout) -> set[str]:
    return {p.name for p in layout.versions.iterdir()} if layout.versions.exists() else set()


def _time_a_run(settings: Settings, folder) -> RunTimes:
    """Run ingest to the end on a copy, noting when it starts writing its new version."""
    shutil.copytree(settings.knowledge_dir, folder / "knowledge")
    if settings.index_dir.exists():
        shutil.copytree(settings.index_dir, folder / "index")
    copy = _settings(folder)
    layout, before = IndexLayout(copy.index_dir), _versions(IndexLayout(copy.index_dir))
    started = time.monotonic()
    process = start(["ingest"], copy, folder / "ingest.log")
    writing_from = None
    while process.poll() is None:
        if writing_from is None and _versions(layout) - before:
            writing_from = time.monotonic() - started
        time.sleep(0.005)
    total = time.monotonic() - started
    assert process.returncode == 0, (folder / "ingest.log").read_text()[-2000:]
    return RunTimes(writing_from or total, total)


def _moments(times: RunTimes, rng: random.Random) -> list[tuple[bool, float]]:
    """(from writing, seconds): a third from the start of a run, anywhere in it; the rest from
    the moment the run starts writing (seen when it happens, so timing noise between runs
    cannot move them out of the writing stretch, where a kill can do harm), anywhere in that
    stretch."""
    stretch = times.total - times.writing_from
    anywhere = [(False, rng.uniform(0.05, times.total)) for _ in range(TRIALS // 3)]
    writing = [(True, rng.uniform(0, stretch)) for _ in range(TRIALS - TRIALS // 3)]
    return anywhere + writing


def _kill_after(settings: Settings, seconds: float, log, from_writing: bool = False) -> bool:
    """Start ingest and SIGKILL it `seconds` later (after it starts writing its new version,
    if `from_writing`); False if it had finished by then."""
    layout = IndexLayout(settings.index_dir)
    before = _versions(layout)
    process = start(["ingest"], settings, log)
    while from_writing and process.poll() is None and not _versions(layout) - before:
        time.sleep(0.005)
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return True


def _serving(settings: Settings, real_embeddings) -> str:
    """The published version, after checking it loads and answers (a complete index)."""
    retriever = Retriever(PublishedIndex.load(settings), real_embeddings)
    [top, *_] = retriever.search("When was the alliance established?", "learner", 4)
    assert "2020" in top.text
    return IndexLayout(settings.index_dir).published_version()


def test_killed_runs_leave_the_previous_version_serving(published, real_embeddings, tmp_path):
    layout = IndexLayout(published.index_dir)
    version = layout.current_version()
    shutil.copytree(published.index_dir, tmp_path / "before")
    times = _time_a_run(published, tmp_path / "timed")
    assert times.writing_from < times.total, times  # the timed run saw its writing begin
    moments = _moments(times, random.Random(SEED))
    shown = [f"{'writing+' if w else ''}{m:.2f}" for w, m in moments]
    context = f"seed {SEED}, run {times}, kills at {shown}"
    killed = {"before writing": 0, "writing or publishing": 0, "after it finished": 0}
    for from_writing, moment in moments:
        if not _kill_after(published, moment, tmp_path / "ingest.log", from_writing):
            killed["after it finished"] += 1
        elif not from_writing and moment < times.writing_from:
            killed["before writing"] += 1
        else:
            killed["writing or publishing"] += 1
        if _serving(published, real_embeddings) != version:
            # It published before the kill (a complete new version): start the next trial
            # from the previous one again.
            shutil.rmtree(published.index_dir)
            shutil.copytree(tmp_path / "before", published.index_dir)
    print(f"{context}: {killed}")  # shown with pytest -s
    assert killed["after it finished"] <= TRIALS // 2, f"most runs finished first ({context})"
    assert killed["writing or publishing"] >= 1, f"no kill landed while writing ({context})"

    finished = run(["ingest", "--json"], published)
    assert finished.returncode == 0, finished.stderr
    new_version = layout.current_version()
    assert new_version != version
    assert _versions(layout) == {version, new_version}, context  # killed runs' folders removed
    retriever = Retriever(PublishedIndex.load(published), real_embeddings)
    found = retriever.search("Branch notice 7", "learner", 4)
    assert any(p.metadata["title"] == "Notice 7" for p in found)


def test_a_killed_first_build_publishes_nothing_and_the_next_builds(tmp_path, real_embeddings):
    shutil.copytree(KNOWLEDGE / "charter", tmp_path / "knowledge" / "charter")
    settings = _settings(tmp_path)
    _add_documents(settings)  # the charter alone is written in a moment
    times = _time_a_run(settings, tmp_path / "timed")
    rng = random.Random(SEED)
    kills = 0
    for _ in range(3):
        moment = rng.uniform(0.05, times.writing_from)
        kills += _kill_after(settings, moment, tmp_path / "ingest.log")
        if IndexLayout(settings.index_dir).current_version() is not None:  # published in time
            _serving(settings, real_embeddings)
            shutil.rmtree(settings.index_dir)
    assert kills, f"every run finished before its kill ({times})"
    assert run(["ingest"], settings).returncode == 0
    assert _serving(settings, real_embeddings)
    assert len(_versions(IndexLayout(settings.index_dir))) == 1
