"""Themes in the domain: the start list, the organisers' list, members' and events' themes."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from models.errors import NotAllowed
from models.events.entities import Event
from models.members.entities import Member, Role
from models.networks.reference import load_reference_data
from models.organisers.entities import AuditEntry
from models.themes import operations as themes
from models.themes.entities import Theme, event_themes, member_themes
from models.themes.seed import START_THEMES
from tests.conftest import T0
from tests.factories import make_event, make_member


async def test_the_start_list_is_loaded_with_the_reference_data_once(db):
    async with db.read() as session:
        listed = await themes.active_themes(session)
    assert [t.slug for t in listed] == [slug for slug, *_ in START_THEMES]
    assert {"verzorging", "wonen", "onderwijs", "werk", "sociaal-klimaat"} <= {
        t.slug for t in listed
    }
    assert {"bestuurlijke-omgeving", "omgevingswet", "burgerbegroting", "subsidies"} <= {
        t.slug for t in listed
    }
    async with db.transaction() as session:
        report = await load_reference_data(session)
    assert report.themes_added == 0 and not report.changed
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Theme)) == len(START_THEMES)


async def test_organisers_add_rename_and_retire_themes_audited(db):
    organiser = await make_member(db, role=Role.ORGANISER)
    async with db.transaction() as session:
        theme = await themes.add_theme(
            session, actor_id=organiser.id, name="  Groen   in de wijk ", name_en="Green", now=T0
        )
    assert (theme.slug, theme.name, theme.name_en) == (
        "groen-in-de-wijk",
        "Groen in de wijk",
        "Green",
    )
    async with db.transaction() as session:
        renamed = await themes.rename_theme(
            session, actor_id=organiser.id, theme_id=theme.id, name="Groen", name_en="", now=T0
        )
    assert (renamed.slug, renamed.name, renamed.name_en) == ("groen-in-de-wijk", "Groen", None)
    async with db.transaction() as session:
        await themes.retire_theme(session, actor_id=organiser.id, theme_id=theme.id, now=T0)
    async with db.read() as session:
        assert theme.id not in {t.id for t in await themes.active_themes(session)}
        assert theme.id in {t.id for t in await themes.all_themes(session)}
        actions = (
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_type == "theme")
                .order_by(AuditEntry.id)
            )
        ).all()
    assert actions == ["theme.add", "theme.rename", "theme.retire"]


async def test_a_member_cannot_keep_the_list_and_a_refusal_changes_nothing(db):
    member = await make_member(db)
    organiser = await make_member(db, role=Role.ORGANISER)
    with pytest.raises(NotAllowed):
        async with db.transaction() as session:
            await themes.add_theme(session, actor_id=member.id, name="Sport", now=T0)
    with pytest.raises(themes.ThemeExists):
        async with db.transaction() as session:
            await themes.add_theme(session, actor_id=organiser.id, name="wonen", now=T0)
    with pytest.raises(themes.ThemeNameInvalid):
        async with db.transaction() as session:
            await themes.add_theme(session, actor_id=organiser.id, name=" x ", now=T0)
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Theme)) == len(START_THEMES)
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0


async def test_a_members_themes_set_toggled_and_erased_with_the_member(db):
    member = await make_member(db)
    async with db.read() as session:
        _, wonen, _, werk, *_ = await themes.active_themes(session)
    async with db.transaction() as session:
        chosen = await themes.set_member_themes(
            session, member_id=member.id, theme_ids=[werk.id, wonen.id, werk.id]
        )
    assert [t.slug for t in chosen] == ["wonen", "werk"]
    async with db.transaction() as session:
        assert (
            await themes.toggle_member_theme(session, member_id=member.id, theme_id=wonen.id)
            is False
        )
    async with db.read() as session:
        assert [t.slug for t in await themes.member_themes_of(session, member.id)] == ["werk"]
    async with db.transaction() as session:
        await session.execute(delete(Member).where(Member.id == member.id))
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(member_themes)) == 0


async def test_retired_themes_cannot_be_chosen(db):
    member = await make_member(db)
    organiser = await make_member(db, role=Role.ORGANISER)
    async with db.read() as session:
        subsidies = (await themes.themes_by_slug(session, ["subsidies"]))[0]
    async with db.transaction() as session:
        await themes.retire_theme(session, actor_id=organiser.id, theme_id=subsidies.id, now=T0)
    with pytest.raises(themes.ThemeUnknown):
        async with db.transaction() as session:
            await themes.set_member_themes(session, member_id=member.id, theme_ids=[subsidies.id])
    with pytest.raises(themes.ThemeUnknown):
        async with db.transaction() as session:
            await themes.toggle_member_theme(session, member_id=member.id, theme_id=999)


async def test_an_events_themes_set_by_organisers_and_gone_with_the_event(db):
    organiser = await make_member(db, role=Role.ORGANISER)
    member = await make_member(db)
    event = await make_event(db, T0)
    async with db.read() as session:
        picked = await themes.themes_by_slug(session, ["Omgevingswet", "wonen"])
    with pytest.raises(NotAllowed):
        async with db.transaction() as session:
            await themes.set_event_themes(
                session, actor_id=member.id, event_id=event.id, theme_ids=[picked[0].id], now=T0
            )
    async with db.transaction() as session:
        carried = await themes.set_event_themes(
            session,
            actor_id=organiser.id,
            event_id=event.id,
            theme_ids=[t.id for t in picked],
            now=T0,
        )
    assert [t.slug for t in carried] == ["wonen", "omgevingswet"]
    async with db.read() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "event.themes"))
        assert entry is not None and entry.after == {"themes": ["wonen", "omgevingswet"]}
    async with db.transaction() as session:
        await session.execute(delete(Event).where(Event.id == event.id))
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(event_themes)) == 0


async def test_unknown_slugs_are_refused(db):
    async with db.read() as session:
        with pytest.raises(themes.ThemeUnknown):
            await themes.themes_by_slug(session, ["wonen", "voetbal"])
