"""Where you come from (a network or a role), and the language: the question "Van welk
buurtnetwerk ben je?" that /start asks a newcomer and registering asks first.

Every step is a button; typing part of a network's name is a shortcut, taken only while the
question is open: it is a dialog (``NETWORK``, ``bot/dialogs.py``), so it is stored in the
database and a typed name after a restart still finds it, while typed text when no question is
open is an ordinary message (``fallback.py``).

``then`` (in the dialog): what to show once the member has said where they come from, a declared
action and its arguments (``actions.then``: the event's card when the question came from
"Aanmelden"); without one, the home screen (``HOME``). It is carried out through the registry,
so this module needs none of the features that ask the question (they import ``ask_network``).
"""

from __future__ import annotations

import math

from telegram import InlineKeyboardButton

from bot import actions, dialogs
from bot.actions import EventCode, Then, action
from bot.context import Buttons, Turn, escape
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
SEARCH_MAX = 60  # characters of a typed search we look at
# The home screen after the question (``bot/handlers/home.py`` declares its handler with this
# code; home shows the features that ask the question, so it is named here, not imported).
HOME = "hm"
# What "🇬🇧 English" shows next (``on_language``): the question again, or a declared action's code;
# buttons made before said "settings" for the settings screen (``settings.show_settings``).
AGAIN = "onboard"
OLDER_SCREENS = {"settings": "st"}


async def ask_network(
    turn: Turn, page: int = 0, then: Then | None = None, *, notice: str = ""
) -> None:
    """The paged list of networks, with a way out for people without one; typing part of a name
    answers it too, as long as it is open (the ``NETWORK`` dialog). ``then``: what comes after
    (``actions.then``; None: what the open question already had, else the home screen)."""
    dialog = dialogs.current(turn, NETWORK)
    if dialog is None or (then is not None and dialog.answer("then") != then):
        await dialogs.begin(turn, NETWORK, "network", {"then": then}, ask=False)
    await _show_networks(turn, page, notice)


async def _show_networks(turn: Turn, page: int, notice: str = "") -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        networks = await all_networks(session)
    pages = max(1, math.ceil(len(networks) / NETWORKS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = networks[page * NETWORKS_PER_PAGE : (page + 1) * NETWORKS_PER_PAGE]
    rows = _network_rows(turn, shown)
    # Only buttons that do something: where we are is said in the text, not on a button.
    nav = []
    if page > 0:
        nav.append(turn.button(t("◀ Vorige"), on_network_page, page - 1))
    if page < pages - 1:
        nav.append(turn.button(t("Volgende ▶"), on_network_page, page + 1))
    if nav:
        rows.append(nav)
    rows.append([turn.button(t("Ik hoor niet bij een buurtnetwerk"), on_other_affiliation)])
    language = Language.EN if turn.member.language is Language.NL else Language.NL
    rows.append([language_button(turn, language, AGAIN)])
    question = t(
        "Van welk buurtnetwerk ben je? Kies hieronder, of typ een deel van de naam "
        "(bijvoorbeeld „Wyck” of „Daalhof”)."
    )
    if pages > 1:
        question += "\n\n" + t("Pagina {page} van {pages}", page=page + 1, pages=pages)
    await turn.show(f"{notice}\n\n{question}" if notice else question, rows)


def language_button(turn: Turn, language: Language, then: str) -> InlineKeyboardButton:
    """ "🇬🇧 English" (or back to Dutch); ``then``: ``AGAIN`` or the code of the screen to show
    next (an action without arguments, e.g. the settings)."""
    return turn.button(
        "🇬🇧 English" if language is Language.EN else "🇳🇱 Nederlands",
        on_language,
        language.value,
        then,
    )


def _network_rows(turn: Turn, networks: list[Network]) -> Buttons:
    buttons = [turn.button(network.name, on_network_chosen, network.id) for network in networks]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


async def _ask(turn: Turn, _dialog: DialogState, notice: str) -> None:
    await _show_networks(turn, 0, notice)


async def _take_search(turn: Turn, _dialog: DialogState, text: str) -> None:
    """Typed while the question is open: the networks whose name has it (the question stays
    open, so another try is typed just the same)."""
    text = text.strip()
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
            [[turn.button(t("Toon de lijst"), on_network_page, 0)]],
        )
        return
    rows = _network_rows(turn, matches)
    rows.append([turn.button(t("Toon de hele lijst"), on_network_page, 0)])
    await turn.say(t("Bedoel je een van deze?"), rows)


# ``_then``: buttons made before the continuation moved into the dialog carried the event here;
# they still work, and what comes after is the dialog's (``older``).
@action("np", older=1)
async def on_network_page(turn: Turn, page: int, _then: EventCode | None = None) -> None:
    await turn.toast()
    await ask_network(turn, page)


@action("ns", older=1)
async def on_network_chosen(turn: Turn, network_id: int, _then: EventCode | None = None) -> None:
    then = _then_of(turn)
    async with dialogs.finishing(turn, dialogs.current(turn, NETWORK)) as session:
        turn.member = await set_affiliation(
            session,
            member_id=turn.member.id,
            affiliation=Affiliation.BUURTNETWERK,
            network_id=network_id,
        )
    network = turn.member.network.name if turn.member.network else ""
    await turn.toast(turn.t("Opgeslagen: {network}", network=network))
    await actions.run_then(turn, then)


@action("ao", older=1)
async def on_other_affiliation(turn: Turn, _then: EventCode | None = None) -> None:
    await turn.toast()
    t = turn.t
    others = [a for a in Affiliation if a is not Affiliation.BUURTNETWERK]
    rows = [[turn.button(t(AFFILIATION_LABELS[a]), on_affiliation_chosen, a.value)] for a in others]
    rows.append([turn.button(t("◀ Terug naar de buurtnetwerken"), on_network_page, 0)])
    await turn.show(t("Wat past het best bij jou?"), rows)


@action("af", older=1)
async def on_affiliation_chosen(turn: Turn, value: str, _then: EventCode | None = None) -> None:
    try:
        affiliation = Affiliation(value)
    except ValueError:
        raise NotFound() from None
    then = _then_of(turn)
    async with dialogs.finishing(turn, dialogs.current(turn, NETWORK)) as session:
        turn.member = await set_affiliation(
            session, member_id=turn.member.id, affiliation=affiliation
        )
    label = turn.t(AFFILIATION_LABELS[affiliation])
    await turn.toast(turn.t("Opgeslagen: {network}", network=label))
    await actions.run_then(turn, then)


@action("lg")
async def on_language(turn: Turn, value: str, then: str) -> None:
    """The other language; ``then``: ``AGAIN`` (back to the question) or a screen's code."""
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
    if then == AGAIN:
        await ask_network(turn)
    else:
        await actions.run_then(turn, [OLDER_SCREENS.get(then, then)])


def _then_of(turn: Turn) -> Then:
    """What the open question goes on to (read before it ends): the home screen if nothing."""
    dialog = dialogs.current(turn, NETWORK)
    then = dialog.answer("then") if dialog is not None else None
    # A list: a continuation; a dialog stored before kept an event's code, which (like a
    # lapsed question) goes home, the event is one tap away in the agenda.
    return then if isinstance(then, list) and then else [HOME]


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
