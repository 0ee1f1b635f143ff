"""What organisers type for a moment, a length, a number of seats or a deadline."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

import when.parsing as when
from models.errors import DomainError
from when.parsing import (
    DeadlineAfterStart,
    DeadlineNotUnderstood,
    EndBeforeStart,
    EndNotUnderstood,
    ImpossibleDate,
    ImpossibleTime,
    MomentInPast,
    MomentNotUnderstood,
    MomentTooFar,
    NoDateGiven,
    NoTimeGiven,
    NumberNotUnderstood,
    NumberOutOfRange,
    SkippedByClockChange,
    TimeNotUnderstood,
    TooLong,
    WeekdayMismatch,
    parse_before,
    parse_capacity,
    parse_clock_time,
    parse_deadline,
    parse_duration,
    parse_end,
    parse_moment,
)

AMS = ZoneInfo("Europe/Amsterdam")
# Monday 1 March 2027, 10:00 in Amsterdam (as T0 in tests/conftest.py).
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def local(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=AMS)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # dates with numbers
        ("12-3-2027 19:30", local(2027, 3, 12, 19, 30)),
        ("12/3/2027 19.30", local(2027, 3, 12, 19, 30)),
        ("12.03.2027 19.30", local(2027, 3, 12, 19, 30)),
        ("12-03-27 19:30", local(2027, 3, 12, 19, 30)),
        ("2027-03-12 19:30", local(2027, 3, 12, 19, 30)),
        ("12-3 19:30", local(2027, 3, 12, 19, 30)),
        ("12.03 19.30", local(2027, 3, 12, 19, 30)),  # two candidates: the last is the time
        ("19:30 12-3-2027", local(2027, 3, 12, 19, 30)),  # time first
        # dates with month names
        ("12 maart 19:30", local(2027, 3, 12, 19, 30)),
        ("12 maart 2027 om 19:30", local(2027, 3, 12, 19, 30)),
        ("op 12 maart om 19:30 uur", local(2027, 3, 12, 19, 30)),
        ("12 mrt 19u30", local(2027, 3, 12, 19, 30)),
        ("do 11 maart 19:30", local(2027, 3, 11, 19, 30)),
        ("Do. 11 mrt. 19:30", local(2027, 3, 11, 19, 30)),
        ("donderdag 11 maart, 19:30", local(2027, 3, 11, 19, 30)),
        ("12 March 2027 7:30 pm", local(2027, 3, 12, 19, 30)),
        ("March 12th 2027 at 7 pm", local(2027, 3, 12, 19)),
        ("Thu 11 March 7.30pm", local(2027, 3, 11, 19, 30)),
        ("12th of March 19:30", local(2027, 3, 12, 19, 30)),
        # without a year: the next such date
        ("1 januari 10:00", local(2028, 1, 1, 10)),
        ("28 februari 10:00", local(2028, 2, 28, 10)),
        ("29-2 20:00", local(2028, 2, 29, 20)),  # the next leap year
        ("1 maart 19:30", local(2027, 3, 1, 19, 30)),  # today, still to come
        # relative days
        ("vandaag 19:30", local(2027, 3, 1, 19, 30)),
        ("vanavond 8 uur", local(2027, 3, 1, 20)),
        ("morgen 20:00", local(2027, 3, 2, 20)),
        ("overmorgen 14u", local(2027, 3, 3, 14)),
        ("tomorrow 8pm", local(2027, 3, 2, 20)),
        ("the day after tomorrow 10 am", local(2027, 3, 3, 10)),
        ("morgen 8 uur 's avonds", local(2027, 3, 2, 20)),
        ("morgen 9 uur ’s ochtends", local(2027, 3, 2, 9)),
        # weekdays: the first after today; "volgende week" the one of next week
        ("donderdag 20:00", local(2027, 3, 4, 20)),
        ("maandag 20:00", local(2027, 3, 8, 20)),  # today is a Monday: next week's
        ("a.s. vrijdag 19:30", local(2027, 3, 5, 19, 30)),
        ("komende woensdag 19u", local(2027, 3, 3, 19)),
        ("next Thursday 20:00", local(2027, 3, 4, 20)),
        ("volgende week donderdag 20:00", local(2027, 3, 11, 20)),
        ("donderdag volgende week om 20:00", local(2027, 3, 11, 20)),
        ("Thursday next week 8pm", local(2027, 3, 11, 20)),
        ("volgende week maandag 9:00", local(2027, 3, 8, 9)),
        # times written in all the usual ways
        ("morgen 19.30", local(2027, 3, 2, 19, 30)),
        ("morgen 19u", local(2027, 3, 2, 19)),
        ("morgen 20 uur", local(2027, 3, 2, 20)),
        ("morgen 7:30 pm", local(2027, 3, 2, 19, 30)),
        ("morgen 7:30 p.m.", local(2027, 3, 2, 19, 30)),
        ("morgen 12 pm", local(2027, 3, 2, 12)),
        ("morgen 12:15 am", local(2027, 3, 2, 0, 15)),
        # around the clock changes
        ("27-3-2027 02:30", local(2027, 3, 27, 2, 30)),  # the day before: exists
        ("28-3-2027 03:00", local(2027, 3, 28, 3)),
        ("31-10-2027 02:30", local(2027, 10, 31, 2, 30)),  # doubled hour: the first (summer)
    ],
)
def test_moments_as_people_write_them(typed: str, expected: datetime) -> None:
    moment = parse_moment(typed, now=NOW)
    assert moment == expected
    assert moment.tzinfo is not None and moment.utcoffset() == expected.utcoffset()


def test_the_doubled_hour_in_october_is_summer_time() -> None:
    moment = parse_moment("31-10-2027 02:30", now=NOW)
    assert moment.utcoffset() == timedelta(hours=2)
    assert moment.astimezone(UTC) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "error", "params"),
    [
        ("31-2-2027 19:30", ImpossibleDate, {"date": "31-2-2027"}),
        ("30 februari 19:30", ImpossibleDate, {"date": "30-2"}),
        ("31-4 19:30", ImpossibleDate, {"date": "31-4"}),
        ("12-13-2027 19:30", ImpossibleDate, {"date": "12-13-2027"}),
        ("29-2-2027 19:30", ImpossibleDate, {"date": "29-2-2027"}),  # not a leap year
        ("12-3-2026 19:30", MomentInPast, {}),
        ("vandaag 08:00", MomentInPast, {}),
        ("1 maart 2027 10:00", MomentInPast, {}),  # exactly now
        ("28-3-2027 02:30", SkippedByClockChange, {"date": "28-3-2027", "time": "02:30"}),
        ("28 maart 2:00", SkippedByClockChange, {"date": "28-3-2027", "time": "02:00"}),
        ("12 maart", NoTimeGiven, {"example": "12-3-2027"}),
        ("volgende week donderdag", NoTimeGiven, {"example": "11-3-2027"}),
        ("19:30", NoDateGiven, {"example": "19:30"}),
        ("om 8pm", NoDateGiven, {"example": "20:00"}),
        ("blabla", MomentNotUnderstood, {}),
        ("", MomentNotUnderstood, {}),
        ("volgende maand 19:30", MomentNotUnderstood, {}),
        ("12 foo 19:30", MomentNotUnderstood, {}),
        ("morgen 25:00", ImpossibleTime, {"time": "25:00"}),
        ("morgen 13 pm", ImpossibleTime, {"time": "13 pm"}),
        ("do 12 maart 19:30", WeekdayMismatch, {"date": "12-3-2027"}),  # a Friday
        ("12-3-2207 19:30", MomentTooFar, {"years": 5}),
    ],
)
def test_refusals_say_what_is_wrong(
    typed: str, error: type[DomainError], params: dict[str, object]
) -> None:
    with pytest.raises(error) as raised:
        parse_moment(typed, now=NOW)
    assert raised.value.params == params
    assert isinstance(raised.value, DomainError)
    assert raised.value.msgid.format(**raised.value.params)  # the message can be filled in


def test_an_impossible_minute_is_not_a_time() -> None:
    with pytest.raises(DomainError):
        parse_moment("morgen 19:75", now=NOW)


def test_every_refusal_has_its_own_message() -> None:
    classes = [
        value
        for value in vars(when).values()
        if isinstance(value, type) and issubclass(value, DomainError) and value is not DomainError
    ]
    leaves = [c for c in classes if not any(o is not c and issubclass(o, c) for o in classes)]
    assert len({c.message for c in leaves}) >= len(leaves) - 4  # the *NotUnderstood share theirs


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError):
        parse_moment("morgen 20:00", now=datetime(2027, 3, 1, 9, 0))


def test_another_time_zone() -> None:
    london = ZoneInfo("Europe/London")
    moment = parse_moment("morgen 20:00", now=NOW, tz=london)
    assert moment == datetime(2027, 3, 2, 20, 0, tzinfo=london)


def test_today_late_in_the_evening_in_amsterdam_is_already_tomorrow_in_utc() -> None:
    late = datetime(2027, 3, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 March in Amsterdam
    assert parse_moment("vandaag 19:30", now=late) == local(2027, 3, 2, 19, 30)


# --- ends and lengths --------------------------------------------------------------------------

START = local(2027, 3, 12, 19, 30)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2 uur", local(2027, 3, 12, 21, 30)),
        ("1,5 uur", local(2027, 3, 12, 21)),
        ("1.5 uur", local(2027, 3, 12, 21)),
        ("anderhalf uur", local(2027, 3, 12, 21)),
        ("90 min", local(2027, 3, 12, 21)),
        ("90 minuten", local(2027, 3, 12, 21)),
        ("1 uur 30", local(2027, 3, 12, 21)),
        ("1 uur en 15 minuten", local(2027, 3, 12, 20, 45)),
        ("1h30", local(2027, 3, 12, 21)),
        ("2 hours", local(2027, 3, 12, 21, 30)),
        ("45 minutes", local(2027, 3, 12, 20, 15)),
        ("tot 21:30", local(2027, 3, 12, 21, 30)),
        ("Tot 21.30 uur", local(2027, 3, 12, 21, 30)),
        ("21:30", local(2027, 3, 12, 21, 30)),
        ("21u30", local(2027, 3, 12, 21, 30)),  # a clock time, not 21.5 hours
        ("until 9:30 pm", local(2027, 3, 12, 21, 30)),
        ("tot 01:00", local(2027, 3, 13, 1)),  # after midnight
        ("tot 13 maart 12:00", local(2027, 3, 13, 12)),
    ],
)
def test_ends_and_lengths(typed: str, expected: datetime) -> None:
    assert parse_end(typed, start=START) == expected


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("tot 19:00", EndBeforeStart),
        ("19:30", EndBeforeStart),  # the start itself: a day later would be 24 hours
        ("0 min", EndBeforeStart),
        ("30 uur", TooLong),
        ("tot 14 maart 12:00", TooLong),
        ("tot 11-3-2027 12:00", EndBeforeStart),
        ("tot 11 maart 12:00", TooLong),  # without a year: next year's 11 March
        ("xyz", EndNotUnderstood),
        ("", EndNotUnderstood),
        ("tot morgen", EndNotUnderstood),
    ],
)
def test_ends_that_cannot_be(typed: str, error: type[DomainError]) -> None:
    with pytest.raises(error):
        parse_end(typed, start=START)


def test_a_length_across_the_clock_change_is_real_time() -> None:
    start = local(2027, 3, 28, 1, 0)  # the clocks go from 02:00 to 03:00 that night
    assert parse_end("2 uur", start=start) == local(2027, 3, 28, 4, 0)
    with pytest.raises(SkippedByClockChange):
        parse_end("tot 02:30", start=start)


def test_durations_alone() -> None:
    assert parse_duration("2 uur") == timedelta(hours=2)
    assert parse_duration("1,25 uur") == timedelta(minutes=75)
    with pytest.raises(EndNotUnderstood):
        parse_duration("1 uur 75")


# --- clock times, numbers, deadlines -----------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("19:30", time(19, 30)),
        ("19.30", time(19, 30)),
        ("19u30", time(19, 30)),
        ("19u", time(19)),
        ("7:30 pm", time(19, 30)),
        ("8pm", time(20)),
        ("12 am", time(0)),
        ("om 20 uur", time(20)),
    ],
)
def test_clock_times(typed: str, expected: time) -> None:
    assert parse_clock_time(typed) == expected


@pytest.mark.parametrize(
    ("typed", "error"),
    [("morgen", TimeNotUnderstood), ("25:00", ImpossibleTime), ("morgen 19:30", TimeNotUnderstood)],
)
def test_clock_times_refused(typed: str, error: type[DomainError]) -> None:
    with pytest.raises(error):
        parse_clock_time(typed)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("30", 30),
        (" 40 ", 40),
        ("40 plaatsen", 40),
        ("max 25", 25),
        ("maximaal 25 personen", 25),
        ("60 people", 60),
        ("geen", None),
        ("Geen maximum", None),
        ("onbeperkt", None),
        ("unlimited", None),
        ("none", None),
    ],
)
def test_capacity(typed: str, expected: int | None) -> None:
    assert parse_capacity(typed) == expected


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("0", NumberOutOfRange),
        ("-3", NumberOutOfRange),
        ("20000", NumberOutOfRange),
        ("veel", NumberNotUnderstood),
        ("30 of 40", NumberNotUnderstood),
        ("", NumberNotUnderstood),
    ],
)
def test_capacity_refused(typed: str, error: type[DomainError]) -> None:
    with pytest.raises(error):
        parse_capacity(typed)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1 dag vooraf", local(2027, 3, 11, 19, 30)),
        ("2 dagen vooraf", local(2027, 3, 10, 19, 30)),
        ("2 dagen van tevoren", local(2027, 3, 10, 19, 30)),
        ("1 week vooraf", local(2027, 3, 5, 19, 30)),
        ("een week", local(2027, 3, 5, 19, 30)),
        ("48 uur vooraf", local(2027, 3, 10, 19, 30)),
        ("10 maart 12:00", local(2027, 3, 10, 12)),
        ("12-3-2027 19:30", START),  # up to the start itself
        ("geen", None),
    ],
)
def test_deadlines(typed: str, expected: datetime | None) -> None:
    assert parse_deadline(typed, start=START, now=NOW) == expected


def test_days_before_keep_the_clock_time_across_the_clock_change() -> None:
    start = local(2027, 3, 30, 19, 30)  # summer time; two days before is winter time
    assert parse_deadline("3 dagen vooraf", start=start, now=NOW) == local(2027, 3, 27, 19, 30)
    before = parse_before("1 week vooraf")
    assert before is not None and before.days == 7


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("13 maart 12:00", DeadlineAfterStart),
        ("20 dagen vooraf", MomentInPast),
        ("morgen", NoTimeGiven),
        ("snel", DeadlineNotUnderstood),
    ],
)
def test_deadlines_refused(typed: str, error: type[DomainError]) -> None:
    with pytest.raises(error):
        parse_deadline(typed, start=START, now=NOW)
