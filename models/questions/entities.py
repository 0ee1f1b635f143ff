"""Contact persons, questions and their threads."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow


class ContactPerson(Base):
    """An organiser who is the fixed contact person ("vaste contactpersoon") for one theme or
    for one network; either ``theme_id`` or ``network_id`` is set, never both."""

    __tablename__ = "contact_persons"
    __table_args__ = (
        CheckConstraint("(theme_id IS NULL) <> (network_id IS NULL)", name="theme_or_network"),
        UniqueConstraint("member_id", "theme_id", name="uq_contact_persons_member_theme"),
        UniqueConstraint("member_id", "network_id", name="uq_contact_persons_member_network"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    theme_id: Mapped[int | None] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), index=True
    )
    network_id: Mapped[int | None] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Route(enum.StrEnum):
    """Where a question went when it was asked."""

    THEME = "theme"  # the contact persons for its theme
    NETWORK = "network"  # the contact persons for the asker's network
    ADMINS = "admins"  # nobody else: the admins


class QuestionStatus(enum.StrEnum):
    OPEN = "open"  # waiting for the contact person (asked, or the member replied)
    ANSWERED = "answered"  # the contact person answered; the member may reply or close it
    SOLVED = "solved"  # the member marked it solved


class Question(Base):
    """A member's question to the contact point.

    After the member is forgotten an answered question stays without them, its text and thread
    erased: only the theme and the moments remain, for the response-time figures.
    """

    __tablename__ = "questions"
    __table_args__ = (Index("ix_questions_status_waiting", "status", "waiting_since"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    # The asker's network when asking (where a network route goes).
    network_id: Mapped[int | None] = mapped_column(ForeignKey("networks.id", ondelete="SET NULL"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="SET NULL"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    route: Mapped[Route] = mapped_column(str_enum(Route))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[QuestionStatus] = mapped_column(
        str_enum(QuestionStatus), default=QuestionStatus.OPEN
    )
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Since when the contact person is the one to act (asked, or the member's latest reply);
    # the reminder and the escalation count working days from here, once per ``round``.
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime())
    round: Mapped[int] = mapped_column(default=1)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class QuestionMessage(Base):
    """One message in a question's thread: the question itself, an answer, a reply."""

    __tablename__ = "question_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    # True: written by the contact person (an answer); False: by the member who asked.
    from_contact: Mapped[bool] = mapped_column()
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
