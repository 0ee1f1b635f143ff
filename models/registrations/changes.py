"""One change of a registration, carried out the same way whichever rule decided it.

An operation locks the event, checks its own rule and says what follows as a ``Change``: the
next status, why, who did it, what the member hears (``Notice``), whether it goes in the audit
log (an organiser's override) and whether seats were freed (``refill``). ``carry_out`` makes it:
the status and its history row, the reminders brought in step, the notice, freed seats offered
to the waitlist (``fill_free_seats``), one flush, and the ``Outcome`` with every notification,
already in the outbox of the same transaction.

What keeps it cheap (``bench/registrations.py``): the history row is a prebuilt Core INSERT that
travels with the transaction's next trip (``models.db.DEFERRED``); reminders are touched only when
someone starts or stops coming; the notice is one ``INSERT … ON CONFLICT DO NOTHING RETURNING``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession

from models.db import DEFERRED
from models.events.entities import Event
from models.organisers import audit
from models.outbox.entities import NotificationKind, OutboxMessage
from models.outbox.operations import enqueue
from models.registrations.entities import Registration, RegistrationChange, RegistrationStatus
from models.registrations.policy import RegistrationPolicy
from models.registrations.seats import (
    fair_share_active,
    seat_usage,
    usage_by_group,
    waiting_in_order,
)
from models.reminders.operations import COMING, sync_reminders
from models.reminders.policy import ReminderPreference

S = RegistrationStatus


@dataclass
class Outcome:
    """What an operation did: the registration, whether it changed, and what must be told."""

    registration: Registration
    changed: bool = True
    notifications: list[OutboxMessage] = field(default_factory=list)
    waitlist_position: int | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """What the member hears of a change: an outbox row, once per ``key``."""

    kind: NotificationKind
    key: str
    payload: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """What an operation's rule decided for one registration; ``carry_out`` makes it so."""

    to: RegistrationStatus
    reason: str  # the history row's short code ("registered", "offer_expired", ...)
    actor_id: int | None  # None: the service itself (an offer lapsing, the waitlist moving up)
    note: str = ""
    audit: str | None = None  # an organiser's override: its action in the audit log
    notice: Notice | None = None
    refill: str | None = None  # seats were freed: offer them on (the trigger in their keys)
    preference: ReminderPreference | None = None  # the member's, if the operation read it


async def carry_out(
    session: AsyncSession,
    event: Event,
    registration: Registration,
    change: Change,
    now: datetime,
    policy: RegistrationPolicy,
    *,
    flush: bool = True,
) -> Outcome:
    """Make ``change``, the only place a status is set: the audit entry (an override), the
    status with its history row, the reminders brought in step, the member's notice, and the
    freed seats offered on. Leaving OFFERED ends the offer's deadline. The caller holds the
    event's lock; ``flush=False`` when it changes more registrations and flushes once after."""
    if change.audit is not None:
        await _audit(session, registration, change, now)
    if change.to is not S.OFFERED:
        registration.offer_expires_at = None
    stored = inspect(registration).has_identity
    from_status = registration.status if stored else None
    registration.status = change.to
    registration.updated_at = now
    if not stored:
        await session.flush()  # the history row (and the reminders' keys) need its id
    # History rows are only ever inserted: a plain INSERT, no unit-of-work bookkeeping.
    await session.execute(
        _INSERT_CHANGE,
        {
            "registration_id": registration.id,
            "at": now,
            "actor_id": change.actor_id,
            "from_status": from_status,
            "to_status": change.to,
            "party_size": registration.party_size,
            "reason": change.reason,
            "note": change.note or None,
        },
    )
    # Reminders exist only for someone coming: a move between the other statuses (joining the
    # waitlist, an offer, cancelling a waitlist place) has none to add or to skip.
    if from_status in COMING or change.to in COMING:
        await sync_reminders(
            session,
            registration,
            event,
            policy.reminders,
            now,
            fresh=not stored,
            preference=change.preference,
        )
    notifications: list[OutboxMessage] = []
    if change.notice is not None:
        message = await tell(session, event, registration, change.notice, now)
        if message is not None:
            notifications.append(message)
    if change.refill is not None:
        notifications += await fill_free_seats(session, event, now, policy, trigger=change.refill)
    if flush:
        await session.flush()
    return Outcome(registration, notifications=notifications)


