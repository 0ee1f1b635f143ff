"""Organiser roles: invitations (one-time, 48 hours, hashed), accepting, revoking, the audit log;
and the audit entries of the existing organiser operations on events and registrations."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from models.errors import NotAllowed
from models.events.entities import EventKind
from models.events.operations import (
    EventDraft,
    cancel_event,
    create_event,
    publish_event,
    update_event,
)
from models.members.entities import Member, Role
from models.members.operations import ensure_member
from models.organisers.entities import AuditEntry, OrganiserInvitation
from models.organisers.operations import (
    INVITATION_VALID,
    AdminFromConfiguration,
    AdminOnly,
    InvitationExpired,
    InvitationRevoked,
    InvitationUnknown,
    InvitationUsed,
    accept_invitation,
    invite_organiser,
    list_organisers,
    open_invitations,
    revoke_invitation,
    revoke_organiser,
)
from models.registrations import operations as ops
from tests.factories import make_event, make_member


async def audit_log(db, action=None):  # type: ignore[no-untyped-def]
    async with db.read() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        return list((await session.scalars(query)).all())


async def role_of(db, member_id):  # type: ignore[no-untyped-def]
    async with db.read() as session:
        member = await session.get(Member, member_id)
        return member.role


async def test_admin_invites_and_a_member_accepts_once(db, clock):
    admin = await make_member(db, name="Els", role=Role.ADMIN, network=None)
    guest = await make_member(db, name="Ruud", network=None)
    other = await make_member(db, name="Sanne", network=None)
    async with db.transaction() as session:
        secret = await invite_organiser(session, actor_id=admin.id, now=clock())
    assert len(secret) >= 22  # 128 bits
    async with db.read() as session:
        invitation = await session.scalar(select(OrganiserInvitation))
    assert invitation.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in invitation.token_hash
    assert invitation.expires_at == clock() + timedelta(hours=48)
    assert len(f"o_{secret}") <= 64  # Telegram's limit for a start payload

    clock.advance(timedelta(hours=47))
    async with db.transaction() as session:
        accepted = await accept_invitation(session, member_id=guest.id, secret=secret, now=clock())
    assert accepted.changed and await role_of(db, guest.id) is Role.ORGANISER

    with pytest.raises(InvitationUsed):
        async with db.transaction() as session:
            await accept_invitation(session, member_id=other.id, secret=secret, now=clock())
    assert await role_of(db, other.id) is Role.MEMBER
    # The guest opening the link again: nothing changes, no error.
    async with db.transaction() as session:
        again = await accept_invitation(session, member_id=guest.id, secret=secret, now=clock())
    assert not again.changed

    actions = [entry.action for entry in await audit_log(db)]
    assert actions == ["organiser.invite", "organiser.accept"]
    accept = (await audit_log(db, "organiser.accept"))[0]
    assert accept.actor_id == guest.id and accept.object_id == guest.id
    assert accept.before == {"role": "member"} and accept.after["role"] == "organiser"


async def test_an_invitation_expires_after_48_hours(db, clock):
    admin = await make_member(db, role=Role.ADMIN, network=None)
    guest = await make_member(db, name="Ruud", network=None)
    async with db.transaction() as session:
        secret = await invite_organiser(session, actor_id=admin.id, now=clock())
    clock.advance(INVITATION_VALID)
    with pytest.raises(InvitationExpired):
        async with db.transaction() as session:
            await accept_invitation(session, member_id=guest.id, secret=secret, now=clock())
    assert await role_of(db, guest.id) is Role.MEMBER
    async with db.read() as session:
        assert await open_invitations(session, actor_id=admin.id, now=clock()) == []


async def test_unknown_and_revoked_invitations_are_refused(db, clock):
    admin = await make_member(db, role=Role.ADMIN, network=None)
    guest = await make_member(db, name="Ruud", network=None)
    with pytest.raises(InvitationUnknown):
        async with db.transaction() as session:
            await accept_invitation(session, member_id=guest.id, secret="made-up", now=clock())
    async with db.transaction() as session:
        secret = await invite_organiser(session, actor_id=admin.id, now=clock())
    async with db.read() as session:
        (invitation,) = await open_invitations(session, actor_id=admin.id, now=clock())
    async with db.transaction() as session:
        await revoke_invitation(
            session, actor_id=admin.id, invitation_id=invitation.id, now=clock()
        )
    with pytest.raises(InvitationRevoked):
        async with db.transaction() as session:
            await accept_invitation(session, member_id=guest.id, secret=secret, now=clock())
    assert await role_of(db, guest.id) is Role.MEMBER
    assert [e.action for e in await audit_log(db)] == [
        "organiser.invite",
        "organiser.invitation_revoke",
    ]


async def test_a_used_invitation_cannot_be_revoked(db, clock):
    admin = await make_member(db, role=Role.ADMIN, network=None)
    guest = await make_member(db, name="Ruud", network=None)
    async with db.transaction() as session:
        secret = await invite_organiser(session, actor_id=admin.id, now=clock())
        await accept_invitation(session, member_id=guest.id, secret=secret, now=clock())
    async with db.read() as session:
        invitation = await session.scalar(select(OrganiserInvitation))
    with pytest.raises(InvitationUsed):
        async with db.transaction() as session:
            await revoke_invitation(
                session, actor_id=admin.id, invitation_id=invitation.id, now=clock()
            )


async def test_an_organiser_or_admin_accepting_changes_nothing(db, clock):
    admin = await make_member(db, role=Role.ADMIN, network=None)
    organiser = await make_member(db, name="Ruud", role=Role.ORGANISER, network=None)
    async with db.transaction() as session:
        secret = await invite_organiser(session, actor_id=admin.id, now=clock())
    for member in (admin, organiser):
        async with db.transaction() as session:
            outcome = await accept_invitation(
                session, member_id=member.id, secret=secret, now=clock()
            )
        assert not outcome.changed
    assert await role_of(db, admin.id) is Role.ADMIN
    async with db.read() as session:
        invitation = await session.scalar(select(OrganiserInvitation))
    assert invitation.used_at is None  # still there for the one it was meant for


async def test_only_admins_manage_organisers(db, clock):
    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    member = await make_member(db, name="Bram")
    for actor in (organiser, member):
        with pytest.raises(AdminOnly):
            async with db.transaction() as session:
                await invite_organiser(session, actor_id=actor.id, now=clock())
        with pytest.raises(NotAllowed):  # AdminOnly is a NotAllowed
            async with db.transaction() as session:
                await revoke_organiser(
                    session, actor_id=actor.id, member_id=organiser.id, now=clock()
                )
        with pytest.raises(AdminOnly):
            async with db.read() as session:
                await list_organisers(session, actor_id=actor.id)
    assert await role_of(db, organiser.id) is Role.ORGANISER
    assert await audit_log(db) == []


async def test_admin_revokes_an_organiser_but_not_an_admin(db, clock):
    admin = await make_member(db, name="Els", role=Role.ADMIN, network=None)
    other_admin = await make_member(db, name="Frank", role=Role.ADMIN, network=None)
    organiser = await make_member(db, name="Ruud", role=Role.ORGANISER, network=None)
    async with db.read() as session:
        listed = await list_organisers(session, actor_id=admin.id)
    assert [m.display_name for m in listed] == ["Els", "Frank", "Ruud"]
    async with db.transaction() as session:
        outcome = await revoke_organiser(
            session, actor_id=admin.id, member_id=organiser.id, now=clock()
        )
    assert outcome.changed and await role_of(db, organiser.id) is Role.MEMBER
    async with db.transaction() as session:
        again = await revoke_organiser(
            session, actor_id=admin.id, member_id=organiser.id, now=clock()
        )
    assert not again.changed
    for target in (admin, other_admin):
        with pytest.raises(AdminFromConfiguration):
            async with db.transaction() as session:
                await revoke_organiser(session, actor_id=admin.id, member_id=target.id, now=clock())
    (entry,) = await audit_log(db)
    assert entry.action == "organiser.revoke" and entry.actor_id == admin.id
    assert entry.before == {"role": "organiser"} and entry.after == {"role": "member"}


async def test_admins_come_from_the_configuration(db):
    async with db.transaction() as session:
        member, _ = await ensure_member(
            session, telegram_id=777, display_name="Els", admin_ids=(777,)
        )
    assert member.role is Role.ADMIN


# --- audit entries of the existing organiser operations ------------------------------------------


async def test_event_operations_are_audited(db, clock, policy):
    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    start = clock() + timedelta(days=10)
    draft = EventDraft(
        kind=EventKind.MASTERCLASS,
        title="ABCD-methodiek en de Burgerbegroting",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        location="Stadhuis",
    )
    async with db.transaction() as session:
        event = await create_event(session, draft=draft, actor_id=organiser.id, now=clock())
        await publish_event(session, event_id=event.id, actor_id=organiser.id, now=clock())
        await update_event(
            session,
            event_id=event.id,
            actor_id=organiser.id,
            changes={"location": "Centre Céramique", "title": draft.title},
            now=clock(),
            policy=policy,
        )
        await cancel_event(
            session, event_id=event.id, actor_id=organiser.id, reason="Ziek", now=clock()
        )
    entries = await audit_log(db)
    assert [e.action for e in entries] == [
        "event.create",
        "event.publish",
        "event.update",
        "event.cancel",
    ]
    assert all(e.actor_id == organiser.id and e.object_id == event.id for e in entries)
    create, publish, update, cancel = entries
    assert create.after["title"] == draft.title and create.after["status"] == "draft"
    assert create.after["starts_at"] == start.isoformat()
    assert publish.before == {"status": "draft"} and publish.after == {"status": "published"}
    # Only the fields that changed.
    assert update.before == {"location": "Stadhuis"}
    assert update.after == {"location": "Centre Céramique"}
    assert cancel.before == {"status": "published", "cancel_reason": None}
    assert cancel.after == {"status": "cancelled", "cancel_reason": "Ziek"}


async def test_overrides_and_attendance_are_audited(db, clock, policy):
    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    anna = await make_member(db, name="Anna")
    bram = await make_member(db, name="Bram", network="amby")
    event = await make_event(db, clock(), capacity=1)
    async with db.transaction() as session:
        first = await ops.register(
            session, event_id=event.id, member_id=anna.id, now=clock(), policy=policy
        )
        second = await ops.register(
            session, event_id=event.id, member_id=bram.id, now=clock(), policy=policy
        )
    async with db.transaction() as session:
        await ops.override_cancel(
            session,
            registration_id=first.registration.id,
            actor_id=organiser.id,
            now=clock(),
            policy=policy,
            note="dubbel",
        )
    async with db.transaction() as session:
        await ops.override_confirm(
            session,
            registration_id=second.registration.id,
            actor_id=organiser.id,
            now=clock(),
            policy=policy,
        )
    clock.set(event.starts_at)
    async with db.transaction() as session:
        await ops.record_attendance(
            session,
            registration_id=second.registration.id,
            actor_id=organiser.id,
            attended=True,
            now=clock(),
            policy=policy,
        )
    entries = await audit_log(db)
    registration_entries = [e for e in entries if e.object_type == "registration"]
    assert [(e.action, e.before["status"], e.after["status"]) for e in registration_entries] == [
        ("registration.cancel", "confirmed", "cancelled"),
        ("registration.confirm", "offered", "confirmed"),
        ("registration.attendance", "confirmed", "attended"),
    ]
    assert registration_entries[0].after["note"] == "dubbel"
    assert all(e.actor_id == organiser.id for e in registration_entries)
