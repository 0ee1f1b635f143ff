"""The fit rule, the alert rows and their coalescing, and change notices that wait for more."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models.alerts import operations as alerts
from models.alerts.policy import AlertPreference
from models.broadcasts.operations import audience_members
from models.events.entities import EventKind
from models.events.operations import EventDraft, cancel_event, create_event, update_event
from models.members.entities import Role
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.themes import operations as themes
from tests.conftest import T0
from tests.factories import make_event, make_member, network_id, register

K = NotificationKind


async def _theme(db, slug):
    async with db.read() as session:
        return (await themes.themes_by_slug(session, [slug]))[0]


async def _publish(db, now, *, theme_ids=(), actor_id=None, **fields):
    starts = now + fields.pop("starts_in", timedelta(days=20))
    draft = EventDraft(
        kind=fields.pop("kind", EventKind.MASTERCLASS),
        title=fields.pop("title", "Wonen in de wijk"),
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        location="Stadhuis",
        **fields,
    )
    async with db.transaction() as session:
        return await create_event(
            session, draft=draft, actor_id=actor_id, now=now, publish=True, theme_ids=theme_ids
        )


async def _alerts(db, member_id=None):
    async with db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == K.NEW_EVENTS)
        if member_id is not None:
            query = query.where(OutboxMessage.member_id == member_id)
        return list((await session.scalars(query.order_by(OutboxMessage.id))).all())


async def test_who_an_event_fits_theme_kind_or_own_network(db):
    wonen = await _theme(db, "wonen")
    by_theme = await make_member(db, name="Thema")
    by_kind = await make_member(db, name="Soort")
    other = await make_member(db, name="Niets")
    muted = await make_member(db, name="Stil")
    async with db.transaction() as session:
        for member in (by_theme, muted):
            await themes.set_member_themes(session, member_id=member.id, theme_ids=[wonen.id])
        await alerts.set_followed_kinds(
            session, member_id=by_kind.id, kinds=[EventKind.MASTERCLASS]
        )
        await alerts.set_alert_preference(
            session, member_id=muted.id, preference=AlertPreference.OFF
        )
    await _publish(db, T0, theme_ids=[wonen.id])
    assert {row.member_id for row in await _alerts(db)} == {by_theme.id, by_kind.id}
    # A network's own session: its members, and only they.
    wyck = await network_id(db, "wyck")
    elsewhere = await make_member(db, name="Elders", network="ceramique")
    session_event = await _publish(db, T0, kind=EventKind.UITWISSELING, network_id=wyck)
    # (Who had an alert waiting finds it added there: one message.)
    rows = [r for r in await _alerts(db) if session_event.id in r.payload["event_ids"]]
    assert {r.member_id for r in rows} == {by_theme.id, by_kind.id, other.id}
    assert elsewhere.id not in {r.member_id for r in rows} and len(await _alerts(db)) == 3


async def test_two_publications_within_ten_minutes_are_one_row_and_later_an_edit(db):
    wonen = await _theme(db, "wonen")
    anna = await make_member(db)
    async with db.transaction() as session:
        await themes.set_member_themes(session, member_id=anna.id, theme_ids=[wonen.id])
    first = await _publish(db, T0, theme_ids=[wonen.id])
    second = await _publish(db, T0 + timedelta(minutes=3), theme_ids=[wonen.id])
    [row] = await _alerts(db, anna.id)
    assert row.payload["event_ids"] == [first.id, second.id]
    # Once it went out, a third one edits that message (within the window) ...
    async with db.transaction() as session:
        stored = await session.get(OutboxMessage, row.id)
        stored.status, stored.telegram_message_id = DeliveryStatus.SENT, 77
    third = await _publish(db, T0 + timedelta(minutes=8), theme_ids=[wonen.id])
    rows = await _alerts(db, anna.id)
    assert rows[-1].payload["edit_of"] == row.id
    assert rows[-1].payload["event_ids"] == [first.id, second.id, third.id]
    # ... and after the window it is a message of its own.
    async with db.transaction() as session:
        stored = await session.get(OutboxMessage, rows[-1].id)
        stored.status = DeliveryStatus.SENT
    fourth = await _publish(db, T0 + timedelta(minutes=11), theme_ids=[wonen.id])
    latest = (await _alerts(db, anna.id))[-1]
    assert latest.payload["event_ids"] == [fourth.id] and "edit_of" not in latest.payload


async def test_quiet_hours_hold_the_alert_and_the_publisher_hears_nothing(db):
    wonen = await _theme(db, "wonen")
    anna = await make_member(db)
    organiser = await make_member(db, role=Role.ORGANISER)
    async with db.transaction() as session:
        for member in (anna, organiser):
            await themes.set_member_themes(session, member_id=member.id, theme_ids=[wonen.id])
    late = T0.replace(hour=22)  # 23:00 in Amsterdam
    await _publish(db, late, theme_ids=[wonen.id], actor_id=organiser.id)
    [row] = await _alerts(db)
    assert row.member_id == anna.id
    assert row.due_at == T0.replace(hour=7) + timedelta(days=1)  # 08:00 in Amsterdam


async def test_the_digest_choice_writes_no_alert_and_lists_it(db):
    wonen = await _theme(db, "wonen")
    anna = await make_member(db)
    async with db.transaction() as session:
        await themes.set_member_themes(session, member_id=anna.id, theme_ids=[wonen.id])
        member = await alerts.set_alert_preference(
            session, member_id=anna.id, preference=AlertPreference.DIGEST
        )
        assert member.digest is True
    event = await _publish(db, T0, theme_ids=[wonen.id])
    await make_event(db, T0, title="Zonder thema")
    assert await _alerts(db) == []
    async with db.read() as session:
        member = await session.get(type(member), anna.id)
        fitting = await alerts.fitting_events_for(session, member, now=T0 + timedelta(days=1))
    assert [e.id for e in fitting] == [event.id]


async def test_moves_within_ten_minutes_make_one_notice_first_before_last_after(db, policy):
    event = await make_event(db, T0, capacity=10, location="Stadhuis")
    anna = await make_member(db)
    await register(db, lambda: T0, policy, event, anna)
    first_start = event.starts_at
    for minutes, hours in ((0, 1), (4, 2)):
        async with db.transaction() as session:
            await update_event(
                session,
                event_id=event.id,
                actor_id=None,
                changes={
                    "starts_at": first_start + timedelta(hours=hours),
                    "ends_at": first_start + timedelta(hours=hours + 2),
                },
                now=T0 + timedelta(minutes=minutes),
                policy=policy,
            )
    async with db.transaction() as session:
        await update_event(
            session,
            event_id=event.id,
            actor_id=None,
            changes={"location": "Centre Céramique"},
            now=T0 + timedelta(minutes=6),
            policy=policy,
        )
    async with db.read() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == K.EVENT_CHANGED)
            )
        ).all()
    [row] = rows
    assert row.due_at == T0 + timedelta(minutes=10)
    assert row.payload["old"]["starts_at"] == first_start.isoformat()
    assert row.payload["old"]["location"] == "Stadhuis"
    assert row.payload["new"]["starts_at"] == (first_start + timedelta(hours=2)).isoformat()
    assert row.payload["new"]["location"] == "Centre Céramique"


async def test_a_change_undone_says_nothing_and_a_cancellation_goes_at_once(db, policy):
    event = await make_event(db, T0, capacity=10, location="Stadhuis")
    anna = await make_member(db)
    await register(db, lambda: T0, policy, event, anna)
    for place in ("Centre Céramique", "Stadhuis"):
        async with db.transaction() as session:
            await update_event(
                session,
                event_id=event.id,
                actor_id=None,
                changes={"location": place},
                now=T0,
                policy=policy,
            )
    async with db.transaction() as session:
        await update_event(
            session,
            event_id=event.id,
            actor_id=None,
            changes={"location": "Bibliotheek"},
            now=T0 + timedelta(minutes=1),
            policy=policy,
        )
        await cancel_event(session, event_id=event.id, actor_id=None, reason="Zaal dicht", now=T0)
    async with db.read() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    changed = [r for r in rows if r.kind is K.EVENT_CHANGED]
    assert [r.last_error for r in changed] == ["changed back", "event cancelled"]
    [cancelled] = [r for r in rows if r.kind is K.EVENT_CANCELLED]
    assert cancelled.due_at == T0 and cancelled.status is DeliveryStatus.PENDING


async def test_a_change_close_to_the_start_goes_at_once(db, policy):
    event = await make_event(db, T0, capacity=10, starts_in=timedelta(hours=5))
    anna = await make_member(db)
    await register(db, lambda: T0, policy, event, anna)
    async with db.transaction() as session:
        _, [row] = await update_event(
            session,
            event_id=event.id,
            actor_id=None,
            changes={"location": "Bibliotheek"},
            now=T0,
            policy=policy,
        )
    assert row.due_at == T0


async def test_a_broadcast_to_a_theme_within_networks(db):
    wonen = await _theme(db, "wonen")
    wyck, ceramique = await network_id(db, "wyck"), await network_id(db, "ceramique")
    both = await make_member(db, name="Wyck wonen")
    theme_only = await make_member(db, name="Céramique wonen", network="ceramique")
    await make_member(db, name="Wyck zonder")
    async with db.transaction() as session:
        for member in (both, theme_only):
            await themes.set_member_themes(session, member_id=member.id, theme_ids=[wonen.id])
    async with db.read() as session:
        everyone_wonen = await audience_members(
            session, {"kind": "everyone", "theme_ids": [wonen.id]}, T0
        )
        wyck_wonen = await audience_members(
            session, {"kind": "networks", "network_ids": [wyck], "theme_ids": [wonen.id]}, T0
        )
        both_networks = await audience_members(
            session, {"kind": "networks", "network_ids": [wyck, ceramique]}, T0
        )
    assert everyone_wonen == [both.id, theme_only.id]
    assert wyck_wonen == [both.id]
    assert len(both_networks) == 3


IMPORTED = """
[[bijeenkomst]]
uid = "wonen-2027"
soort = "masterclass"
titel = "Wonen in de wijk"
begin = 2027-04-01T19:30:00
duur = 120
themas = ["wonen", "Omgevingswet"]
"""


async def test_an_imported_event_carries_its_themas_and_alerts(db, policy):
    from models.programme.importer import apply_import, plan_import
    from models.programme.toml_schema import ProgrammeError

    anna = await make_member(db)
    wonen = await _theme(db, "wonen")
    async with db.transaction() as session:
        await themes.set_member_themes(session, member_id=anna.id, theme_ids=[wonen.id])
        plan = await plan_import(session, IMPORTED, T0)
        await apply_import(session, plan, actor_id=None, now=T0, policy=policy)
    async with db.read() as session:
        event_id = plan.create[0].event_id or (await _alerts(db))[0].event_id
        carried = [t.slug for t in await themes.event_themes_of(session, event_id)]
    assert carried == ["wonen", "omgevingswet"]
    assert [row.member_id for row in await _alerts(db)] == [anna.id]
    try:
        async with db.read() as session:
            await plan_import(
                session, IMPORTED.replace("wonen-2027", "x").replace('"wonen"', '"voetbal"'), T0
            )
    except ProgrammeError as error:
        assert "onbekend thema" in str(error)
    else:
        raise AssertionError("an unknown theme was accepted")
