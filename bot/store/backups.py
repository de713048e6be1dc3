"""Backups of what is not rebuilt from `knowledge/`: every table of the store (accounts, curated
answers, tickets and their replies, votes and reviews, the question log, the action log, ...),
as a folder: `manifest.json` (the schema's revision, the time, each table's row count) and one
`TABLE.jsonl` per table. A backup is consistent while the bot runs: PostgreSQL's tables are read
in one repeatable-read transaction, a SQLite file is first copied with SQLite's online backup.
A restore goes into an empty database of either kind (its schema made by the migrations), keeps
every id, and moves PostgreSQL's id sequences past them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Table, func, insert, select, text
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from alliance.errors import AllianceError
from bot.store import migrations
from bot.store.tables import Base

FORMAT = 1
MANIFEST = "manifest.json"
SKIPPED = {"leases"}  # which process runs the rounds: nothing to keep
BATCH = 1000


class BackupError(AllianceError):
    """A backup or a restore that cannot be made: the reason, for the operator."""


def tables() -> list[Table]:
    """The tables a backup holds, parents before the tables that name them."""
    return [table for table in Base.metadata.sorted_tables if table.name not in SKIPPED]


async def back_up(engine: AsyncEngine, folder: Path) -> dict[str, int]:
    """Write a backup of the store at `engine` into `folder` (new, or empty); each table's
    row count."""
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".backup-", dir=folder))
    try:
        async with _snapshot(engine) as connection:
            revision = await connection.run_sync(migrations.current)
            counts = {}
            for table in tables():
                counts[table.name] = await _dump(connection, table, staging)
        manifest = {
            "format": FORMAT,
            "revision": revision,
            "created_at": datetime.now(UTC).isoformat(),
            "tables": counts,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        for path in staging.iterdir():
            path.replace(folder / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


@contextlib.asynccontextmanager
async def _snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection that reads one moment of the store: a repeatable-read transaction on a
    server, a copy made with SQLite's online backup for a file."""
    url = engine.url
    if url.get_backend_name() != "sqlite":
        async with engine.connect() as connection:
            snapshot = await connection.execution_options(isolation_level="REPEATABLE READ")
            async with snapshot.begin():
                yield snapshot
        return
    with tempfile.TemporaryDirectory(prefix="alliance-backup-") as work:
        copy = Path(work) / "snapshot.db"
        await asyncio.to_thread(_sqlite_copy, str(url.database), copy)  # off the event loop
        snapshot_engine = create_async_engine(f"sqlite+aiosqlite:///{copy}")
        try:
            async with snapshot_engine.connect() as connection:
                yield connection
        finally:
            await snapshot_engine.dispose()


def _sqlite_copy(database: str, copy: Path) -> None:
    with (
        contextlib.closing(sqlite3.connect(database)) as source,
        contextlib.closing(sqlite3.connect(copy)) as target,
    ):
        source.backup(target)


async def _dump(connection: AsyncConnection, table: Table, folder: Path) -> int:
    count = 0
    order = list(table.primary_key.columns) or list(table.columns)
    result = await connection.stream(
        select(table).order_by(*order).execution_options(yield_per=BATCH)
    )
    with (folder / f"{table.name}.jsonl").open("w", encoding="utf-8") as out:
        async for row in result:
            out.write(json.dumps(_plain(row._mapping), ensure_ascii=False) + "\n")
            count += 1
    return count


def _plain(row: Any) -> dict[str, Any]:
    """A row as JSON values; times in UTC, as the store writes them (SQLite gives them back
    without their zone)."""
    plain = {}
    for key, value in row.items():
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        plain[key] = value.isoformat() if isinstance(value, date | datetime) else value
    return plain


def read_manifest(folder: Path) -> dict[str, Any]:
    """A backup's manifest; BackupError when the folder holds no backup this version reads."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} holds no readable backup ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{folder}: not a backup of format {FORMAT}")
    known = migrations.revisions()
    if manifest.get("revision") not in known:
        raise BackupError(
            f"{folder} was made by a newer (or another) version of the assistant "
            f"(schema {manifest.get('revision')!r}); restore it with that version"
        )
    return manifest


async def restore(engine: AsyncEngine, folder: Path) -> dict[str, int]:
    """Load a backup into the (migrated, empty) store at `engine`; each table's row count.
    Columns added since the backup was made take their defaults."""
    manifest = read_manifest(folder)
    async with engine.begin() as connection:
        for table in tables():
            if await connection.scalar(select(func.count()).select_from(table)):
                raise BackupError(
                    f"the database already holds data ({table.name}): restore into an empty one"
                )
        counts = {}
        for table in tables():
            if table.name not in manifest["tables"]:
                continue  # a table the backup's version did not have
            counts[table.name] = await _load(connection, table, folder / f"{table.name}.jsonl")
        if engine.url.get_backend_name() == "postgresql":
            await _move_sequences(connection)
    expected = {name: count for name, count in manifest["tables"].items() if name in counts}
    if counts != expected:
        raise BackupError(f"the backup's files do not match its manifest: {counts} != {expected}")
    return counts


async def _load(connection: AsyncConnection, table: Table, path: Path) -> int:
    count = 0
    for batch in _batches(path, table):
        try:
            await connection.execute(insert(table), batch)
        except (StatementError, DBAPIError) as exc:  # the transaction keeps none of it
            reason = getattr(exc, "orig", None) or exc
            raise BackupError(
                f"{table.name}: the backup's rows cannot be restored ({reason})"
            ) from None
        count += len(batch)
    return count


def _batches(path: Path, table: Table) -> Iterator[list[dict[str, Any]]]:
    columns = {column.name: column.type for column in table.columns}
    batch: list[dict[str, Any]] = []
    try:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                kept = {key: value for key, value in row.items() if key in columns}
                batch.append({key: _typed(columns[key], value) for key, value in kept.items()})
                if len(batch) == BATCH:
                    yield batch
                    batch = []
    except (OSError, ValueError, TypeError) as exc:
        raise BackupError(f"{path.name} cannot be read: {exc}") from None
    if batch:
        yield batch


def _typed(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    return value


async def _move_sequences(connection: AsyncConnection) -> None:
    """PostgreSQL hands out ids from sequences: past the restored ones, or the next insert
    would collide."""
    for table in tables():
        column = table.autoincrement_column
        if column is None:
            continue
        await connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                f"COALESCE(MAX({column.name}), 1), MAX({column.name}) IS NOT NULL) "
                f"FROM {table.name}"
            )
        )
