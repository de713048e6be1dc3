"""The store's schema as Alembic migrations, run when the store opens: a new database gets every
revision, one that an older version of the assistant made gets those it lacks, rows kept."""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

# The schema as it was deployed before migrations (2026-12-05): databases made then have its
# tables but no alembic_version, and are marked as being at this revision.
BASELINE = "0001"
log = logging.getLogger(__name__)
# Alembic tells of every step at INFO, on each start: the one line below says what changed.
logging.getLogger("alembic").setLevel(logging.WARNING)

# A table every database since the first release has.
_ALWAYS_THERE = "question_log"
# PostgreSQL: replicas that start together migrate one at a time (any fixed number will do).
_LOCK = 0x616C6C69616E6365


def config(connection: Connection | None = None) -> Config:
    found = Config(attributes={"connection": connection})
    found.set_main_option("script_location", "bot.store:migrations")
    return found


def head() -> str | None:
    """The newest revision."""
    return ScriptDirectory.from_config(config()).get_current_head()


def revisions() -> set[str]:
    """Every revision this version of the assistant knows."""
    return {script.revision for script in ScriptDirectory.from_config(config()).walk_revisions()}


def upgrade(connection: Connection) -> None:
    """Bring the database to the newest revision, in the caller's transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    settings = config(connection)
    tables = set(inspect(connection).get_table_names())
    if _ALWAYS_THERE in tables and "alembic_version" not in tables:
        command.stamp(settings, BASELINE)
    before = current(connection)
    command.upgrade(settings, "head")
    if before != head():
        log.info("database schema upgraded from %s to %s", before or "nothing", head())


def current(connection: Connection) -> str | None:
    """The database's revision (None before any)."""
    return MigrationContext.configure(connection).get_current_revision()
