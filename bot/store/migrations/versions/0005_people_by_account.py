"""Curated answers and vote reviews name who approved, changed or reviewed them by account too
(a Telegram id alone left web accounts as 0)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("curated_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_by_account_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("changed_by_account_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("vote_reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewed_by_account_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vote_reviews", schema=None) as batch_op:
        batch_op.drop_column("reviewed_by_account_id")
    with op.batch_alter_table("curated_answers", schema=None) as batch_op:
        batch_op.drop_column("changed_by_account_id")
        batch_op.drop_column("approved_by_account_id")
