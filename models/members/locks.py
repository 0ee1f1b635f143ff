"""A member's row locked for a decision that counts what they already have (open questions,
pending ideas): on PostgreSQL concurrent requests of one member then take turns, so a limit
holds; on SQLite the write transaction holds the whole database anyway."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import MemberUnknown
from models.members.entities import Member


async def lock_member(session: AsyncSession, member_id: int) -> Member:
    """The member's row, locked and read fresh; ``MemberUnknown`` if there is none."""
    member = await session.scalar(
        select(Member)
        .where(Member.id == member_id)
        .with_for_update(of=Member)
        .execution_options(populate_existing=True)
    )
    if member is None:
        raise MemberUnknown()
    return member
