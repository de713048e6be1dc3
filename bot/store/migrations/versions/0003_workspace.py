"""The web workspace: tickets without a Telegram staff chat, staff answers waiting to be
delivered in the learner's channel (and by whom, on the web), and leases for the rounds

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 08:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.alter_column("staff_chat_id", existing_type=sa.BigInteger(), nullable=True)
    with op.batch_alter_table("ticket_replies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_account_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_ticket_replies_delivered_at"), ["delivered_at"], unique=False
        )
    # Every reply written before was delivered (or given up on) as it was written.
    op.execute("UPDATE ticket_replies SET delivered_at = sent_at")


def downgrade() -> None:
    with op.batch_alter_table("ticket_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_replies_delivered_at"))
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("author_account_id")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.alter_column("staff_chat_id", existing_type=sa.BigInteger(), nullable=False)
    op.drop_table("leases")
