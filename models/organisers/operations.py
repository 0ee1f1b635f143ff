"""Organiser roles: admins (from the configuration) invite organisers, and can revoke them.

- Admins are whoever ``Config.admins`` names; ``members.operations.ensure_member`` applies that on
  every contact, so an admin is never made or unmade here.
- An admin invites an organiser with a one-time deep link (``/start o_<secret>``; the bot makes
  it a t.me link, or a sandbox link in the sandbox: calendars/links.py): 128
  random bits, of which only the SHA-256 is stored. It works once, for 48 hours, unless an admin
  revokes it first. Whoever opens it becomes an organiser.
- An admin revokes an organiser: they are a member again (their registrations stay).

Every change is written to the audit log in the same transaction; a refusal changes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import N_, DomainError, NotAllowed, NotFound
from models.members.entities import Member, Role
from models.organisers import audit
from models.organisers.entities import OrganiserInvitation

INVITATION_VALID = timedelta(hours=48)
DEEP_LINK_INVITATION = "o_"
SECRET_BYTES = 16  # 128 bits; 22 characters of URL-safe base64, fits a deep link payload


class AdminOnly(NotAllowed):
    message = N_("Alleen beheerders kunnen organisatoren uitnodigen of intrekken.")


class InvitationUnknown(DomainError):
    message = N_(
        "Deze uitnodiging ken ik niet. Controleer of je de hele link hebt, of vraag om een nieuwe."
    )


class InvitationExpired(DomainError):
    message = N_(
        "Deze uitnodiging is verlopen: een link werkt 48 uur. Vraag de beheerder om een nieuwe."
    )


class InvitationUsed(DomainError):
    message = N_("Deze uitnodiging is al gebruikt. Een link werkt maar één keer.")


class InvitationRevoked(DomainError):
    message = N_("Deze uitnodiging is ingetrokken. Vraag de beheerder om een nieuwe.")


class AdminFromConfiguration(DomainError):
    message = N_("Beheerders staan in de configuratie van de dienst; daar kun je ze ook weghalen.")


@dataclass(frozen=True)
class RoleChange:
    """The member after an operation on their role; ``changed`` is False if it was so already."""

    member: Member
    changed: bool


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def require_admin(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None or member.role is not Role.ADMIN:
        raise AdminOnly()
    return member


async def invite_organiser(session: AsyncSession, *, actor_id: int, now: datetime) -> str:
    """A new invitation; returns its secret (shown once: only its hash is stored)."""
    await require_admin(session, actor_id)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    invitation = OrganiserInvitation(
        token_hash=hash_secret(secret),
        created_by_id=actor_id,
        created_at=now,
        expires_at=now + INVITATION_VALID,
    )
    session.add(invitation)
    await session.flush()
    await audit.record(
        session,
        actor_id=actor_id,
        action="organiser.invite",
        object_type="invitation",
        object_id=invitation.id,
        now=now,
        after={"expires_at": invitation.expires_at},
    )
    return secret


async def accept_invitation(
    session: AsyncSession, *, member_id: int, secret: str, now: datetime
) -> RoleChange:
    """Whoever opens a valid invitation becomes an organiser; the invitation is then used up.

    An admin or organiser opening one changes nothing (the link stays usable for its guest).
    """
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFound()
    invitation = await session.scalar(
        select(OrganiserInvitation)
        .where(OrganiserInvitation.token_hash == hash_secret(secret))
        .with_for_update()
    )
    if invitation is None:
        raise InvitationUnknown()
    if member.is_organiser:
        return RoleChange(member, changed=False)
    if invitation.revoked_at is not None:
        raise InvitationRevoked()
    if invitation.used_at is not None:
        raise InvitationUsed()
    if now >= invitation.expires_at:
        raise InvitationExpired()
    invitation.used_at = now
    invitation.used_by_id = member.id
    member.role = Role.ORGANISER
    await audit.record(
        session,
        actor_id=member.id,
        action="organiser.accept",
        object_type="member",
        object_id=member.id,
        now=now,
        before={"role": Role.MEMBER},
        after={"role": Role.ORGANISER, "invitation_id": invitation.id},
    )
    await session.flush()
    return RoleChange(member, changed=True)


async def revoke_invitation(
    session: AsyncSession, *, actor_id: int, invitation_id: int, now: datetime
) -> OrganiserInvitation:
    """An admin withdraws an invitation that has not been used yet."""
    await require_admin(session, actor_id)
    invitation = await session.get(OrganiserInvitation, invitation_id, with_for_update=True)
    if invitation is None:
        raise NotFound()
    if invitation.used_at is not None:
        raise InvitationUsed()
    if invitation.revoked_at is not None:
        return invitation
    invitation.revoked_at = now
    await audit.record(
        session,
        actor_id=actor_id,
        action="organiser.invitation_revoke",
        object_type="invitation",
        object_id=invitation.id,
        now=now,
        before={"revoked_at": None},
        after={"revoked_at": now},
    )
    await session.flush()
    return invitation


async def revoke_organiser(
    session: AsyncSession, *, actor_id: int, member_id: int, now: datetime
) -> RoleChange:
    """An admin makes an organiser a member again. ``changed`` is False if they were not one."""
    await require_admin(session, actor_id)
    member = await session.scalar(
        select(Member)
        .where(Member.id == member_id)
        .with_for_update(of=Member)
        .execution_options(populate_existing=True)
    )
    if member is None:
        raise NotFound()
    if member.role is Role.ADMIN:
        raise AdminFromConfiguration()
    if member.role is not Role.ORGANISER:
        return RoleChange(member, changed=False)
    member.role = Role.MEMBER
    await audit.record(
        session,
        actor_id=actor_id,
        action="organiser.revoke",
        object_type="member",
        object_id=member.id,
        now=now,
        before={"role": Role.ORGANISER},
        after={"role": Role.MEMBER},
    )
    await session.flush()
    return RoleChange(member, changed=True)


async def list_organisers(session: AsyncSession, *, actor_id: int) -> list[Member]:
    """Admins first, then organisers, by name."""
    await require_admin(session, actor_id)
    members = (
        await session.scalars(
            select(Member)
            .where(Member.role.in_([Role.ADMIN, Role.ORGANISER]))
            .order_by(Member.display_name, Member.id)
        )
    ).all()
    return sorted(members, key=lambda m: m.role is not Role.ADMIN)


async def open_invitations(
    session: AsyncSession, *, actor_id: int, now: datetime
) -> list[OrganiserInvitation]:
    """Invitations that can still be used, soonest to expire first."""
    await require_admin(session, actor_id)
    return list(
        (
            await session.scalars(
                select(OrganiserInvitation)
                .where(
                    OrganiserInvitation.used_at.is_(None),
                    OrganiserInvitation.revoked_at.is_(None),
                    OrganiserInvitation.expires_at > now,
                )
                .order_by(OrganiserInvitation.expires_at, OrganiserInvitation.id)
            )
        ).all()
    )


__all__ = [
    "DEEP_LINK_INVITATION",
    "INVITATION_VALID",
    "AdminFromConfiguration",
    "AdminOnly",
    "InvitationExpired",
    "InvitationRevoked",
    "InvitationUnknown",
    "InvitationUsed",
    "RoleChange",
    "accept_invitation",
    "invite_organiser",
    "list_organisers",
    "open_invitations",
    "require_admin",
    "revoke_invitation",
    "revoke_organiser",
]
