"""The sandbox page in a real browser: a newcomer tries the bot without Telegram.

The whole service runs in sandbox mode in this process (database, scheduler, HTTP server, the real
bot polling the Bot API emulator), and Debian's headless Chromium drives ``/sandbox`` through
Playwright. No browser is ever downloaded: without ``/usr/bin/chromium`` the test is skipped.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from playwright.async_api import ConsoleMessage, async_playwright, expect
from sqlalchemy import select

from buurtagenda.config import Config, DatabaseConfig, HttpConfig
from buurtagenda.service import Service
from emulator import Entity
from models.events.entities import Event
from models.members.entities import Member
from models.registrations.entities import Registration, RegistrationStatus

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MASTERCLASS = "Omgevingswet: wat betekent dit voor jouw buurt?"
BRAM = 900_000_002  # one of the emulator's demo volunteers

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's Chromium is not at /usr/bin/chromium (apt-get install chromium; CI has it). "
    "This test never downloads a browser.",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def confirmed_registrations(service: Service, telegram_id: int) -> list[str]:
    async with service.database.read() as session:
        titles = await session.scalars(
            select(Event.title)
            .join(Registration, Registration.event_id == Event.id)
            .join(Member, Member.id == Registration.member_id)
            .where(
                Member.telegram_id == telegram_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
        return list(titles)


async def test_a_newcomer_registers_for_a_masterclass_in_the_browser(tmp_path: Path) -> None:
    port = free_port()
    config = Config(
        database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"),
        http=HttpConfig(port=port, public_url=f"http://127.0.0.1:{port}"),
    )
    service = Service(config)
    await service.start()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":  # CSP violations and failed requests land here too
            problems.append(message.text)

    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page(
                    viewport={"width": 390, "height": 844}, device_scale_factor=2
                )
                page.on("console", on_console)
                page.on("pageerror", lambda error: problems.append(str(error)))
                await page.goto(f"{config.http.public_url}/sandbox/")  # redirects to /sandbox
                await expect(page.get_by_role("heading", level=1)).to_have_text(
                    "Probeer Buurtagenda zonder Telegram"
                )

                # Choose a volunteer: each has their own chat.
                bram = page.get_by_role("tab", name=re.compile(r"^Bram"))
                await bram.click()
                await expect(bram).to_have_attribute("aria-selected", "true")
                chat = page.get_by_role("log")
                bot_messages = chat.locator("li.msg.bot")

                # /start, then a network from the paged picker (edited in place on each tap).
                shortcuts = page.get_by_role("group", name="Veelgebruikte opdrachten")
                await shortcuts.get_by_role("button", name="/start").click()
                picker = bot_messages.last
                await expect(picker).to_contain_text("Van welk buurtnetwerk ben je?")
                await picker.get_by_role("button", name="▶", exact=True).click()
                await picker.get_by_role("button", name="De Heeg", exact=True).click()
                await expect(picker).to_contain_text("Je hoort bij De Heeg")
                await expect(bot_messages).to_have_count(2)  # welcome + the picker, edited
                await expect(page.get_by_role("status")).to_contain_text("Opgeslagen: De Heeg")

                # /agenda typed in the text box (Enter sends), then the masterclass's card.
                box = page.get_by_label("Bericht aan Buurtagenda")
                await box.fill("/agenda")
                await box.press("Enter")
                agenda = bot_messages.filter(has_text="kies een bijeenkomst")
                await agenda.get_by_role("button", name=re.compile(r"^Omgevingswet")).click()
                card = bot_messages.filter(has_text=MASTERCLASS)
                await card.get_by_role("button", name="✅ Aanmelden", exact=True).click()
                await expect(page.get_by_role("status")).to_contain_text("Je bent aangemeld")
                await expect(card).to_contain_text("Je bent aangemeld")
                await expect(card.locator("strong").first).to_have_text(MASTERCLASS)
                place = card.get_by_role("link", name="Stadhuis Maastricht, Markt 78")
                await expect(place).to_have_attribute("href", re.compile(r"^https://"))

                await page.screenshot(path=tmp_path / "sandbox.png")

                # Whatever a bot sends stays text: entities become elements, never markup.
                emulator = service.emulator
                assert emulator is not None
                await emulator.api.call(
                    "sendMessage",
                    chat_id=BRAM,
                    text='<b>vet <i>en <a href="https://example.org/">link</a></i></b> '
                    "&lt;img src=x onerror=alert(1)&gt;",
                    parse_mode="HTML",
                )
                await expect(bot_messages.last).to_contain_text("<img src=x onerror=alert(1)>")
                nested = bot_messages.last.locator("strong em a")
                await expect(nested).to_have_attribute("href", "https://example.org/")
                emulator.add_message(  # Telegram refuses such a link; the page guards anyway
                    emulator.chats[BRAM],
                    sender=emulator.bot,
                    by_bot=True,
                    text="boos",
                    entities=[Entity("text_link", 0, 4, url="javascript:alert(1)")],
                )
                await expect(bot_messages.last).to_have_text(re.compile(r"boos"))
                assert await bot_messages.last.locator("a").count() == 0
                assert await page.locator("img").count() == 0
            finally:
                await browser.close()
        assert await confirmed_registrations(service, BRAM) == [MASTERCLASS]
        assert problems == []
    finally:
        await service.stop()
