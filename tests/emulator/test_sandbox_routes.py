"""``/sandbox`` over HTTP, without a browser: the page, its security headers, the redirect.

The browser test (``tests/sandbox``) shows the page works; these check what it is built from.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from emulator import TelegramEmulator
from emulator.sandbox import sandbox_routes


@pytest.fixture
async def client(emu: TelegramEmulator) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=[*sandbox_routes(emu), Mount("", app=emu.app)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
        yield http


def sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


async def test_the_page_is_self_contained_and_only_runs_its_own_code(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/sandbox")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "<h1" in page and "Probeer Buurtagenda zonder Telegram" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no CDN: works offline

    # The CSP allows exactly the inline script and style, by hash; nothing else may run.
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(scripts) == 1 and len(styles) == 1
    assert policy["script-src"] == f"'sha256-{sha256(scripts[0])}'"
    assert policy["style-src"] == f"'sha256-{sha256(styles[0])}'"
    assert policy["default-src"] == "'none'" and policy["connect-src"] == "'self'"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_volunteers_are_passed_as_inert_data(
    emu: TelegramEmulator, client: httpx.AsyncClient
) -> None:
    emu.bot.first_name = "</script><script>alert(1)</script>"
    response = await client.get("/sandbox")
    data = re.search(
        r'<script type="application/json" id="sandbox-config">(.*?)</script>', response.text, re.S
    )
    assert data is not None and "<" not in data.group(1)
    config = json.loads(data.group(1))
    assert config["bot"]["name"] == "</script><script>alert(1)</script>"
    # A bare emulator gets the demo volunteers on the first visit (and not twice).
    assert [(p["first_name"], p["language_code"]) for p in config["people"]] == [
        ("Anouk", "nl"),
        ("Bram", "nl"),
        ("Fatima", "en"),
    ]
    await client.get("/sandbox")
    assert len(emu.users) == 3
    assert all(p["chat_id"] in emu.chats for p in config["people"])


async def test_a_trailing_slash_redirects_to_the_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/sandbox/")
    assert response.status_code == 308
    assert response.headers["location"] == "../sandbox"  # relative: fine behind a path prefix
    followed = await client.get("/sandbox/", follow_redirects=True)
    assert followed.status_code == 200 and str(followed.url) == "http://sandbox.test/sandbox"
    assert (await client.get("/_emulator/users")).status_code == 200  # the emulator still answers
