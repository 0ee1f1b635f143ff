"""What organisers type for a moment, a length or a number of seats, understood.

Pure: no Telegram, no database and no clock of its own (``now`` is passed in). Everything is
read in Europe/Amsterdam (or the ``tz`` given) and returned as an aware datetime in that zone.
What cannot be understood raises a ``DomainError`` subclass whose ``N_()`` message says exactly
what is wrong (an impossible date, a moment in the past, a missing time), so the bot can say it
in the organiser's language and ask again.

Why not ``dateparser``: it returns ``None`` without a reason (we want to say *what* is wrong), it
does not understand "next Thursday" (scrapinghub/dateparser#573, open since 2019) nor the Dutch
"volgende week donderdag" (the Thursday of next week, not the coming Thursday), a bare weekday
means the past one unless configured otherwise, ``PREFER_DATES_FROM`` compares in UTC rather
than the given zone (#403), and it has no answer for the hour that does not exist when the
clocks go forward. The few dozen ways people here write a moment are easier to get exactly right
(and to test) by hand.

Choices, so they can be explained to people:
- A date without a year is the next such date: "12 maart" typed in April is next year's.
- A bare weekday ("donderdag", "next Thursday", "komende donderdag") is the first such day
  *after* today; for today people say "vandaag". "volgende week donderdag" (also "donderdag
  volgende week", "next week Thursday") is the Thursday of next week (weeks start on Monday).
- A weekday next to a date must match it: "do 12 maart" in 2027 (a Friday) is refused.
- The hour skipped when the clocks go forward (28 March 2027, 02:00-03:00 in Amsterdam) is
  refused with a message that says so; nobody plans a meeting then, so it is a typo. In the hour
  that happens twice (in October) the first one, summer time, is meant.
- A time in the afternoon or evening may be written "8 uur 's avonds", "8pm" or "20u".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.errors import N_, DomainError

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
YEARS_AHEAD = 5  # a later year is a typo ("12-3-2207")
MAX_DURATION = timedelta(hours=24)
MAX_NEXT_DAY_END = timedelta(hours=12)  # "tot 01:00" after a 20:00 start: the next night
MAX_SEATS = 10_000


# --- the reasons -------------------------------------------------------------------------------


class MomentError(DomainError):
    """A typed moment that cannot be used; the message says why."""

    message = N_(
        "Dat begrijp ik niet als datum en tijd. Schrijf bijvoorbeeld 12-3 19:30, "
        "12 maart 19:30 of volgende week donderdag 20:00."
    )


class MomentNotUnderstood(MomentError):
    pass


class ImpossibleDate(MomentError):
    message = N_("Die datum bestaat niet: {date}. Kijk nog eens naar de dag en de maand.")


class ImpossibleTime(MomentError):
    message = N_("Dat tijdstip bestaat niet: {time}. Schrijf bijvoorbeeld 19:30.")


class TimeNotUnderstood(MomentError):
    message = N_("Dat begrijp ik niet als tijd. Schrijf bijvoorbeeld 19:30, 19u of 7:30 pm.")


class NoTimeGiven(MomentError):
    message = N_("Hoe laat? Zet de tijd erbij, bijvoorbeeld {example} 19:30.")


class NoDateGiven(MomentError):
    message = N_(
        "Welke dag? Zet de datum erbij, bijvoorbeeld 12 maart {example} of donderdag {example}."
    )


class MomentInPast(MomentError):
    message = N_("Dat moment is al voorbij. Kies een moment dat nog moet komen.")


class MomentTooFar(MomentError):
    message = N_("Dat is meer dan {years} jaar vooruit. Klopt het jaartal?")


class WeekdayMismatch(MomentError):
    message = N_(
        "De dag klopt niet bij de datum: {date} valt op een andere dag. "
        "Laat de dag weg of kies de goede datum."
    )


class SkippedByClockChange(MomentError):
    message = N_(
        "In de nacht van {date} gaat de klok een uur vooruit: {time} bestaat die nacht niet. "
        "Kies een ander tijdstip, bijvoorbeeld 03:00."
    )


class EndError(DomainError):
    message = N_("Hoe lang duurt het? Schrijf bijvoorbeeld 2 uur, 1,5 uur, 90 min of tot 21:30.")


class EndNotUnderstood(EndError):
    pass


class EndBeforeStart(EndError):
    message = N_("Het einde ligt vóór het begin. Schrijf bijvoorbeeld 2 uur of tot 21:30.")


class TooLong(EndError):
    message = N_("Zo lang duurt een bijeenkomst niet: hoogstens {hours} uur.")


class NumberError(DomainError):
    message = N_("Typ een aantal, bijvoorbeeld 30, of 'geen'.")


class NumberNotUnderstood(NumberError):
    pass


class NumberOutOfRange(NumberError):
    message = N_("Dat aantal kan niet: kies een getal van 1 tot en met {maximum}.")


class DeadlineError(DomainError):
    message = N_(
        "Wanneer? Schrijf bijvoorbeeld 2 dagen vooraf, 1 week vooraf, 10 maart 12:00, of 'geen'."
    )


class DeadlineNotUnderstood(DeadlineError):
    pass


class DeadlineAfterStart(DeadlineError):
    message = N_("Dat moment ligt na het begin van de bijeenkomst. Kies een eerder moment.")


# --- words -------------------------------------------------------------------------------------

_MONTHS = {
    1: ("januari", "january", "jan"),
    2: ("februari", "february", "feb", "febr"),
    3: ("maart", "march", "mrt", "mar"),
    4: ("april", "apr"),
    5: ("mei", "may"),
    6: ("juni", "june", "jun"),
    7: ("juli", "july", "jul"),
    8: ("augustus", "august", "aug"),
    9: ("september", "sept", "sep"),
    10: ("oktober", "october", "okt", "oct"),
    11: ("november", "nov"),
    12: ("december", "dec"),
}
MONTH_OF = {name: number for number, names in _MONTHS.items() for name in names}

_WEEKDAYS = {
    0: ("maandag", "monday", "ma", "mon"),
    1: ("dinsdag", "tuesday", "di", "tue", "tues"),
    2: ("woensdag", "wednesday", "wo", "wed"),
    3: ("donderdag", "thursday", "do", "thu", "thur", "thurs"),
    4: ("vrijdag", "friday", "vr", "vrij", "fri"),
    5: ("zaterdag", "saturday", "za", "zat", "sat"),
    6: ("zondag", "sunday", "zo", "zon", "sun"),
}
WEEKDAY_OF = {name: number for number, names in _WEEKDAYS.items() for name in names}

# Words that add nothing to a moment: "op do 12 maart om 19:30", "on Thursday at 8pm".
_FILLER = {
    "om",
    "op",
    "de",
    "het",
    "at",
    "on",
    "the",
    "of",
    "van",
    "vanaf",
    "from",
    "uur",
    "o'clock",
}
_COMING = {"volgende", "komende", "aanstaande", "a.s", "as", "next", "this", "coming", "deze"}
_NEXT_WEEK = {"volgende", "komende", "next"}


def _alternation(words: Iterable[str]) -> str:
    names = sorted(words, key=len, reverse=True)
    return "|".join(re.escape(name) for name in names)


_WD = _alternation(WEEKDAY_OF)
_MON = _alternation(MONTH_OF)

# A time: "19:30", "19.30", "19u30", "7:30 pm", "19:30 uur"; "19u", "20 uur", "8pm", "8 pm".
# The look-arounds keep "12.03.2027" a date (no time inside it).
_TIME_WITH_MINUTES = re.compile(
    r"(?<![\d.\-/:])(?P<h>\d{1,2})\s?[:.u]\s?(?P<m>\d{2})(?![\d:]|[.\-/]\d)"
    r"(?:\s*(?:uur|u|h)\b)?(?:\s*(?P<ap>a\.?m\.?|p\.?m\.?)(?![a-z]))?"
)
_TIME_HOUR_ONLY = re.compile(
    r"(?<![\d.\-/:])(?P<h>\d{1,2})\s*(?:(?P<ap>a\.?m\.?|p\.?m\.?)|uur|u|h)(?![a-z\d])"
)
_DAYPART = re.compile(
    r"(?:'?s\s*(?P<pm>avonds|middags|namiddags)|'?s\s*(?P<am>ochtends|morgens)"
    r"|in\s+de\s+(?P<pm2>avond|middag)|in\s+the\s+(?P<pm3>evening|afternoon))"
)
_NUMERIC_DATE = re.compile(
    rf"^(?:(?P<wd>{_WD})\s+)?(?P<d>\d{{1,2}})[-/.](?P<m>\d{{1,2}})(?:[-/.](?P<y>\d{{4}}|\d{{2}}))?$"
)
_ISO_DATE = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$")
_DAY_MONTH = re.compile(
    rf"^(?:(?P<wd>{_WD})\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th|e|ste|de)?\s+(?P<mon>{_MON})"
    rf"(?:\s+(?P<y>\d{{4}}))?$"
)
_MONTH_DAY = re.compile(
    rf"^(?:(?P<wd>{_WD})\s+)?(?P<mon>{_MON})\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?"
    rf"(?:\s+(?P<y>\d{{4}}))?$"
)
_NEXT_WEEK_DAY = re.compile(
    rf"^(?:(?:{_alternation(_NEXT_WEEK)})\s+week\s+(?P<wd>{_WD})"
    rf"|(?P<wd2>{_WD})\s+(?:{_alternation(_NEXT_WEEK)})\s+week)$"
)
_COMING_DAY = re.compile(rf"^(?:(?:{_alternation(_COMING)})\s+)?(?P<wd>{_WD})$")
_RELATIVE_DAYS = {
    "vandaag": 0,
    "today": 0,
    "vanavond": 0,
    "tonight": 0,
    "morgen": 1,
    "tomorrow": 1,
    "overmorgen": 2,
    "day after tomorrow": 2,
}


# --- moments -----------------------------------------------------------------------------------


def parse_moment(text: str, *, now: datetime, tz: ZoneInfo = AMSTERDAM) -> datetime:
    """The moment in ``text`` as an aware datetime in ``tz``; it must lie after ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    today = now.astimezone(tz).date()
    rest, clock = take_time(_normalise(text))
    rest = _strip_filler(rest)
    day = _parse_day(rest, today)
    if clock is not None and clock.hour < 12 and rest in ("vanavond", "tonight"):
        clock = clock.replace(hour=clock.hour + 12)  # "vanavond 8 uur": 20:00
    if day is None and clock is None:
        raise MomentNotUnderstood()
    if day is None:
        raise NoDateGiven(example=f"{clock.hour:02d}:{clock.minute:02d}" if clock else "19:30")
    if clock is None:
        raise NoTimeGiven(example=f"{day.day}-{day.month}-{day.year}")
    if day.year > today.year + YEARS_AHEAD:
        raise MomentTooFar(years=YEARS_AHEAD)
    moment = local_moment(day, clock, tz)
    if moment <= now:
        raise MomentInPast()
    return moment


