"""Small builders for test data, going through the domain operations (not raw inserts)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from models.clock import Clock
from models.db import Database
from models.events.entities import Event, EventKind
from models.events.operations import EventDraft, create_event
from models.members.entities import Affiliation, Member, Role
from models.members.operations import ensure_member, set_affiliation
from models.networks.entities import Network
from models.registrations import operations as registrations
from models.registrations.entities import Registration
from models.registrations.policy import RegistrationPolicy

_telegram_ids = itertools.count(10_000)


async def network_id(db: Database, slug: str) -> int:
    async with db.read() as session:
        found = await session.scalar(select(Network.id).where(Network.slug == slug))
    assert found is not None, slug
    return found


async def make_member(
    db: Database,
    *,
    name: str = "Anna",
    network: str | None = "wyck",
    affiliation: Affiliation | None = None,
    role: Role = Role.MEMBER,
) -> Member:
    net_id = await network_id(db, network) if network else None
    async with db.transaction() as session:
        member, _ = await ensure_member(session, telegram_id=next(_telegram_ids), display_name=name)
        member.role = role
        await set_affiliation(
            session,
            member_id=member.id,
            affiliation=affiliation
            or (Affiliation.BUURTNETWERK if net_id else Affiliation.BEWONER),
            network_id=net_id,
        )
    return member


async def make_event(
    db: Database,
    now: datetime,
    *,
    starts_in: timedelta = timedelta(days=14),
    publish: bool = True,
    **fields: Any,
) -> Event:
    starts_at = now + starts_in
    draft = EventDraft(
        kind=fields.pop("kind", EventKind.MASTERCLASS),
        title=fields.pop("title", "Omgevingswet: wat betekent dit voor jouw buurt?"),
        starts_at=starts_at,
        ends_at=fields.pop("ends_at", starts_at + timedelta(hours=2)),
        location=fields.pop("location", "Stadhuis Maastricht, Markt 78"),
        **fields,
    )
    async with db.transaction() as session:
        return await create_event(session, draft=draft, actor_id=None, now=now, publish=publish)


async def register(
    db: Database,
    clock: Clock,
    policy: RegistrationPolicy,
    event: Event,
    member: Member,
    party_size: int = 1,
) -> Registration:
    """``member`` registers for ``event`` (or joins its waitlist), in a transaction of its own."""
    async with db.transaction() as session:
        outcome = await registrations.register(
            session,
            event_id=event.id,
            member_id=member.id,
            now=clock(),
            policy=policy,
            party_size=party_size,
        )
    return outcome.registration
