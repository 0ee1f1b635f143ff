"""Importing a programme file (TOML or ICS): first a plan (a dry run), then applying it.

``plan_import`` reads the file and compares each entry with the event of the same uid
(``Event.source_uid``; an exported event without one is known by ``<public_code>@buurtagenda``):
new events, changed fields (old → new), cancellations, unchanged, and entries left alone (past
events, events cancelled here). It changes nothing. ``apply_import`` carries a plan out through
the normal operations (``create_event``, ``update_event``, ``publish_event``, ``cancel_event``),
so people who are registered hear of changes and their reminders move along. Importing the same
file twice changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import N_, DomainError
from models.events.entities import Event, EventKind, EventStatus
from models.events.operations import (
    EventDraft,
    _validate,
    cancel_event,
    check_reason,
    create_event,
    publish_event,
    update_event,
)
from models.networks.entities import Network
from models.organisers import audit
from models.organisers.authorisation import require_organiser
from models.outbox.entities import OutboxMessage
from models.programme.toml_schema import (
    Entry,
    ProgrammeError,
    ProgrammeFile,
    check_unique,
    decode,
    parse_toml,
)
from models.registrations.policy import RegistrationPolicy
from models.reminders.policy import AMSTERDAM
from models.themes.operations import ThemeUnknown, themes_by_slug

# An exported event without a uid of its own is known by its public code.
OWN_UID_SUFFIX = "@buurtagenda"
# What a registered member hears when a file cancels an event without saying why.
DEFAULT_CANCEL_REASON = "Afgelast door de organisatoren."
ICS_DEFAULT_DURATION = timedelta(hours=2)
MAX_ENTRIES = 500

# Why an entry is left alone (message ids; the front end translates them).
SKIP_PAST = N_("al voorbij; niet aangepast")
SKIP_CANCELLED_HERE = N_("in Buurtagenda geannuleerd; wordt niet heropend")
SKIP_UNKNOWN_CANCELLED = N_("geannuleerd, en staat niet in Buurtagenda")
_DRAFT_FIELDS = tuple(f.name for f in fields(EventDraft))


@dataclass(frozen=True)
class FieldChange:
    name: str  # an EventDraft field, or "status"
    old: Any
    new: Any


@dataclass
class PlannedEvent:
    uid: str
    title: str
    starts_at: datetime
    event_id: int | None = None
    draft: EventDraft | None = None  # to create
    publish: bool = False  # to create published
    theme_ids: list[int] = field(default_factory=list)  # to create with (``themas``)
    changes: list[FieldChange] = field(default_factory=list)
    cancel_reason: str = ""
    note: str = ""  # why it is skipped (a message id)


@dataclass
class ImportPlan:
    format: str
    create: list[PlannedEvent] = field(default_factory=list)
    change: list[PlannedEvent] = field(default_factory=list)
    cancel: list[PlannedEvent] = field(default_factory=list)
    unchanged: list[PlannedEvent] = field(default_factory=list)
    skipped: list[PlannedEvent] = field(default_factory=list)
    network_names: dict[int, str] = field(default_factory=dict)

    @property
    def has_changes(self) -> bool:
        return bool(self.create or self.change or self.cancel)

    def digest(self) -> str:
        """A short fingerprint of what applying would do: a confirmation shown for one plan must
        not carry out another (the programme may have changed in between)."""
        body = {
            "create": [(p.uid, _jsonable(p.draft), p.publish) for p in self.create],
            "change": [
                (p.uid, p.event_id, [(c.name, _jsonable(c.new)) for c in p.changes])
                for p in self.change
            ],
            "cancel": [(p.uid, p.event_id, p.cancel_reason) for p in self.cancel],
        }
        encoded = json.dumps(body, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()[:10]


@dataclass
class ImportResult:
    created: int = 0
    changed: int = 0
    cancelled: int = 0
    notifications: list[OutboxMessage] = field(default_factory=list)


def read_programme(
    data: bytes | str, *, filename: str | None = None, tz: ZoneInfo = AMSTERDAM
) -> ProgrammeFile:
    """A programme file as entries; TOML or ICS (by the name's extension, else the content)."""
    text = decode(data)
    is_ics = (
        filename.lower().endswith(".ics")
        if filename and filename.lower().endswith((".ics", ".toml"))
        else text.lstrip().upper().startswith("BEGIN:VCALENDAR")
    )
    programme = parse_ics(text, default_tz=tz) if is_ics else parse_toml(text, default_tz=tz)
    if len(programme.entries) > MAX_ENTRIES:
        raise ProgrammeError(
            N_("Dit bestand heeft meer dan {maximum} bijeenkomsten; splits het op."),
            maximum=MAX_ENTRIES,
        )
    return programme


async def plan_import(
    session: AsyncSession,
    data: bytes | str | ProgrammeFile,
    now: datetime,
    *,
    actor_id: int | None = None,
    filename: str | None = None,
    tz: ZoneInfo = AMSTERDAM,
) -> ImportPlan:
    """What importing would do; changes nothing. Raises ``ProgrammeError`` for a bad file."""
    if actor_id is not None:
        await require_organiser(session, actor_id)
    programme = (
        data if isinstance(data, ProgrammeFile) else read_programme(data, filename=filename, tz=tz)
    )
    plan = ImportPlan(programme.format)
    networks = {network.slug: network for network in (await session.scalars(select(Network))).all()}
    plan.network_names = {network.id: network.name for network in networks.values()}
    for entry in programme.entries:
        values = dict(entry.values)
        if entry.network is not None:
            if entry.network == "":
                values["network_id"] = None
            elif entry.network in networks:
                values["network_id"] = networks[entry.network].id
            else:
                raise entry.error(N_("onbekend buurtnetwerk „{value}”."), value=entry.network)
        event = await _matching_event(session, entry.uid)
        if event is None:
            _plan_new(plan, entry, values, now)
            if entry.themes and plan.create and plan.create[-1].uid == entry.uid:
                try:
                    found = await themes_by_slug(session, entry.themes)
                except ThemeUnknown:
                    raise entry.error(
                        N_("onbekend thema in „{value}”."), value=", ".join(entry.themes)
                    ) from None
                plan.create[-1].theme_ids = [theme.id for theme in found]
        else:
            _plan_existing(plan, entry, values, event, now)
    return plan


async def apply_import(
    session: AsyncSession,
    plan: ImportPlan,
    *,
    actor_id: int | None,
    now: datetime,
    policy: RegistrationPolicy,
) -> ImportResult:
    """Carry out a plan (made in the same transaction, or just before) through the normal
    operations; audited as a whole and per event. ``actor_id=None``: the command line."""
    if actor_id is not None:
        await require_organiser(session, actor_id)
    result = ImportResult()
    for planned in plan.create:
        assert planned.draft is not None
        event = await create_event(
            session,
            draft=planned.draft,
            actor_id=actor_id,
            now=now,
            publish=planned.publish,
            theme_ids=planned.theme_ids,
            quiet_hours=policy.reminders,
        )
        event.source_uid = planned.uid
        result.created += 1
    for planned in plan.change:
        assert planned.event_id is not None
        changes = {c.name: c.new for c in planned.changes if c.name != "status"}
        if changes:
            _, notifications = await update_event(
                session,
                event_id=planned.event_id,
                actor_id=actor_id,
                changes=changes,
                now=now,
                policy=policy,
            )
            result.notifications += notifications
        if any(c.name == "status" for c in planned.changes):
            await publish_event(
                session,
                event_id=planned.event_id,
                actor_id=actor_id,
                now=now,
                quiet_hours=policy.reminders,
            )
        result.changed += 1
    for planned in plan.cancel:
        assert planned.event_id is not None
        _, notifications = await cancel_event(
            session,
            event_id=planned.event_id,
            actor_id=actor_id,
            reason=planned.cancel_reason,
            now=now,
        )
        result.notifications += notifications
        result.cancelled += 1
    await session.flush()
    await audit.record(
        session,
        actor_id=actor_id,
        action="programme.import",
        object_type="programme",
        object_id=None,
        now=now,
        after={
            "format": plan.format,
            "created": [p.uid for p in plan.create],
            "changed": [p.uid for p in plan.change],
            "cancelled": [p.uid for p in plan.cancel],
        },
    )
    return result


def describe_plan(plan: ImportPlan, tz: ZoneInfo = AMSTERDAM) -> str:
    """The plan as plain text, for the command line."""

    def when(moment: datetime) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    def show(name: str, value: Any) -> str:
        if value is None or value == "":
            return "-"
        if isinstance(value, datetime):
            return when(value)
        if name == "network_id":
            return plan.network_names.get(value, str(value))
        return str(value)

    lines: list[str] = []
    sections = [
        ("new", "+", plan.create),
        ("changed", "~", plan.change),
        ("cancelled", "x", plan.cancel),
        ("skipped", "-", plan.skipped),
    ]
    for label, mark, items in sections:
        if not items:
            continue
        lines.append(f"{label} ({len(items)}):")
        for planned in items:
            lines.append(f"  {mark} {when(planned.starts_at)}  {planned.title}  [{planned.uid}]")
            for change in planned.changes:
                old, new = show(change.name, change.old), show(change.name, change.new)
                lines.append(f"      {change.name}: {old} -> {new}")
            if planned.cancel_reason:
                lines.append(f"      reason: {planned.cancel_reason}")
            if planned.note:
                lines.append(f"      ({planned.note})")
    lines.append(f"unchanged: {len(plan.unchanged)}")
    return "\n".join(lines)


# --- planning -----------------------------------------------------------------------------------


async def _matching_event(session: AsyncSession, uid: str) -> Event | None:
    event = await session.scalar(select(Event).where(Event.source_uid == uid))
    if event is None and uid.endswith(OWN_UID_SUFFIX):
        code = uid.removesuffix(OWN_UID_SUFFIX)
        event = await session.scalar(
            select(Event).where(Event.public_code == code, Event.source_uid.is_(None))
        )
    if event is not None and event.status is EventStatus.PROPOSED:
        return None  # a proposal is not the programme's (yet); its uid cannot be taken either
    return event


def _plan_new(plan: ImportPlan, entry: Entry, values: dict[str, Any], now: datetime) -> None:
    starts_at = values.get("starts_at")
    title = values.get("title", "")
    if entry.status == "cancelled":
        planned = PlannedEvent(entry.uid, title, starts_at or now, note=SKIP_UNKNOWN_CANCELLED)
        plan.skipped.append(planned)
        return
    for name, key in (("kind", "soort"), ("title", "titel"), ("starts_at", "begin")):
        if values.get(name) is None:
            raise entry.error(N_("het veld „{key}” ontbreekt."), key=key)
    if values.get("ends_at") is None:
        raise entry.error(N_("het veld „{key}” ontbreekt."), key="einde")
    draft = EventDraft(**{name: values[name] for name in _DRAFT_FIELDS if name in values})
    if draft.ends_at <= now:
        plan.skipped.append(PlannedEvent(entry.uid, draft.title, draft.starts_at, note=SKIP_PAST))
        return
    _check(entry, draft, now, existing=False)
    plan.create.append(
        PlannedEvent(
            entry.uid,
            draft.title,
            draft.starts_at,
            draft=draft,
            publish=entry.status != "draft",
        )
    )


def _plan_existing(
    plan: ImportPlan, entry: Entry, values: dict[str, Any], event: Event, now: datetime
) -> None:
    def planned(**kwargs: Any) -> PlannedEvent:
        return PlannedEvent(entry.uid, event.title, event.starts_at, event_id=event.id, **kwargs)

    if event.is_cancelled:
        differs = any(
            name in _DRAFT_FIELDS and not _same(getattr(event, name), value)
            for name, value in values.items()
        )
        if entry.status == "cancelled" or (entry.status is None and not differs):
            plan.unchanged.append(planned())
        else:
            plan.skipped.append(planned(note=SKIP_CANCELLED_HERE))
        return
    if entry.status == "cancelled":
        if event.ends_at <= now:
            plan.skipped.append(planned(note=SKIP_PAST))
        else:
            reason = entry.cancel_reason or DEFAULT_CANCEL_REASON
            with _refused_as(entry):
                check_reason(reason)
            plan.cancel.append(planned(cancel_reason=reason))
        return
    changes = [
        FieldChange(name, getattr(event, name), value)
        for name, value in values.items()
        if name in _DRAFT_FIELDS and not _same(getattr(event, name), value)
    ]
    if entry.status == "published" and event.status is EventStatus.DRAFT:
        changes.append(FieldChange("status", EventStatus.DRAFT, EventStatus.PUBLISHED))
    if not changes:
        plan.unchanged.append(planned())
        return
    if event.ends_at <= now:
        plan.skipped.append(planned(note=SKIP_PAST))
        return
    current = {name: getattr(event, name) for name in _DRAFT_FIELDS}
    draft = EventDraft(**{**current, **{c.name: c.new for c in changes if c.name != "status"}})
    _check(entry, draft, now, existing=True)
    plan.change.append(planned(changes=changes))


def _check(entry: Entry, draft: EventDraft, now: datetime, *, existing: bool) -> None:
    with _refused_as(entry):
        _validate(draft, now, existing=existing)


@contextmanager
def _refused_as(entry: Entry) -> Iterator[None]:
    """An event's rule refusing the entry, as a refusal of the file naming the entry (and its
    line): what applying would refuse, the plan (the dry run) already refuses."""
    try:
        yield
    except DomainError as error:
        raise entry.error(N_("deze bijeenkomst kan zo niet."), cause=error) from None


def _same(old: Any, new: Any) -> bool:
    """Equal values; datetimes are the same moment whatever their time zone."""
    return bool(old == new)


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, EventDraft):
        return {name: _jsonable(getattr(value, name)) for name in _DRAFT_FIELDS}
    if isinstance(value, datetime):
        return value.timestamp()
    return value


