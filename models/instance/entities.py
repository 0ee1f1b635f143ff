"""The one row that describes this installation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow

INSTANCE_ID = 1


class Instance(Base):
    """Made at the first start and copied along with the data (it is a row like any other), so a
    new address (``http.public_url``) or a move to another database changes nothing in it."""

    __tablename__ = "instance"
    __table_args__ = (CheckConstraint(f"id = {INSTANCE_ID}", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # The domain part of the calendar UIDs of our events (models/events/uids.py): random, so it
    # names no host (RFC 7986, 5.3) and two installations never share one.
    uid_domain: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
