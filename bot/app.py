"""The Telegram bot: python-telegram-bot's Application with our handlers, menus and guards.

Where things are: ``handlers/`` has one module per feature (onboarding, agenda, mine, settings,
privacy, organiser, fallback); ``buttons.py`` routes every inline button; ``render.py`` is how
things look; ``callbacks.py`` signs button data; ``flood.py`` keeps one busy user from slowing
anyone else down.
"""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import select
from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import dialogs, errors
from bot.buttons import on_button
from bot.context import BotDeps, deps_of
from bot.handlers import (
    agenda,
    attendance,
    broadcasts,
    fallback,
    feedback,
    ideas,
    mine,
    onboarding,
    organiser,
    privacy,
    programme,
    roles,
    settings,
)
from bot.ratelimit import PriorityRateLimiter, SendRates, SharedRateLimiter
from bot.request import BotApiRequest
from i18n.translate import N_, language_from_telegram, translator
from models.members.entities import Member, Role
from models.send_budget import SharedSendBudget

log = logging.getLogger(__name__)

# (command, description) per audience; Dutch names are the main ones, English ones are aliases.
MEMBER_COMMANDS = {
    "nl": [
        ("agenda", N_("De komende bijeenkomsten")),
        ("mijn", N_("Waar ik voor ben aangemeld")),
        ("idee", N_("Een idee voorstellen of erop stemmen")),
        ("vraag", N_("Een vraag insturen voor een dialoog")),
        ("ikbenerbij", N_("Inchecken in de zaal, met de code")),
        ("voorstel", N_("Een uitwisseling voor je buurtnetwerk voorstellen")),
        ("instellingen", N_("Taal en buurtnetwerk")),
        ("privacy", N_("Wat we bewaren; gegevens opvragen of wissen")),
        ("help", N_("Hoe werkt het?")),
    ],
    "en": [
        ("agenda", N_("De komende bijeenkomsten")),
        ("mine", N_("Waar ik voor ben aangemeld")),
        ("idea", N_("Een idee voorstellen of erop stemmen")),
        ("question", N_("Een vraag insturen voor een dialoog")),
        ("checkin", N_("Inchecken in de zaal, met de code")),
        ("propose", N_("Een uitwisseling voor je buurtnetwerk voorstellen")),
        ("settings", N_("Taal en buurtnetwerk")),
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
    ("importeer", N_("Het programma inlezen uit een bestand (.toml of .ics)")),
    ("exporteer", N_("Het programma als bestand")),
    ("organisatoren", N_("Organisatoren uitnodigen of intrekken (beheerders)")),
]
# Between two getUpdates calls. Against a Bot API server close by (a self-hosted
# telegram-bot-api, the emulator) a busy bot would otherwise fetch one update per call, and a
# call costs about as much as handling a tap; waiting this long lets the taps that come in
# meanwhile arrive together (bench/updates.py: half the calls, a fifth less CPU per tap), each
# at most this much later.
POLL_INTERVAL_S = 0.02
PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGE = filters.UpdateType.MESSAGE  # edited messages and channel posts are ignored
# What the bot answers. Only this counts towards the flood limit: group chatter, edits and channel
# posts are ignored anyway, and must not earn anyone a "rustig aan" (in a group, for all to see).
ANSWERED = NEW_MESSAGE & (PRIVATE | (filters.ChatType.GROUPS & filters.COMMAND))


def build_application(
    deps: BotDeps,
    *,
    token: str,
    base_url: str,
    concurrent_updates: int = 64,
    rates: SendRates | None = None,
    send_budget: SharedSendBudget | None = None,
) -> Application:  # type: ignore[type-arg]
    """The bot, talking to the Bot API at ``base_url`` (Telegram's, or our emulator).

    ``rates``: how fast it sends (``bot/ratelimit.py``); Telegram's limits when not given.
    ``send_budget``: the budget every instance shares (PostgreSQL); this process's own if None.
    """
    limiter = (
        PriorityRateLimiter(rates) if send_budget is None else SharedRateLimiter(send_budget, rates)
    )
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{base_url}/bot")
        .base_file_url(f"{base_url}/file/bot")
        .concurrent_updates(concurrent_updates)
        # JSON calls straight through httpcore (bot/request.py); PTB's pool sizes.
        .request(BotApiRequest(connection_pool_size=256))
        .get_updates_request(BotApiRequest(connection_pool_size=1))
        # Stays under Telegram's overall limit and waits out a 429's retry_after, retrying.
        # Under Telegram's limits overall, per private chat and per group; replies to people go
        # before the outbox's bulk sends; a 429's retry_after is waited out.
        .rate_limiter(limiter)
        .application_class(_BuurtagendaApplication)
        .build()
    )
    application.bot_data["deps"] = deps
    # Members read for earlier updates are forgotten as soon as a commit changes them.
    deps.database.on_members_commit(deps.members.forget)
    deps.database.on_listening(deps.members.listening)
    add_handlers(application)
    return application


