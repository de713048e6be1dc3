"""Accounts: people who sign in, their one-time links and wrong guesses

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 02:26:45.379041
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_links_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "accounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("branch", sa.String(length=100), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("wecom_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("telegram_id"),
        sa.UniqueConstraint("wecom_id"),
    )
    op.create_table(
        "wrong_guesses",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("failures", sa.BigInteger(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    # Wrong invite codes were counted per Telegram user in a table of their own.
    op.execute(
        "INSERT INTO wrong_guesses (key, failures, window_start) "
        "SELECT 'invite:' || CAST(user_id AS VARCHAR(20)), failures, window_start "
        "FROM register_failures"
    )
    op.drop_table("register_failures")
    with op.batch_alter_table("admin_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("admin_actions", schema=None) as batch_op:
        batch_op.drop_column("account_id")

    op.create_table(
        "register_failures",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("failures", sa.BigInteger(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.execute(
        "INSERT INTO register_failures (user_id, failures, window_start) "
        "SELECT CAST(SUBSTR(key, 8) AS BIGINT), failures, window_start "
        "FROM wrong_guesses WHERE key LIKE 'invite:%'"
    )
    op.drop_table("wrong_guesses")
    op.drop_table("accounts")
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_links_account_id"))

    op.drop_table("account_links")
