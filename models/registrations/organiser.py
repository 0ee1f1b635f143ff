"""What organisers decide about someone's registration: a seat out of turn, a removal, and
attendance. Each is authorised (``require_organiser``) and written to the audit log, before →
after, in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.attendance.window import check_in_opens_at
from models.errors import EventCancelled, NotAllowed, NotEnoughSeats, NotRegistered
from models.organisers.authorisation import require_organiser
from models.outbox.entities import NotificationKind
from models.registrations.changes import Change, Notice, Outcome, carry_out, stamp
from models.registrations.entities import RegistrationStatus
from models.registrations.locks import lock_registration
from models.registrations.policy import RegistrationPolicy
from models.registrations.seats import seat_usage

S = RegistrationStatus


async def override_confirm(
    session: AsyncSession,
    *,
    registration_id: int,
    actor_id: int,
    now: datetime,
    policy: RegistrationPolicy,
    note: str = "",
) -> Outcome:
    """An organiser gives someone a seat out of turn (capacity still holds)."""
    await require_organiser(session, actor_id)
    event, registration = await lock_registration(session, registration_id)
    if event.is_cancelled:
        raise EventCancelled()
    if registration.status in (S.CONFIRMED, S.ATTENDED):
        return Outcome(registration, changed=False)
    # Seats already held (an offer, a no-show) are counted in the usage already.
    extra = 0 if registration.holds_seats else registration.party_size
    if not (await seat_usage(session, event)).fits(event, extra):
        raise NotEnoughSeats(party_size=registration.party_size)
    promoted = Notice(NotificationKind.PROMOTED, f"promoted:{registration.id}:{stamp(now)}")
    return await carry_out(
        session,
        event,
        registration,
        Change(
            S.CONFIRMED,
            "organiser_confirm",
            actor_id,
            note=note,
            audit="registration.confirm",
            notice=promoted,
        ),
        now,
        policy,
    )


async def override_cancel(
    session: AsyncSession,
    *,
    registration_id: int,
    actor_id: int,
    now: datetime,
    policy: RegistrationPolicy,
    note: str = "",
) -> Outcome:
    """An organiser cancels someone's registration; the member is told, the waitlist moves up."""
    await require_organiser(session, actor_id)
    event, registration = await lock_registration(session, registration_id)
    if not registration.is_active:
        return Outcome(registration, changed=False)
    key = f"removed:{registration.id}:{stamp(now)}"
    removed = Notice(NotificationKind.REMOVED, key, {"note": note})
    return await carry_out(
        session,
        event,
        registration,
        Change(
            S.CANCELLED,
            "organiser_cancel",
            actor_id,
            note=note,
            audit="registration.cancel",
            notice=removed,
            refill=f"removed-{registration.id}-{stamp(now)}" if registration.holds_seats else None,
        ),
        now,
        policy,
    )


async def record_attendance(
    session: AsyncSession,
    *,
    registration_id: int,
    actor_id: int,
    attended: bool,
    now: datetime,
    policy: RegistrationPolicy,
) -> Outcome:
    """Check someone in (or record a no-show), from an hour before the start; corrections
    remain possible after the end."""
    await require_organiser(session, actor_id)
    event, registration = await lock_registration(session, registration_id)
    if now < check_in_opens_at(event):
        raise NotAllowed()
    if registration.status not in (S.CONFIRMED, S.ATTENDED, S.NO_SHOW):
        raise NotRegistered()
    status = S.ATTENDED if attended else S.NO_SHOW
    if registration.status is status:
        return Outcome(registration, changed=False)
    change = Change(status, "attendance", actor_id, audit="registration.attendance")
    return await carry_out(session, event, registration, change, now, policy)
