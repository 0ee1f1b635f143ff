"""The agenda page in real headless Chromium (Debian's, never a downloaded one): deep links and
subscribe links present, usable on a phone, and a screenshot for people to look at."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from models.registrations import operations as registrations
from tests.factories import make_event, make_member, network_id
from tests.feeds.helpers import BOT, make_app, serving

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed at /usr/bin/chromium (.ci/run installs it)",
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Where the screenshots go: BUURTAGENDA_SCREENSHOTS (CI artefacts), else the test's tmp_path.
SCREENSHOTS = os.environ.get("BUURTAGENDA_SCREENSHOTS", "")


async def test_the_page_on_a_phone(sqlite_db, clock, policy, tmp_path):
    from playwright.async_api import async_playwright

    full = await make_event(sqlite_db, clock(), capacity=1, title="Masterclass Omgevingswet")
    await make_event(
        sqlite_db,
        clock(),
        starts_in=timedelta(days=20),
        title="Zo doet Wyck het: buurtpreventie",
        network_id=await network_id(sqlite_db, "wyck"),
        description="Een avond over buurtpreventie.\nMet koffie en vlaai.",
    )
    await make_event(sqlite_db, clock(), starts_in=timedelta(days=40), title="Dialoog met de raad")
    anna, ben = await make_member(sqlite_db, name="Anna"), await make_member(sqlite_db, name="Ben")
    async with sqlite_db.transaction() as session:
        for member in (anna, ben):
            await registrations.register(
                session, event_id=full.id, member_id=member.id, now=clock(), policy=policy
            )

    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    async with serving(make_app(sqlite_db, clock)) as base, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            # CSP violations (web/headers.py) and failed requests (the favicon) land here.
            problems: list[str] = []
            page.on(
                "console",
                lambda message: problems.append(message.text) if message.type == "error" else None,
            )
            response = await page.goto(base + "/")
            assert response is not None and "content-security-policy" in response.headers
            assert response is not None and response.status == 200
            assert await page.get_attribute("html", "lang") == "nl"
            assert await page.locator("h1").count() == 1

            deep_links = page.locator(f'a[href^="https://t.me/{BOT}?start=e_"]')
            assert await deep_links.count() == 3
            assert await deep_links.nth(0).inner_text() == "Op de wachtlijst via Telegram"  # full
            assert await deep_links.nth(1).inner_text() == "Aanmelden via Telegram"
            assert await page.locator('a[href^="webcal://"]').count() == 1
            google = page.locator('a[href^="https://calendar.google.com/calendar/render?cid="]')
            assert await google.count() == 1
            assert "https%3A%2F%2Fagenda.example.nl%2Fagenda.ics" in await google.get_attribute(
                "href"
            )
            # The copy field has its label; nothing is wider than the phone.
            assert await page.get_by_label("Link om te kopiëren").input_value() == (
                "https://agenda.example.nl/agenda.ics"
            )
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0
            assert "Vol · 1 op de wachtlijst" in await page.locator("main").inner_text()
            await page.screenshot(path=str(folder / "agenda-nl.png"), full_page=True)

            # The QR code for a poster opens, and is an image.
            await page.locator("details.qr summary").first.click()
            qr = page.locator("details.qr img").first
            await qr.wait_for(state="visible")
            # The QR code loads lazily once its <details> opens: wait for it, then check it.
            await qr.evaluate(
                "image => image.complete ? null : new Promise((done, failed) => {"
                " image.addEventListener('load', done); image.addEventListener('error', failed); })"
            )
            assert await qr.evaluate("image => image.complete && image.naturalWidth > 0")

            # Filter by network, then switch to English.
            await page.locator("details summary", has_text="Kies je buurtnetwerk").click()
            await page.get_by_role("link", name="Belfort-Daalhof").click()
            assert "Zo doet Wyck het" not in await page.locator("main").inner_text()
            await page.get_by_role("link", name="English").click()
            assert await page.get_attribute("html", "lang") == "en"
            assert "Belfort-Daalhof" in await page.locator("main").inner_text()
            assert await page.locator('a[href^="webcal://"]').get_attribute("href") == (
                "webcal://agenda.example.nl/netwerk/belfort-daalhof.ics"
            )
            await page.screenshot(path=str(folder / "agenda-en.png"), full_page=True)
            assert problems == []
        finally:
            await browser.close()
    assert (folder / "agenda-nl.png").stat().st_size > 10_000
