"""The UID an event has in every calendar feed: chosen once, stored with the event, never changed.

Calendar apps know an event by its UID; a new UID is a new event, and the old one stays in the
subscriber's calendar next to it. So a UID must survive everything an installation goes through:

- a new event gets ``<public_code>@<the installation's UID domain>`` (``models/instance``),
  stored in ``Event.feed_uid`` when the event is made. Neither part is the database id or the
  address the service is reached at, so a new ``http.public_url`` or copying the data to another
  database (the events keep their row, the installation its domain) changes no UID;
- events from before UIDs were stored (schema 0006) were known as ``evt-<id>@<host of
  public_url>``. They keep that UID: the first start after the upgrade (``assign_legacy_uids``)
  stores it with the host the feeds have been using, the configured ``public_url``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import String, cast, literal, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.events.entities import Event
from models.instance.operations import uid_domain


async def new_event_uid(session: AsyncSession, public_code: str) -> str:
    return f"{public_code}@{await uid_domain(session)}"


def legacy_event_uid(event_id: int, public_url: str) -> str:
    """What feeds called an event before UIDs were stored: its id at the service's host."""
    return f"evt-{event_id}{_at_host(public_url)}"


def _at_host(public_url: str) -> str:
    return "@" + (urlsplit(public_url).hostname or "localhost")


async def assign_legacy_uids(session: AsyncSession, *, public_url: str) -> int:
    """Store their old UID on the events that have none (the ones from before 0006), in one
    statement; returns how many. Safe to repeat: an event that has its UID keeps it. Their
    ``updated_at`` stays: nothing about the event changed."""
    result = await session.execute(
        update(Event)
        .where(Event.feed_uid.is_(None))
        .values(feed_uid=literal("evt-") + cast(Event.id, String) + literal(_at_host(public_url)))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