# --- ICS ----------------------------------------------------------------------------------------

_KIND_WORDS = (
    ("masterclass", EventKind.MASTERCLASS),
    ("dialoog", EventKind.DIALOOG),
    ("dialogue", EventKind.DIALOOG),
    ("uitwisseling", EventKind.UITWISSELING),
    ("exchange", EventKind.UITWISSELING),
    ("workshop", EventKind.WORKSHOP),
)


def parse_ics(text: str, *, default_tz: ZoneInfo = AMSTERDAM) -> ProgrammeFile:
    """VEVENTs with UID, SUMMARY, DTSTART/DTEND (or DURATION) incl. TZID, LOCATION,
    DESCRIPTION, URL and STATUS (CANCELLED cancels; TENTATIVE makes a new event a draft).
    Times without a zone are read in ``default_tz``. The kind comes from X-BUURTAGENDA-KIND or
    CATEGORIES (else guessed from the summary). Repeating events are refused."""
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError) as error:
        raise ProgrammeError(
            N_("Dit bestand kon ik niet lezen als agendabestand (ICS): {detail}."),
            detail=str(error)[:200],
        ) from None
    lines = [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip().upper() == "BEGIN:VEVENT"
    ]
    entries: list[Entry] = []
    for number, component in enumerate(calendar.walk("VEVENT"), start=1):
        line = lines[number - 1] if number <= len(lines) else None
        entries.append(_ics_entry(component, number, line, default_tz))
    if not entries:
        raise ProgrammeError(N_("Er staan geen bijeenkomsten in dit bestand."))
    check_unique(entries)
    return ProgrammeFile("ics", default_tz, entries)


