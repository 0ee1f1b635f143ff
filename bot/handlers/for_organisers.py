"""What a member hears who types an organiser's command: what it is for, and what they can do
instead, with buttons to get there. Not a bare "that is not allowed": people find these commands
in posters, screenshots and other people's menus, and should learn where to go.

One table (``FOR_ORGANISERS``) for every organiser command, used by ``organisers_only`` (a
command handler's decorator) and by the programme's conversations. Who is an organiser is the
domain's decision (``require_organiser``), not the menu's.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import ContextTypes

from bot import actions
from bot.context import Buttons, Turn, begin_turn
from bot.handlers.agenda import show_agenda
from bot.handlers.calendar import show_feed
from bot.handlers.contact.ask import show_contact
from bot.handlers.ideas.propose import show_menu
from bot.handlers.ideas.questions import on_my_dialogues
from bot.handlers.mine import show_mine
from bot.handlers.settings import show_settings
from i18n.translate import N_
from models.errors import NotAllowed
from models.organisers.authorisation import require_organiser

T = TypeVar("T")
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, T]]


@dataclass(frozen=True)
class Way:
    """A button to what a member can do instead: its label (a msgid) and handler (``@action``)."""

    label: str
    handler: actions.Handler
    args: tuple[str | int, ...] = ()


AGENDA = Way(N_("📅 Agenda"), show_agenda, (0,))
MINE = Way(N_("🙋 Mijn aanmeldingen"), show_mine)
IDEAS = Way(N_("💡 Ideeën"), show_menu)
QUESTION = Way(N_("🗣 Een vraag insturen"), on_my_dialogues)
CALENDAR = Way(N_("📅 Zet in je agenda"), show_feed)
SETTINGS = Way(N_("⚙️ Instellingen"), show_settings)
CONTACT = Way(N_("📬 Contactpersonen"), show_contact)


@dataclass(frozen=True)
class ForOrganisers:
    purpose: str  # what organisers do with it (a msgid)
    instead: str  # what a member can do instead (a msgid)
    ways: tuple[Way, ...] = ()


# Keyed by the Dutch command; English aliases use the same entry.
FOR_ORGANISERS: dict[str, ForOrganisers] = {
    "programma": ForOrganisers(
        N_(
            "Met /programma beheren organisatoren het programma: bijeenkomsten wijzigen, "
            "verplaatsen, annuleren en publiceren."
        ),
        N_("Alles wat op het programma staat, vind je in de agenda. Daar meld je je ook aan."),
        (AGENDA,),
    ),
    "nieuw": ForOrganisers(
        N_("Met /nieuw maken organisatoren een nieuwe bijeenkomst."),
        N_(
            "Wil je zelf iets organiseren? Een uitwisseling voor je buurtnetwerk stel je voor "
            "met /voorstel; een onderwerp voor een masterclass of uitwisseling met /idee."
        ),
        (IDEAS,),
    ),
    "reeks": ForOrganisers(
        N_("Met /reeks plannen organisatoren een jaar masterclasses of dialogen in één keer."),
        N_(
            "Wat er al gepland is, staat in de agenda. Heb je een onderwerp in gedachten? "
            "Stel het voor met /idee."
        ),
        (AGENDA, IDEAS),
    ),
    "aanmeldingen": ForOrganisers(
        N_(
            "Met /aanmeldingen zien organisatoren hoeveel mensen zich per bijeenkomst en per "
            "buurtnetwerk hebben aangemeld."
        ),
        N_(
            "Waar jij voor bent aangemeld, zie je bij Mijn aanmeldingen; hoeveel plaatsen er nog "
            "vrij zijn, staat in de agenda."
        ),
        (MINE, AGENDA),
    ),
    "bericht": ForOrganisers(
        N_("Met /bericht sturen organisatoren een bericht aan de leden."),
        N_(
            "Wil je iets kwijt? Een vraag voor een dialoog met raads- en burgerleden stuur je in "
            "met /vraag, een idee voor een bijeenkomst met /idee."
        ),
        (QUESTION, IDEAS),
    ),
    "vragen": ForOrganisers(
        N_("Met /vragen zien organisatoren de ingestuurde vragen voor een dialoog."),
        N_(
            "Zelf een vraag insturen voor een dialoog waar je je voor hebt aangemeld? "
            "Dat kan met /vraag."
        ),
        (QUESTION,),
    ),
    "deelnemers": ForOrganisers(
        N_(
            "Met /deelnemers houden organisatoren de deelnemerslijst van een bijeenkomst bij en "
            "checken ze mensen in."
        ),
        N_("Ben je er zelf? Check dan in met /ikbenerbij en de code die in de zaal hangt."),
        (MINE,),
    ),
    "deelname": ForOrganisers(
        N_(
            "Met /deelname zien organisatoren hoeveel mensen per buurtnetwerk meededen, over een "
            "periode."
        ),
        N_("Wat er nog komt, staat in de agenda."),
        (AGENDA,),
    ),
    "importeer": ForOrganisers(
        N_("Met /importeer lezen organisatoren het programma in uit een bestand."),
        N_(
            "Wil je het programma in je eigen agenda-app? Tik op ‘Zet in je agenda’: dan staat "
            "alles erin en blijft het bij."
        ),
        (CALENDAR, AGENDA),
    ),
    "exporteer": ForOrganisers(
        N_("Met /exporteer halen organisatoren het programma op als bestand."),
        N_(
            "Wil je het programma in je eigen agenda-app? Tik op ‘Zet in je agenda’: dan staat "
            "alles erin en blijft het bij."
        ),
        (CALENDAR, AGENDA),
    ),
    "themas": ForOrganisers(
        N_(
            "Met /themas houden organisatoren de lijst met thema's bij: toevoegen, hernoemen "
            "en niet meer aanbieden."
        ),
        N_("Welke thema's je zelf wilt volgen, kies je in /instellingen."),
        (SETTINGS,),
    ),
    "contactpersonen": ForOrganisers(
        N_(
            "Met /contactpersonen worden organisatoren vaste contactpersoon voor een thema of "
            "een buurtnetwerk."
        ),
        N_("Wie de contactpersonen zijn, en een vraag aan hen stellen: dat kan met /contact."),
        (CONTACT,),
    ),
    "vragenlijst": ForOrganisers(
        N_("Met /vragenlijst zien contactpersonen de vragen die op hun antwoord wachten."),
        N_("Je eigen vragen en hoe het ermee staat, zie je bij /contact en in /mijn."),
        (CONTACT,),
    ),
    "organisatoren": ForOrganisers(
        N_("Met /organisatoren nodigen beheerders nieuwe organisatoren uit."),
        N_(
            "Wil je meehelpen met organiseren? Laat het een organisator weten, bijvoorbeeld bij "
            "de volgende bijeenkomst; die kan je uitnodigen."
        ),
        (AGENDA,),
    ),
}
# /feedback is not here: for a member it means rating the events they attended.


async def is_organiser(turn: Turn) -> bool:
    try:
        async with turn.deps.database.read() as session:
            await require_organiser(session, turn.member.id)
    except NotAllowed:
        return False
    return True


def explanation(turn: Turn, command: str) -> tuple[str, Buttons]:
    entry = FOR_ORGANISERS[command]
    text = f"ℹ️ {turn.t(entry.purpose)}\n\n{turn.t(entry.instead)}"
    buttons = [turn.button(turn.t(way.label), way.handler, *way.args) for way in entry.ways]
    return text, [buttons] if buttons else []


async def explain(turn: Turn, command: str) -> None:
    """Tell a member what the organisers' ``command`` is for and what they can do instead."""
    text, buttons = explanation(turn, command)
    await turn.toast(turn.t("Dit is voor organisatoren."))  # when it was a button
    await turn.say(text, buttons)


def organisers_only(
    command: str, *, otherwise: Callable[[Turn], Awaitable[None]] | None = None
) -> Callable[[Handler[T]], Handler[T | None]]:
    """A command handler for organisers; a member gets ``explain`` instead (or ``otherwise``,
    where the command means something for members too, as /feedback does)."""
    if command not in FOR_ORGANISERS and otherwise is None:
        raise KeyError(f"no explanation for /{command} in FOR_ORGANISERS")

    def decorate(handler: Handler[T]) -> Handler[T | None]:
        @functools.wraps(handler)
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> T | None:
            turn = await begin_turn(update, context)
            if await is_organiser(turn):
                return await handler(update, context)
            if otherwise is not None:
                await otherwise(turn)
            else:
                await explain(turn, command)
            return None

        return guarded

    return decorate
