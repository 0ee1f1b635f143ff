"""The command menus: the members' menu per language, and the organisers' own menu in their chats.

A chat's menu follows its member's role and language at once (``refresh_command_menu``: the
configuration names a new admin, an invitation is accepted, a role is revoked, the language is
switched, a member is forgotten), so nobody waits for the next start for the right menu.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application

from bot.context import BotDeps, Turn
from i18n.translate import N_, translator
from models.members.entities import Member, Role

log = logging.getLogger(__name__)

# (command, description) per audience; Dutch names are the main ones, English ones are aliases.
MEMBER_COMMANDS = {
    "nl": [
        ("agenda", N_("De komende bijeenkomsten")),
        ("mijn", N_("Waar ik voor ben aangemeld")),
        ("idee", N_("Een idee voorstellen of erop stemmen")),
        ("vraag", N_("Een vraag insturen voor een dialoog")),
        ("contact", N_("Contactpersonen; een vraag stellen")),
        ("ikbenerbij", N_("Inchecken in de zaal, met de code")),
        ("voorstel", N_("Een uitwisseling voor je buurtnetwerk voorstellen")),
        ("instellingen", N_("Taal, buurtnetwerk, thema's en meldingen")),
        ("privacy", N_("Wat we bewaren; gegevens opvragen of wissen")),
        ("help", N_("Hoe werkt het?")),
    ],
    "en": [
        ("agenda", N_("De komende bijeenkomsten")),
        ("mine", N_("Waar ik voor ben aangemeld")),
        ("idea", N_("Een idee voorstellen of erop stemmen")),
        ("question", N_("Een vraag insturen voor een dialoog")),
        ("contact", N_("Contactpersonen; een vraag stellen")),
        ("checkin", N_("Inchecken in de zaal, met de code")),
        ("propose", N_("Een uitwisseling voor je buurtnetwerk voorstellen")),
        ("settings", N_("Taal, buurtnetwerk, thema's en meldingen")),
        ("privacy", N_("Wat we bewaren; gegevens opvragen of wissen")),
        ("help", N_("Hoe werkt het?")),
    ],
}
ORGANISER_COMMANDS = [
    ("programma", N_("Het programma: wijzigen, verplaatsen, annuleren, publiceren")),
    ("nieuw", N_("Een nieuwe bijeenkomst maken")),
    ("reeks", N_("Een jaar masterclasses of dialogen in één keer plannen")),
    ("aanmeldingen", N_("Aanmeldingen per bijeenkomst en netwerk")),
    ("feedback", N_("Beoordelingen per bijeenkomst")),
    ("bericht", N_("Een bericht sturen aan leden")),
    ("vragen", N_("Ingestuurde vragen voor een dialoog")),
    ("deelnemers", N_("Deelnemerslijst, inchecken en afronden")),
    ("deelname", N_("Deelname per buurtnetwerk over een periode")),
    ("themas", N_("De thema's: toevoegen, hernoemen, niet meer aanbieden")),
    ("vragenlijst", N_("Open vragen aan de contactpersonen")),
    ("contactpersonen", N_("Vaste contactpersoon worden voor thema's en netwerken")),
    ("importeer", N_("Het programma inlezen uit een bestand (.toml of .ics)")),
    ("exporteer", N_("Het programma als bestand")),
    ("organisatoren", N_("Organisatoren uitnodigen of intrekken (beheerders)")),
]


async def publish_command_menus(application: Application) -> None:  # type: ignore[type-arg]
    """The command menus per language, and organisers' own menu in their chats."""
    bot = application.bot
    for language, commands in MEMBER_COMMANDS.items():
        t = translator(language)
        menu = [BotCommand(name, t(description)) for name, description in commands]
        await bot.set_my_commands(menu, language_code=language)
        if language == "nl":
            await bot.set_my_commands(menu)  # everyone else: Dutch
    deps = deps_of_application(application)
    async with deps.database.read() as session:
        organisers = (
            await session.scalars(
                select(Member).where(
                    Member.role.in_([Role.ORGANISER, Role.ADMIN]), Member.telegram_id.is_not(None)
                )
            )
        ).all()
    for member in organisers:
        await set_organiser_menu(application, member)


async def refresh_command_menu(application: Application, member: Member) -> None:  # type: ignore[type-arg]
    """The menu in ``member``'s chat as their role and language are now: called as soon as they
    change (the configuration names a new admin, an invitation is accepted, a role is revoked,
    the language is switched), so nobody waits for the next start for the right menu."""
    if member.telegram_id is None:
        return
    if member.role in (Role.ORGANISER, Role.ADMIN):
        await set_organiser_menu(application, member)
    else:
        await reset_command_menu(application, member.telegram_id)


async def reset_command_menu(application: Application, telegram_id: int) -> None:  # type: ignore[type-arg]
    """No menu of its own for this chat: it gets the members' menu in its app's language."""
    try:
        await application.bot.delete_my_commands(scope=BotCommandScopeChat(telegram_id))
    except TelegramError as error:
        log.info("could not reset a chat's menu: %s", error)


async def set_organiser_menu(application: Application, member: Member) -> None:  # type: ignore[type-arg]
    assert member.telegram_id is not None
    t = translator(member.language.value)
    commands = [
        *MEMBER_COMMANDS["en" if member.language.value == "en" else "nl"],
        *ORGANISER_COMMANDS,
    ]
    try:
        await application.bot.set_my_commands(
            [BotCommand(name, t(description)) for name, description in commands],
            scope=BotCommandScopeChat(member.telegram_id),
        )
    except TelegramError as error:  # e.g. the organiser never opened a chat with the bot
        log.info("no organiser menu for member %s: %s", member.id, error)


def deps_of_application(application: Application) -> BotDeps:  # type: ignore[type-arg]
    deps = application.bot_data["deps"]
    assert isinstance(deps, BotDeps)
    return deps


async def on_turn(turn: Turn) -> None:
    """A turn whose member just became admin (named in the configuration): their menu now."""
    if turn.became_admin:
        await refresh_command_menu(turn.context.application, turn.member)
