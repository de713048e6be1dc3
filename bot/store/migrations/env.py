"""Alembic's entry point for the store's migrations. The store runs them itself when it opens
(`bot.store.migrations.upgrade`), on the connection it hands over: nothing here reads a URL or
the environment."""

from alembic import context

from bot.store.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite alters a table by copying it: batch operations do that for it.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
