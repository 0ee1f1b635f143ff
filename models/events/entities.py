"""The programme: events and the series they belong to."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, lazyload, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.events.limits import LOCATION_MAX, ONLINE_URL_MAX, SPEAKERS_MAX, TITLE_MAX
from models.networks.entities import Network


class EventKind(enum.StrEnum):
    MASTERCLASS = "masterclass"  # inhoudelijke masterclass, every quarter
    DIALOOG = "dialoog"  # buurtnetwerken in dialoog met raads- en burgerleden, every half year
    UITWISSELING = "uitwisseling"  # networks learning from each other's experience
    WORKSHOP = "workshop"  # e.g. the start-up session for new boards


class EventStatus(enum.StrEnum):
    PROPOSED = "proposed"  # a board member's exchange session, awaiting an organiser's approval
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class Cadence(enum.StrEnum):
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"


class Series(Base):
    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind))
    cadence: Mapped[Cadence] = mapped_column(str_enum(Cadence))
    # Defaults for the dated events the series makes; changing them asks "this one or all?".
    location: Mapped[str | None] = mapped_column(String(LOCATION_MAX))
    local_time: Mapped[str] = mapped_column(String(5), default="19:30")  # Europe/Amsterdam
    duration_minutes: Mapped[int] = mapped_column(default=120)
    capacity: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint(
            "fair_share_per_network IS NULL OR fair_share_per_network > 0",
            name="fair_share_positive",
        ),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Opaque code for deep links and posters (t.me/<bot>?start=e_<code>); never the database id.
    public_code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")  # at most DESCRIPTION_MAX
    speakers: Mapped[str] = mapped_column(String(SPEAKERS_MAX), default="")
    # The title is a placeholder: "nog te bepalen" until organisers choose the topic.
    topic_tbd: Mapped[bool] = mapped_column(default=False)
    location: Mapped[str | None] = mapped_column(String(LOCATION_MAX))
    online_url: Mapped[str | None] = mapped_column(String(ONLINE_URL_MAX))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int | None]
    registration_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Fair share: until ``fair_share_until`` a network (or other affiliation) holds at most this
    # many seats; after that moment the remaining seats are open to all.
    fair_share_per_network: Mapped[int | None]
    fair_share_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[EventStatus] = mapped_column(str_enum(EventStatus), default=EventStatus.DRAFT)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Rises on every change people should see; the iCal SEQUENCE.
    revision: Mapped[int] = mapped_column(default=1)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="SET NULL"))
    # An exchange session of one network; None: the collective programme, open to all.
    network_id: Mapped[int | None] = mapped_column(ForeignKey("networks.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    # For a proposed exchange session: the board member who proposed it.
    proposed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    # The code shown at the venue; attendees type it to check themselves in.
    check_in_code: Mapped[str | None] = mapped_column(String(8))
    # The UID a programme file gave this event, so importing the same file again changes nothing.
    source_uid: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The UID in every calendar feed, chosen once (models/events/uids.py); None only for events
    # from before 0006 until the next start gives them their old one.
    feed_uid: Mapped[str | None] = mapped_column(String(255), unique=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    series: Mapped[Series | None] = relationship(lazy="joined")
    network: Mapped[Network | None] = relationship(lazy="joined")

    @property
    def is_published(self) -> bool:
        return self.status is EventStatus.PUBLISHED

    @property
    def is_cancelled(self) -> bool:
        return self.status is EventStatus.CANCELLED

    def visible_to(self, network_id: int | None, *, organiser: bool = False) -> bool:
        """Drafts are for organisers; a network's own exchange session is for that network."""
        if organiser:
            return True
        if self.status in (EventStatus.DRAFT, EventStatus.PROPOSED):
            return False
        return self.network_id is None or self.network_id == network_id


# Loader options for an event read without its series and network (``Event`` joins both in by
# default): a card or a decision needs neither, and loading them cost more than the rest of the row.
WITHOUT_SERIES_OR_NETWORK = (lazyload(Event.series), lazyload(Event.network))
