"""A theme, and who chose it and which events carry it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime

THEME_NAME_MAX = 60

member_themes = Table(
    "member_themes",
    Base.metadata,
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True, index=True),
)

event_themes = Table(
    "event_themes",
    Base.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Theme(Base):
    """One topic. Retired themes stay (events and members keep them) but are no longer offered."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable: imports and links name a theme by it; a rename changes only the names.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(THEME_NAME_MAX))  # Dutch
    name_en: Mapped[str | None] = mapped_column(String(THEME_NAME_MAX))
    position: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def active(self) -> bool:
        return self.retired_at is None

    def label(self, language: str) -> str:
        """The name in ``language`` ("nl", "en"); Dutch when there is no English name."""
        return self.name_en if language == "en" and self.name_en else self.name
