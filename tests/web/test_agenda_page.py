"""The agenda page: the coming events with kind, date, place and seats left, deep links and QR
codes, subscribe links, the network filter, Dutch and English, escaping, and its texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx

from models.events.operations import cancel_event
from models.registrations import operations as registrations
from tests.factories import make_event, make_member, network_id
from tests.feeds.helpers import make_app

ROOT = Path(__file__).resolve().parents[2]


async def get(app, path: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await c.get(path, headers=headers)


class Outline(HTMLParser):
    """Tags, links and labels of a page, to check its structure."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.labels_for: set[str] = set()
        self.inputs: list[str] = []
        self.images_without_alt = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag == "label" and values.get("for"):
            self.labels_for.add(values["for"] or "")
        if tag == "input":
            self.inputs.append(values.get("id") or "")
        if tag == "img" and not values.get("alt"):
            self.images_without_alt += 1


async def test_the_coming_events_in_dutch(sqlite_db, clock, policy):
    # 12 March 2027, 19:30 in Maastricht.
    start = datetime(2027, 3, 12, 18, 30, tzinfo=UTC)
    event = await make_event(
        sqlite_db, clock(), starts_in=start - clock(), capacity=1, title="Omgevingswet"
    )
    open_event = await make_event(sqlite_db, clock(), starts_in=timedelta(days=20), capacity=30)
    past = await make_event(sqlite_db, clock(), starts_in=timedelta(hours=1))
    anna, ben = await make_member(sqlite_db, name="Anna"), await make_member(sqlite_db, name="Ben")
    async with sqlite_db.transaction() as session:
        for member in (anna, ben):
            await registrations.register(
                session, event_id=event.id, member_id=member.id, now=clock(), policy=policy
            )
    clock.advance(timedelta(hours=4))  # ``past`` has ended
    response = await get(make_app(sqlite_db, clock), "/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert '<html lang="nl">' in html
    assert "vr 12 maart, 19:30–21:30" in html
    assert '<time datetime="2027-03-12T19:30+01:00">' in html
    assert "Stadhuis Maastricht, Markt 78" in html
    assert "MASTERCLASS" not in html and ">Masterclass<" in html  # uppercase is only CSS
    assert "Vol · 1 op de wachtlijst" in html
    assert "Nog 30 plaatsen vrij" in html
    assert f'href="https://t.me/BuurtagendaBot?start=e_{event.public_code}"' in html
    assert "Op de wachtlijst via Telegram" in html  # the full one
    assert f'href="event/{open_event.id}.ics"' in html
    assert f'href="poster/{open_event.public_code}"' in html  # a poster page, no QR here
    assert "<img" not in html and "(.ics)" not in html
    assert f'id="e-{past.public_code}"' not in html
    assert html.index("Omgevingswet") < html.index(f'id="e-{open_event.public_code}"')


async def test_a_date_far_ahead_shows_its_year(sqlite_db, clock):
    # The clock says 1 March 2027; 11 November is more than six months ahead, and "do 11
    # november" could then be read as this year or the next.
    far = datetime(2027, 11, 11, 18, 30, tzinfo=UTC)
    await make_event(sqlite_db, clock(), starts_in=far - clock(), title="Dialoog")
    await make_event(sqlite_db, clock(), starts_in=timedelta(days=20), title="Masterclass")
    app = make_app(sqlite_db, clock)
    html = (await get(app, "/")).text
    assert "do 11 november 2027, 19:30–21:30" in html
    assert "zo 21 maart, 10:00–12:00" in html  # near: no year
    english = (await get(app, "/?lang=en")).text
    assert "Thu 11 November 2027, 19:30–21:30" in english


async def test_structure_and_accessibility_basics(sqlite_db, clock):
    await make_event(sqlite_db, clock())
    outline = Outline()
    outline.feed((await get(make_app(sqlite_db, clock), "/")).text)
    assert outline.tags.count("h1") == 1
    assert {"header", "main", "footer", "nav", "article", "dl", "time"} <= set(outline.tags)
    assert set(outline.inputs) <= outline.labels_for  # every field has its label
    assert outline.images_without_alt == 0
    assert any(link.startswith("webcal://agenda.example.nl/agenda.ics") for link in outline.links)
    assert any(
        link.startswith("https://calendar.google.com/calendar/render?cid=https%3A%2F%2F")
        for link in outline.links
    )


async def test_english_switch(sqlite_db, clock):
    start = datetime(2027, 3, 12, 18, 30, tzinfo=UTC)
    await make_event(sqlite_db, clock(), starts_in=start - clock())
    app = make_app(sqlite_db, clock)
    dutch = (await get(app, "/")).text
    assert 'href="?lang=en" hreflang="en" lang="en">English</a>' in dutch
    english = await get(app, "/?lang=en")
    assert english.headers["content-language"] == "en"
    assert '<html lang="en">' in english.text
    assert "Fri 12 March, 19:30–21:30" in english.text
    assert "Register via Telegram" in english.text
    assert ">Nederlands</a>" in english.text
    assert (await get(app, "/?lang=fr")).text == dutch  # unknown language: Dutch


async def test_filter_by_network(sqlite_db, clock):
    collective = await make_event(sqlite_db, clock(), title="Voor iedereen")
    wyck = await make_event(
        sqlite_db,
        clock(),
        starts_in=timedelta(days=20),
        title="Alleen Wyck",
        network_id=await network_id(sqlite_db, "wyck"),
    )
    app = make_app(sqlite_db, clock)
    everything = (await get(app, "/")).text
    assert "Voor iedereen" in everything and "Alleen Wyck" in everything
    assert "Alleen voor buurtnetwerk Wyck" in everything
    assert 'href="?netwerk=wyck"' in everything
    for_wyck = (await get(app, "/?netwerk=wyck")).text
    assert f'id="e-{collective.public_code}"' in for_wyck
    assert f'id="e-{wyck.public_code}"' in for_wyck
    assert "webcal://agenda.example.nl/netwerk/wyck.ics" in for_wyck
    assert '<option value="wyck" data-href="?netwerk=wyck" selected>' in for_wyck
    other = (await get(app, "/?netwerk=amby")).text
    assert "Alleen Wyck" not in other and "Voor iedereen" in other
    assert (await get(app, "/?netwerk=bestaat-niet")).status_code == 404


async def test_cancelled_events_say_so_and_have_no_button(sqlite_db, clock):
    event = await make_event(sqlite_db, clock(), title="Gaat misschien door")
    async with sqlite_db.transaction() as session:
        await cancel_event(session, event_id=event.id, actor_id=None, reason="Storm", now=clock())
    html = (await get(make_app(sqlite_db, clock), "/")).text
    assert "Gaat niet door: Storm" in html
    assert "t.me/" not in html


async def test_without_the_bot_there_are_no_deep_links_or_qr_codes(sqlite_db, clock):
    event = await make_event(sqlite_db, clock())
    app = make_app(sqlite_db, clock, bot_username=None)
    html = (await get(app, "/")).text
    assert "t.me/" not in html and "qr/" not in html and "poster/" not in html
    assert (await get(app, f"/qr/{event.public_code}.svg")).status_code == 404
    assert (await get(app, f"/poster/{event.public_code}")).status_code == 404


async def test_the_bot_name_may_come_later(sqlite_db, clock):
    await make_event(sqlite_db, clock())
    name: list[str | None] = [None]
    app = make_app(sqlite_db, clock, bot_username=lambda: name[0])
    assert "t.me/" not in (await get(app, "/")).text
    name[0] = "LaterBot"  # getMe answered
    assert "https://t.me/LaterBot?start=e_" in (await get(app, "/")).text


async def test_qr_codes_for_posters(sqlite_db, clock):
    event = await make_event(sqlite_db, clock())
    draft = await make_event(sqlite_db, clock(), publish=False)
    app = make_app(sqlite_db, clock)
    response = await get(app, f"/qr/{event.public_code}.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")
    assert (await get(app, f"/qr/{draft.public_code}.svg")).status_code == 404
    again = await get(
        app, f"/qr/{event.public_code}.svg", **{"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


async def test_a_poster_per_event(sqlite_db, clock):
    event = await make_event(
        sqlite_db, clock(), title='Omgevingswet <script>x</script>', description="Met koffie"
    )
    draft = await make_event(sqlite_db, clock(), publish=False)
    app = make_app(sqlite_db, clock)
    response = await get(app, f"/poster/{event.public_code}")
    assert response.status_code == 200
    html = response.text
    assert "Omgevingswet &lt;script&gt;x&lt;/script&gt;" in html and "<script>x" not in html
    assert f'src="../qr/{event.public_code}.svg"' in html  # relative: a path prefix works
    assert f"https://t.me/BuurtagendaBot?start=e_{event.public_code}" in html  # printed too
    assert "Scan de code met je telefoon om je aan te melden via Telegram." in html
    assert 'href="../"' in html  # back to the agenda
    english = (await get(app, f"/poster/{event.public_code}?lang=en")).text
    assert '<html lang="en">' in english and 'href="../?lang=en"' in english
    assert (await get(app, f"/poster/{draft.public_code}")).status_code == 404
    assert (await get(app, "/poster/bestaatniet")).status_code == 404


async def test_in_the_sandbox_links_open_the_sandbox_never_telegram(sqlite_db, clock):
    event = await make_event(sqlite_db, clock(), title="Omgevingswet")
    app = make_app(sqlite_db, clock, bot_username="buurtagenda_sandbox_bot", sandbox=True)
    link = f"https://agenda.example.nl/sandbox?start=e_{event.public_code}"
    html = (await get(app, "/")).text
    assert "t.me" not in html
    assert f'href="{link}"' in html and "Aanmelden in de demo" in html
    assert "Dit is een demo" in html
    poster = (await get(app, f"/poster/{event.public_code}")).text
    assert link in poster and "t.me" not in poster
    assert "aan te melden in de demo" in poster
    for feed in ("/agenda.ics", "/netwerk/wyck.ics", f"/event/{event.id}.ics"):
        body = (await get(app, feed)).content.decode().replace("\r\n ", "")
        assert "t.me" not in body, feed
        assert f"URL:{link}" in body and link in body.split("DESCRIPTION:")[1], feed


async def test_user_text_is_escaped(sqlite_db, clock):
    await make_event(
        sqlite_db,
        clock(),
        title='<script>alert("x")</script> & co',
        description="<b>vet</b>",
        location='"Buurthuis" <Wyck>',
    )
    html = (await get(make_app(sqlite_db, clock), "/")).text
    assert "<script>alert" not in html and "<b>vet</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in html
    assert "&quot;Buurthuis&quot; &lt;Wyck&gt;" in html


async def test_the_page_is_cached_with_validators(sqlite_db, clock, policy):
    event = await make_event(sqlite_db, clock(), capacity=5)
    app = make_app(sqlite_db, clock)
    first = await get(app, "/")
    assert (await get(app, "/", **{"If-None-Match": first.headers["etag"]})).status_code == 304
    member = await make_member(sqlite_db)
    async with sqlite_db.transaction() as session:
        await registrations.register(
            session, event_id=event.id, member_id=member.id, now=clock(), policy=policy
        )
    changed = await get(app, "/", **{"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and "Nog 4 plaatsen vrij" in changed.text


async def test_an_empty_agenda(sqlite_db, clock):
    html = (await get(make_app(sqlite_db, clock), "/")).text
    assert "Er staan nog geen bijeenkomsten gepland." in html
