"""Everything else people send: typed text, unknown commands, stickers and photos, group chats."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.context import Turn, begin_turn, deps_of
from bot.handlers.home import main_menu
from bot.handlers.onboarding import ask_network
from i18n.translate import language_from_telegram, translator


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed text that no handler before took (``bot.dialogs.on_typed`` takes it first)."""
    turn = await begin_turn(update, context)
    assert update.message is not None and update.message.text is not None
    await answer_text(turn, update.message.text)


async def answer_text(turn: Turn, text: str, notice: str = "") -> None:
    """Typed text that no dialog waits for (``bot/dialogs.py``); ``notice`` goes first (e.g.
    that the dialog it may have been meant for had lapsed). It is never taken as an answer to a
    question that is not open: someone who has not said where they come from gets that
    question (again), the others a friendly menu."""
    if not turn.member.onboarded:
        await ask_network(turn, notice=notice)
        return
    answer = turn.t(
        "Ik begrijp niet goed wat je bedoelt. Kies hieronder wat je wilt doen, of stuur /help."
    )
    await turn.say(f"{notice}\n\n{answer}" if notice else answer, main_menu(turn))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    await turn.say(
        turn.t("Dat commando ken ik niet. Kies hieronder wat je wilt doen, of stuur /help."),
        main_menu(turn),
    )


async def on_other_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice messages, locations...: kindly point to the buttons."""
    turn = await begin_turn(update, context)
    await turn.say(
        turn.t(
            "Daar kan ik helaas niets mee. Ik werk met knoppen en korte "
            "berichten; kies hieronder wat je wilt doen."
        ),
        main_menu(turn),
    )


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    await turn.say(
        turn.t(
            "<b>Zo werkt Buurtagenda</b>\n"
            "/agenda – de komende bijeenkomsten; aanmelden met één tik\n"
            "/mijn – waar je voor bent aangemeld\n"
            "/instellingen – taal, buurtnetwerk, herinneringen en je agenda-link\n"
            "/idee – een onderwerp of uitwisseling voorstellen, en stemmen\n"
            "/vraag – een vraag insturen voor de dialoog met raads- en burgerleden\n"
            "/voorstel – een uitwisseling voor je eigen buurtnetwerk voorstellen\n"
            "/ikbenerbij – inchecken met de code in de zaal\n"
            "/privacy – wat we bewaren, en je gegevens opvragen of wissen\n\n"
            "Vragen over het programma? Je procescoördinator of opbouwwerker helpt je graag."
        ),
        main_menu(turn),
    )


async def in_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Commands in a group: the bot works one to one (registrations are personal)."""
    deps = deps_of(context)
    user = update.effective_user
    t = translator(
        language_from_telegram(user.language_code if user else None, deps.default_language),
        deps.timezone,
    )
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            t(
                "Ik werk alleen in een privégesprek. Open de chat met mij: @{bot}",
                bot=context.bot.username,
            ),
            parse_mode=ParseMode.HTML,
        )