async def _audit(
    session: AsyncSession, registration: Registration, change: Change, now: datetime
) -> None:
    """An organiser's override in the audit log: the status before and after (and the note)."""
    assert change.actor_id is not None and change.audit is not None
    after: dict[str, object] = {"status": change.to}
    if change.note:
        after["note"] = change.note
    await audit.record(
        session,
        actor_id=change.actor_id,
        action=change.audit,
        object_type="registration",
        object_id=registration.id,
        now=now,
        before={"status": registration.status},
        after=after,
    )


async def tell(
    session: AsyncSession, event: Event, registration: Registration, notice: Notice, now: datetime
) -> OutboxMessage | None:
    """The member's notice in the outbox, due now; None if it was written before (its key)."""
    return await enqueue(
        session,
        kind=notice.kind,
        member_id=registration.member_id,
        due_at=now,
        key=notice.key,
        event_id=event.id,
        registration_id=registration.id,
        payload=notice.payload,
    )


async def fill_free_seats(
    session: AsyncSession, event: Event, now: datetime, policy: RegistrationPolicy, *, trigger: str
) -> list[OutboxMessage]:
    """Offer free seats to the waitlist, in order; in the last call, tell everyone who fits.

    The caller holds the event's lock. A party too large for the free seats keeps its place and
    the seat goes to the next party that fits, so seats are never left empty while someone who
    fits is waiting.
    """
    if not event.is_published or now >= event.starts_at:
        return []
    usage = await seat_usage(session, event)
    # Without a capacity only fair share keeps people waiting: every seat is free.
    free = math.inf if event.capacity is None else event.capacity - usage.held
    if free <= 0 or usage.waiting == 0:
        return []
    share_active = fair_share_active(event, now)
    used_by_group = await usage_by_group(session, event) if share_active else defaultdict(int)
    last_call = policy.is_last_call(now, event.starts_at)
    deadline = policy.offer_deadline(now, event.starts_at)
    payload = {"offer_expires_at": None if last_call else deadline.isoformat()}
    notifications: list[OutboxMessage] = []
    async with aclosing(waiting_in_order(session, event, seats=free)) as waiting:
        async for registration in waiting:
            group = registration.fair_share_group
            if registration.party_size > free:
                continue
            if share_active and (
                used_by_group[group] + registration.party_size > (event.fair_share_per_network or 0)
            ):
                continue
            if last_call:
                key = f"seat-available:{registration.id}:{trigger}"
                message = await tell(
                    session,
                    event,
                    registration,
                    Notice(NotificationKind.SEAT_AVAILABLE, key, payload),
                    now,
                )
                notifications += [message] if message is not None else []
                continue
            registration.offer_expires_at = deadline
            # A new waitlist stint (queue_seq) is a new offer, even at the same moment.
            key = f"seat-offered:{registration.id}:q{registration.queue_seq}:{stamp(deadline)}"
            notice = Notice(NotificationKind.SEAT_OFFERED, key, payload)
            offered = Change(S.OFFERED, "offered", actor_id=None, notice=notice)
            outcome = await carry_out(
                session, event, registration, offered, now, policy, flush=False
            )
            notifications += outcome.notifications
            free -= registration.party_size
            used_by_group[group] += registration.party_size
            if free <= 0:
                break
    return notifications


def stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y%m%dT%H%M%S%f") if moment is not None else "none"


# A Core insert: history rows are never read back in the transaction that writes them, so
# on SQLite the row goes with the transaction's next trip (``models.db.DEFERRED``).
_INSERT_CHANGE = insert(cast(Table, RegistrationChange.__table__)).execution_options(
    **{DEFERRED: True}
)
