"""The weekly digest: members who opted in get, on Monday morning, the coming two weeks (and, if
they chose to hear of new plans this way, the new events that fit them)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.alerts.policy import AlertPreference
from models.members.entities import Member
from models.outbox.entities import NotificationKind
from models.outbox.operations import enqueue


async def enqueue_digests(session: AsyncSession, *, now: datetime, tz: ZoneInfo) -> int:
    """One digest per opted-in, reachable member per ISO week (running twice adds nothing)."""
    year, week, _ = now.astimezone(tz).isocalendar()
    members = (
        await session.scalars(
            select(Member.id).where(
                # Who chose to hear of new plans in the digest gets it too.
                or_(
                    Member.digest.is_(True),
                    Member.alert_preference == AlertPreference.DIGEST,
                ),
                Member.reachable.is_(True),
                Member.telegram_id.is_not(None),
            )
        )
    ).all()
    written = 0
    for member_id in members:
        message = await enqueue(
            session,
            kind=NotificationKind.DIGEST,
            member_id=member_id,
            due_at=now,
            key=f"digest:{member_id}:{year}-W{week:02d}",
        )
        written += message is not None
    return written
