"""Feed UIDs never change: not with a new ``http.public_url``, not when the data moves to another
database, and events from before stored UIDs keep the UID their subscribers already have."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select, text, update

from buurtagenda.service import prepare_database
from models import migrations
from models.db import Database
from models.events.entities import Event, EventKind, EventStatus
from models.events.operations import cancel_event
from models.events.uids import assign_legacy_uids
from models.instance.entities import Instance
from models.instance.operations import uid_domain
from models.programme.importer import apply_import, plan_import
from tests.conftest import POSTGRES_URL, postgres_database, sqlite_database
from tests.factories import make_event
from tests.feeds.helpers import make_app, properties

OLD_URL = "https://agenda.example.nl"
NEW_URL = "https://buurtagenda.maastricht.nl/agenda"


async def feed_uids(database: Database, clock, public_url: str, path: str = "/agenda.ics"):
    """The UIDs in a feed as the app serves it at ``public_url``, in feed order."""
    app = make_app(database, clock, public_url=public_url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get(path)
    assert response.status_code == 200, path
    return properties(response.content, "UID")


async def test_a_new_event_is_known_by_its_code_at_the_installation_domain(db, clock):
    first = await make_event(db, clock())
    second = await make_event(db, clock(), starts_in=timedelta(days=20))
    async with db.read() as session:
        domain = await session.scalar(select(Instance.uid_domain))
    assert domain is not None and domain.endswith(".buurtagenda")
    assert first.feed_uid == f"{first.public_code}@{domain}"
    assert second.feed_uid == f"{second.public_code}@{domain}"
    assert await feed_uids(db, clock, OLD_URL) == [first.feed_uid, second.feed_uid]
    assert await feed_uids(db, clock, OLD_URL, f"/event/{first.id}.ics") == [first.feed_uid]


async def test_two_installations_never_share_a_domain(tmp_path: Path):
    domains = set()
    for name in ("a", "b"):
        directory = tmp_path / name
        directory.mkdir()
        database = await sqlite_database(directory)
        async with database.transaction() as session:
            domains.add(await uid_domain(session))
        async with database.transaction() as session:
            assert await uid_domain(session) in domains  # made once, then read
        await database.dispose()
    assert len(domains) == 2


async def test_a_new_public_url_changes_no_uid(db, clock):
    await make_event(db, clock())
    await make_event(db, clock(), starts_in=timedelta(days=3))
    before = await feed_uids(db, clock, OLD_URL)
    assert await feed_uids(db, clock, NEW_URL) == before
    assert all("example.nl" not in uid and "maastricht.nl" not in uid for uid in before)


async def test_events_from_before_0006_keep_their_old_uid(tmp_path: Path, clock):
    """A database at 0005 with an event in it, as the feeds called it then: evt-<id>@<host>."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await migrations.upgrade(database, "0005")
        starts_at = clock() + timedelta(days=10)
        async with database.transaction() as session:
            # The 0005 columns only: what an event row was before it had a feed UID.
            result = await session.execute(
                insert(Event.__table__).values(
                    public_code="oldcode1",
                    kind=EventKind.MASTERCLASS,
                    title="Van voor de upgrade",
                    description="",
                    speakers="",
                    topic_tbd=False,
                    location="Stadhuis",
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(hours=2),
                    status=EventStatus.PUBLISHED,
                    revision=1,
                    created_at=clock(),
                    updated_at=clock(),
                )
            )
            old_id = result.inserted_primary_key[0]
        await prepare_database(database, public_url=OLD_URL)  # the first start after the upgrade
        new = await make_event(database, clock(), starts_in=timedelta(days=20))
        old_uid = f"evt-{old_id}@agenda.example.nl"
        assert await feed_uids(database, clock, OLD_URL) == [old_uid, new.feed_uid]
        # Kept for good: a later start at another address gives it no new one.
        await prepare_database(database, public_url=NEW_URL)
        assert await feed_uids(database, clock, NEW_URL) == [old_uid, new.feed_uid]
        async with database.read() as session:
            stored = await session.scalar(select(Event.feed_uid).where(Event.id == old_id))
        assert stored == old_uid
    finally:
        await database.dispose()


