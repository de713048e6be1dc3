"""The adapter's database, on a real SQLite file and on a real PostgreSQL server (started by
the tests from the pgserver package, reached over a Unix socket): roles, throttling, the
question log and feedback, with concurrent writers."""

import asyncio
import itertools
from datetime import timedelta

import pytest

from bot.store import Store

_DATABASES = itertools.count()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("postgres"), cleanup_mode="stop")
    yield server
    server.cleanup()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'assistant.db'}"
    server = request.getfixturevalue("postgres")
    name = f"store_test_{next(_DATABASES)}"
    server.psql(f"CREATE DATABASE {name};")
    socket_folder = server.get_uri().split("host=")[1]
    return f"postgresql+asyncpg://postgres@/{name}?host={socket_folder}"


@pytest.fixture
async def store(database_url):
    opened = await Store.open(database_url)
    yield opened
    await opened.close()


async def _log(store: Store, user_id: int = 1, abstained: bool = False) -> int:
    return await store.log_question(
        user_id=user_id,
        chat_id=user_id,
        question="What is the credit bank?",
        answer="An account of credits [1].",
        language="en",
        abstained=abstained,
        latency_ms=12.5,
        sources=[{"title": "Rules", "section": "Art. 1", "audience": "public", "text": "…"}],
    )


async def test_registrations_survive_a_reopen(database_url):
    first = await Store.open(database_url)
    await first.register_staff(5, "chengdu-jinniu")
    await first.close()
    second = await Store.open(database_url)
    assert await second.staff_branch(5) == "chengdu-jinniu"
    assert await second.staff_branch(6) is None
    await second.close()


async def test_wrong_codes_are_counted_within_a_window(store):
    window = timedelta(hours=1)
    counts = [await store.record_failure(7, window) for _ in range(3)]
    assert counts == [1, 2, 3] and await store.failures(7, window) == 3
    assert await store.failures(7, timedelta(0)) == 0  # an expired window counts nothing
    assert await store.record_failure(7, timedelta(0)) == 1  # and starts a new one
    await store.register_staff(7, "b")
    assert await store.failures(7, window) == 0  # registering forgives


async def test_concurrent_failures_are_all_counted(store):
    window = timedelta(hours=1)
    await asyncio.gather(*(store.record_failure(8, window) for _ in range(20)))
    assert await store.failures(8, window) == 20


async def test_feedback_keeps_one_vote_per_user_and_answer(store):
    question_id = await _log(store)
    assert await store.record_feedback(question_id, 1, 1)
    assert await store.record_feedback(question_id, 1, -1)
    assert await store.record_feedback(question_id, 2, 1)
    assert not await store.record_feedback(question_id + 100, 1, 1)  # no such answer
    stats = await store.stats()
    assert (stats.helpful, stats.unhelpful) == (1, 1)


async def test_concurrent_votes_do_not_duplicate(store):
    question_id = await _log(store)
    await asyncio.gather(*(store.record_feedback(question_id, 3, v) for v in (1, -1) * 10))
    stats = await store.stats()
    assert stats.helpful + stats.unhelpful == 1


async def test_stats_count_questions_and_abstentions_per_day(store):
    for abstained in (False, False, True):
        await _log(store, abstained=abstained)
    await store.register_staff(9, "b")
    stats = await store.stats()
    [today] = stats.days
    assert (today.questions, today.abstained, stats.staff_users) == (3, 1, 1)


async def test_old_questions_are_pruned_but_feedback_stays(database_url):
    store = await Store.open(database_url, retention_days=1)
    question_id = await _log(store)
    await store.record_feedback(question_id, 1, 1)
    store._retention = timedelta(0)  # as if a day had passed
    assert await store.prune() == 1
    assert await store.logged(question_id) is None
    assert (await store.stats()).helpful == 1
    await store.close()


async def test_an_update_is_claimed_once_unless_its_claim_went_stale(store):
    minute = timedelta(minutes=1)
    assert await store.claim_update(100, minute)
    assert not await store.claim_update(100, minute)  # being handled
    assert await store.claim_update(100, timedelta(0))  # its handler died: take it over
    await store.finish_update(100)
    assert not await store.claim_update(100, timedelta(0))  # done is done


async def test_concurrent_claims_of_one_update_have_one_winner(store):
    wins = await asyncio.gather(*(store.claim_update(200, timedelta(minutes=1)) for _ in range(10)))
    assert wins.count(True) == 1
