"""The index on a real Chroma server (`chroma run` on 127.0.0.1), the scale-out path."""

import logging
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import markdown
from fakes import FakeEmbeddings
from processes import free_port, stop

from alliance.index_format import IndexLayout, IndexUnavailableError, open_client
from bot.engine.answering import Engine
from bot.engine.factory import build_engine
from bot.engine.results import Passage
from bot.engine.retrieval import PublishedIndex, Retriever
from ingest.pipeline import run_ingest


def _start_server(data: Path, port: int) -> subprocess.Popen:
    """`chroma run` on 127.0.0.1, once its heartbeat answers; the test fails if it cannot
    start (chromadb, a dependency, installs the command beside this Python)."""
    chroma = Path(sys.executable).with_name("chroma")
    with (data / "server.log").open("a") as log:
        process = subprocess.Popen(
            [str(chroma), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port",
             str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(
                    f"the Chroma server could not start: {(data / 'server.log').read_text()[-500:]}"
                )
            time.sleep(0.2)


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    port = free_port()
    process = _start_server(tmp_path_factory.mktemp("chroma-server"), port)
    yield port
    stop(process)


def test_ingest_and_search_through_a_chroma_server(chroma_server, settings, knowledge):
    server = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": chroma_server})
    embeddings = FakeEmbeddings()
    first = run_ingest(server, embeddings_factory=lambda _: embeddings)
    assert first.added == 3 and first.index_version is not None
    version = first.index_version
    layout = IndexLayout(server.index_dir)
    manifest = layout.read_manifest(version)
    assert manifest.store == {"kind": "server", "collection": f"alliance-{version}"}
    assert not layout.chroma_path(version).exists()  # vectors live on the server

    retriever = Retriever(PublishedIndex.load(server), embeddings)
    [top, *_] = retriever.search("Alpha › One\nAlpha text about credits.", "learner", 3)
    assert top.metadata["path"] == "a.md"
    found = retriever.search("员工手册", "learner", 3)
    assert found and all(p.metadata["audience"] == "public" for p in found)

    (knowledge / "d.md").write_text(markdown("Delta", "Delta text."))
    second = run_ingest(server, embeddings_factory=lambda _: embeddings)
    assert (second.added, second.unchanged) == (1, 3)
    (knowledge / "e.md").write_text(markdown("Epsilon", "Epsilon text."))
    third = run_ingest(server, embeddings_factory=lambda _: embeddings)
    client = open_client(server, layout, "", "server")
    names = {c.name for c in client.list_collections() if c.name.startswith("alliance-")}
    assert names == {f"alliance-{second.index_version}", f"alliance-{third.index_version}"}
    assert client.get_collection(f"alliance-{third.index_version}").count() == 5


def test_switching_from_local_to_server_re_embeds(chroma_server, settings):
    run_ingest(settings, embeddings_factory=lambda _: FakeEmbeddings())
    server = settings.model_copy(
        update={
            "chroma_host": "127.0.0.1",
            "chroma_port": chroma_server,
            "chroma_collection_prefix": "moved",
        }
    )
    embeddings = FakeEmbeddings()
    summary = run_ingest(server, embeddings_factory=lambda _: embeddings)
    chunks = [text for text in embeddings.embedded if "\n" in text]  # a chunk has headings
    assert summary.updated == 3 and len(chunks) == 3


def test_unreachable_server_is_a_clear_error(settings):
    server = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": free_port()})
    with pytest.raises(IndexUnavailableError, match="Could not connect"):
        run_ingest(server, embeddings_factory=lambda _: FakeEmbeddings())
    assert IndexLayout(server.index_dir).current_version() is None


async def test_answers_go_on_while_the_server_is_down_and_new_versions_follow_it_back(
    settings, knowledge, tmp_path
):
    port = free_port()
    server = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": port})
    embeddings = FakeEmbeddings()
    process = _start_server(tmp_path, port)
    try:
        run_ingest(server, embeddings_factory=lambda _: embeddings)
        engine = Engine(server, Retriever(PublishedIndex.load(server), embeddings))
        stop(process)

        # The engine holds the published version in memory: questions are still answered.
        [top, *_] = _search(engine, "Alpha text about credits")
        assert top.metadata["path"] == "a.md"
        # A re-ingest meanwhile fails clearly and publishes nothing.
        (knowledge / "d.md").write_text(markdown("Delta", "## Four\n\nDelta text about badges."))
        with pytest.raises(IndexUnavailableError, match="Could not connect"):
            run_ingest(server, embeddings_factory=lambda _: embeddings)
        await engine.refresh()
        old_version = engine.index_version

        process = _start_server(tmp_path, port)  # back, with its data
        run_ingest(server, embeddings_factory=lambda _: embeddings)
        await engine.refresh()
        assert engine.index_version != old_version
        [top, *_] = _search(engine, "Delta text about badges")
        assert top.metadata["path"] == "d.md"
    finally:
        if process.poll() is None:
            stop(process)


async def test_started_while_the_server_is_down_it_says_so_and_recovers(
    settings, tmp_path, monkeypatch, caplog, real_embeddings
):
    port = free_port()
    server = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": port})
    process = _start_server(tmp_path, port)
    run_ingest(server, embeddings_factory=lambda _: real_embeddings)
    stop(process)
    monkeypatch.setattr("bot.engine.index_watch.RETRY_LOAD_S", 0.0)  # try the server again at once
    with caplog.at_level(logging.ERROR, logger="bot.engine.factory"):
        engine = build_engine(server, without_index=True)  # as `bot run` starts
    assert "Chroma server does not answer" in caplog.text and "rebuilt" not in caplog.text

    down = await engine.answer("Alpha text about credits")
    assert down.abstained and "temporarily unavailable" in down.answer
    assert "暂时无法使用" in (await engine.answer("学分银行是什么？")).answer

    process = _start_server(tmp_path, port)  # back, with its data
    try:
        back = await engine.answer("Alpha text about credits")
        assert not back.abstained and back.sources[0].path == "a.md"
    finally:
        stop(process)


async def test_a_missing_index_is_not_called_a_server_outage(settings):
    engine = Engine(settings, None, embeddings=FakeEmbeddings())
    staff = await engine.answer("Alpha text about credits", "staff")
    assert staff.abstained and "/reindex" in staff.answer  # how to rebuild it
    learner = await engine.answer("Alpha text about credits")
    assert learner.abstained and "documents are being prepared" in learner.answer
    assert "server" not in learner.answer


def _search(engine: Engine, question: str) -> list[Passage]:
    """What the engine's loaded version retrieves for a learner."""
    retriever = engine.index.retriever
    assert retriever is not None, "the engine holds no index version"
    return retriever.search(question, "learner", 3)
