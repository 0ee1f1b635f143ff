"""/start: a short welcome, the language, and where you come from (a network or a role).

Every step is a button; typing part of a network's name is a shortcut, taken only while "Van
welk buurtnetwerk ben je?" is open: that question is a dialog (``NETWORK``, ``bot/dialogs.py``),
so it is stored in the database and a typed name after a restart still finds it, while typed
text when no question is open is an ordinary message. A deep link (``/start e_<code>``, from a
poster or a QR code) opens that event at once, ready to register.

``then`` (on the buttons and in the dialog): the event to show once the member has said where
they come from (None: the main menu).
"""

from __future__ import annotations

import math

from telegram import Update
from telegram.ext import ContextTypes

from bot import dialogs
from bot.actions import EventCode, action
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.interests import ask_after_onboarding
from bot.menus import refresh_command_menu
from bot.render import AFFILIATION_LABELS
from i18n.translate import N_
from models.dialogs.entities import DialogState
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


async def ask_network(
    turn: Turn, page: int = 0, then: str | None = None, *, notice: str = ""
) -> None:
    """The paged list of networks, with a way out for people without one; typing part of a name
    answers it too, as long as it is open (the ``NETWORK`` dialog)."""
    dialog = dialogs.current(turn, NETWORK)
    if dialog is None or dialog.answer("then") != then:
        await dialogs.begin(turn, NETWORK, "network", {"then": then}, ask=False)
    await _show_networks(turn, page, then, notice)


async def _show_networks(turn: Turn, page: int, then: str | None, notice: str = "") -> None:
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
        nav.append(turn.button(t("◀ Vorige"), on_network_page, page - 1, then or ""))
    if page < pages - 1:
        nav.append(turn.button(t("Volgende ▶"), on_network_page, page + 1, then or ""))
    if nav:
        rows.append(nav)
    rows.append(
        [turn.button(t("Ik hoor niet bij een buurtnetwerk"), on_other_affiliation, then or "")]
    )
    language = Language.EN if turn.member.language is Language.NL else Language.NL
    rows.append(
        [
            turn.button(
                "🇬🇧 English" if language is Language.EN else "🇳🇱 Nederlands",
                on_language,
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
    await turn.show(f"{notice}\n\n{question}" if notice else question, rows)


def _network_rows(turn: Turn, networks: list[Network], then: str | None) -> Buttons:
    buttons = [
        turn.button(network.name, on_network_chosen, network.id, then or "") for network in networks
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


async def _ask(turn: Turn, dialog: DialogState, notice: str) -> None:
    await _show_networks(turn, 0, dialog.answer("then"), notice)


async def _take_search(turn: Turn, dialog: DialogState, text: str) -> None:
    """Typed while the question is open: the networks whose name has it (the question stays
    open, so another try is typed just the same)."""
    text = text.strip()
    then = dialog.answer("then")
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
            [[turn.button(t("Toon de lijst"), on_network_page, 0, then or "")]],
        )
        return
    rows = _network_rows(turn, matches, then)
    rows.append([turn.button(t("Toon de hele lijst"), on_network_page, 0, then or "")])
    await turn.say(t("Bedoel je een van deze?"), rows)


@action("np")
async def on_network_page(turn: Turn, page: int, then: EventCode | None) -> None:
    await turn.toast()
    await ask_network(turn, page, then)


@action("ns")
async def on_network_chosen(turn: Turn, network_id: int, then: EventCode | None) -> None:
    async with dialogs.finishing(turn, dialogs.current(turn, NETWORK)) as session:
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


@action("ao")
async def on_other_affiliation(turn: Turn, then: EventCode | None) -> None:
    await turn.toast()
    t = turn.t
    others = [a for a in Affiliation if a is not Affiliation.BUURTNETWERK]
    rows = [
        [turn.button(t(AFFILIATION_LABELS[a]), on_affiliation_chosen, a.value, then or "")]
        for a in others
    ]
    rows.append([turn.button(t("◀ Terug naar de buurtnetwerken"), on_network_page, 0, then or "")])
    await turn.show(t("Wat past het best bij jou?"), rows)


@action("af")
async def on_affiliation_chosen(turn: Turn, value: str, then: EventCode | None) -> None:
    try:
        affiliation = Affiliation(value)
    except ValueError:
        raise NotFound() from None
    async with dialogs.finishing(turn, dialogs.current(turn, NETWORK)) as session:
        turn.member = await set_affiliation(
            session, member_id=turn.member.id, affiliation=affiliation
        )
    label = turn.t(AFFILIATION_LABELS[affiliation])
    await turn.toast(turn.t("Opgeslagen: {network}", network=label))
    await _after_onboarding(turn, then, turn.t("Fijn, dank je wel!"))


@action("lg")
async def on_language(turn: Turn, value: str, then: str) -> None:
    """The other language; ``then``: "onboard" (back to the question) or "settings"."""
    try:
        language = Language(value)
    except ValueError:
        raise NotFound() from None
    async with turn.deps.database.transaction() as session:
        turn.member = await set_language(session, member_id=turn.member.id, language=language)
    turn.refresh_language()
    if turn.member.role is not Role.MEMBER:  # an organiser's own menu is in their language
        await refresh_command_menu(turn.context.application, turn.member)
    await turn.toast(
        turn.t("Taal: Nederlands") if language is Language.NL else turn.t("Language: English")
    )
    if then == "onboard":
        dialog = dialogs.current(turn, NETWORK)
        await ask_network(turn, then=dialog.answer("then") if dialog is not None else None)
    else:
        from bot.handlers.settings import show_settings

        await show_settings(turn)


async def _after_onboarding(turn: Turn, then: str | None, greeting: str) -> None:
    if then:
        from bot.handlers.agenda import show_event

        await show_event(turn, then)
        return
    await ask_after_onboarding(turn, greeting)  # "Waar wil je over horen?" (skippable)


# "Van welk buurtnetwerk ben je?": open from the question until a network or a role is chosen.
NETWORK = dialogs.register(
    dialogs.Flow(
        "network",
        steps={"network": dialogs.Step(_ask, _take_search)},
        # Another command ends it without a word: the question comes back where it is needed
        # (registering, typed text), and a newcomer who looks around first is not told off.
        ended="",
        expired=N_(
            "De vraag van welk buurtnetwerk je bent, stond niet meer open (na een half uur stilte)."
        ),
        actions=dialogs.codes(
            on_network_page,
            on_network_chosen,
            on_other_affiliation,
            on_affiliation_chosen,
            on_language,
        ),
        commands=frozenset({"start"}),
    )
)
