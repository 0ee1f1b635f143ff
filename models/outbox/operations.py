"""Writing notifications into the outbox (never sending them: that is ``scheduler/``'s job)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Executable, Table, insert
from sqlalchemy.dialects import postgresql, sqlite
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
) -> OutboxMessage | None:
    """Add a notification unless one with the same idempotency key exists; return the new row.

    One statement (``INSERT ... ON CONFLICT DO NOTHING RETURNING``): the key's unique index
    decides, also between two transactions racing to write the same notification.
    """
    _check_key(key)
    message: OutboxMessage | None = await session.scalar(
        _INSERT_IF_NEW[session.get_bind().dialect.name],
        [
            {
                "kind": kind,
                "member_id": member_id,
                "due_at": due_at,
                "idempotency_key": key,
                "payload": payload or {},
                "event_id": event_id,
                "registration_id": registration_id,
                "status": DeliveryStatus.PENDING,
            }
        ],
    )
    if message is not None:
        note_due(session, due_at)
    return message


def _insert_if_new(insert: Callable[..., sqlite.Insert | postgresql.Insert]) -> Executable:
    return (
        insert(OutboxMessage)
        .on_conflict_do_nothing(index_elements=[OutboxMessage.idempotency_key])
        .returning(OutboxMessage)
    )


# Both dialects spell the upsert the same way, each in its own module.
_INSERT_IF_NEW = {
    "sqlite": _insert_if_new(sqlite.insert),
    "postgresql": _insert_if_new(postgresql.insert),
}


# Core, on the table: the ORM's bulk INSERT makes (and keys) a new statement at every call.
_INSERT_NEW = insert(cast(Table, OutboxMessage.__table__))


@dataclass(frozen=True)
class NewMessage:
    """A notification whose idempotency key the caller knows to be unused."""

    kind: NotificationKind
    member_id: int | None
    due_at: datetime
    key: str
    payload: dict[str, Any] = field(default_factory=dict)
    event_id: int | None = None
    registration_id: int | None = None


async def enqueue_new(session: AsyncSession, messages: list[NewMessage]) -> None:
    """Add notifications the caller has just checked are new, in one trip.

    No ``OutboxMessage`` objects are made: for rows nobody in the transaction reads again (a
    registration's reminders) the unit of work's bookkeeping costs more than the insert.
    """
    if not messages:
        return
    for message in messages:
        _check_key(message.key)
    # Rows as parameters (executemany, one trip), not a VALUES list in the statement: a
    # statement with its values inside cannot be cached, and compiling it cost more than the rest.
    await session.execute(
        _INSERT_NEW,
        [
            {
                "kind": message.kind,
                "member_id": message.member_id,
                "due_at": message.due_at,
                "idempotency_key": message.key,
                "payload": message.payload,
                "event_id": message.event_id,
                "registration_id": message.registration_id,
                "status": DeliveryStatus.PENDING,
            }
            for message in messages
        ],
    )
    note_due(session, min(message.due_at for message in messages))


def _check_key(key: str) -> None:
    if "None" in key.split(":"):
        raise ValueError(f"idempotency key {key!r} names an object without an id yet")


def note_due(session: AsyncSession, due_at: datetime) -> None:
    """Remember the earliest due time written, so the dispatcher is woken after the commit."""
    earliest = session.info.get(OUTBOX_DUE)
    session.info[OUTBOX_DUE] = due_at if earliest is None else min(earliest, due_at)