async def test_giving_old_events_their_uid_is_one_statement_on_both_databases(db, clock):
    event = await make_event(db, clock())
    async with db.transaction() as session:
        await session.execute(update(Event).values(feed_uid=None))  # as after the migration
    async with db.transaction() as session:
        assert await assign_legacy_uids(session, public_url=OLD_URL + ":8443/pad") == 1
    async with db.transaction() as session:
        assert await assign_legacy_uids(session, public_url=NEW_URL) == 0
    async with db.read() as session:
        reloaded = await session.get(Event, event.id)
    assert reloaded is not None
    assert reloaded.feed_uid == f"evt-{event.id}@agenda.example.nl"
    assert reloaded.updated_at == event.updated_at  # nothing about the event changed


async def copy_rows(source: Database, target: Database, *, renumber: bool) -> None:
    """The installation's row and the events, as a move copies them (``renumber``: the target
    hands out new ids, as a database that already holds rows would)."""
    async with source.read() as session:
        instance = (await session.execute(select(Instance.__table__))).mappings().all()
        events = (await session.execute(select(Event.__table__))).mappings().all()
    async with target.transaction() as session:
        await session.execute(insert(Instance.__table__), [dict(row) for row in instance])
        for row in reversed(events) if renumber else events:
            values = dict(row)
            if renumber:
                values.pop("id")
            await session.execute(insert(Event.__table__).values(**values))
        if target.engine.dialect.name == "postgresql" and not renumber:
            # As every copy into PostgreSQL must: the id sequence goes on after the copied ids.
            await session.execute(
                text("SELECT setval(pg_get_serial_sequence('events', 'id'), max(id)) FROM events")
            )


async def test_moving_the_data_to_another_database_changes_no_uid(tmp_path: Path, clock):
    source = await sqlite_database(tmp_path)
    await make_event(source, clock())
    called_off = await make_event(source, clock(), starts_in=timedelta(days=2))
    async with source.transaction() as session:
        await cancel_event(
            session, event_id=called_off.id, actor_id=None, reason="Storm", now=clock()
        )
    before = await feed_uids(source, clock, OLD_URL)
    for renumber in (False, True):
        # SQLite to PostgreSQL when there is one, else to another SQLite file.
        if POSTGRES_URL:
            target = await postgres_database()
        else:
            (tmp_path / str(renumber)).mkdir()
            target = await sqlite_database(tmp_path / str(renumber))
        try:
            await copy_rows(source, target, renumber=renumber)
            await prepare_database(target, public_url=NEW_URL)
            assert await feed_uids(target, clock, NEW_URL) == before, renumber
            # The moved installation goes on with its own domain.
            later = await make_event(target, clock(), starts_in=timedelta(days=30))
            assert later.feed_uid is not None
            assert later.feed_uid.split("@")[1] == before[0].split("@")[1]
        finally:
            await target.dispose()
    await source.dispose()


async def test_an_imported_event_keeps_its_file_uid_and_gets_a_feed_uid(db, clock, policy):
    programme = b"""
[[bijeenkomst]]
uid = "masterclass-2027-1"
soort = "masterclass"
titel = "Omgevingswet"
begin = 2027-04-15T19:30:00
duur = 120
"""
    for _ in range(2):  # the second import changes nothing
        async with db.transaction() as session:
            plan = await plan_import(session, programme, clock(), actor_id=None)
            await apply_import(session, plan, actor_id=None, now=clock(), policy=policy)
    async with db.read() as session:
        events = (await session.scalars(select(Event))).all()
        domain = await session.scalar(select(Instance.uid_domain))
    assert [(e.source_uid, e.feed_uid) for e in events] == [
        ("masterclass-2027-1", f"{events[0].public_code}@{domain}")
    ]
