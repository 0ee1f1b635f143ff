"""The sandbox page in a real browser: a newcomer tries the bot without Telegram.

The whole service runs in sandbox mode in this process (database, scheduler, HTTP server, the real
bot polling the Bot API emulator), and Debian's headless Chromium drives ``/sandbox`` through
Playwright. No browser is ever downloaded: without ``/usr/bin/chromium`` the test is skipped.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from playwright.async_api import ConsoleMessage, async_playwright, expect
from sqlalchemy import select
from starlette.routing import BaseRoute, Mount, Route

from buurtagenda.config import Config, DatabaseConfig, HttpConfig, TelegramConfig
from buurtagenda.service import Service
from emulator import Entity, TelegramEmulator
from emulator.sandbox import sandbox_routes
from emulator.server import serve
from models.events.entities import Event
from models.members.entities import Member
from models.registrations.entities import Registration, RegistrationStatus
from tests.axe import axe_violations

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
                await picker.get_by_role("button", name="Volgende ▶", exact=True).click()
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


# Every visible text under 16px, as "tag.class: size "text"" (screen-reader-only text excluded).
SMALL_TEXT = """() => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!node.textContent.trim() || !element) continue;
    if (element.closest(".sr-only, [hidden], script, style, dialog:not([open])")) continue;
    if (!element.getClientRects().length) continue;
    const style = getComputedStyle(element);
    if (style.visibility === "hidden") continue;
    const size = parseFloat(style.fontSize);
    if (size < 16) {
      small.push(`${element.tagName}.${element.className}: ${size}px "${node.textContent.trim()}"`);
    }
  }
  return small;
}"""
# Where the screenshots go: BUURTAGENDA_SCREENSHOTS (CI artefacts), else the test's tmp_path.
SCREENSHOTS = os.environ.get("BUURTAGENDA_SCREENSHOTS", "")


def sandbox_config(tmp_path: Path) -> Config:
    port = free_port()
    return Config(
        database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"),
        http=HttpConfig(port=port, public_url=f"http://127.0.0.1:{port}"),
    )


async def test_the_sandbox_for_someone_of_70_on_a_phone(tmp_path: Path) -> None:
    config = sandbox_config(tmp_path)
    service = Service(config)
    await service.start()
    shots = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page(viewport={"width": 390, "height": 844})
                await page.goto(f"{config.http.public_url}/sandbox")
                # It says it is a demo, and who the three volunteers are.
                await expect(page.locator(".demo")).to_have_text("Demo")
                await expect(page.locator("header")).to_contain_text("Dit is een demo")
                await expect(page.locator("header")).to_contain_text(
                    "Anouk, Bram en Fatima zijn verzonnen vrijwilligers."
                )
                await page.get_by_role("tab", name=re.compile(r"^Bram")).click()
                bot_messages = page.get_by_role("log").locator("li.msg.bot")
                shortcuts = page.get_by_role("group", name="Veelgebruikte opdrachten")
                await shortcuts.get_by_role("button", name="/start").click()
                picker = bot_messages.last
                await expect(picker).to_contain_text("Pagina 1 van 4")
                # No dead buttons: the page number is text, not a button that does nothing.
                buttons = await picker.locator(".ikb-button").all_inner_texts()
                assert not [b for b in buttons if re.fullmatch(r"\s*\d+\s*/\s*\d+\s*", b)]
                await picker.get_by_role("button", name="Volgende ▶", exact=True).click()
                await expect(picker).to_contain_text("Pagina 2 van 4")
                await picker.get_by_role("button", name="De Heeg", exact=True).click()
                await expect(picker).to_contain_text("Je hoort bij De Heeg")
                await shortcuts.get_by_role("button", name="/start").click()
                menu = bot_messages.filter(has_text="Welkom terug, Bram")
                await expect(menu.locator(".ikb-button")).to_have_count(4)
                labels = await menu.locator(".ikb-button").all_inner_texts()
                assert "📅 Agenda" in labels
                emoji = [label.split()[0] for label in labels]
                assert len(set(emoji)) == len(emoji), labels  # no two look-alike buttons
                await page.screenshot(path=shots / "sandbox-390.png")

                assert await page.evaluate(SMALL_TEXT) == []
                assert await axe_violations(page) == []
                await page.set_viewport_size({"width": 320, "height": 700})
                assert await page.evaluate("document.documentElement.scrollWidth") <= 320
                await page.screenshot(path=shots / "sandbox-320.png")
                assert await page.evaluate(SMALL_TEXT) == []

                # English: the page, and the bot with every volunteer.
                await page.set_viewport_size({"width": 390, "height": 844})
                await page.get_by_role("button", name="Switch to English").click()
                await expect(page.get_by_role("heading", level=1)).to_have_text(
                    "Try Buurtagenda without Telegram"
                )
                await expect(page.locator("#note")).to_contain_text("Telegram set to English")
                await page.get_by_role("group", name="Common commands").get_by_role(
                    "button", name="/start"
                ).click()
                await expect(bot_messages.last).to_contain_text("Welcome back, Bram")
                await page.get_by_role("tab", name=re.compile(r"^Anouk")).click()
                await page.get_by_role("button", name="Start", exact=True).click()
                await expect(bot_messages.first).to_contain_text("Welcome to")
                assert await axe_violations(page) == []
                await page.screenshot(path=shots / "sandbox-390-en.png")
            finally:
                await browser.close()
    finally:
        await service.stop()


async def test_a_link_on_the_agenda_opens_the_event_in_the_sandbox(tmp_path: Path) -> None:
    config = sandbox_config(tmp_path)
    service = Service(config)
    await service.start()
    shots = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page(viewport={"width": 390, "height": 844})
                await page.goto(config.http.public_url + "/")
                assert await page.locator('a[href*="t.me"]').count() == 0
                await expect(page.locator(".demo")).to_contain_text("Dit is een demo")
                assert await axe_violations(page) == []
                await page.screenshot(path=shots / "agenda-sandbox-390.png")
                register = page.get_by_role(
                    "link", name=re.compile(r"^Aanmelden in de demo: Omgevingswet")
                )
                code = (await register.get_attribute("href") or "").rsplit("e_", 1)[1]
                await register.click()
                # The parameter is used once: a reload does not open the event again.
                await expect(page).to_have_url(f"{config.http.public_url}/sandbox")
                bot_messages = page.get_by_role("log").locator("li.msg.bot")
                card = bot_messages.filter(has_text=MASTERCLASS)
                await card.get_by_role("button", name="✅ Aanmelden", exact=True).click()
                # Anouk is new: first her network, then the event again.
                picker = bot_messages.filter(has_text="Van welk buurtnetwerk ben je?")
                await picker.get_by_role("button", name="Amby", exact=True).click()
                await expect(picker).to_have_count(0)
                again = bot_messages.filter(has_text=MASTERCLASS).last
                await again.get_by_role("button", name="✅ Aanmelden", exact=True).click()
                await expect(page.get_by_role("status")).to_contain_text("Je bent aangemeld")
                assert code
            finally:
                await browser.close()
        assert await confirmed_registrations(service, 900_000_001) == [MASTERCLASS]  # Anouk
    finally:
        await service.stop()


def emulator_paths() -> list[tuple[str, str]]:
    """Every route of the emulator and the sandbox, as (method, path) with its parameters filled."""

    def walk(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
        for route in routes:
            if isinstance(route, Mount):
                yield from walk(route.routes, prefix + route.path)
            elif isinstance(route, Route):
                path = re.sub(r"\{[^}]+\}", "1", prefix + route.path)
                yield sorted(route.methods or ["GET"])[0], path

    emulator = TelegramEmulator()
    return list(walk([*sandbox_routes(emulator), *emulator.app.routes]))


async def test_with_a_token_no_emulator_or_sandbox_route_is_there(tmp_path: Path) -> None:
    telegram = TelegramEmulator(bot_username="EchteBot")
    async with serve(telegram) as api_url:
        config = sandbox_config(tmp_path)
        config = config.model_copy(
            update={"telegram": TelegramConfig(token=telegram.token, api_base_url=api_url)}
        )
        service = Service(config)
        await service.start()
        try:
            assert service.emulator is None
            paths = emulator_paths()
            assert ("POST", "/sandbox/language") in paths and ("GET", "/_emulator/feed") in paths
            async with httpx.AsyncClient(base_url=config.http.public_url) as client:
                assert (await client.get("/healthz")).status_code == 200
                for method, path in paths:
                    response = await client.request(method, path)
                    assert response.status_code == 404, (method, path, response.status_code)
        finally:
            await service.stop()
