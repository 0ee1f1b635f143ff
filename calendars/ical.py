"""Where a feed is rendered: events in, iCalendar bytes out (RFC 5545, names from RFC 7986).

Pure and deterministic: plain data in, no database, no clock, no randomness, so the same data
gives the same bytes (and so the same ETag). Every stamp comes from the data: DTSTAMP and
LAST-MODIFIED are the last change of the event (or of the member's registration), SEQUENCE is the
event's revision, which rises with every change, the cancellation included.

What the calendar apps need, and why it is written the way it is:
- one VTIMEZONE for Europe/Amsterdam with RRULEs: Outlook shifts events by an hour when it gets
  a VTIMEZONE as a list of RDATEs (what generators derive from the tz database);
- ``REFRESH-INTERVAL;VALUE=DURATION:PT1H`` and ``X-PUBLISHED-TTL:PT1H``: Apple and Outlook poll
  hourly instead of daily; the VALUE parameter is required by RFC 7986 and some parsers;
- cancelled events stay (14 days) with ``STATUS:CANCELLED``, a raised SEQUENCE and
  "GEANNULEERD: " in the summary, because Outlook ignores STATUS and Google hides them; they are
  ``TRANSP:TRANSPARENT`` (nobody is busy at an event that does not happen) and no longer invite
  people to register;
- no ``METHOD``. A feed is a calendar, not a scheduling message: with ``METHOD:PUBLISH`` iTIP
  (RFC 5546, 3.2.1) requires an ORGANIZER in every VEVENT and makes DTSTAMP the moment the
  message was made, where without METHOD DTSTAMP is the event's last revision (RFC 5545,
  3.8.7.2), which is what we write. Strict validators (libical's ``icalrestriction_check``)
  reject a PUBLISH without ORGANIZER. The apps do not need METHOD for a subscription: Outlook
  treats a missing METHOD as PUBLISH ([MS-STANOICAL] V0078), Google, Apple Calendar and
  Thunderbird read a subscribed ``.ics`` as a calendar and apply no iTIP processing to it; so
  dropping METHOD changes nothing for them. An ORGANIZER instead would need a mail address,
  and Apple and Outlook then show every event as an invitation from that address, with
  replies going there;
- icalendar folds lines at 75 octets without splitting a UTF-8 character and writes CRLF.
Calendar and Event are built with their constructors, not ``.new()``: ``new`` adds a random UID
and a "now" DTSTAMP.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, TimezoneDaylight, TimezoneStandard, vDuration
from icalendar import Event as VEvent

from calendars.links import start_link
from i18n.plain import _, _n, kind_label, moment_in_text
from models.events.entities import Event, EventKind, EventStatus
from models.events.uids import legacy_event_uid
from models.feeds.queries import FeedEntry
from models.registrations.entities import Registration, RegistrationStatus

PRODID = "-//Buurtagenda Maastricht//Buurtagenda//NL"
REFRESH = timedelta(hours=1)
# Zones that follow the EU rules (last Sunday of March and of October, 01:00 UTC) with CET/CEST:
# for these the VTIMEZONE below is exact from 1996 on.
CET_ZONES = frozenset(
    {"Europe/Amsterdam", "Europe/Brussels", "Europe/Luxembourg", "Europe/Berlin", "Europe/Paris"}
)
S = RegistrationStatus


@dataclass(frozen=True)
class FeedSettings:
    """What every rendering needs to know about the service."""

    public_url: str  # "https://agenda.example.nl", no trailing slash
    bot_username: str | None = None  # None: no deep links (the bot is not known yet)
    timezone: str = "Europe/Amsterdam"
    sandbox: bool = False  # deep links open the sandbox page, never t.me (calendars/links.py)

    @property
    def writes_local_times(self) -> bool:
        """Local times with our VTIMEZONE for CET zones; other zones get UTC times (exact in
        every app, shown in the phone's own zone) rather than a VTIMEZONE we cannot vouch for."""
        return self.timezone in CET_ZONES

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def deep_link(self, public_code: str) -> str | None:
        """``https://t.me/<bot>?start=e_<code>``: the bot opens the event; in the sandbox
        ``<public_url>/sandbox?start=e_<code>``: the sandbox page opens it."""
        sandbox_url = self.public_url if self.sandbox else None
        return start_link(
            f"e_{public_code}", bot_username=self.bot_username, sandbox_url=sandbox_url
        )

    def page_link(self, public_code: str) -> str:
        return f"{self.public_url}/#e-{public_code}"


@dataclass(frozen=True)
class CalendarItem:
    """A snapshot of what one VEVENT shows (safe to render in a worker thread)."""

    event_id: int
    public_code: str
    kind: EventKind
    title: str
    topic_tbd: bool
    description: str
    speakers: str
    location: str | None
    online_url: str | None
    starts_at: datetime
    ends_at: datetime
    cancelled: bool
    cancel_reason: str | None
    revision: int
    created_at: datetime
    last_change: datetime
    network_name: str | None
    # Only in a personal feed:
    registration_status: RegistrationStatus | None = None
    party_size: int = 1
    offer_expires_at: datetime | None = None
    # The event's stored feed UID (models/events/uids.py); None only before its first start.
    uid: str | None = None

    @classmethod
    def of(cls, event: Event, registration: Registration | None = None) -> CalendarItem:
        last_change = event.updated_at
        if registration is not None:
            last_change = max(last_change, registration.updated_at)
        return cls(
            event_id=event.id,
            public_code=event.public_code,
            kind=event.kind,
            title=event.title,
            topic_tbd=event.topic_tbd,
            description=event.description,
            speakers=event.speakers,
            location=event.location,
            online_url=event.online_url,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            cancelled=event.status is EventStatus.CANCELLED,
            cancel_reason=event.cancel_reason,
            revision=event.revision,
            created_at=event.created_at,
            last_change=last_change,
            network_name=event.network.name if event.network is not None else None,
            registration_status=registration.status if registration is not None else None,
            party_size=registration.party_size if registration is not None else 1,
            offer_expires_at=registration.offer_expires_at if registration is not None else None,
            uid=event.feed_uid,
        )

    @classmethod
    def of_entry(cls, entry: FeedEntry) -> CalendarItem:
        return cls.of(entry.event, entry.registration)


def render_calendar(
    items: Sequence[CalendarItem],
    *,
    name: str,
    settings: FeedSettings,
    lang: str = "nl",
) -> bytes:
    """A whole feed: the calendar properties, the VTIMEZONE and one VEVENT per item."""
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", _text(name))
    calendar.add("x-wr-calname", _text(name))
    calendar.add(
        "x-wr-caldesc", _(lang, "Bijeenkomsten van en voor de buurtnetwerken in Maastricht.")
    )
    calendar.add("x-wr-timezone", settings.timezone)
    # Explicit VALUE and an explicit duration type: icalendar's refresh_interval setter leaves
    # out VALUE=DURATION, and a plain timedelta in an X- property comes out as "1:00:00".
    calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    if settings.writes_local_times:
        calendar.add_component(_vtimezone(settings.timezone))
    for item in sorted(items, key=lambda i: (i.starts_at, i.event_id)):
        calendar.add_component(_vevent(item, settings, lang))
    return bytes(calendar.to_ical())


def render_event(item: CalendarItem, *, settings: FeedSettings, lang: str = "nl") -> bytes:
    """One event as an ``.ics`` document (``/event/<id>.ics``, the bot's "Zet in je agenda")."""
    return render_calendar([item], name=_summary(item, lang), settings=settings, lang=lang)


def event_ics(
    event: Event,
    *,
    public_url: str,
    bot_username: str | None,
    lang: str = "nl",
    registration: Registration | None = None,
    timezone: str = "Europe/Amsterdam",
    sandbox: bool = False,
) -> bytes:
    """For the bot: the event as an ``.ics`` file to send as a document. With the member's
    ``registration`` it shows their place (waitlist, offered seat) like their personal feed."""
    settings = FeedSettings(public_url.rstrip("/"), bot_username, timezone, sandbox)
    return render_event(CalendarItem.of(event, registration), settings=settings, lang=lang)


def _vevent(item: CalendarItem, settings: FeedSettings, lang: str) -> VEvent:
    tz = settings.tz
    stamp = _utc(item.last_change)
    vevent = VEvent()
    # Chosen by the domain and stored with the event; an event from before stored UIDs that no
    # start has given its UID yet is still known by the old rule.
    vevent.add("uid", item.uid or legacy_event_uid(item.event_id, settings.public_url))
    vevent.add("dtstamp", stamp)
    vevent.add("last-modified", stamp)
    vevent.add("created", _utc(item.created_at))
    vevent.add("sequence", item.revision)
    # Local wall time with the zone, as people entered it; the VTIMEZONE makes it exact.
    local = settings.writes_local_times
    vevent.add("dtstart", _local(item.starts_at, tz) if local else _utc(item.starts_at))
    vevent.add("dtend", _local(item.ends_at, tz) if local else _utc(item.ends_at))
    vevent.add("summary", _summary(item, lang))
    vevent.add("description", _description(item, settings, lang))
    vevent.add("location", _text(item.location or (_(lang, "Online") if item.online_url else "")))
    vevent.add("url", settings.deep_link(item.public_code) or settings.page_link(item.public_code))
    vevent.add("categories", [kind_label(lang, item.kind)])
    vevent.add("class", "PUBLIC")
    vevent.add("status", _status(item))
    # A waitlist place does not make you busy yet, nor does an event that does not happen.
    vevent.add("transp", "OPAQUE" if _status(item) == "CONFIRMED" else "TRANSPARENT")
    return vevent


def _status(item: CalendarItem) -> str:
    if item.cancelled:
        return "CANCELLED"
    if item.registration_status in (S.WAITLISTED, S.OFFERED):
        return "TENTATIVE"
    return "CONFIRMED"


def _summary(item: CalendarItem, lang: str) -> str:
    title = _text(item.title)
    if item.topic_tbd:
        title = _(lang, "{title} (onderwerp volgt)", title=title)
    if item.registration_status is S.WAITLISTED:
        title = _(lang, "[wachtlijst] {title}", title=title)
    if item.cancelled:
        title = _(lang, "GEANNULEERD: {title}", title=title)
    return title


def _description(item: CalendarItem, settings: FeedSettings, lang: str) -> str:
    """Three blocks: what it is and where you stand; what it is about; the Telegram link."""
    kind = kind_label(lang, item.kind)
    if item.network_name:
        only = _(lang, "Voor buurtnetwerk {network}", network=item.network_name)
        kind = f"{kind} · {only}"
    head = [kind]
    status = item.registration_status
    if item.cancelled:
        reason = _text(item.cancel_reason or "").strip()
        if reason:
            head.append(_(lang, "Gaat niet door: {reason}", reason=reason))
    elif status is S.WAITLISTED:
        head.append(_(lang, "Je staat op de wachtlijst."))
    elif status is S.OFFERED and item.offer_expires_at is not None:
        deadline = moment_in_text(lang, item.offer_expires_at, settings.tz)
        held = _(
            lang,
            "Er is een plaats voor je vrij tot {deadline}. Bevestig via Telegram.",
            deadline=deadline,
        )
        head.append(held)
    elif status in (S.CONFIRMED, S.ATTENDED) and item.party_size > 1:
        party = _n(
            lang,
            "Je bent aangemeld met {n} persoon.",
            "Je bent aangemeld met {n} personen.",
            item.party_size,
        )
        head.append(party)
    about = []
    if item.description.strip():
        about.append(_text(item.description).strip())
    if item.speakers.strip():
        about.append(_(lang, "Sprekers: {speakers}", speakers=_text(item.speakers).strip()))
    if item.online_url:
        about.append(_(lang, "Online: {url}", url=item.online_url))
    link = settings.deep_link(item.public_code)
    if link is not None:
        footer = _(lang, "Aanmelden, afmelden en meer via Telegram: {link}", link=link)
    else:
        footer = _(lang, "Meer informatie: {link}", link=settings.page_link(item.public_code))
    # A cancelled event has nothing left to register for: no invitation to do so.
    blocks = (head, about) if item.cancelled else (head, about, [footer])
    return "\n\n".join("\n".join(block) for block in blocks if block)


def _vtimezone(tzid: str) -> Timezone:
    """CET/CEST as two yearly rules (what Outlook and Google themselves publish)."""
    timezone = Timezone()
    timezone.add("tzid", tzid)
    daylight = TimezoneDaylight()
    daylight.add("tzoffsetfrom", timedelta(hours=1))
    daylight.add("tzoffsetto", timedelta(hours=2))
    daylight.add("tzname", "CEST")
    daylight.add("dtstart", datetime(1970, 3, 29, 2, 0, 0))
    daylight.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1su"})
    standard = TimezoneStandard()
    standard.add("tzoffsetfrom", timedelta(hours=2))
    standard.add("tzoffsetto", timedelta(hours=1))
    standard.add("tzname", "CET")
    standard.add("dtstart", datetime(1970, 10, 25, 3, 0, 0))
    standard.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1su"})
    timezone.add_component(daylight)
    timezone.add_component(standard)
    return timezone


def _utc(moment_: datetime) -> datetime:
    return moment_.astimezone(UTC).replace(microsecond=0)


def _local(moment_: datetime, tz: ZoneInfo) -> datetime:
    """Local time with TZID; but in UTC for the second 02:00-03:00 of the October change: a
    local time there is ambiguous and RFC 5545 resolves it to the first, an hour early."""
    local = moment_.astimezone(tz).replace(microsecond=0)
    if local.replace(fold=0).astimezone(UTC) != local.astimezone(UTC):
        return _utc(moment_)
    return local


def _text(value: str) -> str:
    """User text as iCalendar TEXT allows it: no control characters but newline and tab."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(char for char in value if char in "\n\t" or unicodedata.category(char) != "Cc")
