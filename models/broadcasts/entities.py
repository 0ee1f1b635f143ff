"""Announcements from organisers to an audience, delivered through the outbox."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow


class BroadcastStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"  # confirmed; its outbox rows are due at ``send_at``
    SENDING = "sending"
    CANCELLED = "cancelled"
    DONE = "done"


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    # The text as Telegram HTML (bold, italic, links), checked before it is confirmed.
    html: Mapped[str] = mapped_column(Text)
    # An optional photo or document, kept here so a restart loses nothing.
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    attachment_kind: Mapped[str | None] = mapped_column(String(16))  # "photo" | "document"
    # Who it is for: {"kind": "everyone" | "networks" | "registrants" | "waitlist" |
    # "attendees" | "inactive", "network_ids": [...], "event_id": N, "year": Y}.
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[BroadcastStatus] = mapped_column(
        str_enum(BroadcastStatus), default=BroadcastStatus.DRAFT
    )
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recipients: Mapped[int] = mapped_column(default=0)
    # The chat and message that show the live progress to the organiser.
    progress_chat_id: Mapped[int | None]
    progress_message_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
