"""Taking attendance: the code shown at the venue, checking in, and the no-shows afterwards.

Check-in is open from an hour before the start until the end of the event (``window.py``).
Organisers tap names (``mark_attendance``, through ``record_attendance``), or show a four-character
code at the venue that attendees type into the bot (``check_in_self``). After the event,
``close_attendance`` records everyone with a seat who did not check in as a no-show.
Organiser operations are authorised here and written to the audit log in the same transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.attendance.queries import AttendeeList, attendee_list
from models.attendance.window import NotYetOver as NotYetOver  # refused by close_attendance
from models.attendance.window import check_in_open, check_in_opens_at, require_over
from models.errors import N_, DomainError, EventCancelled, EventNotOpen, NotFound
from models.events.entities import Event, EventStatus
from models.organisers import audit
from models.organisers.authorisation import require_organiser
from models.registrations import operations as registrations
from models.registrations.changes import Change, Outcome, carry_out
from models.registrations.entities import Registration, RegistrationStatus
from models.registrations.locks import lock_event
from models.registrations.policy import RegistrationPolicy

S = RegistrationStatus
# No 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G, Q: nothing to mix up on a handwritten sign or a beamer.
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"
CODE_LENGTH = 4


class CheckInClosed(DomainError):
    message = N_(
        "Inchecken kan vanaf een uur voor het begin tot het einde van de bijeenkomst; nu niet."
    )


class CheckInNotYetOpen(DomainError):
    message = N_(
        "Het inchecken is nog niet begonnen: dat kan vanaf een uur voor het begin. "
        "Probeer het straks nog eens."
    )


class CheckInOver(DomainError):
    message = N_("Deze bijeenkomst is al afgelopen; inchecken kan niet meer.")


class WrongCode(DomainError):
    message = N_(
        "Die code ken ik niet. Kijk nog eens goed naar de code in de zaal: vier tekens, zoals K7P2."
    )


class NotOnTheList(DomainError):
    message = N_(
        "Je staat niet op de deelnemerslijst van deze bijeenkomst. "
        "Meld je even bij de organisatie in de zaal."
    )


def new_check_in_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What someone typed ("k7p2", "K7 P2", "K-7-P-2") as a code; lookalikes are not guessed."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


async def check_in_code(
    session: AsyncSession, *, actor_id: int, event_id: int, now: datetime
) -> str:
    """The code to show at the venue, created the first time an organiser asks for it.

    Only while check-in is open. The same code for every organiser who asks (they may each show
    it); unique among the events whose check-in has not closed, so a code names one event.
    """
    await require_organiser(session, actor_id)
    event = await lock_event(session, event_id)
    if event.is_cancelled:
        raise EventCancelled()
    if event.status is not EventStatus.PUBLISHED:
        raise EventNotOpen()
    if not check_in_open(event, now):
        raise CheckInClosed()
    if event.check_in_code:
        return event.check_in_code
    in_use = set(
        (
            await session.scalars(
                select(Event.check_in_code).where(
                    Event.check_in_code.is_not(None), Event.ends_at > now
                )
            )
        ).all()
    )
    code = new_check_in_code()
    while code in in_use:
        code = new_check_in_code()
    event.check_in_code = code
    await audit.record(
        session,
        actor_id=actor_id,
        action="event.check_in_code",
        object_type="event",
        object_id=event.id,
        now=now,
        before={"check_in_code": None},
        after={"check_in_code": code},
    )
    await session.flush()
    return code


async def check_in_self(
    session: AsyncSession,
    *,
    member_id: int,
    code: str,
    now: datetime,
    policy: RegistrationPolicy,
) -> tuple[Event, Outcome]:
    """A member types the code shown at the venue: their confirmed seat becomes ATTENDED.

    Refusals, each with its own message: a code no event has (``WrongCode``), before check-in
    opens (``CheckInNotYetOpen``), after the end (``CheckInOver``), no seat of one's own for
    that event (``NotOnTheList``: waitlisted, cancelled, or never registered). Checking in twice
    changes nothing (``outcome.changed`` is False). Someone an organiser marked absent by
    mistake can still check themselves in: being at the venue during the event is the proof.
    """
    wanted = normalise_code(code)
    if len(wanted) != CODE_LENGTH:
        raise WrongCode()
    candidates = (
        await session.scalars(
            select(Event).where(
                Event.check_in_code == wanted, Event.status != EventStatus.CANCELLED
            )
        )
    ).all()
    if not candidates:
        raise WrongCode()
    # Codes are unique while open; an old event may have had the same one.
    event = min(
        candidates,
        key=lambda e: (not check_in_open(e, now), abs((e.starts_at - now).total_seconds())),
    )
    if now < check_in_opens_at(event):
        raise CheckInNotYetOpen()
    if now >= event.ends_at:
        raise CheckInOver()
    status = await session.scalar(
        select(Registration.status).where(
            Registration.event_id == event.id, Registration.member_id == member_id
        )
    )
    if status not in (S.CONFIRMED, S.ATTENDED, S.NO_SHOW):
        raise NotOnTheList()
    outcome = await registrations.check_in_self(
        session, event_id=event.id, member_id=member_id, now=now, policy=policy
    )
    return event, outcome


async def mark_attendance(
    session: AsyncSession,
    *,
    actor_id: int,
    event_id: int,
    registration_id: int,
    attended: bool,
    now: datetime,
    policy: RegistrationPolicy,
) -> Outcome:
    """An organiser taps a name: checked in (``attended``) or not (recorded as absent).

    ``record_attendance`` decides and writes the audit entry; this checks that the registration
    belongs to the event on the organiser's screen (an old or forged button changes nothing).
    """
    await require_organiser(session, actor_id)
    registration = await session.get(Registration, registration_id)
    if registration is None or registration.event_id != event_id:
        raise NotFound()
    return await registrations.record_attendance(
        session,
        registration_id=registration_id,
        actor_id=actor_id,
        attended=attended,
        now=now,
        policy=policy,
    )


async def toggle_attendance(
    session: AsyncSession,
    *,
    actor_id: int,
    event_id: int,
    registration_id: int,
    now: datetime,
    policy: RegistrationPolicy,
) -> Outcome:
    """A tap on a name in the check-in list: checked in becomes not checked in (recorded as
    absent), anything else becomes checked in. The status is read under the event's lock, so a tap
    always flips the state as last committed (also when two organisers tap at once)."""
    await require_organiser(session, actor_id)
    await lock_event(session, event_id)
    status = await session.scalar(
        select(Registration.status).where(
            Registration.id == registration_id, Registration.event_id == event_id
        )
    )
    return await mark_attendance(
        session,
        actor_id=actor_id,
        event_id=event_id,
        registration_id=registration_id,
        attended=status is not S.ATTENDED,
        now=now,
        policy=policy,
    )


@dataclass(frozen=True)
class AttendanceClosed:
    marked: int  # registrations recorded as no-show by this call
    attended: int  # people attended (party sizes counted)
    no_show: int  # people not come, in total (also those marked earlier)


async def close_attendance(
    session: AsyncSession,
    *,
    actor_id: int,
    event_id: int,
    now: datetime,
    policy: RegistrationPolicy,
) -> AttendanceClosed:
    """After the event: every registration still confirmed (not checked in) becomes NO_SHOW
    (reason "no_show"). Doing it again changes nothing; a no-show can still be corrected by
    tapping the name."""
    await require_organiser(session, actor_id)
    event = await lock_event(session, event_id)
    if event.is_cancelled:
        raise EventCancelled()
    require_over(event, now)
    seated = (
        await session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status.in_([S.CONFIRMED, S.ATTENDED, S.NO_SHOW]),
            )
            .order_by(Registration.queue_seq)
            .execution_options(populate_existing=True)
        )
    ).all()
    marked = [registration for registration in seated if registration.status is S.CONFIRMED]
    no_show = Change(S.NO_SHOW, "no_show", actor_id)
    for registration in marked:
        await carry_out(session, event, registration, no_show, now, policy, flush=False)
    if marked:
        await audit.record(
            session,
            actor_id=actor_id,
            action="attendance.close",
            object_type="event",
            object_id=event.id,
            now=now,
            before={"confirmed": [r.id for r in marked]},
            after={"no_show": [r.id for r in marked]},
        )
    await session.flush()
    return AttendanceClosed(
        marked=len(marked),
        attended=sum(r.party_size for r in seated if r.status is S.ATTENDED),
        no_show=sum(r.party_size for r in seated if r.status is S.NO_SHOW),
    )


async def export_attendees(
    session: AsyncSession, *, actor_id: int, event_id: int, now: datetime
) -> AttendeeList:
    """The attendee list for a CSV download; the download (personal data leaving the service)
    is written to the audit log."""
    attendees = await attendee_list(session, actor_id=actor_id, event_id=event_id)
    await audit.record(
        session,
        actor_id=actor_id,
        action="attendance.export",
        object_type="event",
        object_id=event_id,
        now=now,
        after={"rows": len(attendees.seated) + len(attendees.waitlist)},
    )
    return attendees
