"""/start and the main menu: a short welcome, the network question for a newcomer, and the deep
links (``/start e_<code>`` from a poster or a QR code opens that event at once, ready to
register; ``/start o_<secret>`` accepts an organiser invitation).

This module sits above the features its menu leads to (agenda, mine, calendar, settings); those
never import it. Onboarding, below them, reaches the home screen through the registry: the
network question ends with a continuation, by default ``onboarding.HOME`` (``show_home``).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import actions
from bot.actions import action
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.agenda import show_agenda, show_event
from bot.handlers.calendar import show_feed
from bot.handlers.mine import show_mine
from bot.handlers.onboarding import HOME, ask_network
from bot.handlers.settings import ask_after_onboarding, show_settings
from bot.menus import refresh_command_menu
from models.errors import DomainError
from models.organisers.operations import DEEP_LINK_INVITATION, accept_invitation

DEEP_LINK_EVENT = "e_"


def main_menu(turn: Turn) -> Buttons:
    t = turn.t
    return [
        [
            turn.button(t("📅 Agenda"), show_agenda, 0),
            turn.button(t("🙋 Mijn aanmeldingen"), show_mine),
        ],
        # Not "📅 …agenda" again: next to "📅 Agenda" it looked like the same button.
        [turn.button(t("📲 Zet de agenda in je telefoon"), show_feed)],
        [turn.button(t("⚙️ Instellingen"), show_settings)],
    ]


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    payload = context.args[0] if context.args else ""
    if payload.startswith(DEEP_LINK_EVENT):
        await show_event(turn, payload.removeprefix(DEEP_LINK_EVENT), fresh=True)
        return
    if payload.startswith(DEEP_LINK_INVITATION):
        await accept_invitation_link(turn, payload.removeprefix(DEEP_LINK_INVITATION))
        if not turn.member.onboarded:  # a newcomer still gets the network question
            await ask_network(turn, then=actions.then(show_welcome))
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
        await ask_network(turn, then=actions.then(show_welcome))
        return
    await turn.say(
        turn.t("Welkom terug, {name}! Wat wil je doen?", name=escape(turn.member.display_name)),
        main_menu(turn),
    )


@action(HOME)
async def show_home(turn: Turn) -> None:
    """After the network question (e.g. another network from /instellingen): a word of thanks
    and the main menu."""
    await turn.toast()
    await turn.show(
        _thanks(turn) + "\n" + turn.t("Bekijk het programma en meld je aan via de agenda."),
        main_menu(turn),
    )


@action("hw")
async def show_welcome(turn: Turn) -> None:
    """The end of a newcomer's onboarding (without an event waiting): a word of thanks and
    "Waar wil je over horen?", the themes (skippable)."""
    await ask_after_onboarding(turn, _thanks(turn))


def _thanks(turn: Turn) -> str:
    network = turn.member.network
    if network is not None:
        return turn.t("Fijn! Je hoort bij <b>{network}</b>.", network=escape(network.name))
    return turn.t("Fijn, dank je wel!")


async def accept_invitation_link(turn: Turn, secret: str) -> None:
    """``/start o_<secret>``: become an organiser (``bot/handlers/roles.py`` manages them)."""
    t = turn.t
    try:
        async with turn.deps.database.transaction() as session:
            change = await accept_invitation(
                session, member_id=turn.member.id, secret=secret, now=turn.deps.clock()
            )
    except DomainError as error:  # said, and on: a newcomer still gets the network question
        await turn.say(turn.refusal(error))
        return
    turn.member = change.member
    if change.changed:
        await refresh_command_menu(turn.context.application, change.member)
        await turn.say(
            t(
                "🎉 Je bent nu organisator van Buurtagenda. In het menu (de knop / naast het "
                "invoerveld) staan je eigen commando's, zoals /programma, /aanmeldingen en "
                "/importeer."
            )
        )
    else:
        await turn.say(
            t("Je bent al organisator. De uitnodiging blijft geldig voor wie hij bedoeld is.")
        )
