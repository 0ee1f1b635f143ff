"""Registrations and their full history."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    case,
    func,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.util import AliasedClass

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.events.entities import Event
from models.members.entities import Affiliation, Member


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # a freed seat is held for this member until ``offer_expires_at``
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


# Statuses that occupy seats, and statuses in which a member is "in" for the event.
HOLDS_SEATS = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.OFFERED,
    RegistrationStatus.ATTENDED,
    RegistrationStatus.NO_SHOW,
)
ACTIVE = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.OFFERED)


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "member_id", name="uq_registrations_event_member"),
        UniqueConstraint("event_id", "queue_seq", name="uq_registrations_event_queue_seq"),
        Index("ix_registrations_event_status", "event_id", "status"),
        Index("ix_registrations_status_offer", "status", "offer_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # None once the member asked to be forgotten: the seat count and network totals stay right.
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    # Where the member came from when registering: kept for the reports and for fair share,
    # also after the member changes network or is forgotten.
    network_id: Mapped[int | None] = mapped_column(ForeignKey("networks.id", ondelete="SET NULL"))
    affiliation: Mapped[Affiliation | None] = mapped_column(str_enum(Affiliation))
    status: Mapped[RegistrationStatus] = mapped_column(str_enum(RegistrationStatus))
    # The member plus the people they bring (a fellow board member, say).
    party_size: Mapped[int] = mapped_column(default=1)
    # Arrival order within the event: first come, first served on the waitlist.
    queue_seq: Mapped[int]
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    event: Mapped[Event] = relationship(lazy="joined")
    # Loaded only when asked for (joinedload/selectinload): most operations need neither.
    member: Mapped[Member | None] = relationship(lazy="raise")
    history: Mapped[list[RegistrationChange]] = relationship(
        order_by="RegistrationChange.id", viewonly=True, lazy="raise"
    )

    @property
    def holds_seats(self) -> bool:
        return self.status in HOLDS_SEATS

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def fair_share_group(self) -> str:
        """Fair share counts per network; people without one count per affiliation."""
        if self.network_id is not None:
            return f"network:{self.network_id}"
        return f"affiliation:{self.affiliation or 'unknown'}"


def seats_held_sum(
    registrations: type[Registration] | AliasedClass[Registration],
) -> ColumnElement[int]:
    """SQL: the seats the rows of ``registrations`` take (the party sizes of those whose status
    holds seats), 0 for none. Spelled out as ORs, not IN: an IN list is expanded at every
    execution."""
    holds = or_(*(registrations.status == status for status in HOLDS_SEATS))
    return func.coalesce(func.sum(case((holds, registrations.party_size), else_=0)), 0)


class RegistrationChange(Base):
    """One state change of a registration: who, when, why. Never updated, never deleted."""

    __tablename__ = "registration_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # None: the service itself (an offer expiring, the waitlist moving up).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    from_status: Mapped[RegistrationStatus | None] = mapped_column(str_enum(RegistrationStatus))
    to_status: Mapped[RegistrationStatus] = mapped_column(str_enum(RegistrationStatus))
    party_size: Mapped[int]
    # A short code ("registered", "offer_expired", "organiser_override", ...) and a free note.
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)

    registration: Mapped[Registration] = relationship(lazy="raise")
