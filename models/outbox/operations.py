"""Writing notifications into the outbox (never sending them: that is ``scheduler/``'s job)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.db import OUTBOX_DUE
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage


async def enqueue(
    session: AsyncSession,
    *,
    kind: NotificationKind,
    member_id: int | None,
    due_at: datetime,
    key: str,
    payload: dict[str, Any] | None = None,
    event_id: int | None = None,
    registration_id: int | None = None,
    known_new: bool = False,
) -> OutboxMessage | None:
    """Add a notification unless one with the same idempotency key exists; return the new row.

    ``known_new``: the caller has just looked (in this transaction) and knows no row has this
    key, so the check is skipped (a SELECT, and the flush it would cause, per row).
    """
    if "None" in key.split(":"):
        raise ValueError(f"idempotency key {key!r} names an object without an id yet")
    if not known_new:
        exists = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)
        )
        if exists is not None:
            return None
    message = OutboxMessage(
        kind=kind,
        member_id=member_id,
        due_at=due_at,
        idempotency_key=key,
        payload=payload or {},
        event_id=event_id,
        registration_id=registration_id,
        status=DeliveryStatus.PENDING,
    )
    session.add(message)
    note_due(session, due_at)
    return message


def note_due(session: AsyncSession, due_at: datetime) -> None:
    """Remember the earliest due time written, so the dispatcher is woken after the commit."""
    earliest = session.info.get(OUTBOX_DUE)
    session.info[OUTBOX_DUE] = due_at if earliest is None else min(earliest, due_at)
