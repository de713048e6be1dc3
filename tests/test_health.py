"""Health checks say ready only when the process can answer: an index is published and the
database answers. The web server waits for a PostgreSQL server that starts after it."""

import asyncio
import signal
import time

import pytest
from postgres_server import PostgresServer
from processes import free_port, logged, start
from web_app import web_client

from bot.engine.factory import build_engine


@pytest.fixture(scope="module")
def engine(shipped_index):
    return build_engine(shipped_index)


def _with_database(settings, url):
    return settings.model_copy(update={"database_url": url})


async def test_ready_with_an_index_and_a_database(shipped_index, engine, tmp_path):
    settings = _with_database(shipped_index, f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    async with web_client(settings, engine) as http:
        response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() | {"index_version": "v"} == {
        "ok": True,
        "index_version": "v",
        "database": True,
    }


async def test_not_ready_without_an_index(settings, tmp_path):
    without = build_engine(settings, without_index=True)
    assert without.index_version is None
    async with web_client(settings, without) as http:
        response = await http.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"ok": False, "index_version": None, "database": True}


async def test_a_late_database_is_waited_for_and_a_lost_one_reported(shipped_index, engine):
    server = PostgresServer()  # its port is chosen now; it starts later
    settings = _with_database(shipped_index, server.url("postgres"))
    try:
        starting = asyncio.create_task(asyncio.to_thread(_start_later, server))
        async with web_client(settings, engine) as http:  # waits for the server
            assert starting.done()
            assert (await http.get("/healthz")).status_code == 200
            await asyncio.to_thread(server.stop, keep_data=True)
            lost = await http.get("/healthz")
            assert lost.status_code == 503 and lost.json()["database"] is False
            await asyncio.to_thread(server.start)
            assert (await http.get("/healthz")).status_code == 200  # back without a restart
    finally:
        server.stop()


def _start_later(server: PostgresServer) -> None:
    time.sleep(1.5)
    server.start()


def test_a_web_server_waiting_for_its_database_stops_when_asked(shipped_index, tmp_path):
    """SIGTERM (a container stopping) ends the wait for a database that never comes, where
    uvicorn would act on it only once started."""
    log = tmp_path / "web.log"
    unreachable = f"postgresql+asyncpg://alliance:x@127.0.0.1:{free_port()}/alliance"
    process = start(
        ["bot", "web", "--port", str(free_port())], shipped_index, log, DATABASE_URL=unreachable
    )
    try:
        assert logged(log, "not reachable"), log.read_text()[-2000:]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) != 0, log.read_text()[-2000:]  # it never served
    finally:
        process.kill()
    assert "stopped while waiting for the database" in log.read_text()