def local_moment(day: date, clock: time, tz: ZoneInfo = AMSTERDAM) -> datetime:
    """``day`` at ``clock`` in ``tz``; the skipped hour of the spring clock change is refused."""
    moment = datetime.combine(day, clock, tzinfo=tz)  # fold=0: the first of a doubled hour
    round_trip = moment.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise SkippedByClockChange(
            date=f"{day.day}-{day.month}-{day.year}", time=f"{clock.hour:02d}:{clock.minute:02d}"
        )
    return moment


def parse_clock_time(text: str) -> time:
    """Only a time of day: "19:30", "19.30", "19u30", "19u", "7:30 pm", "8pm"."""
    rest, clock = take_time(_normalise(text))
    if clock is None or _strip_filler(rest):
        raise TimeNotUnderstood()
    return clock


def take_time(text: str) -> tuple[str, time | None]:
    """Find the time of day in normalised ``text``: (the rest, the time or None).

    With more than one candidate ("12.03 19.30") the last is the time and the others are left
    for the date. A time that cannot exist ("25:00", "19:75") raises ``ImpossibleTime``.
    """
    daypart: str | None = None
    found = _DAYPART.search(text)
    if found:
        daypart = "am" if found.group("am") else "pm"
        text = _cut(text, found.start(), found.end())
    candidates = list(_TIME_WITH_MINUTES.finditer(text))
    if not candidates:
        candidates = list(_TIME_HOUR_ONLY.finditer(text))
    if not candidates:
        return text, None
    match = candidates[-1]
    hour = int(match.group("h"))
    minute = int(match.group("m")) if "m" in match.re.groupindex else 0
    written = match.group(0).strip()
    marker = (match.group("ap") or "").replace(".", "") or daypart
    if marker is not None:
        if not 1 <= hour <= 12:
            raise ImpossibleTime(time=written)
        if marker == "pm" and hour < 12:
            hour += 12
        elif marker == "am" and hour == 12:
            hour = 0
    if hour > 23 or minute > 59:
        raise ImpossibleTime(time=written)
    return _cut(text, match.start(), match.end()), time(hour, minute)


