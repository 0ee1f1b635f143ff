"""Which events go in which feed: windows, scope, the personal statuses, and data versions."""

from __future__ import annotations

from datetime import timedelta

from models.events.operations import cancel_event, update_event
from models.feeds import queries
from models.registrations import operations as registrations
from models.registrations.entities import RegistrationStatus
from tests.factories import make_event, make_member, network_id


def ids(selection):
    return [entry.event.id for entry in selection.entries]


async def public(db, clock, network=None):
    async with db.read() as session:
        found = await queries.network_by_slug(session, network) if network else None
        return await queries.public_feed(session, now=clock(), network=found)


async def test_published_events_stay_until_30_days_after_they_ended(db, clock):
    event = await make_event(db, clock(), starts_in=timedelta(days=2))
    draft = await make_event(db, clock(), publish=False)
    assert ids(await public(db, clock)) == [event.id]
    selection = await public(db, clock)
    assert selection.next_change == event.ends_at + queries.PAST_WINDOW
    assert draft.id not in ids(selection)
    clock.set(event.ends_at + timedelta(days=29))
    assert ids(await public(db, clock)) == [event.id]
    clock.set(event.ends_at + queries.PAST_WINDOW)
    gone = await public(db, clock)
    assert ids(gone) == []
    # It dropped out: that is the feed's last change.
    assert gone.last_modified == event.ends_at + queries.PAST_WINDOW


async def test_cancelled_events_stay_14_days_then_go(db, clock):
    event = await make_event(db, clock(), starts_in=timedelta(days=60))
    clock.advance(timedelta(days=1))
    async with db.transaction() as session:
        cancelled, _ = await cancel_event(
            session, event_id=event.id, actor_id=None, reason="Zaal niet beschikbaar", now=clock()
        )
    assert cancelled.revision == event.revision + 1
    selection = await public(db, clock)
    assert ids(selection) == [event.id]
    assert selection.entries[0].event.is_cancelled
    assert selection.last_modified == clock()
    assert selection.next_change == clock() + queries.CANCELLED_KEPT
    clock.advance(queries.CANCELLED_KEPT - timedelta(seconds=1))
    assert ids(await public(db, clock)) == [event.id]
    clock.advance(timedelta(seconds=1))
    assert ids(await public(db, clock)) == []


async def test_a_network_feed_has_the_collective_programme_and_its_own_sessions(db, clock):
    collective = await make_event(db, clock(), starts_in=timedelta(days=3))
    wyck = await make_event(
        db, clock(), starts_in=timedelta(days=4), network_id=await network_id(db, "wyck")
    )
    other = await make_event(
        db, clock(), starts_in=timedelta(days=5), network_id=await network_id(db, "amby")
    )
    assert ids(await public(db, clock, "wyck")) == [collective.id, wyck.id]
    assert ids(await public(db, clock)) == [collective.id, wyck.id, other.id]
    async with db.read() as session:
        assert await queries.network_by_slug(session, "bestaat-niet") is None


async def test_the_personal_feed_follows_the_members_registrations(db, clock, policy):
    anna, ben, cor = [await make_member(db, name=n) for n in ("Anna", "Ben", "Cor")]
    small = await make_event(db, clock(), capacity=1, starts_in=timedelta(days=10))
    other = await make_event(db, clock(), starts_in=timedelta(days=11))
    later = await make_event(db, clock(), starts_in=timedelta(days=12))
    async with db.transaction() as session:
        for member in (anna, ben, cor):
            await registrations.register(
                session, event_id=small.id, member_id=member.id, now=clock(), policy=policy
            )
        await registrations.register(
            session, event_id=other.id, member_id=ben.id, now=clock(), policy=policy
        )
        await registrations.register(
            session, event_id=later.id, member_id=ben.id, now=clock(), policy=policy
        )
    clock.advance(timedelta(hours=1))
    async with db.transaction() as session:
        await registrations.cancel(
            session, event_id=later.id, member_id=ben.id, now=clock(), policy=policy
        )

    async def personal(member):
        async with db.read() as session:
            selection = await queries.personal_feed(session, member_id=member.id, now=clock())
        return {e.event.id: e.registration.status for e in selection.entries}, selection

    assert (await personal(anna))[0] == {small.id: RegistrationStatus.CONFIRMED}
    bens, selection = await personal(ben)
    assert bens == {small.id: RegistrationStatus.WAITLISTED, other.id: RegistrationStatus.CONFIRMED}
    assert selection.last_modified == clock()  # the cancelled one dropped out just now
    clock.advance(timedelta(hours=1))
    async with db.transaction() as session:
        await registrations.cancel(
            session, event_id=small.id, member_id=anna.id, now=clock(), policy=policy
        )
    bens, _ = await personal(ben)
    assert bens[small.id] is RegistrationStatus.OFFERED
    assert (await personal(anna))[0] == {}


async def test_the_data_version_changes_with_every_change(db, clock, policy):
    async def version(with_registrations=True):
        async with db.read() as session:
            return await queries.data_version(session, registrations=with_registrations)

    start = await version()
    event = await make_event(db, clock())
    created = await version()
    assert created != start
    async with db.transaction() as session:
        await update_event(
            session,
            event_id=event.id,
            actor_id=None,
            changes={"location": "Buurtcentrum Wyck"},
            now=event.updated_at,  # the same moment: the revision still tells
            policy=policy,
        )
    updated = await version()
    assert updated != created
    member = await make_member(db)
    async with db.transaction() as session:
        await registrations.register(
            session, event_id=event.id, member_id=member.id, now=clock(), policy=policy
        )
    assert await version() != updated
    assert await version(with_registrations=False) == updated[:4]
