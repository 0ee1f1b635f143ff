"""The agenda page in real headless Chromium (Debian's, never a downloaded one), as someone of 70
uses it on a phone: subscribing first and folded, a copy button, one clear choice of network,
a poster page per event instead of QR codes under every event, no sideways scrolling, and axe-core
finding nothing. Screenshots go to BUURTAGENDA_SCREENSHOTS (else the test's tmp_path)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from models.registrations import operations as registrations
from tests.axe import axe_violations
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
SCREENSHOTS = os.environ.get("BUURTAGENDA_SCREENSHOTS", "")
PHONE = {"width": 390, "height": 844}
FEED = "https://agenda.example.nl/agenda.ics"


async def three_events(db, clock, policy):  # type: ignore[no-untyped-def]
    full = await make_event(db, clock(), capacity=1, title="Masterclass Omgevingswet")
    await make_event(
        db,
        clock(),
        starts_in=timedelta(days=20),
        title="Zo doet Wyck het: buurtpreventie",
        network_id=await network_id(db, "wyck"),
        description="Een avond over buurtpreventie.\nMet koffie en vlaai.",
    )
    await make_event(db, clock(), starts_in=timedelta(days=40), title="Dialoog met de raad")
    anna, ben = await make_member(db, name="Anna"), await make_member(db, name="Ben")
    async with db.transaction() as session:
        for member in (anna, ben):
            await registrations.register(
                session, event_id=full.id, member_id=member.id, now=clock(), policy=policy
            )
    return full


async def test_the_page_on_a_phone(sqlite_db, clock, policy, tmp_path):
    from playwright.async_api import async_playwright

    full = await three_events(sqlite_db, clock, policy)
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    async with serving(make_app(sqlite_db, clock)) as base, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = await browser.new_context(viewport=PHONE)
            await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            page = await context.new_page()
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
            await page.screenshot(path=str(folder / "agenda-nl.png"))

            deep_links = page.locator(f'a[href^="https://t.me/{BOT}?start=e_"]')
            assert await deep_links.count() == 3
            assert await deep_links.nth(0).inner_text() == "Op de wachtlijst via Telegram"  # full
            assert await deep_links.nth(1).inner_text() == "Aanmelden via Telegram"
            text = await page.locator("body").inner_text()
            assert "Vol · 1 op de wachtlijst" in text
            assert ".ics" not in text  # "In je agenda zetten", no file-type jargon

            # "Zet de agenda in je telefoon": on the first screen, folded, before the events.
            subscribe = page.locator("details", has_text="Zet de agenda in je telefoon")
            box = await subscribe.locator("summary").bounding_box()
            assert box is not None and box["y"] + box["height"] <= PHONE["height"]
            assert await subscribe.get_attribute("open") is None
            await subscribe.locator("summary").click()
            assert await page.locator('a[href^="webcal://"]').count() == 1
            google = page.locator('a[href^="https://calendar.google.com/calendar/render?cid="]')
            assert "https%3A%2F%2Fagenda.example.nl%2Fagenda.ics" in (
                await google.get_attribute("href") or ""
            )
            field = page.get_by_label("Of kopieer deze link naar je agenda-app")
            assert await field.input_value() == FEED
            await page.get_by_role("button", name="Kopieer").click()
            await page.get_by_role("status").filter(has_text="Gekopieerd").wait_for()
            assert await page.evaluate("navigator.clipboard.readText()") == FEED
            await page.screenshot(path=str(folder / "agenda-nl-subscribe.png"))

            # No QR codes on the page: one poster link per event, to a printable poster.
            assert await page.locator("main img").count() == 0
            posters = page.get_by_role("link", name="Poster om op te hangen")
            assert await posters.count() == 3
            assert await axe_violations(page) == []
            for width in (390, 320):
                await page.set_viewport_size({"width": width, "height": 844})
                assert await page.evaluate("document.documentElement.scrollWidth") <= width

            await posters.first.click()
            await page.wait_for_url(f"**/poster/{full.public_code}")
            assert await page.locator("h1").inner_text() == "Masterclass Omgevingswet"
            qr = page.get_by_role("img", name="QR-code: aanmelden voor Masterclass Omgevingswet")
            await qr.evaluate(
                "image => image.complete ? null : new Promise((done, failed) => {"
                " image.addEventListener('load', done); image.addEventListener('error', failed); })"
            )
            assert await qr.evaluate("image => image.complete && image.naturalWidth > 0")
            assert await page.get_by_role("button", name="Afdrukken").is_visible()
            assert await page.evaluate("document.documentElement.scrollWidth") <= 320
            assert await axe_violations(page) == []
            await page.screenshot(path=str(folder / "poster-nl.png"), full_page=True)
            await page.get_by_role("link", name="← Terug naar de agenda").click()

            # The network: one list box and a button, then English.
            await page.wait_for_url(base + "/")
            await page.get_by_label("Kies je buurtnetwerk").select_option(label="Belfort-Daalhof")
            await page.get_by_role("button", name="Toon").click()
            await page.wait_for_url("**/?netwerk=belfort-daalhof")
            assert "Zo doet Wyck het" not in await page.locator("main").inner_text()
            await page.get_by_role("link", name="English").click()
            assert await page.get_attribute("html", "lang") == "en"
            assert "Belfort-Daalhof" in await page.locator("main").inner_text()
            assert await page.locator('a[href^="webcal://"]').get_attribute("href") == (
                "webcal://agenda.example.nl/netwerk/belfort-daalhof.ics"
            )
            assert await axe_violations(page) == []
            await page.screenshot(path=str(folder / "agenda-en.png"), full_page=True)
            assert problems == []
        finally:
            await browser.close()
    assert (folder / "agenda-nl.png").stat().st_size > 10_000


async def test_the_network_choice_works_without_javascript(sqlite_db, clock, policy):
    from playwright.async_api import async_playwright

    await three_events(sqlite_db, clock, policy)
    async with serving(make_app(sqlite_db, clock)) as base, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
            page = await context.new_page()
            await page.goto(base + "/?lang=en")
            choice = page.get_by_label("Choose your neighbourhood network")
            assert await choice.locator("option").count() == 29  # everything + 28 networks
            await choice.select_option(label="Wyck")
            await page.get_by_role("button", name="Show").click()
            await page.wait_for_url("**/?netwerk=wyck&lang=en")
            assert "Zo doet Wyck het" in await page.locator("main").inner_text()
            assert await page.get_attribute("html", "lang") == "en"
            # Without the script there is nothing to copy with: no dead button either.
            assert not await page.get_by_role("button", name="Copy").is_visible()
        finally:
            await browser.close()
