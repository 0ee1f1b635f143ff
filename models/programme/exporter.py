"""Exporting the programme as a TOML programme file (the schema ``importer`` reads).

Importing an export changes nothing: every event carries its uid (its ``source_uid``, or
``<public_code>@buurtagenda`` for an event made in the bot), times are written in local time
(with the offset in the one ambiguous hour of the year), texts exactly. Values that are not set
are left out, which on import means "leave as it is".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.events.entities import Event, EventStatus
from models.organisers.authorisation import require_organiser
from models.programme.importer import OWN_UID_SUFFIX
from models.programme.toml_schema import (
    ENTRY_TABLE,
    MOMENT_KEYS,
    NUMBER_KEYS,
    OPTIONAL_TEXT_KEYS,
    SCHEMA_VERSION,
    STATUS_NAMES,
    EntryStatus,
    toml_moment,
    toml_string,
)
from models.reminders.policy import AMSTERDAM

# The optional fields in the order people read them; the others come before and after.
EXPORT_ORDER = (
    "begin",
    "einde",
    "locatie",
    "online",
    "plaatsen",
    "aanmelden_tot",
    "per_netwerk",
    "per_netwerk_tot",
)
FIELD_OF_KEY = {**MOMENT_KEYS, **OPTIONAL_TEXT_KEYS, **NUMBER_KEYS}

HEADER = """\
# Programma van Buurtagenda (export). Het schema staat in examples/programma.toml.
# Weer inlezen met /importeer of `buurtagenda import`; dezelfde uid = dezelfde bijeenkomst.
"""


def event_uid(event: Event) -> str:
    return event.source_uid or f"{event.public_code}{OWN_UID_SUFFIX}"


async def export_programme(
    session: AsyncSession, *, actor_id: int | None = None, tz: ZoneInfo = AMSTERDAM
) -> str:
    """All events (drafts and cancelled ones too; not proposals), soonest first, as TOML.
    Organisers only (drafts are not public); ``actor_id=None``: the command line."""
    if actor_id is not None:
        await require_organiser(session, actor_id)
    events = (
        await session.scalars(
            select(Event)
            .where(Event.status != EventStatus.PROPOSED)
            .order_by(Event.starts_at, Event.id)
        )
    ).all()
    parts = [HEADER, f"versie = {SCHEMA_VERSION}", f"tijdzone = {toml_string(tz.key)}"]
    for event in events:
        parts.append("")
        parts.append(f"[[{ENTRY_TABLE}]]")
        parts += [f"{key} = {value}" for key, value in _entry(event, tz)]
    return "\n".join(parts) + "\n"


def _entry(event: Event, tz: ZoneInfo) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = [
        ("uid", toml_string(event_uid(event))),
        ("soort", toml_string(event.kind.value)),
        ("titel", toml_string(event.title)),
    ]
    if event.topic_tbd:
        lines.append(("onderwerp_nog_open", "true"))
    if event.speakers:
        lines.append(("sprekers", toml_string(event.speakers)))
    if event.description:
        lines.append(("beschrijving", toml_string(event.description)))
    for key in EXPORT_ORDER:
        name = FIELD_OF_KEY[key]
        value = getattr(event, name)
        if value is not None:
            lines.append((key, _value(value, tz)))
    if event.network is not None:
        lines.append(("netwerk", toml_string(event.network.slug)))
    lines.append(("status", toml_string(STATUS_NAMES[_status(event)])))
    if event.is_cancelled and event.cancel_reason:
        lines.append(("reden", toml_string(event.cancel_reason)))
    return lines


def _status(event: Event) -> EntryStatus:
    if event.status is EventStatus.DRAFT:
        return "draft"
    return "cancelled" if event.status is EventStatus.CANCELLED else "published"


def _value(value: Any, tz: ZoneInfo) -> str:
    if isinstance(value, datetime):
        return toml_moment(value, tz)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return toml_string(str(value))


__all__ = ["event_uid", "export_programme"]
