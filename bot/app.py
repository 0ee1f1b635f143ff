"""The Telegram bot: python-telegram-bot's Application with our handlers, menus and guards.

Where things are: ``handlers/`` has one module per feature (home: /start and the main menu,
onboarding, agenda, mine, settings, privacy, organiser, fallback); ``buttons.py`` routes every
inline button; ``render.py`` is how things look; ``callbacks.py`` signs button data;
``flood.py`` keeps one busy user from slowing anyone else down.
"""

from __future__ import annotations

import contextlib
import logging
import time

from telegram import Update
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
from bot.context import BotDeps, deps_of, watch_turns
from bot.handlers import (
    agenda,
    attendance,
    broadcasts,
    contact,
    contact_persons,
    fallback,
    feedback,
    home,
    ideas,
    mine,
    organiser,
    privacy,
    programme,
    roles,
    settings,
    themes,
)
from bot.menus import on_turn as refresh_menu_of_new_admin
from bot.menus import publish_command_menus
from bot.ratelimit import PriorityRateLimiter, SendRates, SharedRateLimiter
from bot.request import BotApiRequest
from i18n.translate import language_from_telegram, translator
from models.send_budget import SharedSendBudget
from telemetry.metrics import observe_update

log = logging.getLogger(__name__)

# Between two getUpdates calls. Against a Bot API server close by (a self-hosted
# telegram-bot-api, the emulator) a busy bot would otherwise fetch one update per call, and a
# call costs about as much as handling a tap; waiting this long lets the taps that come in
# meanwhile arrive together (bench/updates.py: half the calls, a fifth less CPU per tap), each
# at most this much later.
POLL_INTERVAL_S = 0.02
# bot_data: whether the application publishes the command menus when it starts.
MENUS_AT_START = "menus_at_start"
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
    menus_at_start: bool = True,
    send_budget: SharedSendBudget | None = None,
) -> Application:  # type: ignore[type-arg]
    """The bot, talking to the Bot API at ``base_url`` (Telegram's, or our emulator).

    ``rates``: how fast it sends (``bot/ratelimit.py``); Telegram's limits when not given.
    ``menus_at_start``: publish the command menus when it starts; the service does that itself,
    on the instance that leads (``publish_command_menus``).
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
    application.bot_data[MENUS_AT_START] = menus_at_start
    # Members read for earlier updates are forgotten as soon as a commit changes them.
    deps.database.on_members_commit(deps.members.forget)
    deps.database.on_listening(deps.members.listening)
    add_handlers(application)
    watch_turns(refresh_menu_of_new_admin)
    return application


class _BuurtagendaApplication(Application):  # type: ignore[type-arg]
    """Publishes the command menus when it starts. Not ``post_init``: python-telegram-bot runs
    that only from ``run_polling``/``run_webhook``, and the service starts the bot itself
    (``initialize``, ``start``, ``updater.start_polling``)."""

    async def start(self) -> None:
        await super().start()
        if not self.bot_data.get(MENUS_AT_START, True):
            return
        try:
            await publish_command_menus(self)
        except TelegramError as error:  # a missing menu is no reason to stay offline
            log.warning("could not publish the command menus: %s", error)

    async def process_update(self, update: object) -> None:
        """Every update passes here, however it came (polling, webhook): /metrics counts it
        and how long its handlers took."""
        started = time.perf_counter()
        try:
            await super().process_update(update)
        finally:
            observe_update(_update_kind(update), time.perf_counter() - started)


def _update_kind(update: object) -> str:
    if isinstance(update, Update):
        if update.callback_query is not None:
            return "callback_query"
        if update.message is not None:
            return "message"
    return "other"


def add_handlers(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(TypeHandler(Update, _flood_guard), group=-1)
    private = PRIVATE & NEW_MESSAGE
    commands = [
        (["start"], home.start),
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
        (["vragen"], organiser.vragen),
        (["programma", "programme"], programme.programme),
        (["nieuw", "new"], programme.new_event_command),
        (["reeks", "series"], programme.series_command),
        (["voorstel", "propose"], programme.propose_command),
        (["deelnemers"], attendance.attendees_command),
        (["deelname"], attendance.participation_command),
        (["ikbenerbij", "checkin"], attendance.check_in_command),
        (["organisatoren", "organisers"], roles.organisers_command),
        (["importeer", "import"], roles.import_command),
        (["themas", "themes"], themes.themes_command),
        (["exporteer", "export"], roles.export_command),
        (["bericht", "announce"], broadcasts.new_broadcast),
        (["contact"], contact.contact),
        (["contactpersonen", "contacts"], contact_persons.contact_persons_command),
        (["vragenlijst", "openquestions"], contact_persons.open_questions_command),
    ]
    for names, callback in commands:
        application.add_handler(CommandHandler(names, callback, filters=private))
    application.add_handler(CallbackQueryHandler(on_button))
    # Typed text for a dialog (bot/dialogs.py: the check-in code, an idea, a question, a
    # /bericht), a photo or document a dialog's step takes (a /bericht's attachment), and
    # /stop, /terug: after the handlers above that still keep their own state, before the
    # programme files and the fallbacks below (what no dialog takes goes on to them).
    for handler in dialogs.handlers(otherwise=fallback.answer_text):
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