class _BuurtagendaApplication(Application):  # type: ignore[type-arg]
    """Publishes the command menus when it starts. Not ``post_init``: python-telegram-bot runs
    that only from ``run_polling``/``run_webhook``, and the service starts the bot itself
    (``initialize``, ``start``, ``updater.start_polling``)."""

    async def start(self) -> None:
        await super().start()
        try:
            await publish_command_menus(self)
        except TelegramError as error:  # a missing menu is no reason to stay offline
            log.warning("could not publish the command menus: %s", error)


def add_handlers(application: Application) -> None:  # type: ignore[type-arg]
    # Another command leaves a /nieuw, /reeks or /voorstel conversation (it only forgets it).
    application.add_handler(programme.leave_on_command(), group=-2)
    application.add_handler(TypeHandler(Update, _flood_guard), group=-1)
    private = PRIVATE & NEW_MESSAGE
    commands = [
        (["start"], onboarding.start),
        (["agenda"], agenda.agenda),
        (["mijn", "mine"], mine.mine),
        (["instellingen", "settings"], settings.settings),
        (["privacy"], privacy.privacy),
        (["mijngegevens", "mydata"], privacy.my_data),
        (["vergeetmij", "forgetme"], privacy.forget_me),
        (["help"], fallback.on_help),
        (["aanmeldingen"], organiser.registrations_overview),
        (["feedback"], feedback.feedback_overview),
        (["idee", "idea"], ideas.idee),
        (["vraag", "question"], ideas.vraag),
        (["vragen"], ideas.vragen),
        (["programma", "programme"], programme.programme),
        (["deelnemers"], attendance.attendees_command),
        (["deelname"], attendance.participation_command),
        (["ikbenerbij", "checkin"], attendance.check_in_command),
        (["organisatoren", "organisers"], roles.organisers_command),
        (["importeer", "import"], roles.import_command),
        (["exporteer", "export"], roles.export_command),
        (["bericht", "announce"], broadcasts.new_broadcast),
    ]
    for names, callback in commands:
        application.add_handler(CommandHandler(names, callback, filters=private))
    # Conversations (/nieuw, /reeks, /voorstel, changing an event): before the button router
    # and the text fallbacks, so their buttons and typed answers reach them first.
    application.add_handler(programme.conversation(application))
    application.add_handler(CallbackQueryHandler(on_button))
    # What an organiser types or sends while composing a /bericht: before the fallbacks below.
    application.add_handler(broadcasts.input_handler(application))
    # Typed text for a dialog (bot/dialogs.py: the check-in code, an idea, a question), and
    # /stop, /terug: after the handlers above that still keep their own state, before the
    # fallbacks below (typed text without a dialog goes to them from there).
    for handler in dialogs.handlers():
        application.add_handler(handler)
    # A .toml or .ics programme file: before the general fallbacks below.
    application.add_handler(roles.document_handler())
    application.add_handler(MessageHandler(private & filters.COMMAND, fallback.on_unknown_command))
    application.add_handler(MessageHandler(private & filters.TEXT, fallback.on_text))
    application.add_handler(MessageHandler(private, fallback.on_other_message))
    application.add_handler(
        MessageHandler(filters.ChatType.GROUPS & filters.COMMAND & NEW_MESSAGE, fallback.in_group)
    )
    application.add_error_handler(errors.on_error)


async def _flood_guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if user is None or (update.callback_query is None and not ANSWERED.check_update(update)):
        return
    deps = deps_of(context)
    verdict = deps.flood.check(user.id)
    if verdict == "ok":
        return
    t = translator(language_from_telegram(user.language_code, deps.default_language))
    wait_s = deps.flood.wait_s(user.id)
    if verdict == "warn" and update.effective_chat is not None:
        await context.bot.send_message(
            update.effective_chat.id,
            t.plural(
                "Rustig aan even 🙂 Je stuurt heel veel tegelijk. Over {n} seconde kun je weer "
                "verder.",
                "Rustig aan even 🙂 Je stuurt heel veel tegelijk. Over {n} seconden kun je "
                "weer verder.",
                wait_s,
            ),
        )
    if update.callback_query is not None:
        # Every tap is answered, or its button keeps spinning; the toast says how long to wait.
        with contextlib.suppress(TelegramError):  # the tap is turned away either way
            await update.callback_query.answer(
                t.plural(
                    "Even rustig aan, probeer het over {n} seconde.",
                    "Even rustig aan, probeer het over {n} seconden.",
                    wait_s,
                )
            )
    raise ApplicationHandlerStop


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
