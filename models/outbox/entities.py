"""The outbox: every message the service sends on its own is first a row here.

A row is written in the same transaction as the change that causes it, so a notification exists
exactly when its cause does. The dispatcher (``scheduler/``) sends due rows and records the result.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow


class NotificationKind(enum.StrEnum):
    SEAT_OFFERED = "seat_offered"  # a freed seat is held for you until ...
    SEAT_AVAILABLE = "seat_available"  # last call: a seat is free, first to claim it gets it
    OFFER_EXPIRED = "offer_expired"
    PROMOTED = "promoted"  # an organiser confirmed you from the waitlist
    REMOVED = "removed"  # an organiser cancelled your registration
    EVENT_CHANGED = "event_changed"
    EVENT_CANCELLED = "event_cancelled"
    REMINDER = "reminder"
    DIGEST = "digest"
    FEEDBACK_REQUEST = "feedback_request"
    BROADCAST = "broadcast"
    PROPOSAL_DECIDED = "proposal_decided"  # payload: {"approved": bool, "reason": str | None}
    IDEA_PLANNED = "idea_planned"  # payload: {"idea_title": str}; event_id: the new event
    # New events that fit the member; payload: {"event_ids": [...], "since": iso, "edit_of":
    # the row whose message this one edits, or absent}; event_id: the first of them.
    NEW_EVENTS = "new_events"
    # The contact point (models/questions); payload: {"question_id": int, "message_id"?: int}.
    QUESTION_ASKED = "question_asked"  # to its contact persons (or the admins)
    QUESTION_ANSWERED = "question_answered"  # to the member: the answer
    QUESTION_REPLY = "question_reply"  # to the contact persons: the member replied
    QUESTION_REMINDER = "question_reminder"  # 2 working days without an answer
    QUESTION_ESCALATED = "question_escalated"  # 4 working days: to the admins


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a dispatcher until its lease ends; see scheduler/
    SENT = "sent"
    SKIPPED = "skipped"  # no longer useful (the event began) or no longer wanted
    FAILED = "failed"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind))
    # Everything needed to render the message later, in the member's language at sending time.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    # Indexed: every change of a registration looks up its reminders by this column.
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The same cause never produces two rows: a retried transaction or a repeated sweep
    # collides on this key instead of sending twice.
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    # Who claimed a SENDING row (``models.process.instance_id()``) and until when (the
    # service's clock): a live sender renews its lease; only an expired one is taken back.
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
