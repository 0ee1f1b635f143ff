"""What a member may do about their place at an event right now, asked before the tap.

The registration operations (``operations.py``) check these same rules after the tap and refuse
with the reason; here they decide what a front end offers at all (as pretix's
``Order.user_cancel_allowed``), so a card never shows a button the domain would refuse for a
reason it already knows: the event's status, its start and registration deadline, the party
size the policy allows, the member's own status and offer deadline, and whether a seat is free
for a claim in the last call. Left to the operation alone: seats for one more person in a party
(the refusal says how many are missing), another member taking the last seat between the card
and the tap, and a network's fair share (the card does not count seats per network); the
operation then refuses and the card is shown again.
"""

from __future__ import annotations

import enum
from datetime import datetime

from models.errors import (
    DomainError,
    EventCancelled,
    EventNotOpen,
    EventStarted,
    NotRegistered,
    OfferExpired,
    PartySizeInvalid,
    RegistrationClosed,
)
from models.events.entities import Event, EventStatus
from models.registrations.entities import Registration, RegistrationStatus
from models.registrations.policy import RegistrationPolicy

S = RegistrationStatus


class CardAction(enum.StrEnum):
    """Something a member can do from an event's card."""

    REGISTER = "register"
    REGISTER_WITH_GUEST = "register_with_guest"  # the member and one more
    JOIN_WAITLIST = "join_waitlist"
    BRING_GUEST = "bring_guest"  # one more person in a confirmed party
    ONE_FEWER = "one_fewer"
    CANCEL = "cancel"  # a confirmed place
    LEAVE_WAITLIST = "leave_waitlist"
    CLAIM = "claim"  # an offered seat, or in the last call a free one
    DECLINE = "decline"  # an offered seat
    ADD_TO_CALENDAR = "add_to_calendar"


A = CardAction


def registration_refusal(event: Event, now: datetime) -> DomainError | None:
    """Why nobody can register (or change a party's size) for ``event`` now; None: they can."""
    if event.status is EventStatus.CANCELLED:
        return EventCancelled()
    if event.status is not EventStatus.PUBLISHED:
        return EventNotOpen()
    if now >= event.starts_at:
        return EventStarted()
    if event.registration_deadline is not None and now > event.registration_deadline:
        return RegistrationClosed()
    return None


def party_size_refusal(party_size: int, policy: RegistrationPolicy) -> DomainError | None:
    """The member counts as one; a party is at most ``policy.max_party_size``."""
    if not 1 <= party_size <= policy.max_party_size:
        return PartySizeInvalid(maximum=policy.max_party_size)
    return None


def cancel_refusal(
    event: Event, registration: Registration | None, now: datetime
) -> DomainError | None:
    """Why the member cannot cancel their place (or waitlist place) now; None: they can."""
    if now >= event.starts_at:
        return EventStarted()
    if registration is None or not registration.is_active:
        return NotRegistered()
    return None


def offer_expired(registration: Registration, now: datetime) -> DomainError | None:
    """An offered seat can be claimed until its deadline (the sweep then passes it on)."""
    assert registration.offer_expires_at is not None
    if now > registration.offer_expires_at:
        return OfferExpired()
    return None


def card_actions(
    event: Event,
    registration: Registration | None,
    *,
    seats_left: int | None,
    now: datetime,
    policy: RegistrationPolicy,
) -> frozenset[CardAction]:
    """What the member behind ``registration`` (None: never registered) may do on the card.

    ``seats_left``: free seats (None: no limit), as counted for the card. A cancelled or past
    event, or one that has started, offers only the calendar.
    """
    allowed = {A.ADD_TO_CALENDAR}
    if event.is_cancelled or now >= event.starts_at:
        return frozenset(allowed)

    def fits(seats: int) -> bool:
        return seats_left is None or seats_left >= seats

    open_ = registration_refusal(event, now) is None
    status = registration.status if registration is not None else None
    if registration is not None and status is S.OFFERED:
        if offer_expired(registration, now) is None:
            allowed.add(A.CLAIM)
        allowed.add(A.DECLINE)
    elif registration is not None and status is S.WAITLISTED:
        allowed.add(A.LEAVE_WAITLIST)
        if policy.is_last_call(now, event.starts_at) and fits(registration.party_size):
            allowed.add(A.CLAIM)  # free seats go to whoever claims first
    elif registration is not None and status is S.CONFIRMED:
        if cancel_refusal(event, registration, now) is None:
            allowed.add(A.CANCEL)
        party = registration.party_size
        if open_ and party_size_refusal(party - 1, policy) is None:
            allowed.add(A.ONE_FEWER)
        if open_ and party_size_refusal(party + 1, policy) is None:
            # Whether a seat is free for them is decided at the tap (as for a party that
            # registers when one seat is left), and the refusal says so.
            allowed.add(A.BRING_GUEST)
    elif (status is None or status is S.CANCELLED) and open_:
        if not fits(1):
            allowed.add(A.JOIN_WAITLIST)
        else:
            # A party that does not fit the seats left joins the waitlist: still a registration.
            allowed.add(A.REGISTER)
            if party_size_refusal(2, policy) is None:
                allowed.add(A.REGISTER_WITH_GUEST)
    return frozenset(allowed)