def _ics_entry(component: Any, number: int, line: int | None, tz: ZoneInfo) -> Entry:
    entry = Entry(uid="", number=number, line=line)
    uid = str(component.get("UID", "")).strip()
    if not uid:
        raise entry.error(N_("het veld „{key}” ontbreekt."), key="UID")
    entry.uid = uid
    status = str(component.get("STATUS", "")).strip().upper()
    if status == "CANCELLED":
        entry.status = "cancelled"
        entry.cancel_reason = str(component.get("X-BUURTAGENDA-REASON", "")).strip()
    elif status == "TENTATIVE":
        entry.status = "draft"
    elif status == "CONFIRMED":
        entry.status = "published"
    if component.get("RRULE") is not None or component.get("RDATE") is not None:
        raise entry.error(
            N_(
                "herhalende afspraken kan ik niet importeren; zet elke bijeenkomst apart in het "
                "bestand."
            )
        )
    summary = str(component.get("SUMMARY", "")).strip()
    if summary:
        entry.values["title"] = summary
    elif entry.status != "cancelled":
        raise entry.error(N_("het veld „{key}” ontbreekt."), key="SUMMARY")
    if component.get("DTSTART") is None:
        if entry.status != "cancelled":
            raise entry.error(N_("het veld „{key}” ontbreekt."), key="DTSTART")
    else:
        starts_at = _ics_moment(entry, component, "DTSTART", tz)
        entry.values["starts_at"] = starts_at
        if component.get("DTEND") is not None:
            entry.values["ends_at"] = _ics_moment(entry, component, "DTEND", tz)
        elif component.get("DURATION") is not None:
            entry.values["ends_at"] = starts_at + component.decoded("DURATION")
        else:
            entry.values["ends_at"] = starts_at + ICS_DEFAULT_DURATION
    for prop, name in (("DESCRIPTION", "description"), ("LOCATION", "location")):
        if component.get(prop) is not None:
            value = str(component.get(prop)).strip()
            entry.values[name] = value if name == "description" else (value or None)
    url = str(component.get("URL", "")).strip()
    if url.startswith(("https://", "http://")):
        entry.values["online_url"] = url
    kind = _ics_kind(component)
    if kind is not None:
        entry.values["kind"] = kind
    elif "title" in entry.values:
        entry.values.setdefault("kind", _guess_kind(summary))
    return entry


