"""Members: first contact, network choice, admins from config, export and forget (AVG)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models.errors import NotFound
from models.members.entities import Affiliation, Language, Member, Role
from models.members.operations import (
    AffiliationInvalid,
    ensure_member,
    export_member_data,
    forget_member,
    set_affiliation,
    set_language,
)
from models.outbox.entities import NotificationKind, OutboxMessage
from models.registrations import operations as ops
from models.registrations.entities import Registration, RegistrationStatus
from tests.factories import make_event, make_member, network_id


async def test_first_contact_creates_once(db):
    async with db.transaction() as session:
        member, created = await ensure_member(
            session, telegram_id=42, display_name="  Marij  Hendriks "
        )
    assert created and member.display_name == "Marij Hendriks" and member.language is Language.NL
    async with db.transaction() as session:
        again, created = await ensure_member(session, telegram_id=42, display_name="Marij")
    assert not created and again.id == member.id


async def test_admins_come_from_configuration(db):
    async with db.transaction() as session:
        member, _ = await ensure_member(
            session, telegram_id=7, display_name="Admin", admin_ids=(7,)
        )
    assert member.role is Role.ADMIN
    async with db.transaction() as session:
        member, _ = await ensure_member(session, telegram_id=7, display_name="Admin", admin_ids=())
    assert member.role is Role.ORGANISER


async def test_choose_network_or_other_affiliation(db):
    wyck = await network_id(db, "wyck")
    async with db.transaction() as session:
        member, _ = await ensure_member(session, telegram_id=1, display_name="A")
        await set_affiliation(
            session, member_id=member.id, affiliation=Affiliation.BUURTNETWERK, network_id=wyck
        )
        await set_language(session, member_id=member.id, language=Language.EN)
    async with db.read() as session:
        stored = await session.get(Member, member.id)
        assert stored is not None and stored.network is not None and stored.network.name == "Wyck"
        assert stored.language is Language.EN and stored.onboarded
    async with db.transaction() as session:
        await set_affiliation(session, member_id=member.id, affiliation=Affiliation.RAADSLID)
    with pytest.raises(AffiliationInvalid):
        async with db.transaction() as session:
            await set_affiliation(
                session, member_id=member.id, affiliation=Affiliation.BUURTNETWERK
            )
    with pytest.raises(AffiliationInvalid):
        async with db.transaction() as session:
            await set_affiliation(
                session, member_id=member.id, affiliation=Affiliation.RAADSLID, network_id=wyck
            )
    with pytest.raises(NotFound):
        async with db.transaction() as session:
            await set_affiliation(
                session, member_id=member.id, affiliation=Affiliation.BUURTNETWERK, network_id=99999
            )


async def test_export_contains_what_is_stored(db, clock, policy):
    event = await make_event(db, clock(), capacity=5)
    anna = await make_member(db, name="Anna")
    async with db.transaction() as session:
        await ops.register(
            session, event_id=event.id, member_id=anna.id, now=clock(), policy=policy
        )
    async with db.read() as session:
        data = await export_member_data(session, member_id=anna.id)
    assert data["member"]["display_name"] == "Anna"
    assert data["member"]["network"] == "Wyck"
    assert data["registrations"][0]["status"] == "confirmed"
    assert data["registrations"][0]["history"][0]["reason"] == "registered"
    # Everything stored about the member has its place, even when empty.
    assert set(data) == {
        "member",
        "registrations",
        "notifications",
        "feedback",
        "ideas",
        "votes",
        "dialogue_questions",
        "proposals",
        "calendar_link",
        "dialog",
        "questions",
        "contact_person_for",
    }


async def test_forget_keeps_counts_and_frees_coming_seats(db, clock, policy):
    past = await make_event(db, clock(), capacity=5, starts_in=timedelta(hours=2), title="Voorbij")
    coming = await make_event(db, clock(), capacity=1, title="Komt")
    anna, bert = await make_member(db, name="Anna"), await make_member(db, name="Bert")
    async with db.transaction() as session:
        await ops.register(session, event_id=past.id, member_id=anna.id, now=clock(), policy=policy)
        await ops.register(
            session, event_id=coming.id, member_id=anna.id, now=clock(), policy=policy
        )
        await ops.register(
            session, event_id=coming.id, member_id=bert.id, now=clock(), policy=policy
        )
    clock.advance(timedelta(hours=5))
    async with db.transaction() as session:
        anonymous = await forget_member(session, member_id=anna.id, now=clock(), policy=policy)
    assert anonymous == 2
    async with db.read() as session:
        assert await session.get(Member, anna.id) is None
        rows = (
            await session.execute(
                select(
                    Registration.event_id,
                    Registration.member_id,
                    Registration.status,
                    Registration.network_id,
                ).order_by(Registration.id)
            )
        ).all()
        wyck = await network_id(db, "wyck")
        assert rows[0] == (
            past.id,
            None,
            RegistrationStatus.CONFIRMED,
            wyck,
        )  # past: counted, anonymous
        assert rows[1][1:3] == (None, RegistrationStatus.CANCELLED)  # coming: seat freed
        assert rows[2][1:3] == (bert.id, RegistrationStatus.OFFERED)  # ...and offered to Bert
        pending = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.member_id == anna.id)
        )
        assert pending == 0
        offered = await session.scalar(
            select(OutboxMessage.member_id).where(
                OutboxMessage.kind == NotificationKind.SEAT_OFFERED
            )
        )
        assert offered == bert.id