def _parse_day(text: str, today: date) -> date | None:
    """The day in ``text`` (no time left in it), or None when it names no day at all."""
    if not text:
        return None
    if text in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[text])
    if found := _NEXT_WEEK_DAY.match(text):
        weekday = WEEKDAY_OF[found.group("wd") or found.group("wd2")]
        next_monday = today + timedelta(days=7 - today.weekday())
        return next_monday + timedelta(days=weekday)
    if found := _COMING_DAY.match(text):
        weekday = WEEKDAY_OF[found.group("wd")]
        ahead = (weekday - today.weekday() - 1) % 7 + 1  # 1..7: strictly after today
        return today + timedelta(days=ahead)
    for pattern in (_NUMERIC_DATE, _ISO_DATE, _DAY_MONTH, _MONTH_DAY):
        if found := pattern.match(text):
            groups = found.groupdict()
            month = MONTH_OF[groups["mon"]] if groups.get("mon") else int(groups["m"])
            day = _calendar_day(int(groups["d"]), month, groups.get("y"), today)
            if groups.get("wd") and WEEKDAY_OF[groups["wd"]] != day.weekday():
                raise WeekdayMismatch(date=f"{day.day}-{day.month}-{day.year}")
            return day
    raise MomentNotUnderstood()


def _calendar_day(day: int, month: int, year_text: str | None, today: date) -> date:
    """The date, checking it exists; without a year the next such date (29-2: a leap year)."""
    written = f"{day}-{month}" + (f"-{year_text}" if year_text else "")
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        raise ImpossibleDate(date=written)
    if year_text is not None:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        try:
            return date(year, month, day)
        except ValueError:
            raise ImpossibleDate(date=written) from None
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise ImpossibleDate(date=written)


