"""outbox leases (who claimed a row, until when) and the shared send budget

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from models.send_budget import SEND_SLOT_FUNCTION

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=120), nullable=True))
        batch_op.add_column(
            sa.Column("lease_until", models.base.UTCDateTime(timezone=True), nullable=True)
        )
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "send_budget",
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("tat", sa.Float(precision=53), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_send_budget")),
        # A budget is worth nothing after a crash of the database: no write-ahead log for it.
        prefixes=["UNLOGGED"] if postgres else [],
    )
    if postgres:
        op.execute(SEND_SLOT_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS buurtagenda_send_slot")
    op.drop_table("send_budget")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
