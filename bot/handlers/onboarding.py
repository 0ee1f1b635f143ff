"""/start: a short welcome, the language, and where you come from (a network or a role).

Every step is a button; typing part of a network's name is a shortcut. A deep link
(``/start e_<code>``, from a poster or a QR code) opens that event at once, ready to register.
"""

from __future__ import annotations

import math

from telegram import Update
from telegram.ext import ContextTypes

from bot.context import Buttons, Turn, begin_turn, escape
from bot.render import AFFILIATION_LABELS
from models.errors import NotFound
from models.members.entities import Affiliation, Language, Role
from models.members.operations import set_affiliation, set_language
from models.networks.entities import Network
from models.networks.reference import all_networks, find_networks

NETWORKS_PER_PAGE = 8
DEEP_LINK_EVENT = "e_"
SEARCH_MAX = 60  # characters of a typed search we look at


def main_menu(turn: Turn) -> Buttons:
    t = turn.t
    return [
        [turn.button(t("📅 Agenda"), "ag", 0), turn.button(t("🙋 Mijn aanmeldingen"), "my")],
        # Not "📅 …agenda" again: next to "📅 Agenda" it looked like the same button.
        [turn.button(t("📲 Zet de agenda in je telefoon"), "zf")],
        [turn.button(t("⚙️ Instellingen"), "st")],
    ]


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    payload = context.args[0] if context.args else ""
    if payload.startswith(DEEP_LINK_EVENT):
        from bot.handlers.agenda import show_event  # the agenda feature owns the card

        await show_event(turn, payload.removeprefix(DEEP_LINK_EVENT), fresh=True)
        return
    if payload.startswith("o_"):  # an organiser invitation (bot/handlers/roles.py)
        from bot.handlers.roles import accept_from_deep_link

        await accept_from_deep_link(turn, payload.removeprefix("o_"))
        return
    if not turn.member.onboarded:
        await turn.say(
            turn.t(
                "Welkom bij <b>Buurtagenda</b>! 👋\n"
                "Hier vind je het programma voor de buurtnetwerken van Maastricht: masterclasses, "
                "dialogen met raads- en burgerleden en uitwisselingen. Je meldt je aan met één tik "
                "en krijgt op tijd een herinnering."
            )
        )
        await ask_network(turn)
        return
    await turn.say(
        turn.t("Welkom terug, {name}! Wat wil je doen?", name=escape(turn.member.display_name)),
        main_menu(turn),
    )


async def ask_network(turn: Turn, page: int = 0, then: str = "") -> None:
    """The paged list of networks, with a way out for people without one."""
    t = turn.t
    async with turn.deps.database.read() as session:
        networks = await all_networks(session)
    pages = max(1, math.ceil(len(networks) / NETWORKS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = networks[page * NETWORKS_PER_PAGE : (page + 1) * NETWORKS_PER_PAGE]
    rows = _network_rows(turn, shown, then)
    # Only buttons that do something: where we are is said in the text, not on a button.
    nav = []
    if page > 0:
        nav.append(turn.button(t("◀ Vorige"), "np", page - 1, then))
    if page < pages - 1:
        nav.append(turn.button(t("Volgende ▶"), "np", page + 1, then))
    if nav:
        rows.append(nav)
    rows.append([turn.button(t("Ik hoor niet bij een buurtnetwerk"), "ao", then)])
    language = Language.EN if turn.member.language is Language.NL else Language.NL
    rows.append(
        [
            turn.button(
                "🇬🇧 English" if language is Language.EN else "🇳🇱 Nederlands",
                "lg",
                language.value,
                "onboard",
            )
        ]
    )
    question = t(
        "Van welk buurtnetwerk ben je? Kies hieronder, of typ een deel van de naam "
        "(bijvoorbeeld „Wyck” of „Daalhof”)."
    )
    if pages > 1:
        question += "\n\n" + t("Pagina {page} van {pages}", page=page + 1, pages=pages)
    await turn.show(question, rows)


def _network_rows(turn: Turn, networks: list[Network], then: str) -> Buttons:
    buttons = [turn.button(network.name, "ns", network.id, then) for network in networks]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


async def on_network_page(turn: Turn, page: int, then: str) -> None:
    await turn.toast()
    await ask_network(turn, page, then)


async def on_network_chosen(turn: Turn, network_id: int, then: str) -> None:
    async with turn.deps.database.transaction() as session:
        turn.member = await set_affiliation(
            session,
            member_id=turn.member.id,
            affiliation=Affiliation.BUURTNETWERK,
            network_id=network_id,
        )
    network = turn.member.network.name if turn.member.network else ""
    await turn.toast(turn.t("Opgeslagen: {network}", network=network))
    await _after_onboarding(
        turn, then, turn.t("Fijn! Je hoort bij <b>{network}</b>.", network=escape(network))
    )


async def on_other_affiliation(turn: Turn, then: str) -> None:
    await turn.toast()
    t = turn.t
    others = [a for a in Affiliation if a is not Affiliation.BUURTNETWERK]
    rows = [[turn.button(t(AFFILIATION_LABELS[a]), "af", a.value, then)] for a in others]
    rows.append([turn.button(t("◀ Terug naar de buurtnetwerken"), "np", 0, then)])
    await turn.show(t("Wat past het best bij jou?"), rows)


async def on_affiliation_chosen(turn: Turn, value: str, then: str) -> None:
    try:
        affiliation = Affiliation(value)
    except ValueError:
        raise NotFound() from None
    async with turn.deps.database.transaction() as session:
        turn.member = await set_affiliation(
            session, member_id=turn.member.id, affiliation=affiliation
        )
    label = turn.t(AFFILIATION_LABELS[affiliation])
    await turn.toast(turn.t("Opgeslagen: {network}", network=label))
    await _after_onboarding(turn, then, turn.t("Fijn, dank je wel!"))


async def on_language(turn: Turn, value: str, then: str) -> None:
    try:
        language = Language(value)
    except ValueError:
        raise NotFound() from None
    async with turn.deps.database.transaction() as session:
        turn.member = await set_language(session, member_id=turn.member.id, language=language)
    turn.refresh_language()
    if turn.member.role is not Role.MEMBER:  # an organiser's own menu is in their language
        from bot.app import refresh_command_menu  # the app owns the menus

        await refresh_command_menu(turn.context.application, turn.member)
    await turn.toast(
        turn.t("Taal: Nederlands") if language is Language.NL else turn.t("Language: English")
    )
    if then == "onboard":
        await ask_network(turn)
    else:
        from bot.handlers.settings import show_settings

        await show_settings(turn)


async def _after_onboarding(turn: Turn, then: str, greeting: str) -> None:
    if then:
        from bot.handlers.agenda import show_event

        await show_event(turn, then)
        return
    await turn.show(
        greeting + "\n" + turn.t("Bekijk het programma en meld je aan via de agenda."),
        main_menu(turn),
    )


async def search_networks(turn: Turn, text: str) -> None:
    """Someone typed while choosing a network: show the networks that match."""
    async with turn.deps.database.read() as session:
        matches = await find_networks(session, text[:SEARCH_MAX])
    t = turn.t
    if not matches:
        await turn.say(
            t(
                "Ik vond geen buurtnetwerk met „{text}”. Probeer een ander deel van de "
                "naam, of kies uit de lijst.",
                text=escape(text[:SEARCH_MAX]),
            ),
            [[turn.button(t("Toon de lijst"), "np", 0, "")]],
        )
        return
    rows = _network_rows(turn, matches, "")
    rows.append([turn.button(t("Toon de hele lijst"), "np", 0, "")])
    await turn.say(t("Bedoel je een van deze?"), rows)
