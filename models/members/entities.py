"""People who use the service: volunteers, council members, organisers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.alerts.policy import AlertPreference
from models.base import Base, UTCDateTime, str_enum, utcnow
from models.networks.entities import Network
from models.reminders.policy import ReminderPreference


class Affiliation(enum.StrEnum):
    """Where someone comes from; ``BUURTNETWERK`` goes with a network."""

    BUURTNETWERK = "buurtnetwerk"
    RAADSLID = "raadslid"
    BURGERLID = "burgerlid"
    GEMEENTE = "gemeente"
    TRAJEKT = "trajekt"
    BEWONER = "bewoner"


class Role(enum.StrEnum):
    MEMBER = "member"
    ORGANISER = "organiser"
    ADMIN = "admin"


# Roles that may organise (an admin also manages the organisers).
ORGANISER_ROLES = (Role.ORGANISER, Role.ADMIN)


class Language(enum.StrEnum):
    NL = "nl"
    EN = "en"


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    language: Mapped[Language] = mapped_column(str_enum(Language), default=Language.NL)
    affiliation: Mapped[Affiliation | None] = mapped_column(str_enum(Affiliation))
    network_id: Mapped[int | None] = mapped_column(
        ForeignKey("networks.id", ondelete="SET NULL"), index=True
    )
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.MEMBER)
    # False once Telegram told us the member blocked the bot: we stop sending on our own.
    reachable: Mapped[bool] = mapped_column(default=True)
    reminder_preference: Mapped[ReminderPreference] = mapped_column(
        str_enum(ReminderPreference),
        default=ReminderPreference.DEFAULT,
        server_default=ReminderPreference.DEFAULT.value,
    )
    # The weekly digest (Monday morning): opt-in.
    digest: Mapped[bool] = mapped_column(default=False, server_default="0")
    # New events that fit the member: at once, in the weekly digest, or not at all.
    alert_preference: Mapped[AlertPreference] = mapped_column(
        str_enum(AlertPreference),
        default=AlertPreference.NOW,
        server_default=AlertPreference.NOW.value,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    network: Mapped[Network | None] = relationship(lazy="joined")

    @property
    def is_organiser(self) -> bool:
        return self.role in ORGANISER_ROLES

    @property
    def onboarded(self) -> bool:
        """Has told us where they come from (a network, or another affiliation)."""
        return self.affiliation is not None
