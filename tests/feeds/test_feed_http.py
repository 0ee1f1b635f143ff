"""HTTP semantics of the feeds, over real HTTP (uvicorn in the test's event loop): 200, 304 by
ETag and by date, HEAD, 404, gzip, private personal feeds, token rotation, fetch recording."""

from __future__ import annotations

import gzip
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import httpx
import pytest

from calendars.links import personal_feed_links
from models.events.operations import update_event
from models.feeds import operations as tokens
from models.members.entities import Language
from models.members.operations import set_language
from tests.factories import make_event, make_member
from tests.feeds.helpers import make_app, serving

IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture
async def served(sqlite_db, clock):
    """A running app with two events; yields (client, event)."""
    event = await make_event(sqlite_db, clock(), capacity=20)
    await make_event(sqlite_db, clock(), starts_in=timedelta(days=40), title="Dialoog")
    async with (
        serving(make_app(sqlite_db, clock)) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        yield client, event


async def test_a_feed_with_validators(served):
    client, _ = served
    response = await client.get("/agenda.ics", headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    etag = response.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    last_modified = parsedate_to_datetime(response.headers["last-modified"])
    assert last_modified.tzinfo is not None
    assert response.headers["cache-control"] == "public, no-cache"
    assert response.content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert int(response.headers["content-length"]) == len(response.content)


async def test_304_for_a_matching_etag_repeats_the_validators(served):
    client, _ = served
    first = await client.get("/agenda.ics", headers=IDENTITY)
    for if_none_match in (
        first.headers["etag"],
        f'"something-else", {first.headers["etag"]}',
        "W/" + first.headers["etag"],
        "*",
    ):
        again = await client.get(
            "/agenda.ics", headers={**IDENTITY, "If-None-Match": if_none_match}
        )
        assert again.status_code == 304, if_none_match
        assert again.content == b""
        assert again.headers["etag"] == first.headers["etag"]
        assert again.headers["last-modified"] == first.headers["last-modified"]
        assert again.headers["cache-control"] == "public, no-cache"
    other = await client.get("/agenda.ics", headers={"If-None-Match": '"not-it"'})
    assert other.status_code == 200


async def test_304_by_date(served):
    client, _ = served
    first = await client.get("/agenda.ics")
    last_modified = parsedate_to_datetime(first.headers["last-modified"])
    later = format_datetime(last_modified + timedelta(hours=1), usegmt=True)
    earlier = format_datetime(last_modified - timedelta(seconds=1), usegmt=True)
    asctime = last_modified.strftime("%a %b %d %H:%M:%S %Y")  # an obsolete format, still valid
    for since, expected in (
        (first.headers["last-modified"], 304),
        (later, 304),
        (asctime, 304),
        (earlier, 200),
        ("gisteren", 200),
    ):
        response = await client.get("/agenda.ics", headers={"If-Modified-Since": since})
        assert response.status_code == expected, since
        if expected == 304:
            assert response.headers["last-modified"] == first.headers["last-modified"]
            assert response.headers["etag"] == first.headers["etag"]
    # If-None-Match decides when both are sent.
    mismatch = await client.get(
        "/agenda.ics", headers={"If-None-Match": '"old"', "If-Modified-Since": later}
    )
    assert mismatch.status_code == 200


async def test_head_gives_the_headers_of_get(served):
    client, _ = served
    get = await client.get("/agenda.ics", headers=IDENTITY)
    head = await client.head("/agenda.ics", headers=IDENTITY)
    assert head.status_code == 200 and head.content == b""
    for name in ("etag", "last-modified", "content-type", "content-length", "cache-control"):
        assert head.headers[name] == get.headers[name], name
    conditional = await client.head("/agenda.ics", headers={"If-None-Match": get.headers["etag"]})
    assert conditional.status_code == 304


async def test_no_negotiation_on_accept(served):
    client, _ = served
    bodies = set()
    for accept in (None, "text/html", "application/json", "*/*", "text/calendar"):
        headers = {**IDENTITY, **({"Accept": accept} if accept else {})}
        request = client.build_request("GET", "/agenda.ics", headers=headers)
        if accept is None:
            del request.headers["accept"]  # Google's fetcher sends none
        response = await client.send(request)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/calendar; charset=utf-8"
        bodies.add(response.content)
    assert len(bodies) == 1


async def test_gzip_is_another_representation_with_its_own_etag(served):
    client, _ = served
    plain = await client.get("/agenda.ics", headers=IDENTITY)
    packed = await client.get("/agenda.ics", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
    assert packed.headers["etag"] != plain.headers["etag"]
    assert packed.content == plain.content  # httpx decoded it
    refused = await client.get("/agenda.ics", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers
    # Either tag shows the client has the current data.
    for etag in (plain.headers["etag"], packed.headers["etag"]):
        response = await client.get("/agenda.ics", headers={"If-None-Match": etag})
        assert response.status_code == 304
    async with client.stream("GET", "/agenda.ics", headers={"Accept-Encoding": "gzip"}) as raw:
        on_the_wire = b"".join([chunk async for chunk in raw.aiter_raw()])
    assert gzip.decompress(on_the_wire) == plain.content


async def test_a_change_gives_a_new_etag_and_the_same_data_the_same_bytes(
    served, sqlite_db, clock, policy
):
    client, event = served
    first = await client.get("/agenda.ics", headers=IDENTITY)
    same = await client.get("/agenda.ics", headers=IDENTITY)
    assert same.content == first.content and same.headers["etag"] == first.headers["etag"]
    clock.advance(timedelta(hours=1))
    async with sqlite_db.transaction() as session:
        await update_event(
            session,
            event_id=event.id,
            actor_id=None,
            changes={"location": "Buurthuis Wyck"},
            now=clock(),
            policy=policy,
        )
    changed = await client.get(
        "/agenda.ics", headers={**IDENTITY, "If-None-Match": first.headers["etag"]}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != first.headers["etag"]
    assert parsedate_to_datetime(changed.headers["last-modified"]) == clock()
    assert b"LOCATION:Buurthuis Wyck" in changed.content
    assert b"SEQUENCE:2" in changed.content


async def test_network_and_event_documents(served, sqlite_db, clock):
    client, event = served
    draft = await make_event(sqlite_db, clock(), publish=False)
    assert (await client.get("/netwerk/wyck.ics")).status_code == 200
    assert (await client.get("/netwerk/bestaat-niet.ics")).status_code == 404
    single = await client.get(f"/event/{event.id}.ics")
    assert single.status_code == 200 and single.text.count("BEGIN:VEVENT") == 1
    assert (await client.get(f"/event/{draft.id}.ics")).status_code == 404
    assert (await client.get("/event/999999.ics")).status_code == 404
    head = await client.head(
        f"/event/{event.id}.ics", headers={"If-None-Match": single.headers["etag"]}
    )
    assert head.status_code == 304


async def test_personal_feeds_are_private_and_rotation_answers_404(served, sqlite_db, clock):
    client, _ = served
    member = await make_member(sqlite_db)
    async with sqlite_db.transaction() as session:
        old = (await tokens.feed_token_for(session, member_id=member.id, now=clock())).plain
    response = await client.get(f"/feed/{old}.ics")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["x-robots-tag"] == "noindex"
    assert b"X-WR-CALNAME:Buurtagenda \xe2\x80\x93 mijn bijeenkomsten" in response.content
    conditional = await client.get(
        f"/feed/{old}.ics", headers={"If-None-Match": response.headers["etag"]}
    )
    assert conditional.status_code == 304
    assert conditional.headers["cache-control"] == "private, no-cache"
    async with sqlite_db.transaction() as session:
        new = await tokens.rotate_feed_token(session, member_id=member.id, now=clock())
    gone = await client.get(f"/feed/{old}.ics")
    unknown = await client.get(f"/feed/{'A' * 32}.ics")
    malformed = await client.get("/feed/kort.ics")
    assert gone.status_code == unknown.status_code == malformed.status_code == 404
    assert gone.content == unknown.content == malformed.content  # nothing revealed
    assert (await client.get(f"/feed/{new}.ics")).status_code == 200


async def test_fetches_are_recorded_for_laatst_opgehaald(served, sqlite_db, clock):
    client, _ = served
    member = await make_member(sqlite_db)
    async with sqlite_db.transaction() as session:
        plain = (await tokens.feed_token_for(session, member_id=member.id, now=clock())).plain
    await client.get(f"/feed/{plain}.ics")
    async with sqlite_db.read() as session:
        token = await tokens.feed_token_of(session, member_id=member.id)
        assert token.last_fetched_at == clock()
        assert await tokens.subscriber_count(session, now=clock()) == 1
    clock.advance(timedelta(minutes=1))
    await client.head(f"/feed/{plain}.ics")
    async with sqlite_db.read() as session:
        token = await tokens.feed_token_of(session, member_id=member.id)
    assert token.last_fetched_at == clock() - timedelta(minutes=1)  # coarse: not every poll


async def test_healthz_still_answers(served):
    client, _ = served
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json()["database"] == "ok"


async def test_a_member_who_chose_english_gets_an_english_feed(served, sqlite_db, clock):
    client, _ = served
    member = await make_member(sqlite_db)
    async with sqlite_db.transaction() as session:
        await set_language(session, member_id=member.id, language=Language.EN)
        plain = (await tokens.feed_token_for(session, member_id=member.id, now=clock())).plain
    response = await client.get(f"/feed/{plain}.ics")
    assert "X-WR-CALNAME:Buurtagenda – my events" in response.text


def test_links_for_the_bot_and_the_page():
    links = personal_feed_links("https://agenda.example.nl/", "abc")
    assert links.https == "https://agenda.example.nl/feed/abc.ics"
    assert links.webcal == "webcal://agenda.example.nl/feed/abc.ics"
    assert links.google == (
        "https://calendar.google.com/calendar/render?cid="
        "https%3A%2F%2Fagenda.example.nl%2Ffeed%2Fabc.ics"
    )
