"""Reading the state of broadcasts (what the progress messages and their scheduling need)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.broadcasts.entities import Broadcast, BroadcastStatus
from models.networks.entities import Network

B = BroadcastStatus


@dataclass(frozen=True)
class SendingState:
    sending: int  # broadcasts going out now
    next_scheduled: datetime | None  # the earliest moment a scheduled one starts


async def any_pending(session: AsyncSession) -> bool:
    """Is any broadcast scheduled or going out?"""
    count = await session.scalar(
        select(func.count()).where(Broadcast.status.in_([B.SCHEDULED, B.SENDING]))
    )
    return bool(count)


async def sending_state(session: AsyncSession) -> SendingState:
    sending = await session.scalar(select(func.count()).where(Broadcast.status == B.SENDING))
    scheduled = await session.scalar(
        select(func.min(Broadcast.send_at)).where(Broadcast.status == B.SCHEDULED)
    )
    return SendingState(sending=int(sending or 0), next_scheduled=scheduled)


async def network_names(session: AsyncSession, network_ids: list[int]) -> list[str]:
    """The names of an audience's networks, sorted (those since removed are left out)."""
    names = await session.scalars(select(Network.name).where(Network.id.in_(network_ids)))
    return sorted(names.all())
