"""What a member sees of the programme: the card of one event and the agenda's pages, each read
in one query, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.clock import FrozenClock
from models.db import Database
from models.errors import NotFound
from models.events.entities import Event, EventKind
from models.events.operations import cancel_event
from models.events.queries import (
    EventOverview,
    agenda_page,
    event_overview,
    event_overviews,
    overview_by_code,
)
from models.members.entities import Member, Role
from models.registrations import operations as ops
from models.registrations.entities import RegistrationStatus
from models.registrations.policy import RegistrationPolicy
from tests.factories import make_event, make_member, network_id, register

S = RegistrationStatus


async def card(
    db: Database, clock: FrozenClock, policy: RegistrationPolicy, event: Event, member: Member
) -> EventOverview:
    async with db.read() as session:
        return await overview_by_code(
            session, public_code=event.public_code, member=member, now=clock(), policy=policy
        )


async def test_the_card_counts_seats_waitlist_and_place_in_line(db, clock, policy):
    event = await make_event(db, clock(), capacity=3)
    anna, bram, cor, dina, eef = [await make_member(db, name=n) for n in "ABCDE"]
    await register(db, clock, policy, event, anna, party_size=2)
    await register(db, clock, policy, event, bram)
    for member in (cor, dina, eef):
        await register(db, clock, policy, event, member)  # full: the waitlist, in this order

    stranger = await make_member(db, name="F")
    seen = await card(db, clock, policy, event, stranger)
    assert (seen.seats_left, seen.waitlist_length, seen.full) == (0, 3, True)
    assert seen.registration is None and seen.waitlist_position is None
    assert seen.registration_open and not seen.started

    mine = await card(db, clock, policy, event, anna)
    assert mine.status is S.CONFIRMED and mine.registration is not None
    assert mine.registration.party_size == 2 and mine.waitlist_position is None
    positions = [(await card(db, clock, policy, event, m)).waitlist_position for m in (cor, dina)]
    assert positions == [1, 2]
    assert (await card(db, clock, policy, event, eef)).waitlist_position == 3

    # Cor leaves the line: Dina moves up; a cancelled registration is still the member's own.
    async with db.transaction() as session:
        await ops.cancel(session, event_id=event.id, member_id=cor.id, now=clock(), policy=policy)
    assert (await card(db, clock, policy, event, dina)).waitlist_position == 1
    gone = await card(db, clock, policy, event, cor)
    assert gone.status is S.CANCELLED and not gone.is_in and gone.waitlist_length == 2


async def test_the_card_of_an_event_without_a_limit(db, clock, policy):
    event = await make_event(db, clock(), capacity=None)
    member = await make_member(db)
    await register(db, clock, policy, event, member)
    seen = await card(db, clock, policy, event, member)
    assert seen.seats_left is None and not seen.full and seen.is_in


async def test_a_card_the_member_may_not_see_is_not_found(db, clock, policy):
    wyck = await network_id(db, "wyck")
    own_session = await make_event(
        db, clock(), title="Uitwisseling Wyck", kind=EventKind.UITWISSELING, network_id=wyck
    )
    draft = await make_event(db, clock(), publish=False)
    from_wyck = await make_member(db, network="wyck")
    from_elsewhere = await make_member(db, network="belfort-daalhof")
    organiser = await make_member(db, role=Role.ORGANISER, network=None)

    assert (await card(db, clock, policy, own_session, from_wyck)).event.id == own_session.id
    for event, member in [(own_session, from_elsewhere), (draft, from_wyck)]:
        with pytest.raises(NotFound):
            await card(db, clock, policy, event, member)
    assert (await card(db, clock, policy, draft, organiser)).event.id == draft.id
    async with db.read() as session:
        with pytest.raises(NotFound):
            await overview_by_code(
                session, public_code="nietbest", member=from_wyck, now=clock(), policy=policy
            )
        with pytest.raises(NotFound):
            await event_overviews(
                session, events=[own_session], member=from_elsewhere, now=clock(), policy=policy
            )


async def test_a_closed_or_started_event(db, clock, policy):
    event = await make_event(
        db, clock(), registration_deadline=clock() + timedelta(days=1), capacity=10
    )
    member = await make_member(db)
    assert (await card(db, clock, policy, event, member)).registration_open
    later = FrozenClock(clock() + timedelta(days=2))
    closed = await card(db, later, policy, event, member)
    assert not closed.registration_open and not closed.started
    during = FrozenClock(event.starts_at + timedelta(minutes=5))
    started = await card(db, during, policy, event, member)
    assert started.started and started.last_call and not started.registration_open


async def test_several_cards_at_once_match_one_by_one(db, clock, policy):
    events = [
        await make_event(db, clock(), capacity=c, starts_in=timedelta(days=d))
        for c, d in ((1, 3), (5, 4), (None, 5))
    ]
    anna, bram = await make_member(db, name="Anna"), await make_member(db, name="Bram")
    for member in (anna, bram):
        for event in events:
            await register(db, clock, policy, event, member)
    async with db.read() as session:
        together = await event_overviews(
            session, events=events, member=bram, now=clock(), policy=policy
        )
        alone = [
            await event_overview(session, event=e, member=bram, now=clock(), policy=policy)
            for e in events
        ]
    assert [o.event.id for o in together] == [e.id for e in events]
    summary = [(o.seats_left, o.waitlist_length, o.status, o.waitlist_position) for o in together]
    assert summary == [
        (o.seats_left, o.waitlist_length, o.status, o.waitlist_position) for o in alone
    ]
    assert summary == [
        (0, 1, S.WAITLISTED, 1),
        (3, 0, S.CONFIRMED, None),
        (None, 0, S.CONFIRMED, None),
    ]


async def test_the_agenda_in_pages(db, clock, policy):
    wyck = await network_id(db, "wyck")
    events = [
        await make_event(db, clock(), title=f"Masterclass {i}", starts_in=timedelta(days=10 + i))
        for i in range(6)
    ]
    await make_event(
        db,
        clock(),
        title="Uitwisseling Wyck",
        kind=EventKind.UITWISSELING,
        network_id=wyck,
        starts_in=timedelta(days=12, hours=1),
    )
    await make_event(db, clock(), title="Concept", publish=False)
    await make_event(db, clock(), title="Al voorbij", starts_in=timedelta(days=1))
    async with db.transaction() as session:
        await cancel_event(
            session, event_id=events[5].id, actor_id=None, now=clock(), reason="Zaal bezet"
        )
    now = clock() + timedelta(days=2)  # "Al voorbij" has ended by then
    from_wyck = await make_member(db, network="wyck")
    resident = await make_member(db, network=None)

    async def titles(member: Member, page: int) -> tuple[list[str], int, int]:
        async with db.read() as session:
            shown = await agenda_page(
                session, member=member, now=now, policy=policy, page=page, per_page=2
            )
        return [o.event.title for o in shown.overviews], shown.page, shown.pages

    assert await titles(from_wyck, 0) == (["Masterclass 0", "Masterclass 1"], 0, 3)
    assert await titles(from_wyck, 1) == (["Masterclass 2", "Uitwisseling Wyck"], 1, 3)
    assert await titles(from_wyck, 2) == (["Masterclass 3", "Masterclass 4"], 2, 3)
    # A page past the end (an old button after events ended) shows the last page.
    assert await titles(from_wyck, 7) == (["Masterclass 3", "Masterclass 4"], 2, 3)
    assert await titles(from_wyck, -1) == (["Masterclass 0", "Masterclass 1"], 0, 3)
    # Another network's session is not on this member's agenda.
    assert await titles(resident, 1) == (["Masterclass 2", "Masterclass 3"], 1, 3)
    assert await titles(resident, 2) == (["Masterclass 4"], 2, 3)


async def test_an_empty_agenda(db, clock, policy):
    member = await make_member(db)
    for page in (0, 3):
        async with db.read() as session:
            shown = await agenda_page(
                session, member=member, now=clock(), policy=policy, page=page, per_page=5
            )
        assert (shown.overviews, shown.page, shown.pages) == ([], 0, 1)
