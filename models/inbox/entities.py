"""One row per Telegram update received by webhook."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class InboundUpdate(Base):
    """A Telegram update as it arrived, and how far its handling got."""

    __tablename__ = "telegram_updates"

    # Telegram's own id: a redelivered update finds its row and changes nothing.
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The instance handling it, until when: a claim that ran out (its instance died) is taken
    # over by another instance's sweep; a live instance extends its claims while it works.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set once the bot has handled it; such rows are only kept to recognise redeliveries.
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
