"""The bytes of a feed: what Google, Apple, Outlook, Thunderbird and ICSx5 need, as bytes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from calendars.ical import FeedSettings, render_calendar, render_event
from models.events.entities import EventKind
from models.registrations.entities import RegistrationStatus
from tests.feeds.calendar_items import NO_BOT, SETTINGS, cancelled, item
from tests.feeds.helpers import properties, unfold


def feed(*items, settings=SETTINGS, lang="nl", name="Buurtagenda Maastricht"):
    return render_calendar(list(items), name=name, settings=settings, lang=lang)


def assert_wellformed(body: bytes) -> None:
    """CRLF everywhere, lines of at most 75 octets, valid UTF-8 also line by line."""
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert b"\r" not in body.replace(b"\r\n", b"")
    body.decode("utf-8")  # strict
    for line in body.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
        line.decode("utf-8")  # a fold never splits a character


def test_the_calendar_says_what_subscribers_need():
    body = feed(item())
    lines = unfold(body)
    assert lines[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"]
    for expected in (
        "PRODID:-//Buurtagenda Maastricht//Buurtagenda//NL",
        "NAME:Buurtagenda Maastricht",
        "X-WR-CALNAME:Buurtagenda Maastricht",
        "X-WR-TIMEZONE:Europe/Amsterdam",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        "CALSCALE:GREGORIAN",
    ):
        assert lines.count(expected) == 1, expected
    # A calendar, not an iTIP message: METHOD would demand an ORGANIZER (see calendars/ical.py).
    assert not [line for line in lines if line.startswith(("METHOD", "ORGANIZER"))]
    assert_wellformed(body)


def test_one_vtimezone_written_with_rules_not_dates():
    body = feed(item(1), item(2, starts_at=datetime(2027, 7, 1, 17, 0, tzinfo=UTC)))
    lines = unfold(body)
    assert lines.count("BEGIN:VTIMEZONE") == 1
    assert "TZID:Europe/Amsterdam" in lines
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in lines
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in lines
    assert not [line for line in lines if line.startswith("RDATE")]


def test_stable_uids_sequence_and_stamps_from_the_data():
    event = item(42, uid="code0042@5f0c9a1e.buurtagenda")
    lines = unfold(feed(event))
    assert properties(feed(event), "UID") == ["code0042@5f0c9a1e.buurtagenda"]
    # An event from before stored UIDs that no start has given its UID yet: the old rule.
    assert properties(feed(replace(event, uid=None)), "UID") == ["evt-42@agenda.example.nl"]
    assert "SEQUENCE:3" in lines
    assert "DTSTAMP:20270204T084200Z" in lines  # the last change, not "now"
    assert "LAST-MODIFIED:20270204T084200Z" in lines
    assert "CREATED:20270201T080000Z" in lines
    assert "DTSTART;TZID=Europe/Amsterdam:20270312T193000" in lines
    assert "DTEND;TZID=Europe/Amsterdam:20270312T213000" in lines


def test_the_same_data_gives_the_same_bytes():
    items = [item(n, starts_at=datetime(2027, 3, n, 18, 0, tzinfo=UTC)) for n in range(1, 20)]
    assert feed(*items) == feed(*reversed(items))
    assert feed(*items) != feed(*items[:-1])


def test_long_dutch_text_folds_without_splitting_characters():
    event = item(
        title="Één buurt, één stem: café-gesprek over de Maas 👋 " * 3,
        description="ë" * 200 + "€" * 100 + "👋" * 60,
    )
    body = feed(event)
    assert_wellformed(body)
    assert properties(body, "DESCRIPTION")[0].startswith("Masterclass\\n\\n" + "ë" * 200)


def test_a_deep_link_url_and_location():
    body = feed(item(7))
    (description,) = properties(body, "DESCRIPTION")
    assert "https://t.me/BuurtagendaBot?start=e_code0007" in description
    assert properties(body, "URL") == ["https://t.me/BuurtagendaBot?start=e_code0007"]
    assert properties(body, "LOCATION") == ["Stadhuis Maastricht\\, Markt 78"]
    assert properties(body, "STATUS") == ["CONFIRMED"]


def test_without_the_bot_the_link_goes_to_the_page():
    body = feed(item(7), settings=NO_BOT)
    assert b"t.me" not in body
    assert properties(body, "URL") == ["https://agenda.example.nl/#e-code0007"]


def test_cancelled_events_say_so_in_every_app():
    before = item(5)
    body = feed(cancelled(before))
    assert properties(body, "STATUS") == ["CANCELLED"]
    assert properties(body, "SUMMARY") == [f"GEANNULEERD: {before.title}"]
    assert properties(body, "SEQUENCE") == [str(before.revision + 1)]
    assert "De zaal is niet beschikbaar" in properties(body, "DESCRIPTION")[0]


def test_a_cancelled_event_keeps_nobody_busy_and_invites_nobody():
    for settings, lang, invitation in (
        (SETTINGS, "nl", "Aanmelden"),
        (SETTINGS, "en", "Register"),
        (NO_BOT, "nl", "Meer informatie"),
    ):
        registered = item(5, registration_status=RegistrationStatus.CONFIRMED)
        body = feed(item(4), cancelled(registered), settings=settings, lang=lang)
        assert properties(body, "TRANSP") == ["OPAQUE", "TRANSPARENT"]
        still_on, called_off = properties(body, "DESCRIPTION")
        assert invitation in still_on
        assert invitation not in called_off and "t.me" not in called_off


def test_a_waitlist_place_is_tentative_and_an_offer_shows_its_deadline():
    waiting = item(1, registration_status=RegistrationStatus.WAITLISTED)
    offered = item(
        2,
        registration_status=RegistrationStatus.OFFERED,
        offer_expires_at=datetime(2027, 3, 10, 18, 30, tzinfo=UTC),
    )
    confirmed = item(3, registration_status=RegistrationStatus.CONFIRMED, party_size=2)
    body = feed(waiting, offered, confirmed)
    assert properties(body, "STATUS") == ["TENTATIVE", "TENTATIVE", "CONFIRMED"]
    summaries = properties(body, "SUMMARY")
    assert summaries[0].startswith("[wachtlijst] ")
    assert not summaries[1].startswith("[wachtlijst]")
    descriptions = properties(body, "DESCRIPTION")
    assert "Er is een plaats voor je vrij tot woensdag 10 maart 2027\\, 19:30." in descriptions[1]
    assert "Je bent aangemeld met 2 personen." in descriptions[2]
    assert properties(body, "TRANSP") == ["TRANSPARENT", "TRANSPARENT", "OPAQUE"]


def test_english_for_members_who_chose_english():
    body = feed(
        item(1, registration_status=RegistrationStatus.WAITLISTED), cancelled(item(2)), lang="en"
    )
    summaries = properties(body, "SUMMARY")
    assert summaries[0].startswith("[waiting list] ") and summaries[1].startswith("CANCELLED: ")
    assert "Register\\, cancel and more via Telegram" in properties(body, "DESCRIPTION")[0]


def test_control_characters_in_user_text_are_dropped():
    body = feed(item(title="Vergadering\x00\x07 buurt\r\nnieuw", description="a\x1bb\tc"))
    assert properties(body, "SUMMARY") == ["Vergadering buurt\\nnieuw"]
    assert "ab\tc" in properties(body, "DESCRIPTION")[0]
    assert_wellformed(body)


def test_kinds_topics_networks_and_online_events():
    online = item(
        kind=EventKind.UITWISSELING,
        topic_tbd=True,
        title="Uitwisseling",
        location=None,
        online_url="https://meet.example.nl/buurt",
        network_name="Wyck",
        speakers="",
        description="",
    )
    body = feed(online)
    assert properties(body, "SUMMARY") == ["Uitwisseling (onderwerp volgt)"]
    assert properties(body, "LOCATION") == ["Online"]
    assert properties(body, "CATEGORIES") == ["Uitwisseling tussen buurtnetwerken"]
    description = properties(body, "DESCRIPTION")[0]
    assert description.startswith("Uitwisseling tussen buurtnetwerken · Voor buurtnetwerk Wyck")
    assert "Online: https://meet.example.nl/buurt" in description


def test_a_single_event_document():
    body = render_event(item(9), settings=SETTINGS)
    assert unfold(body).count("BEGIN:VEVENT") == 1
    assert properties(body, "X-WR-CALNAME") == ["Omgevingswet: wat betekent dit voor jouw buurt?"]
    assert_wellformed(body)


def test_the_second_hour_of_the_october_change_is_written_in_utc():
    # 31 October 2027: 02:30 happens twice. The second one (01:30 UTC) is not expressible as
    # local time with TZID (RFC 5545 picks the first), so it goes out in UTC.
    first = item(1, starts_at=datetime(2027, 10, 31, 0, 30, tzinfo=UTC))
    second = item(2, starts_at=datetime(2027, 10, 31, 1, 30, tzinfo=UTC))
    starts = [
        line
        for line in unfold(feed(first, second))
        if line.startswith("DTSTART") and "2027" in line
    ]
    assert starts == ["DTSTART;TZID=Europe/Amsterdam:20271031T023000", "DTSTART:20271031T013000Z"]


def test_other_zones_get_utc_times_and_no_vtimezone():
    settings = FeedSettings("https://agenda.example.nl", None, "America/New_York")
    lines = unfold(feed(item(), settings=settings))
    assert "BEGIN:VTIMEZONE" not in lines
    assert "DTSTART:20270312T183000Z" in lines
    assert "X-WR-TIMEZONE:America/New_York" in lines


def test_an_empty_feed_is_still_a_calendar():
    body = feed()
    assert "BEGIN:VEVENT" not in unfold(body)
    assert_wellformed(body)


def test_microseconds_do_not_leak_into_the_stamps():
    event = replace(item(), last_change=datetime(2027, 2, 4, 8, 0, 0, 999_999, tzinfo=UTC))
    assert "DTSTAMP:20270204T080000Z" in unfold(feed(event))
    assert feed(event) == feed(
        replace(event, last_change=event.last_change - timedelta(microseconds=5))
    )
