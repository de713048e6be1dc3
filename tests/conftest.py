"""Shared fixtures: settings on temporary folders, the shipped knowledge, the real model."""

import fcntl
import shutil
from pathlib import Path

import pytest

from alliance.settings import Settings

REPO = Path(__file__).resolve().parent.parent
KNOWLEDGE = REPO / "knowledge"

MINIMAL_FRONT_MATTER = """---
title: {title}
topic: faq
audience: {audience}
lang: {lang}
status: official
source: test
updated: 2026-11-28
---
"""


def markdown(title: str, body: str, audience: str = "public", lang: str = "en") -> str:
    front = MINIMAL_FRONT_MATTER.format(title=title, audience=audience, lang=lang)
    return f"{front}\n# {title}\n\n{body}\n"


# The files that take longest, longest first: xdist hands files out in collection order, so
# these start at once on the workers rather than leaving one of them at the end.
SLOWEST_FIRST = [  # by the seconds each file took in a full run (--durations=0), most first
    "test_telegram_faults.py",
    "test_telegram_e2e.py",
    "test_eval.py",
    "test_bot_cli.py",
    "test_ingest_kill.py",
    "test_replicas.py",
    "test_web_channel.py",
    "test_hostile_messages.py",
    "test_access_control.py",
    "test_web_browser.py",
    "test_backups.py",
    "test_staff_loop.py",
    "test_ingest_cli.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: place for place, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: files stay whole


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    """Tests never read the developer's .env or settings from the shell."""
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def knowledge(tmp_path) -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "a.md").write_text(markdown("Alpha", "## One\n\nAlpha text about credits."))
    (folder / "b.md").write_text(markdown("Beta", "## Two\n\nBeta text about courses."))
    (folder / "c.md").write_text(markdown("Gamma", "## Three\n\n员工手册。", "staff", "zh"))
    return folder


@pytest.fixture
def settings(tmp_path, knowledge) -> Settings:
    return Settings(knowledge_dir=knowledge, index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def shipped_settings(tmp_path_factory) -> Settings:
    """The shipped knowledge base, copied so tests cannot change the repository's files."""
    root = tmp_path_factory.mktemp("shipped")
    shutil.copytree(KNOWLEDGE, root / "knowledge")
    return Settings(knowledge_dir=root / "knowledge", index_dir=root / "index")


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL server for the session (Debian's package, on 127.0.0.1)."""
    from postgres_server import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def real_embeddings(shipped_settings):
    from alliance.embeddings import make_embeddings

    return make_embeddings(shipped_settings)


@pytest.fixture(scope="session")
def shipped_index(shipped_settings, real_embeddings, tmp_path_factory, worker_id) -> Settings:
    """The shipped knowledge base ingested once with the real model: by the first of the
    run's workers to need it, under a lock; each worker copies the index (tests start bots on
    it, whose default database lies beside it)."""
    from ingest.pipeline import run_ingest

    run_folder = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # each xdist worker has a folder in the run's
        run_folder = run_folder.parent
    built = Settings(knowledge_dir=shipped_settings.knowledge_dir, index_dir=run_folder / "index")
    with (run_folder / "index.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (run_folder / "index.done").exists():
            summary = run_ingest(built, embeddings_factory=lambda _: real_embeddings)
            assert summary.errors == []
            (run_folder / "index.done").touch()
    shutil.copytree(built.index_dir, shipped_settings.index_dir)
    return shipped_settings


def copy_of(shipped: Settings, folder: Path) -> Settings:
    """A private copy of the shipped knowledge base and its published index in `folder`, for
    tests that change them: no re-ingest (seconds of embedding) needed."""
    shutil.copytree(shipped.knowledge_dir, folder / "knowledge")
    shutil.copytree(shipped.index_dir, folder / "index")
    return shipped.model_copy(
        update={"knowledge_dir": folder / "knowledge", "index_dir": folder / "index"}
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A new database: a SQLite file, and a database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'assistant.db'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
async def store(database_url):
    from bot.store.database import Store

    opened = await Store.open(database_url)
    yield opened
    await opened.close()


@pytest.fixture
def web_settings(settings, tmp_path):
    """Settings with a database of their own, for the web app (a module may define its own)."""
    return settings.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'assistant.db'}"}
    )


@pytest.fixture
async def http(web_settings):
    """The web app in-process (httpx's ASGI transport), without an index."""
    from web_app import web_client

    from bot.engine.factory import build_engine

    async with web_client(web_settings, build_engine(web_settings, without_index=True)) as client:
        yield client


@pytest.fixture
async def command_line(web_settings):
    """What `python -m bot admin …` does: People on the module's `web_settings` database."""
    from bot.services.people import People
    from bot.store.database import Store

    store = await Store.open(web_settings.database_url)
    yield People(store.accounts, store.guesses)
    await store.close()
