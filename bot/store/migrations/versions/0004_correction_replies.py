"""Corrections delivered to the learner who voted 👎: a ticket reply is an answer or a
correction

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_replies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="answer", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket_replies", schema=None) as batch_op:
        batch_op.drop_column("kind")
