"""A member's personal feed link: only a hash of its secret token is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class FeedToken(Base):
    """The secret in ``/feed/<token>.ics``; one per member, replaced when rotated.

    The plain token is shown to the member once (in the bot) and never stored: a leaked database
    does not leak working feed links. Rotating replaces the hash, so the old link answers 404.
    """

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), unique=True
    )
    # SHA-256 of the plain token, hex: a token has >= 128 random bits, so no salt is needed.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the current token replaced an earlier one (None: the first token).
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Calendar apps fetch on their own; recorded coarsely (see operations.FETCH_GRANULARITY).
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
