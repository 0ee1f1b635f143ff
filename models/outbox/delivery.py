"""What a delivery can end as, and what delivers: the contract between the dispatcher
(``scheduler/dispatcher.py``, which decides what happens next) and whatever sends (the bot's
``bot/notifications.py``, which knows Telegram and turns its answers into these)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from models.members.entities import Member
from models.outbox.entities import OutboxMessage


class DeliveryError(Exception):
    """Why a message could not be delivered now."""


class Blocked(DeliveryError):
    """The member blocked the bot (Telegram 403)."""


class RateLimited(DeliveryError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after


class Transient(DeliveryError):
    """A network error or a 5xx: worth trying again later."""


class NotNeeded(DeliveryError):
    """Nothing left worth saying (every event in an alert was cancelled or began): skipped."""


class Permanent(DeliveryError):
    """Telegram refused the message for good (chat not found, message invalid)."""


class Delivery(Protocol):
    """Renders and sends one outbox message; returns Telegram's message id."""

    async def deliver(
        self, session: AsyncSession, message: OutboxMessage, member: Member
    ) -> int | None: ...
