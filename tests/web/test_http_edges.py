"""The edges of the HTTP side, over real HTTP (uvicorn configured as the service configures it):
whatever is not a valid id, token, code or slug is a 404 (never a 500), a wrong method is a 405
with Allow, every response says nosniff and sends no referrer, every HTML page carries a
Content-Security-Policy that allows exactly its own inline style, there is a favicon, and the
server does not announce itself."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
from datetime import timedelta

import httpx
import pytest
from PIL import Image

from models.events.entities import EventKind
from models.events.operations import EventDraft
from models.events.proposals import propose_exchange_session
from tests.factories import make_event, make_member
from tests.feeds.helpers import make_app, serving
from web.headers import content_security_policy

IDENTITY = {"Accept-Encoding": "identity"}
SECURITY = ("x-content-type-options", "referrer-policy")


@pytest.fixture
async def served(db, clock):
    """The app on uvicorn with one published event, on SQLite and on PostgreSQL."""
    event = await make_event(db, clock())
    async with serving(make_app(db, clock)) as base, httpx.AsyncClient(base_url=base) as client:
        yield client, event


NOT_FOUND = [
    "/event/9223372036854775808.ics",  # beyond SQLite's integers: was a 500 (OverflowError)
    "/event/2147483648.ics",  # beyond PostgreSQL's INTEGER
    "/event/99999999999999999999999999999999.ics",
    "/event/0.ics",
    "/event/-1.ics",
    "/event/1e3.ics",
    "/event/abc.ics",
    "/event/%00.ics",
    "/feed/" + "a" * 5000 + ".ics",  # over-long token
    "/feed/%00%00.ics",
    "/feed/" + "a" * 31 + "%0A.ics",
    "/feed/.ics",
    "/netwerk/%00.ics",  # PostgreSQL refuses NUL in text: was a 500 there
    "/netwerk/WYCK.ics",
    "/netwerk/wyck--x.ics",
    "/netwerk/%C3%A9.ics",
    "/netwerk/" + "a" * 3000 + ".ics",
    "/qr/%00.svg",
    "/qr/" + "a" * 3000 + ".svg",
    "/qr/ABC.svg",
    "/?netwerk=%00",
    "/?netwerk=" + "a" * 3000,
    "/bestaat-niet",
    "/event/",
]


async def test_anything_that_is_not_valid_is_a_plain_404(served):
    client, event = served
    for path in NOT_FOUND:
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.text == "Niet gevonden.", path
        assert response.headers["cache-control"] == "no-store", path
    assert (await client.get(f"/event/{event.id}.ics")).status_code == 200
    assert (await client.get("/?lang=en&netwerk=bestaat-niet")).text == "Not found."


async def test_drafts_and_proposals_are_not_found_by_their_id(db, clock):
    draft = await make_event(db, clock(), publish=False)
    board = await make_member(db, name="Bestuurslid")
    starts_at = clock() + timedelta(days=20)
    draft_of_proposal = EventDraft(
        kind=EventKind.UITWISSELING,
        title="Zo doen wij het",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        location="Buurthuis",
    )
    async with db.transaction() as session:
        proposal = await propose_exchange_session(
            session, member_id=board.id, draft=draft_of_proposal, now=clock()
        )
    async with serving(make_app(db, clock)) as base, httpx.AsyncClient(base_url=base) as client:
        for event in (draft, proposal):
            assert (await client.get(f"/event/{event.id}.ics")).status_code == 404


async def test_a_wrong_method_on_a_real_route_is_405_with_allow(served):
    client, event = served
    paths = ["/", "/agenda.ics", "/netwerk/wyck.ics", f"/event/{event.id}.ics", "/healthz"]
    paths += ["/favicon.ico", "/feed/" + "a" * 32 + ".ics", f"/qr/{event.public_code}.svg"]
    for path in paths:
        for method in ("POST", "PUT", "DELETE", "PATCH", "PROPFIND"):
            response = await client.request(method, path)
            assert response.status_code == 405, (method, path)
            assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}, path


async def test_every_page_is_protected_and_its_own_style_allowed(served):
    client, _ = served
    for path in ("/", "/?lang=en", "/?netwerk=wyck", "/?netwerk=wyck&lang=en"):
        for headers in (IDENTITY, {"Accept-Encoding": "gzip"}):
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, path
            assert response.headers["content-type"].startswith("text/html")
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "no-referrer"
            policy = response.headers["content-security-policy"]
            assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy
            assert "frame-ancestors 'none'" in policy
            # The page's inline <style> and <script>, exactly, by their hashes, and no others.
            styles = re.findall(r"<style>(.*?)</style>", response.text, re.DOTALL)
            scripts = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
            assert styles
            for block in styles + scripts:
                digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
                assert f"'sha256-{digest}'" in policy
            assert policy.count("'sha256-") == len(set(styles)) + len(set(scripts))
        head = await client.head(path, headers=IDENTITY)
        assert head.headers["content-security-policy"] == policy


async def test_feeds_and_errors_say_nosniff_and_no_server_banner(served):
    client, event = served
    for path in ("/agenda.ics", f"/event/{event.id}.ics", "/healthz", "/nope", "/favicon.ico"):
        response = await client.get(path)
        for name in SECURITY:
            assert name in response.headers, (path, name)
        assert "server" not in response.headers, path
        assert "content-security-policy" not in response.headers or path == "/"
    # A route's own choice stays: the personal feed already says no-referrer, once.
    not_modified = await client.get(
        "/agenda.ics", headers={"If-None-Match": (await client.get("/agenda.ics")).headers["etag"]}
    )
    assert not_modified.status_code == 304
    assert not_modified.headers["x-content-type-options"] == "nosniff"


async def test_a_favicon_that_pages_link(served):
    client, _ = served
    response = await client.get("/favicon.ico", headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/vnd.microsoft.icon"
    icon = Image.open(io.BytesIO(response.content))
    assert icon.format == "ICO"
    assert {(16, 16), (32, 32), (48, 48)} <= icon.info["sizes"]
    assert (await client.head("/favicon.ico")).status_code == 200
    page = await client.get("/")
    assert '<link rel="icon" href="favicon.ico">' in page.text


def test_the_policy_follows_what_a_page_holds():
    bare = content_security_policy(b"<!doctype html><p>hoi</p>").decode()
    assert "script-src 'none'" in bare and "style-src 'none'" in bare
    page = b"<style>p{color:red}</style><script>go()</script><script src=app.js></script>"
    policy = content_security_policy(page).decode()
    style = base64.b64encode(hashlib.sha256(b"p{color:red}").digest()).decode()
    script = base64.b64encode(hashlib.sha256(b"go()").digest()).decode()
    assert f"style-src 'sha256-{style}'" in policy
    assert f"script-src 'sha256-{script}' 'self'" in policy
    compressed = gzip.compress(page)
    assert compressed != page  # the middleware unpacks gzipped pages first (tested over HTTP)