# --- ends and lengths --------------------------------------------------------------------------

_UNTIL = re.compile(r"^(?:tot(?:\s+en\s+met)?|until|till|til|to|[-–])\s*")
_HOURS = r"(?:uur|uren|u|h|hr|hrs|hour|hours)"
_MINUTES = r"(?:minuten|minuut|min|mins|m|minutes|minute)"
_DURATION = re.compile(
    rf"^(?:(?P<half>anderhalf)\s*{_HOURS}"
    rf"|(?P<h>\d+(?:[.,]\d+)?)\s*{_HOURS}(?:\s*(?:en\s+|and\s+)?(?P<hm>\d{{1,2}})\s*(?:{_MINUTES})?)?"
    rf"|(?P<min>\d+)\s*{_MINUTES})$"
)


_CLOCK_WITH_U = re.compile(r"^\d{1,2}u\d{2}$")


def parse_duration(text: str) -> timedelta:
    """ "2 uur", "1,5 uur", "anderhalf uur", "90 min", "1 uur 30", "2 hours"."""
    found = _DURATION.match(_normalise(text, decimal_comma=True))
    if not found:
        raise EndNotUnderstood()
    if found.group("half"):
        length = timedelta(minutes=90)
    elif found.group("min"):
        length = timedelta(minutes=int(found.group("min")))
    else:
        hours = float(found.group("h").replace(",", "."))
        extra = int(found.group("hm") or 0)
        if extra > 59:
            raise EndNotUnderstood()
        length = timedelta(minutes=round(hours * 60) + extra)
    if length <= timedelta(0):
        raise EndBeforeStart()
    if length > MAX_DURATION:
        raise TooLong(hours=int(MAX_DURATION.total_seconds() // 3600))
    return length


def parse_end(text: str, *, start: datetime, tz: ZoneInfo = AMSTERDAM) -> datetime:
    """The end from a length ("2 uur", "90 min") or an end time ("tot 21:30", "21:30").

    An end time at or before the start's clock time is the next day, when that is at most 12
    hours after the start ("tot 01:00" after 20:00); otherwise it is before the start.
    """
    normal = _normalise(text, decimal_comma=True)
    until = _UNTIL.match(normal)
    rest = normal[until.end() :] if until else normal
    # "21u30" is a clock time (as "21:30"); "1h30" and "1 uur 30" are lengths.
    if not until and not _CLOCK_WITH_U.match(rest):
        try:
            length = parse_duration(rest)
        except EndNotUnderstood:
            pass
        else:
            return (start.astimezone(UTC) + length).astimezone(tz)
    left, clock = take_time(rest)
    if clock is None:
        raise EndNotUnderstood()
    left = _strip_filler(left)
    local_start = start.astimezone(tz)
    if left:
        try:
            end = parse_moment(rest, now=start, tz=tz)
        except MomentInPast:
            raise EndBeforeStart() from None
        except MomentError:
            raise EndNotUnderstood() from None
    else:
        end = local_moment(local_start.date(), clock, tz)
        if end <= start:
            end = local_moment(local_start.date() + timedelta(days=1), clock, tz)
            if end - start > MAX_NEXT_DAY_END:
                raise EndBeforeStart()
    if end - start > MAX_DURATION:
        raise TooLong(hours=int(MAX_DURATION.total_seconds() // 3600))
    return end


# --- numbers and deadlines ---------------------------------------------------------------------

_NONE_WORDS = {
    "geen",
    "geen maximum",
    "geen limiet",
    "onbeperkt",
    "nee",
    "niets",
    "-",
    "none",
    "no",
    "no limit",
    "no maximum",
    "unlimited",
}
_NUMBER = re.compile(
    r"^(?:max(?:imaal|imum)?\.?\s*)?(?P<n>-?\d+)\s*(?:plaatsen|plekken|personen|mensen|deelnemers"
    r"|stoelen|per\s+netwerk|seats|places|people|per\s+network)?$"
)


def parse_number(text: str, *, maximum: int = MAX_SEATS) -> int | None:
    """A number of seats ("30", "30 plaatsen", "max 40"), or None for "geen"/"onbeperkt"."""
    normal = _normalise(text)
    if normal in _NONE_WORDS:
        return None
    found = _NUMBER.match(normal)
    if not found:
        raise NumberNotUnderstood()
    number = int(found.group("n"))
    if not 1 <= number <= maximum:
        raise NumberOutOfRange(maximum=maximum)
    return number


def parse_capacity(text: str) -> int | None:
    return parse_number(text, maximum=MAX_SEATS)


_BEFORE = re.compile(
    r"^(?P<n>\d+|een|één|a|an|one)\s*(?P<unit>dagen|dag|days|day|d|weken|week|weeks|w|uur|uren"
    r"|hours|hour|h)\s*(?:vooraf|van\s+tevoren|ervoor|voor\s+het\s+begin|voor\s+de\s+start"
    r"|before|beforehand|in\s+advance|earlier)?$"
)


@dataclass(frozen=True)
class Before:
    """A period before the start, as people say it: "2 dagen vooraf", "1 week vooraf"."""

    days: int = 0
    hours: int = 0

    def moment(self, start: datetime, tz: ZoneInfo = AMSTERDAM) -> datetime:
        """Days keep the clock time across a clock change ("2 dagen vooraf" at 19:30 is 19:30
        on the clock, also when the clocks changed in between); hours are hours."""
        local = start.astimezone(tz)
        day = local.date() - timedelta(days=self.days)
        moment = datetime.combine(day, local.time(), tzinfo=tz)
        moment = moment.astimezone(UTC)  # in the skipped hour: an hour later on the clock
        return (moment - timedelta(hours=self.hours)).astimezone(tz)


def parse_before(text: str) -> Before | None:
    found = _BEFORE.match(_normalise(text))
    if not found:
        return None
    count = found.group("n")
    n = int(count) if count.isdigit() else 1
    unit = found.group("unit")
    if unit.startswith("w"):
        return Before(days=7 * n)
    if unit.startswith("d"):
        return Before(days=n)
    return Before(hours=n)


def parse_deadline(
    text: str, *, start: datetime, now: datetime, tz: ZoneInfo = AMSTERDAM
) -> datetime | None:
    """A moment before ``start``: "2 dagen vooraf", "1 week vooraf", a moment, or "geen"."""
    normal = _normalise(text)
    if normal in _NONE_WORDS:
        return None
    before = parse_before(normal)
    if before is not None:
        moment = before.moment(start, tz)
    else:
        try:
            moment = parse_moment(normal, now=now, tz=tz)
        except MomentNotUnderstood:
            raise DeadlineNotUnderstood() from None
    if moment > start:
        raise DeadlineAfterStart()
    if moment <= now:
        raise MomentInPast()
    return moment


# --- helpers -----------------------------------------------------------------------------------


def _normalise(text: str, *, decimal_comma: bool = False) -> str:
    """Lower case, one space between words, no punctuation that carries nothing.

    ``decimal_comma``: keep a comma between digits ("1,5 uur"); elsewhere it separates words.
    """
    text = text.lower().replace("’", "'").replace("‘", "'").replace("\u00a0", " ")
    text = re.sub(r"(?<!\d),|,(?!\d)" if decimal_comma else ",", " ", text)
    text = re.sub(r"[;!?()]", " ", text)
    text = re.sub(r"(?<=[a-z])\.(?=\s|$)", "", text)  # "do." and "mrt." are "do" and "mrt"
    return " ".join(text.split())


def _strip_filler(text: str) -> str:
    return " ".join(word for word in text.split() if word not in _FILLER)


def _cut(text: str, start: int, end: int) -> str:
    return " ".join(f"{text[:start]} {text[end:]}".split())
