"""CalendarItems built by hand, for rendering tests that need no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from calendars.ical import CalendarItem, FeedSettings
from models.events.entities import EventKind

SETTINGS = FeedSettings("https://agenda.example.nl", "BuurtagendaBot")
NO_BOT = FeedSettings("https://agenda.example.nl", None)
CREATED = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)

LONG_TEXT = (
    "Wat betekent de Omgevingswet voor jouw buurt? Café-eigenaren, bewoners en het "
    "buurtnetwerk van Wyck-Céramique praten mee; daarna een rondleiding langs de Maas. "
    "Kosten: € 0,00 — koffie en vlaai zijn gratis 👋☕. Één vraag: neem je ideeën mee!"
)


def item(number: int = 1, **overrides: Any) -> CalendarItem:
    starts_at = overrides.pop("starts_at", datetime(2027, 3, 12, 18, 30, tzinfo=UTC))
    fields: dict[str, Any] = {
        "event_id": number,
        "public_code": f"code{number:04d}",
        "kind": EventKind.MASTERCLASS,
        "title": "Omgevingswet: wat betekent dit voor jouw buurt?",
        "topic_tbd": False,
        "description": LONG_TEXT,
        "speakers": "Joop Hofman, Anneke van Dijk",
        "location": "Stadhuis Maastricht, Markt 78",
        "online_url": None,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=2),
        "cancelled": False,
        "cancel_reason": None,
        "revision": 3,
        "created_at": CREATED,
        "last_change": CREATED + timedelta(days=3, minutes=number),
        "network_name": None,
    }
    fields.update(overrides)
    return CalendarItem(**fields)


def cancelled(base: CalendarItem) -> CalendarItem:
    return replace(
        base,
        cancelled=True,
        cancel_reason="De zaal is niet beschikbaar",
        revision=base.revision + 1,
        last_change=base.last_change + timedelta(days=1),
    )
