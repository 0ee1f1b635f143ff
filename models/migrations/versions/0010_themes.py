"""themes: the organisers' list, chosen by members, carried by events; alert preferences

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 17:31:40.772660
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("name_en", sa.String(length=60), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("retired_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
        sa.UniqueConstraint("slug", name=op.f("uq_themes_slug")),
    )
    op.create_table(
        "member_themes",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_themes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_member_themes_theme_id_themes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "theme_id", name=op.f("pk_member_themes")),
    )
    with op.batch_alter_table("member_themes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_themes_theme_id"), ["theme_id"], unique=False)

    op.create_table(
        "event_themes",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_themes_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_event_themes_theme_id_themes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "theme_id", name=op.f("pk_event_themes")),
    )
    with op.batch_alter_table("event_themes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_themes_theme_id"), ["theme_id"], unique=False)

    op.create_table(
        "member_followed_kinds",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "masterclass",
                "dialoog",
                "uitwisseling",
                "workshop",
                name="eventkind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_followed_kinds_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "kind", name=op.f("pk_member_followed_kinds")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "alert_preference",
                sa.Enum(
                    "now", "digest", "off", name="alertpreference", native_enum=False, length=24
                ),
                server_default="now",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("alert_preference")
    op.drop_table("member_followed_kinds")
    with op.batch_alter_table("event_themes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_themes_theme_id"))

    op.drop_table("event_themes")
    with op.batch_alter_table("member_themes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_themes_theme_id"))

    op.drop_table("member_themes")
    op.drop_table("themes")
