"""Rules the bot asks about kindly, refused by the domain too, whoever calls it: the length of an
event's texts (``models/events/limits.py``) and a cancelled event that stays as it is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models.errors import EventCancelled, InvalidEvent
from models.events.entities import Cadence, Event, EventKind, EventStatus, Series
from models.events.limits import (
    DESCRIPTION_MAX,
    LOCATION_MAX,
    ONLINE_URL_MAX,
    REASON_MAX,
    SPEAKERS_MAX,
)
from models.events.operations import (
    EventDraft,
    EventNotChangeable,
    cancel_event,
    create_event,
    publish_event,
    update_event,
)
from models.events.proposals import propose_exchange_session, reject_proposal
from models.events.series import create_series, series_events, update_series
from models.members.entities import Role
from tests.factories import make_event, make_member

TOO_LONG = [
    ("location", "x" * (LOCATION_MAX + 1), "De plek is te lang (hoogstens 300 tekens)."),
    (
        "speakers",
        "x" * (SPEAKERS_MAX + 1),
        "De tekst over de sprekers is te lang (hoogstens 400 tekens).",
    ),
    (
        "description",
        "x" * (DESCRIPTION_MAX + 1),
        "De beschrijving is te lang (hoogstens 4000 tekens).",
    ),
    (
        "online_url",
        "https://" + "x" * (ONLINE_URL_MAX - len("https://") + 1),
        "De online link is te lang (hoogstens 500 tekens).",
    ),
]


def draft(now, **overrides):  # type: ignore[no-untyped-def]
    start = now + timedelta(days=10)
    fields = {
        "kind": EventKind.MASTERCLASS,
        "title": "ABCD-methodiek en de Burgerbegroting",
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
    }
    fields.update(overrides)
    return EventDraft(**fields)


async def all_events(db):  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return list((await session.scalars(select(Event))).all())


@pytest.mark.parametrize(("field", "value", "message"), TOO_LONG)
async def test_an_over_long_text_is_refused_when_an_event_is_made(db, clock, field, value, message):
    with pytest.raises(InvalidEvent) as refused:
        async with db.transaction() as session:
            await create_event(
                session, draft=draft(clock(), **{field: value}), actor_id=None, now=clock()
            )
    assert str(refused.value) == message
    assert refused.value.params == {"maximum": len(value) - 1}
    assert await all_events(db) == []


async def test_the_longest_texts_allowed_are_stored(db, clock):
    fields = {"location": "p" * LOCATION_MAX, "speakers": "s" * SPEAKERS_MAX}
    fields["description"] = "d" * DESCRIPTION_MAX
    async with db.transaction() as session:
        event = await create_event(
            session, draft=draft(clock(), **fields), actor_id=None, now=clock()
        )
    async with db.read() as session:
        stored = await session.get(Event, event.id)
        assert stored is not None and stored.location == fields["location"]


@pytest.mark.parametrize(("field", "value", "message"), TOO_LONG)
async def test_an_over_long_text_is_refused_when_an_event_changes(
    db, clock, policy, field, value, message
):
    event = await make_event(db, clock())
    with pytest.raises(InvalidEvent) as refused:
        async with db.transaction() as session:
            await update_event(
                session,
                event_id=event.id,
                actor_id=None,
                changes={field: value},
                now=clock(),
                policy=policy,
            )
    assert str(refused.value) == message
    async with db.read() as session:
        stored = await session.get(Event, event.id)
        assert stored is not None and stored.revision == 1


async def test_an_over_long_text_is_refused_in_a_proposal(db, clock):
    proposer = await make_member(db, network="wyck")
    with pytest.raises(InvalidEvent, match="De plek is te lang"):
        async with db.transaction() as session:
            await propose_exchange_session(
                session,
                member_id=proposer.id,
                draft=draft(clock(), location="x" * (LOCATION_MAX + 1)),
                now=clock(),
            )
    assert await all_events(db) == []


async def test_an_over_long_cancel_reason_is_refused_and_the_event_goes_on(db, clock):
    event = await make_event(db, clock())
    with pytest.raises(InvalidEvent) as refused:
        async with db.transaction() as session:
            await cancel_event(
                session,
                event_id=event.id,
                actor_id=None,
                reason="x" * (REASON_MAX + 1),
                now=clock(),
            )
    assert str(refused.value) == "De reden is te lang (hoogstens 1000 tekens)."
    async with db.transaction() as session:
        cancelled, _ = await cancel_event(
            session, event_id=event.id, actor_id=None, reason="x" * REASON_MAX, now=clock()
        )
    assert cancelled.status is EventStatus.CANCELLED


async def test_an_over_long_reason_to_reject_a_proposal_is_refused(db, clock):
    proposer = await make_member(db, network="wyck")
    organiser = await make_member(db, name="Ruud", role=Role.ORGANISER, network=None)
    async with db.transaction() as session:
        proposal = await propose_exchange_session(
            session, member_id=proposer.id, draft=draft(clock()), now=clock()
        )
    with pytest.raises(InvalidEvent, match="De reden is te lang"):
        async with db.transaction() as session:
            await reject_proposal(
                session,
                actor_id=organiser.id,
                event_id=proposal.id,
                reason="x" * (REASON_MAX + 1),
                now=clock(),
            )
    async with db.read() as session:
        stored = await session.get(Event, proposal.id)
        assert stored is not None and stored.status is EventStatus.PROPOSED


async def test_an_over_long_place_is_refused_for_a_series(db, clock, policy):
    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    series_fields = {"kind": EventKind.MASTERCLASS, "cadence": Cadence.QUARTERLY, "year": 2027}
    with pytest.raises(InvalidEvent, match="De plek is te lang"):
        async with db.transaction() as session:
            await create_series(
                session,
                actor_id=organiser.id,
                now=clock(),
                location="x" * (LOCATION_MAX + 1),
                **series_fields,
            )
    async with db.transaction() as session:
        series = await create_series(
            session, actor_id=organiser.id, now=clock(), location="Stadhuis", **series_fields
        )
    with pytest.raises(InvalidEvent, match="De plek is te lang"):
        async with db.transaction() as session:
            await update_series(
                session,
                actor_id=organiser.id,
                series_id=series.id,
                changes={"location": "x" * (LOCATION_MAX + 1)},
                apply_to="all",
                now=clock(),
                policy=policy,
            )
    async with db.read() as session:
        stored = await session.get(Series, series.id)
        assert stored is not None and stored.location == "Stadhuis"
        assert {e.location for e in await series_events(session, series.id)} == {"Stadhuis"}


async def test_a_cancelled_event_cannot_be_changed_or_published(db, clock, policy):
    event = await make_event(db, clock(), publish=False)
    async with db.transaction() as session:
        await cancel_event(
            session, event_id=event.id, actor_id=None, reason="Geen zaal", now=clock()
        )
    with pytest.raises(EventNotChangeable) as refused:
        async with db.transaction() as session:
            await update_event(
                session,
                event_id=event.id,
                actor_id=None,
                changes={"title": "Toch wel"},
                now=clock(),
                policy=policy,
            )
    # The same words as the bot's card (a subclass: callers catching EventCancelled still do).
    assert str(refused.value) == "Deze bijeenkomst is geannuleerd; er valt niets meer te wijzigen."
    assert isinstance(refused.value, EventCancelled)
    with pytest.raises(EventNotChangeable):
        async with db.transaction() as session:
            await publish_event(session, event_id=event.id, actor_id=None, now=clock())
    async with db.read() as session:
        stored = await session.get(Event, event.id)
        assert stored is not None and stored.status is EventStatus.CANCELLED
        assert stored.title != "Toch wel"
