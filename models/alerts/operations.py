"""Who a newly published event fits, and the alert that tells them.

The fit rule: a member fits an event they can see (the collective programme, or their own
network's session) when it is their network's own session, carries a theme they chose (an active
one), or is of a kind they follow. Members who chose "in het weekoverzicht" find it in the
digest instead; "niet": nothing. Reachable members with Telegram only; not the organiser who
published it.

The alert is an outbox row per member (``NEW_EVENTS``), written in the publishing transaction and
due at once (after the quiet hours, if it falls in them). Events published within
``ALERT_WINDOW`` of the first come as one message: while the row waits, a new event joins it;
once it went out, a new row edits that message to list them all (``edit_of``). So the first alert
is not held back, and a morning of publishing still makes one message per member.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, false, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.alerts.entities import member_followed_kinds
from models.alerts.policy import ALERT_WINDOW, DIGEST_NEW_SINCE, AlertPreference
from models.errors import NotFound
from models.events.entities import Event, EventKind, EventStatus
from models.members.entities import Member
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.outbox.operations import note_due
from models.reminders.policy import ReminderPolicy
from models.themes.entities import Theme, event_themes, member_themes

K = NotificationKind
_INSERT = insert(cast(Table, OutboxMessage.__table__))


def _fits(event: Event) -> ColumnElement[bool]:
    """The SQL condition "this member fits ``event``" (see the module's docstring)."""
    chosen_theme = select(member_themes.c.member_id).where(
        member_themes.c.theme_id.in_(
            select(event_themes.c.theme_id)
            .join(Theme, Theme.id == event_themes.c.theme_id)
            .where(event_themes.c.event_id == event.id, Theme.retired_at.is_(None))
        )
    )
    followed_kind = select(member_followed_kinds.c.member_id).where(
        member_followed_kinds.c.kind == event.kind
    )
    own_network = Member.network_id == event.network_id if event.network_id is not None else false()
    return or_(own_network, Member.id.in_(chosen_theme), Member.id.in_(followed_kind))


def fitting_members(event: Event, preference: AlertPreference = AlertPreference.NOW) -> Any:
    """SELECT of the ids of the members ``event`` fits who chose ``preference``."""
    query = select(Member.id).where(
        Member.reachable.is_(True),
        Member.telegram_id.is_not(None),
        Member.alert_preference == preference,
        _fits(event),
    )
    if event.network_id is not None:  # a network's own session: only its members see it
        query = query.where(Member.network_id == event.network_id)
    return query


async def announce_event(
    session: AsyncSession,
    event: Event,
    *,
    now: datetime,
    quiet_hours: ReminderPolicy | None = None,
    actor_id: int | None = None,
) -> int:
    """Alert the members ``event`` fits that it is published; returns how many rows were
    written or joined. Call it in the publishing transaction, after the event's themes are set."""
    if event.status is not EventStatus.PUBLISHED or event.starts_at <= now:
        return 0
    quiet = quiet_hours or ReminderPolicy()
    due = quiet.end_of_quiet_hours(now) if quiet.in_quiet_hours(now) else now
    members = fitting_members(event)
    if actor_id is not None:
        members = members.where(Member.id != actor_id)
    open_rows = (
        select(OutboxMessage)
        .where(
            OutboxMessage.kind == K.NEW_EVENTS,
            OutboxMessage.member_id.in_(members),
            or_(
                OutboxMessage.status == DeliveryStatus.PENDING,
                OutboxMessage.created_at >= now - ALERT_WINDOW,
            ),
        )
        .order_by(OutboxMessage.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        open_rows = open_rows.with_for_update()  # the dispatcher's claim skips them meanwhile
    latest: dict[int, OutboxMessage] = {}
    for open_row in (await session.scalars(open_rows)).all():
        assert open_row.member_id is not None
        latest[open_row.member_id] = open_row
    new_rows: list[dict[str, Any]] = []
    joined = 0
    for member_id in (await session.scalars(members)).all():
        row = latest.get(member_id)
        payload = dict(row.payload or {}) if row is not None else {}
        since = datetime.fromisoformat(payload["since"]) if "since" in payload else None
        if row is not None and row.status is DeliveryStatus.PENDING:
            payload["event_ids"] = [*payload.get("event_ids", []), event.id]
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.status == DeliveryStatus.PENDING)
                .values(payload=payload)
            )
            joined += 1
            continue
        if (
            row is not None
            and row.status in (DeliveryStatus.SENDING, DeliveryStatus.SENT)
            and since is not None
            and since >= now - ALERT_WINDOW
        ):
            payload = {
                "event_ids": [*payload.get("event_ids", []), event.id],
                "since": payload["since"],
                "edit_of": payload.get("edit_of", row.id),
            }
        else:
            payload = {"event_ids": [event.id], "since": now.isoformat()}
        new_rows.append(
            {
                "kind": K.NEW_EVENTS,
                "member_id": member_id,
                "due_at": due,
                "idempotency_key": f"new_events:{member_id}:{event.id}",
                "payload": payload,
                "event_id": event.id,
                "status": DeliveryStatus.PENDING,
                "created_at": now,
            }
        )
    if new_rows:
        await session.execute(_INSERT, new_rows)
        note_due(session, due)
    return len(new_rows) + joined


async def fitting_events_for(
    session: AsyncSession, member: Member, *, now: datetime, since: datetime | None = None
) -> list[Event]:
    """The coming published events that fit ``member``, published after ``since`` (default: a
    week before ``now``), soonest first: what the digest lists as new for them."""
    since = since or now - DIGEST_NEW_SINCE
    query = (
        select(Event)
        .where(
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > now,
            Event.published_at > since,
            Event.published_at <= now,
        )
        .order_by(Event.starts_at, Event.id)
    )
    themes = select(member_themes.c.theme_id).where(member_themes.c.member_id == member.id)
    themed = select(event_themes.c.event_id).join(Theme, Theme.id == event_themes.c.theme_id)
    themed = themed.where(event_themes.c.theme_id.in_(themes), Theme.retired_at.is_(None))
    kinds = select(member_followed_kinds.c.kind).where(
        member_followed_kinds.c.member_id == member.id
    )
    own = Event.network_id == member.network_id if member.network_id is not None else false()
    query = query.where(
        or_(Event.network_id.is_(None), own),
        or_(own, Event.id.in_(themed), Event.kind.in_(kinds)),
    )
    return list((await session.scalars(query)).all())


# --- the member's choices ------------------------------------------------------------------------


async def set_alert_preference(
    session: AsyncSession, *, member_id: int, preference: AlertPreference
) -> Member:
    """At once, in the weekly digest (which then comes), or not at all."""
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFound()
    member.alert_preference = preference
    if preference is AlertPreference.DIGEST:
        member.digest = True
    return member


async def followed_kinds(session: AsyncSession, member_id: int) -> list[EventKind]:
    rows = await session.scalars(
        select(member_followed_kinds.c.kind).where(member_followed_kinds.c.member_id == member_id)
    )
    chosen = set(rows.all())
    return [kind for kind in EventKind if kind in chosen]


async def set_followed_kinds(
    session: AsyncSession, *, member_id: int, kinds: Sequence[EventKind]
) -> list[EventKind]:
    if await session.get(Member, member_id) is None:
        raise NotFound()
    await session.execute(
        delete(member_followed_kinds).where(member_followed_kinds.c.member_id == member_id)
    )
    wanted = list(dict.fromkeys(kinds))
    if wanted:
        await session.execute(
            insert(member_followed_kinds),
            [{"member_id": member_id, "kind": kind} for kind in wanted],
        )
    return await followed_kinds(session, member_id)


async def toggle_followed_kind(session: AsyncSession, *, member_id: int, kind: EventKind) -> bool:
    """Follow ``kind`` if the member did not, stop if they did; True when now followed."""
    current = await followed_kinds(session, member_id)
    following = kind not in current
    wanted = [*current, kind] if following else [k for k in current if k is not kind]
    await set_followed_kinds(session, member_id=member_id, kinds=wanted)
    return following