def _ics_moment(entry: Entry, component: Any, prop: str, tz: ZoneInfo) -> datetime:
    value = component.decoded(prop)
    if not isinstance(value, datetime):
        raise entry.error(N_("een bijeenkomst heeft een begin- en eindtijd nodig, geen hele dag."))
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def _ics_kind(component: Any) -> EventKind | None:
    explicit = str(component.get("X-BUURTAGENDA-KIND", "")).strip().lower()
    if explicit in {kind.value for kind in EventKind}:
        return EventKind(explicit)
    categories = component.get("CATEGORIES")
    names: list[str] = []
    for item in categories if isinstance(categories, list) else [categories]:
        if item is not None:
            names += [str(category).lower() for category in getattr(item, "cats", [item])]
    for name in names:
        for word, kind in _KIND_WORDS:
            if word in name:
                return kind
    return None


def _guess_kind(summary: str) -> EventKind:
    lowered = summary.lower()
    for word, kind in _KIND_WORDS:
        if re.search(rf"\b{word}", lowered):
            return kind
    return EventKind.WORKSHOP


__all__ = [
    "DEFAULT_CANCEL_REASON",
    "FieldChange",
    "ImportPlan",
    "ImportResult",
    "PlannedEvent",
    "ProgrammeError",
    "apply_import",
    "describe_plan",
    "parse_ics",
    "plan_import",
    "read_programme",
]
