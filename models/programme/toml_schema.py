"""The programme file's TOML schema: reading it into entries, and writing values back.

The schema itself is documented in ``models/programme/__init__.py`` and at the top of
``examples/programma.toml``. Reading checks everything that can be checked without the database
(types, required keys, known kinds, unique uids); what needs the database (the network's slug,
the event's rules) is checked when the import is planned.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.errors import N_, DomainError
from models.events.entities import EventKind
from models.reminders.policy import AMSTERDAM

SCHEMA_VERSION = 1
ENTRY_TABLE = "bijeenkomst"
EntryStatus = Literal["draft", "published", "cancelled"]

# TOML key → EventDraft field, per kind of value.
TEXT_KEYS = {
    "titel": "title",
    "beschrijving": "description",
    "sprekers": "speakers",
}
OPTIONAL_TEXT_KEYS = {"locatie": "location", "online": "online_url"}
NUMBER_KEYS = {"plaatsen": "capacity", "per_netwerk": "fair_share_per_network"}
MOMENT_KEYS = {
    "begin": "starts_at",
    "einde": "ends_at",
    "aanmelden_tot": "registration_deadline",
    "per_netwerk_tot": "fair_share_until",
}
BOOL_KEYS = {"onderwerp_nog_open": "topic_tbd"}
OTHER_KEYS = {"uid", "soort", "duur", "netwerk", "status", "reden", "themas"}
ALL_KEYS = {*TEXT_KEYS, *OPTIONAL_TEXT_KEYS, *NUMBER_KEYS, *MOMENT_KEYS, *BOOL_KEYS, *OTHER_KEYS}
# Keys every entry needs, unless it only says the event is cancelled.
REQUIRED_KEYS = ("uid", "soort", "titel", "begin")
KINDS = {kind.value: kind for kind in EventKind}
STATUSES: dict[str, EntryStatus] = {
    "concept": "draft",
    "gepubliceerd": "published",
    "geannuleerd": "cancelled",
}
STATUS_NAMES = {value: key for key, value in STATUSES.items()}
UID_MAX = 255
_TOML_POSITION = re.compile(
    r"^(?P<detail>.*?)\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)$"
)


class ProgrammeError(DomainError):
    """A programme file that cannot be imported; names the entry (and line) when it can.

    ``where`` is a message of its own (the entry and its line) put in front of the problem, and
    ``cause`` a domain error behind it (an event's rule); the front end translates all three
    (``render``). Nothing was changed.
    """

    message = N_("Dit programmabestand klopt niet.")

    def __init__(
        self,
        message: str | None = None,
        *,
        where: tuple[str, dict[str, Any]] | None = None,
        cause: DomainError | None = None,
        **params: Any,
    ) -> None:
        self.where = where
        self.cause = cause
        super().__init__(message, **params)

    def render(self, translate: Any) -> str:
        """The whole message via ``translate(msgid, **params)`` (e.g. the bot's ``turn.t``)."""
        parts = []
        if self.where is not None:
            parts.append(translate(self.where[0], **self.where[1]) + ":")
        parts.append(translate(self.msgid, **self.params))
        if self.cause is not None:
            parts.append(translate(self.cause.msgid, **self.cause.params))
        return " ".join(parts)

    def __str__(self) -> str:
        return self.render(lambda msgid, **params: msgid.format(**params) if params else msgid)


# Where an entry is: "Bijeenkomst 3 (regel 41)".
AT_ENTRY = N_("Bijeenkomst {number} (regel {line})")
AT_ENTRY_NO_LINE = N_("Bijeenkomst {number}")


@dataclass
class Entry:
    """One event as a programme file describes it. ``values`` holds only what the file gives
    (EventDraft field names; None where the file clears a value with ``""``)."""

    uid: str
    number: int
    line: int | None
    values: dict[str, Any] = field(default_factory=dict)
    network: str | None = None  # a network's slug; "" clears it
    themes: list[str] | None = None  # themes' slugs or names (``themas``), for a new event
    status: EntryStatus | None = None  # None: not given (new events are published)
    cancel_reason: str = ""
    default_duration: timedelta | None = None  # when the file gives no end

    @property
    def where(self) -> tuple[str, dict[str, Any]]:
        if self.line is None:
            return AT_ENTRY_NO_LINE, {"number": self.number}
        return AT_ENTRY, {"number": self.number, "line": self.line}

    def error(
        self, message: str, *, cause: DomainError | None = None, **params: Any
    ) -> ProgrammeError:
        return ProgrammeError(message, where=self.where, cause=cause, **params)


@dataclass
class ProgrammeFile:
    format: Literal["toml", "ics"]
    timezone: ZoneInfo
    entries: list[Entry]


def decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProgrammeError(
            N_(
                "Dit bestand is geen tekst (UTF-8). Sla het op als .toml of .ics en probeer het "
                "opnieuw."
            )
        ) from None


def parse_toml(text: str, *, default_tz: ZoneInfo = AMSTERDAM) -> ProgrammeFile:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = _TOML_POSITION.match(str(error))
        if found:
            raise ProgrammeError(
                N_("Regel {line}, kolom {column}: dit is geen geldige TOML ({detail})."),
                line=int(found["line"]),
                column=int(found["column"]),
                detail=found["detail"],
            ) from None
        raise ProgrammeError(
            N_("Dit bestand kon ik niet lezen als TOML ({detail})."), detail=str(error)
        ) from None
    version = document.get("versie", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise ProgrammeError(
            N_("Dit programmabestand heeft versie {version}; ik ken alleen versie {supported}."),
            version=version,
            supported=SCHEMA_VERSION,
        )
    tz = _timezone(document.get("tijdzone"), default_tz)
    for key in document:
        if key not in ("versie", "tijdzone", ENTRY_TABLE):
            raise ProgrammeError(
                N_(
                    "Onbekende sleutel „{key}” bovenaan het bestand. Elke bijeenkomst begint met "
                    "[[bijeenkomst]]."
                ),
                key=key,
            )
    raw_entries = document.get(ENTRY_TABLE, [])
    if not isinstance(raw_entries, list) or not all(isinstance(e, dict) for e in raw_entries):
        raise ProgrammeError(N_("Elke bijeenkomst begint met een regel [[bijeenkomst]]."))
    if not raw_entries:
        raise ProgrammeError(N_("Er staan geen bijeenkomsten in dit bestand."))
    lines = _entry_lines(text)
    entries = [
        _entry(raw, number, lines[number - 1] if number <= len(lines) else None, tz)
        for number, raw in enumerate(raw_entries, start=1)
    ]
    check_unique(entries)
    return ProgrammeFile("toml", tz, entries)


def check_unique(entries: list[Entry]) -> None:
    seen: set[str] = set()
    for entry in entries:
        if entry.uid in seen:
            raise entry.error(N_("de uid „{uid}” staat er twee keer in."), uid=entry.uid)
        seen.add(entry.uid)


def _entry(raw: dict[str, Any], number: int, line: int | None, tz: ZoneInfo) -> Entry:
    entry = Entry(uid="", number=number, line=line)
    for key in raw:
        if key not in ALL_KEYS:
            raise entry.error(N_("onbekend veld „{key}”."), key=key)
    status_name = raw.get("status")
    if status_name is not None:
        if status_name not in STATUSES:
            raise entry.error(
                N_("onbekende status „{value}”; kies concept, gepubliceerd of geannuleerd."),
                value=status_name,
            )
        entry.status = STATUSES[status_name]
    # A cancellation needs only the uid (and, kindly, a reason).
    required = ("uid",) if entry.status == "cancelled" else REQUIRED_KEYS
    for key in required:
        if key not in raw or raw[key] == "":
            raise entry.error(N_("het veld „{key}” ontbreekt."), key=key)
    entry.uid = _text(entry, raw, "uid").strip()
    if not entry.uid or len(entry.uid) > UID_MAX:
        raise entry.error(N_("de uid moet 1 tot {maximum} tekens zijn."), maximum=UID_MAX)
    entry.cancel_reason = _text(entry, raw, "reden").strip() if "reden" in raw else ""
    if "soort" in raw:
        kind = _text(entry, raw, "soort").strip().lower()
        if kind not in KINDS:
            raise entry.error(
                N_(
                    "onbekende soort „{value}”; kies masterclass, dialoog, uitwisseling of "
                    "workshop."
                ),
                value=kind,
            )
        entry.values["kind"] = KINDS[kind]
    for key, name in TEXT_KEYS.items():
        if key in raw:
            entry.values[name] = _text(entry, raw, key).strip()
    for key, name in OPTIONAL_TEXT_KEYS.items():
        if key in raw:
            entry.values[name] = _text(entry, raw, key).strip() or None
    for key, name in NUMBER_KEYS.items():
        if key in raw:
            entry.values[name] = None if raw[key] == "" else _integer(entry, raw, key)
    for key, name in BOOL_KEYS.items():
        if key in raw:
            if not isinstance(raw[key], bool):
                raise entry.error(N_("„{key}” moet true of false zijn."), key=key)
            entry.values[name] = raw[key]
    for key, name in MOMENT_KEYS.items():
        if key in raw:
            entry.values[name] = None if raw[key] == "" else _moment(entry, raw, key, tz)
    if "einde" in raw and "duur" in raw:
        raise entry.error(N_("geef „einde” of „duur”, niet allebei."))
    if "duur" in raw:
        minutes = _integer(entry, raw, "duur")
        if minutes < 1:
            raise entry.error(N_("„duur” is het aantal minuten, minstens 1."))
        entry.default_duration = timedelta(minutes=minutes)
        if entry.values.get("starts_at") is not None:
            entry.values["ends_at"] = entry.values["starts_at"] + entry.default_duration
    elif entry.status != "cancelled" and entry.values.get("ends_at") is None:
        raise entry.error(N_("het veld „{key}” ontbreekt."), key="einde")
    if "netwerk" in raw:
        entry.network = _text(entry, raw, "netwerk").strip().lower()
    if "themas" in raw:
        themes = raw["themas"]
        if not isinstance(themes, list) or not all(isinstance(t, str) for t in themes):
            raise entry.error(
                N_('„{key}” is een lijst van thema\'s, zoals ["wonen"].'), key="themas"
            )
        entry.themes = themes
    return entry


def _text(entry: Entry, raw: dict[str, Any], key: str) -> str:
    value = raw[key]
    if not isinstance(value, str):
        raise entry.error(N_("„{key}” moet tekst zijn (tussen aanhalingstekens)."), key=key)
    return value


def _integer(entry: Entry, raw: dict[str, Any], key: str) -> int:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise entry.error(N_("„{key}” moet een heel getal zijn."), key=key)
    return value


def _moment(entry: Entry, raw: dict[str, Any], key: str, tz: ZoneInfo) -> datetime:
    value = raw[key]
    if not isinstance(value, datetime):
        if isinstance(value, date | time):
            raise entry.error(
                N_("„{key}” heeft een datum én een tijd nodig, zoals 2027-02-11T19:30:00."),
                key=key,
            )
        raise entry.error(
            N_(
                "„{key}” moet een datum met tijd zijn, zoals 2027-02-11T19:30:00 (zonder "
                "aanhalingstekens)."
            ),
            key=key,
        )
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def _timezone(name: object, default: ZoneInfo) -> ZoneInfo:
    if name is None:
        return default
    if not isinstance(name, str):
        raise ProgrammeError(N_("Onbekende tijdzone „{value}”."), value=str(name))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProgrammeError(N_("Onbekende tijdzone „{value}”."), value=name) from None


def _entry_lines(text: str) -> list[int]:
    """The line of each ``[[bijeenkomst]]`` header, in order."""
    header = re.compile(r"^\s*\[\[\s*" + ENTRY_TABLE + r"\s*\]\]")
    return [number for number, line in enumerate(text.splitlines(), start=1) if header.match(line)]


# --- writing --------------------------------------------------------------------------------


def toml_string(value: str) -> str:
    """A TOML basic string (multi-line when the text has line breaks), exact on reading back."""
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\t", "\\t")
    )
    escaped = re.sub(
        r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped
    )
    if "\n" in value:
        return '"""\n' + escaped + '"""'
    return f'"{escaped}"'


def toml_moment(value: datetime, tz: ZoneInfo) -> str:
    """Local time in ``tz`` (as people read it); with the offset only in the ambiguous hour when
    the clocks go back, so reading it back gives the same moment."""
    local = value.astimezone(tz)
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() != local.utcoffset():
        return local.isoformat()
    return local.replace(tzinfo=None).isoformat()
