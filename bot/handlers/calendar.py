"""Zet in je agenda: one event as an .ics document, or a personal feed of all one's registrations.

The personal link is shown once, when it is made: only a hash of its secret is stored, so a
lost link is replaced ("Nieuwe agenda-link"), after which the old one stops working.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.actions import EventCode, action
from bot.context import Turn, escape
from calendars.ical import event_ics
from calendars.links import personal_feed_links
from models.events.queries import visible_event
from models.feeds.operations import feed_token_for, feed_token_of, rotate_feed_token
from models.registrations import operations as registrations


@action("ic", shows_event=True)
async def on_calendar_file(turn: Turn, code: EventCode) -> None:
    """The event as a calendar document (with the member's place, if any)."""
    async with turn.deps.database.read() as session:
        event = await visible_event(session, public_code=code, member=turn.member)
        registration = await registrations.registration_of(session, event, turn.member.id)
        document = event_ics(
            event,
            public_url=turn.deps.public_url,
            bot_username=turn.context.bot.username,
            lang=turn.member.language.value,
            registration=registration,
            timezone=turn.deps.timezone,
            sandbox=turn.deps.sandbox,
        )
    await turn.toast()
    await turn.context.bot.send_document(
        turn.chat_id,
        document=document,
        filename=f"buurtagenda-{code}.ics",
        caption=turn.t("Open dit bestand om de bijeenkomst in je agenda te zetten."),
        reply_markup=InlineKeyboardMarkup(
            [[turn.button(turn.t("📅 Al mijn aanmeldingen in mijn agenda"), show_feed)]]
        ),
    )


@action("zf")
async def show_feed(turn: Turn) -> None:
    """The personal feed: made now (and shown), or explained and replaceable."""
    async with turn.deps.database.transaction() as session:
        existing = await feed_token_of(session, member_id=turn.member.id)
        issued = (
            None
            if existing
            else await feed_token_for(session, member_id=turn.member.id, now=turn.deps.clock())
        )
    await turn.toast()
    if issued is not None and issued.plain is not None:
        await _send_links(turn, issued.plain)
        return
    t = turn.t
    fetched = (
        t(
            "Je agenda-app haalde hem voor het laatst op {moment}.",
            moment=t.moment_in_text(existing.last_fetched_at),
        )
        if existing is not None and existing.last_fetched_at is not None
        else t("Je agenda-app heeft hem nog niet opgehaald.")
    )
    await turn.show(
        t(
            "Je hebt al een eigen agenda-link. {fetched}\n\nWe bewaren de link zelf niet leesbaar, "
            "zodat niemand anders je agenda kan zien. Kwijt, of een nieuwe telefoon? Maak een "
            "nieuwe link; de oude werkt dan niet meer.",
            fetched=fetched,
        ),
        [[turn.button(t("🔄 Nieuwe agenda-link"), on_new_feed_link)]],
    )


@action("zn")
async def on_new_feed_link(turn: Turn) -> None:
    async with turn.deps.database.transaction() as session:
        plain = await rotate_feed_token(session, member_id=turn.member.id, now=turn.deps.clock())
    await turn.toast(turn.t("Nieuwe link gemaakt; de oude werkt niet meer."))
    await _send_links(turn, plain)


async def _send_links(turn: Turn, plain: str) -> None:
    t = turn.t
    links = personal_feed_links(turn.deps.public_url, plain)
    text = "\n".join(
        [
            t("📅 <b>Je eigen agenda-link</b>"),
            t("Al je aanmeldingen staan dan vanzelf in je agenda, ook als er iets verandert."),
            "",
            t(
                "<b>iPhone:</b> tik op de link hieronder om hem te kopiëren, plak hem in Safari en "
                "kies ‘Abonneer’."
            ),
            f"<code>{escape(links.webcal)}</code>",
            t(
                "<b>Android / Google Agenda:</b> tik op de knop ‘Google Agenda’ en kies "
                "‘Toevoegen’. Of voeg deze link toe bij ‘Andere agenda’s → Via URL’:"
            ),
            f"<code>{escape(links.https)}</code>",
            "",
            t("Deze link is persoonlijk: deel hem niet."),
        ]
    )
    await turn.say(
        text,
        [
            [InlineKeyboardButton(t("Google Agenda"), url=links.google)],
            [turn.button(t("🔄 Nieuwe agenda-link"), on_new_feed_link)],
        ],
    )
