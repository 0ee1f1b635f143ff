"""Who may act as an organiser: the one check every organiser operation starts with."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import NotAllowed
from models.members.entities import Member


async def require_organiser(session: AsyncSession, member_id: int) -> Member:
    """The member, if they are an organiser or an admin now (as stored, not as a menu shows);
    ``NotAllowed`` otherwise."""
    member = await session.get(Member, member_id)
    if member is None or not member.is_organiser:
        raise NotAllowed()
    return member
