"""The store's migrations: a new database and one made by the version deployed before
migrations (2026-12-05, its schema kept in tests/schemas/) both end at the newest revision with
the schema the models describe, every row of the old one kept; on SQLite and PostgreSQL."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store import migrations
from bot.store.database import Store
from bot.store.tables import Base

SCHEMAS = Path(__file__).parent / "schemas"
WHEN = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)

# One row in each table that holds what people wrote or did, as the old version wrote them.
OLD_ROWS = {
    "question_log": {
        "id": 1,
        "asked_at": WHEN,
        "user_id": 42,
        "chat_id": 42,
        "language": "zh",
        "abstained": False,
        "latency_ms": 31.5,
        "question": "学分怎么转？",
        "answer": "见[1]。",
        "sources": "[]",
    },
    "feedback": {
        "id": 1,
        "question_id": 1,
        "user_id": 42,
        "vote": -1,
        "voted_at": WHEN,
        "question": "学分怎么转？",
        "answer": "见[1]。",
        "sources": "[]",
    },
    "tickets": {
        "id": 1,
        "question_id": 1,
        "state": "answered",
        "opened_at": WHEN,
        "learner_id": 42,
        "learner_chat_id": 42,
        "learner_name": "Li",
        "language": "zh",
        "question": "学分怎么转？",
        "answer": "见[1]。",
        "branch": None,
        "staff_chat_id": -100,
        "announced_at": WHEN,
        "reminded_at": None,
        "answered_at": WHEN,
        "closed_at": None,
        "learner_unreachable": False,
    },
    "ticket_replies": {
        "id": 1,
        "ticket_id": 1,
        "author_id": 99,
        "from_staff": True,
        "text": "到分校办理。",
        "sent_at": WHEN,
    },
    "curated_answers": {
        "id": 1,
        "origin": "ticket:1",
        "question": "学分怎么转？",
        "answer": "到分校办理。",
        "language": "zh",
        "audience": "public",
        "approved_by": 7,
        "approved_at": WHEN,
        "changed_by": 7,
        "changed_at": WHEN,
        "retired_at": None,
    },
    "vote_reviews": {
        "feedback_id": 1,
        "outcome": "corrected",
        "reviewed_by": 7,
        "reviewed_at": WHEN,
    },
    "staff_users": {"user_id": 99, "branch": "Chengdu-Jinniu", "registered_at": WHEN},
    "admin_actions": {"id": 1, "at": WHEN, "admin_id": 7, "action": "reindex", "detail": "v1"},
}
# Wrong invite codes, counted per Telegram user before accounts, become wrong guesses.
OLD_FAILURES = {"user_id": 77, "failures": 3, "window_start": WHEN}


def _statements(dialect: str) -> list[str]:
    script = (SCHEMAS / f"2026-12-05.{dialect}.sql").read_text()
    lines = [line for line in script.splitlines() if not line.startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


async def _old_database(url: str) -> None:
    database = make_url(url).database
    if make_url(url).get_backend_name() == "sqlite" and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        for statement in _statements(engine.dialect.name):
            await connection.exec_driver_sql(statement)
        for table, row in [*OLD_ROWS.items(), ("register_failures", OLD_FAILURES)]:
            columns = ", ".join(row)
            values = ", ".join(f":{name}" for name in row)
            await connection.execute(
                text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row
            )
    await engine.dispose()


async def _revision_and_differences(url: str) -> tuple[str | None, list]:
    engine = create_async_engine(url)

    def inspect(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return migrations.current(connection), compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        found = await connection.run_sync(inspect)
    await engine.dispose()
    return found


async def _rows(url: str, table: str) -> list[dict]:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        rows = (await connection.execute(text(f"SELECT * FROM {table}"))).mappings().all()
    await engine.dispose()
    return [dict(row) for row in rows]


def test_the_migrations_end_at_one_head():
    assert migrations.head() not in (None, migrations.BASELINE)


async def test_a_new_database_gets_the_models_schema(database_url):
    store = await Store.open(database_url)
    await store.close()
    revision, differences = await _revision_and_differences(database_url)
    assert revision == migrations.head() and differences == []


async def test_the_deployed_schema_upgrades_with_every_row_kept(database_url):
    await _old_database(database_url)
    assert (await _revision_and_differences(database_url))[0] is None  # before migrations
    before = {table: await _rows(database_url, table) for table in OLD_ROWS}
    assert all(len(rows) == 1 for rows in before.values())

    for _ in range(2):  # and opening it again changes nothing
        store = await Store.open(database_url)
        await store.close()

    revision, differences = await _revision_and_differences(database_url)
    assert revision == migrations.head() and differences == []
    # Columns added since, empty for old rows (who acted, by account too), but an old reply's:
    # an answer, delivered when written
    [old_reply] = before["ticket_replies"]
    added = {
        "admin_actions": {"account_id": None},
        "ticket_replies": {
            "author_account_id": None,
            "delivered_at": old_reply["sent_at"],
            "kind": "answer",
        },
        "curated_answers": {"approved_by_account_id": None, "changed_by_account_id": None},
        "vote_reviews": {"reviewed_by_account_id": None},
        "tickets": {"learner_contact": None},
    }
    for table, rows in before.items():
        assert await _rows(database_url, table) == [rows[0] | added.get(table, {})], table
    guesses = await _rows(database_url, "wrong_guesses")
    assert [(guess["key"], guess["failures"]) for guess in guesses] == [("invite:77", 3)]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_deployed_schema_is_the_baseline_revision(dialect):
    """The baseline migration makes the tables the deployed version made (same names)."""
    tables = {
        statement.split()[2]
        for statement in _statements(dialect)
        if statement.startswith("CREATE TABLE")
    }
    baseline = (Path(migrations.__file__).parent / "versions" / "0001_baseline.py").read_text()
    assert len(tables) == 18
    assert all(f'"{table}"' in baseline for table in tables)
