"""Each registration rule and each refusal, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models.clock import FrozenClock
from models.db import Database
from models.errors import (
    EventCancelled,
    EventStarted,
    NoOpenOffer,
    NotAllowed,
    NotEnoughSeats,
    NotFound,
    NotRegistered,
    OfferExpired,
    PartySizeInvalid,
    RegistrationClosed,
    SeatTaken,
)
from models.events.operations import cancel_event
from models.members.entities import Role
from models.outbox.entities import NotificationKind, OutboxMessage
from models.registrations import operations as ops
from models.registrations.entities import Registration, RegistrationChange, RegistrationStatus
from models.registrations.policy import RegistrationPolicy
from tests.factories import make_event, make_member

S = RegistrationStatus


async def register(
    db: Database,
    clock: FrozenClock,
    policy: RegistrationPolicy,
    event_id: int,
    member_id: int,
    **kwargs: object,
) -> ops.Outcome:
    async with db.transaction() as session:
        return await ops.register(
            session,
            event_id=event_id,
            member_id=member_id,
            now=clock(),
            policy=policy,
            **kwargs,  # type: ignore[arg-type]
        )


async def status_of(db: Database, event_id: int, member_id: int) -> RegistrationStatus:
    async with db.read() as session:
        registration = await session.scalar(
            select(Registration).where(
                Registration.event_id == event_id, Registration.member_id == member_id
            )
        )
    assert registration is not None
    return registration.status


async def outbox(db: Database, kind: NotificationKind) -> list[OutboxMessage]:
    async with db.read() as session:
        return list(
            (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))).all()
        )


async def test_register_confirms_when_seats_are_free(db, clock, policy):
    event = await make_event(db, clock(), capacity=10)
    anna = await make_member(db)
    outcome = await register(db, clock, policy, event.id, anna.id)
    assert outcome.registration.status is S.CONFIRMED
    assert outcome.changed and outcome.waitlist_position is None


async def test_registering_twice_changes_nothing(db, clock, policy):
    event = await make_event(db, clock(), capacity=10)
    anna = await make_member(db)
    await register(db, clock, policy, event.id, anna.id)
    again = await register(db, clock, policy, event.id, anna.id)
    assert not again.changed
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Registration)) == 1
        assert await session.scalar(select(func.count()).select_from(RegistrationChange)) == 1


async def test_full_event_puts_people_on_the_waitlist_in_order(db, clock, policy):
    event = await make_event(db, clock(), capacity=1)
    first, second, third = [await make_member(db, name=n) for n in ("A", "B", "C")]
    await register(db, clock, policy, event.id, first.id)
    two = await register(db, clock, policy, event.id, second.id)
    three = await register(db, clock, policy, event.id, third.id)
    assert two.registration.status is S.WAITLISTED and two.waitlist_position == 1
    assert three.waitlist_position == 2


async def test_refuse_when_full_if_asked_not_to_waitlist(db, clock, policy):
    event = await make_event(db, clock(), capacity=1)
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    await register(db, clock, policy, event.id, a.id)
    with pytest.raises(NotEnoughSeats):
        await register(db, clock, policy, event.id, b.id, if_full="refuse")
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Registration)) == 1


async def test_party_size_counts_against_capacity(db, clock, policy):
    event = await make_event(db, clock(), capacity=3)
    a, b, c = [await make_member(db, name=n) for n in "ABC"]
    await register(db, clock, policy, event.id, a.id, party_size=2)
    assert (
        await register(db, clock, policy, event.id, b.id, party_size=2)
    ).registration.status is S.WAITLISTED
    assert (await register(db, clock, policy, event.id, c.id)).registration.status is S.CONFIRMED


async def test_party_size_limits(db, clock, policy):
    event = await make_event(db, clock(), capacity=10)
    anna = await make_member(db)
    for size in (0, policy.max_party_size + 1):
        with pytest.raises(PartySizeInvalid):
            await register(db, clock, policy, event.id, anna.id, party_size=size)


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        ({"publish": False}, NotFound),  # a draft is invisible to members
        ({"registration_deadline_in": timedelta(days=-1)}, RegistrationClosed),
    ],
)
async def test_refusals_for_events_not_open(db, clock, policy, setup, error):
    fields = dict(setup)
    deadline = fields.pop("registration_deadline_in", None)
    event = await make_event(db, clock(), capacity=5, **fields)
    if deadline is not None:
        async with db.transaction() as session:
            stored = await ops.lock_event(session, event.id)
            stored.registration_deadline = clock() + deadline
    anna = await make_member(db)
    with pytest.raises(error):
        await register(db, clock, policy, event.id, anna.id)


async def test_refuse_registration_for_cancelled_event(db, clock, policy):
    event = await make_event(db, clock(), capacity=5)
    async with db.transaction() as session:
        await cancel_event(
            session, event_id=event.id, actor_id=None, reason="zaal onbeschikbaar", now=clock()
        )
    anna = await make_member(db)
    with pytest.raises(EventCancelled):
        await register(db, clock, policy, event.id, anna.id)


async def test_refuse_registration_after_start(db, clock, policy):
    event = await make_event(db, clock(), capacity=5, starts_in=timedelta(hours=1))
    anna = await make_member(db)
    clock.advance(timedelta(hours=2))
    with pytest.raises(EventStarted):
        await register(db, clock, policy, event.id, anna.id)


async def test_cancel_offers_the_seat_to_the_first_on_the_waitlist(db, clock, policy):
    event = await make_event(db, clock(), capacity=1)
    a, b, c = [await make_member(db, name=n) for n in "ABC"]
    for m in (a, b, c):
        await register(db, clock, policy, event.id, m.id)
    async with db.transaction() as session:
        outcome = await ops.cancel(
            session, event_id=event.id, member_id=a.id, now=clock(), policy=policy
        )
    assert [n.kind for n in outcome.notifications] == [NotificationKind.SEAT_OFFERED]
    assert outcome.notifications[0].member_id == b.id
    assert await status_of(db, event.id, b.id) is S.OFFERED
    assert await status_of(db, event.id, c.id) is S.WAITLISTED


async def test_offer_deadline_is_24h_but_never_more_than_half_the_time_left(db, clock, policy):
    far = await make_event(db, clock(), capacity=1, starts_in=timedelta(days=10))
    near = await make_event(db, clock(), capacity=1, starts_in=timedelta(hours=10), title="Dialoog")
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    for event in (far, near):
        await register(db, clock, policy, event.id, a.id)
        await register(db, clock, policy, event.id, b.id)
        async with db.transaction() as session:
            await ops.cancel(session, event_id=event.id, member_id=a.id, now=clock(), policy=policy)
    async with db.read() as session:
        offers = {
            r.event_id: r.offer_expires_at
            for r in (
                await session.scalars(select(Registration).where(Registration.status == S.OFFERED))
            )
        }
    assert offers[far.id] == clock() + timedelta(hours=24)
    assert offers[near.id] == clock() + timedelta(hours=5)


async def test_claim_offer_confirms(db, clock, policy):
    event = await make_event(db, clock(), capacity=1)
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    await register(db, clock, policy, event.id, a.id)
    await register(db, clock, policy, event.id, b.id)
    async with db.transaction() as session:
        await ops.cancel(session, event_id=event.id, member_id=a.id, now=clock(), policy=policy)
    async with db.transaction() as session:
        await ops.claim_seat(session, event_id=event.id, member_id=b.id, now=clock(), policy=policy)
    assert await status_of(db, event.id, b.id) is S.CONFIRMED


async def test_claim_without_offer_is_refused(db, clock, policy):
    event = await make_event(db, clock(), capacity=1)
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    await register(db, clock, policy, event.id, a.id)
    await register(db, clock, policy, event.id, b.id)
    with pytest.raises(NoOpenOffer):
        async with db.transaction() as session:
            await ops.claim_seat(
                session, event_id=event.id, member_id=b.id, now=clock(), policy=policy
            )


async def test_expired_offer_moves_to_the_next(db, clock, policy):
    event = await make_event(db, clock(), capacity=1)
    a, b, c = [await make_member(db, name=n) for n in "ABC"]
    for m in (a, b, c):
        await register(db, clock, policy, event.id, m.id)
    async with db.transaction() as session:
        await ops.cancel(session, event_id=event.id, member_id=a.id, now=clock(), policy=policy)
    clock.advance(timedelta(hours=25))
    with pytest.raises(OfferExpired):
        async with db.transaction() as session:
            await ops.claim_seat(
                session, event_id=event.id, member_id=b.id, now=clock(), policy=policy
            )
    async with db.transaction() as session:
        written = await ops.expire_offers(session, now=clock(), policy=policy)
    assert [(n.kind, n.member_id) for n in written] == [
        (NotificationKind.OFFER_EXPIRED, b.id),
        (NotificationKind.SEAT_OFFERED, c.id),
    ]
    assert await status_of(db, event.id, b.id) is S.CANCELLED
    assert await status_of(db, event.id, c.id) is S.OFFERED
    async with db.transaction() as session:  # a second sweep finds nothing more to do
        assert await ops.expire_offers(session, now=clock(), policy=policy) == []


async def test_decline_offer_passes_it_on(db, clock, policy):
    event = await make_event(db, clock(), capacity=1)
    a, b, c = [await make_member(db, name=n) for n in "ABC"]
    for m in (a, b, c):
        await register(db, clock, policy, event.id, m.id)
    async with db.transaction() as session:
        await ops.cancel(session, event_id=event.id, member_id=a.id, now=clock(), policy=policy)
    async with db.transaction() as session:
        outcome = await ops.decline_offer(
            session, event_id=event.id, member_id=b.id, now=clock(), policy=policy
        )
    assert [n.member_id for n in outcome.notifications] == [c.id]
    with pytest.raises(NoOpenOffer):
        async with db.transaction() as session:
            await ops.decline_offer(
                session, event_id=event.id, member_id=b.id, now=clock(), policy=policy
            )


async def test_last_call_first_claim_wins(db, clock, policy):
    event = await make_event(db, clock(), capacity=1, starts_in=timedelta(hours=2))
    a, b, c = [await make_member(db, name=n) for n in "ABC"]
    for m in (a, b, c):
        await register(db, clock, policy, event.id, m.id)
    async with db.transaction() as session:
        outcome = await ops.cancel(
            session, event_id=event.id, member_id=a.id, now=clock(), policy=policy
        )
    assert {n.member_id for n in outcome.notifications} == {b.id, c.id}
    assert all(n.kind is NotificationKind.SEAT_AVAILABLE for n in outcome.notifications)
    async with db.transaction() as session:
        await ops.claim_seat(session, event_id=event.id, member_id=c.id, now=clock(), policy=policy)
    with pytest.raises(SeatTaken):
        async with db.transaction() as session:
            await ops.claim_seat(
                session, event_id=event.id, member_id=b.id, now=clock(), policy=policy
            )
    assert await status_of(db, event.id, c.id) is S.CONFIRMED
    assert await status_of(db, event.id, b.id) is S.WAITLISTED


async def test_freed_seat_skips_a_party_that_does_not_fit(db, clock, policy):
    event = await make_event(db, clock(), capacity=2)
    a, b, c = [await make_member(db, name=n) for n in "ABC"]
    await register(db, clock, policy, event.id, a.id, party_size=2)
    await register(db, clock, policy, event.id, b.id, party_size=2)
    await register(db, clock, policy, event.id, c.id)
    async with db.transaction() as session:
        await ops.change_party_size(
            session, event_id=event.id, member_id=a.id, party_size=1, now=clock(), policy=policy
        )
    assert await status_of(db, event.id, b.id) is S.WAITLISTED
    assert await status_of(db, event.id, c.id) is S.OFFERED


async def test_bringing_someone_needs_a_free_seat(db, clock, policy):
    event = await make_event(db, clock(), capacity=2)
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    await register(db, clock, policy, event.id, a.id)
    await register(db, clock, policy, event.id, b.id)
    with pytest.raises(NotEnoughSeats):
        async with db.transaction() as session:
            await ops.change_party_size(
                session, event_id=event.id, member_id=a.id, party_size=2, now=clock(), policy=policy
            )


async def test_fair_share_waitlists_beyond_the_share_until_release(db, clock, policy):
    event = await make_event(
        db,
        clock(),
        capacity=10,
        fair_share_per_network=2,
        fair_share_until=clock() + timedelta(days=7),
    )
    wyck = [await make_member(db, name=f"W{i}", network="wyck") for i in range(3)]
    amby = await make_member(db, name="Amby", network="amby")
    statuses = [
        (await register(db, clock, policy, event.id, m.id)).registration.status for m in wyck
    ]
    assert statuses == [S.CONFIRMED, S.CONFIRMED, S.WAITLISTED]
    assert (await register(db, clock, policy, event.id, amby.id)).registration.status is S.CONFIRMED
    async with db.transaction() as session:  # before the release moment: nothing moves
        assert await ops.release_fair_share(session, now=clock(), policy=policy) == []
    clock.advance(timedelta(days=7))
    async with db.transaction() as session:
        written = await ops.release_fair_share(session, now=clock(), policy=policy)
    assert [n.member_id for n in written] == [wyck[2].id]
    async with db.transaction() as session:  # releasing again changes nothing
        assert await ops.release_fair_share(session, now=clock(), policy=policy) == []


async def test_after_the_release_moment_those_waiting_go_before_a_newcomer(db, clock, policy):
    """Between the release moment and the sweep, a newcomer does not take the seat of someone
    who waited only because of fair share: registering hands out the released seats first."""
    event = await make_event(
        db,
        clock(),
        capacity=3,
        fair_share_per_network=1,
        fair_share_until=clock() + timedelta(days=7),
    )
    w1, w2 = [await make_member(db, name=f"W{i}", network="wyck") for i in range(2)]
    amby, belfort = (
        await make_member(db, name="Amby", network="amby"),
        await make_member(db, name="Belfort", network="belfort-daalhof"),
    )
    await register(db, clock, policy, event.id, w1.id)
    assert (await register(db, clock, policy, event.id, w2.id)).registration.status is S.WAITLISTED
    clock.advance(timedelta(days=7, seconds=1))  # released; the sweep has not run yet
    outcome = await register(db, clock, policy, event.id, amby.id)
    assert outcome.registration.status is S.CONFIRMED  # the third seat is still free
    assert await status_of(db, event.id, w2.id) is S.OFFERED
    assert [(n.kind, n.member_id) for n in outcome.notifications] == [
        (NotificationKind.SEAT_OFFERED, w2.id)
    ]
    late = await register(db, clock, policy, event.id, belfort.id)
    assert late.registration.status is S.WAITLISTED and late.waitlist_position == 1
    async with db.transaction() as session:  # the sweep finds nothing left to do
        assert await ops.release_fair_share(session, now=clock(), policy=policy) == []


async def test_cancel_without_registration_is_refused(db, clock, policy):
    event = await make_event(db, clock(), capacity=2)
    anna = await make_member(db)
    with pytest.raises(NotRegistered):
        async with db.transaction() as session:
            await ops.cancel(
                session, event_id=event.id, member_id=anna.id, now=clock(), policy=policy
            )


async def test_cancel_after_start_is_refused(db, clock, policy):
    event = await make_event(db, clock(), capacity=2, starts_in=timedelta(hours=1))
    anna = await make_member(db)
    await register(db, clock, policy, event.id, anna.id)
    clock.advance(timedelta(hours=1))
    with pytest.raises(EventStarted):
        async with db.transaction() as session:
            await ops.cancel(
                session, event_id=event.id, member_id=anna.id, now=clock(), policy=policy
            )


async def test_register_again_after_cancelling_goes_to_the_back(db, clock, policy):
    event = await make_event(db, clock(), capacity=1)
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    await register(db, clock, policy, event.id, a.id)
    await register(db, clock, policy, event.id, b.id)
    async with db.transaction() as session:
        await ops.cancel(session, event_id=event.id, member_id=a.id, now=clock(), policy=policy)
    again = await register(db, clock, policy, event.id, a.id)
    assert again.registration.status is S.WAITLISTED and again.waitlist_position == 1


async def test_organiser_overrides(db, clock, policy):
    """An organiser may seat someone past the fair share, never past capacity."""
    event = await make_event(
        db,
        clock(),
        capacity=3,
        fair_share_per_network=1,
        fair_share_until=clock() + timedelta(days=7),
    )
    organiser = await make_member(db, name="Org", role=Role.ORGANISER, network=None)
    a, b, c = [await make_member(db, name=n) for n in "ABC"]
    await register(db, clock, policy, event.id, a.id)
    second = (await register(db, clock, policy, event.id, b.id)).registration
    pair = (await register(db, clock, policy, event.id, c.id, party_size=2)).registration
    assert second.status is S.WAITLISTED and pair.status is S.WAITLISTED
    async with db.transaction() as session:
        outcome = await ops.override_confirm(
            session, registration_id=second.id, actor_id=organiser.id, now=clock(), policy=policy
        )
    assert [n.kind for n in outcome.notifications] == [NotificationKind.PROMOTED]
    with pytest.raises(NotEnoughSeats):  # capacity holds, also for organisers
        async with db.transaction() as session:
            await ops.override_confirm(
                session, registration_id=pair.id, actor_id=organiser.id, now=clock(), policy=policy
            )
    async with db.transaction() as session:
        outcome = await ops.override_cancel(
            session,
            registration_id=second.id,
            actor_id=organiser.id,
            now=clock(),
            policy=policy,
            note="dubbel aangemeld",
        )
    assert [n.kind for n in outcome.notifications] == [NotificationKind.REMOVED]
    assert await status_of(db, event.id, b.id) is S.CANCELLED


async def test_members_cannot_use_overrides(db, clock, policy):
    event = await make_event(db, clock(), capacity=2)
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    registration = (await register(db, clock, policy, event.id, a.id)).registration
    with pytest.raises(NotAllowed):
        async with db.transaction() as session:
            await ops.override_cancel(
                session, registration_id=registration.id, actor_id=b.id, now=clock(), policy=policy
            )
    assert await status_of(db, event.id, a.id) is S.CONFIRMED


async def test_attendance_and_no_show(db, clock, policy):
    event = await make_event(db, clock(), capacity=2, starts_in=timedelta(hours=4))
    organiser = await make_member(db, name="Org", role=Role.ORGANISER, network=None)
    a = await make_member(db)
    registration = (await register(db, clock, policy, event.id, a.id)).registration
    with pytest.raises(NotAllowed):  # not yet: check-in opens an hour before
        async with db.transaction() as session:
            await ops.record_attendance(
                session,
                registration_id=registration.id,
                actor_id=organiser.id,
                attended=True,
                now=clock(),
                policy=policy,
            )
    clock.advance(timedelta(hours=4))
    async with db.transaction() as session:
        await ops.record_attendance(
            session,
            registration_id=registration.id,
            actor_id=organiser.id,
            attended=False,
            now=clock(),
            policy=policy,
        )
    assert await status_of(db, event.id, a.id) is S.NO_SHOW


async def test_history_records_every_change(db, clock, policy):
    event = await make_event(db, clock(), capacity=1)
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    await register(db, clock, policy, event.id, a.id)
    await register(db, clock, policy, event.id, b.id)
    async with db.transaction() as session:
        await ops.cancel(session, event_id=event.id, member_id=a.id, now=clock(), policy=policy)
    async with db.transaction() as session:
        await ops.claim_seat(session, event_id=event.id, member_id=b.id, now=clock(), policy=policy)
    async with db.read() as session:
        rows = (
            await session.execute(
                select(
                    Registration.member_id,
                    RegistrationChange.from_status,
                    RegistrationChange.to_status,
                    RegistrationChange.reason,
                    RegistrationChange.actor_id,
                )
                .join(Registration, Registration.id == RegistrationChange.registration_id)
                .order_by(RegistrationChange.id)
            )
        ).all()
    assert rows == [
        (a.id, None, S.CONFIRMED, "registered", a.id),
        (b.id, None, S.WAITLISTED, "waitlisted", b.id),
        (a.id, S.CONFIRMED, S.CANCELLED, "cancelled", a.id),
        (b.id, S.WAITLISTED, S.OFFERED, "offered", None),
        (b.id, S.OFFERED, S.CONFIRMED, "claimed", b.id),
    ]


async def test_notifications_exist_exactly_when_their_cause_does(db, clock, policy):
    """A failed transaction leaves neither the change nor its notification behind."""
    event = await make_event(db, clock(), capacity=1)
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    await register(db, clock, policy, event.id, a.id)
    await register(db, clock, policy, event.id, b.id)
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await ops.cancel(session, event_id=event.id, member_id=a.id, now=clock(), policy=policy)
            raise RuntimeError("crash before commit")
    assert await outbox(db, NotificationKind.SEAT_OFFERED) == []
    assert await status_of(db, event.id, a.id) is S.CONFIRMED


async def test_events_of_another_network_cannot_be_registered_for(db, clock, policy):
    from tests.factories import network_id

    own = await make_event(db, clock(), capacity=5, network_id=await network_id(db, "amby"))
    draft = await make_event(db, clock(), capacity=5, publish=False)
    outsider = await make_member(db, network="wyck")
    for event in (own, draft):
        with pytest.raises(NotFound):
            await register(db, clock, policy, event.id, outsider.id)
    insider = await make_member(db, network="amby")
    assert (
        await register(db, clock, policy, own.id, insider.id)
    ).registration.status is S.CONFIRMED


async def test_an_organiser_can_confirm_a_no_show_in_a_full_event(db, clock, policy):
    """Regression: a no-show's seats were counted twice, so a full event refused it."""
    event = await make_event(db, clock(), capacity=1, starts_in=timedelta(minutes=30))
    organiser = await make_member(db, name="Org", role=Role.ORGANISER, network=None)
    anna = await make_member(db)
    registration = (await register(db, clock, policy, event.id, anna.id)).registration
    async with db.transaction() as session:
        await ops.record_attendance(
            session,
            registration_id=registration.id,
            actor_id=organiser.id,
            attended=False,
            now=clock(),
            policy=policy,
        )
        outcome = await ops.override_confirm(
            session,
            registration_id=registration.id,
            actor_id=organiser.id,
            now=clock(),
            policy=policy,
        )
    assert outcome.registration.status is S.CONFIRMED
