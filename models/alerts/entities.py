"""The kinds of meeting a member follows (every masterclass, every dialogue, ...)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Table

from models.base import Base, str_enum
from models.events.entities import EventKind

member_followed_kinds = Table(
    "member_followed_kinds",
    Base.metadata,
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", str_enum(EventKind), primary_key=True),
)
