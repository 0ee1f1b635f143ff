"""/instellingen: language and network (reminder preferences join here with the reminders)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.context import Turn, begin_turn, escape
from bot.render import AFFILIATION_LABELS
from models.members.entities import Language


async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_settings(await begin_turn(update, context))


async def show_settings(turn: Turn) -> None:
    t, member = turn.t, turn.member
    if member.network is not None:
        where = member.network.name
    elif member.affiliation is not None:
        where = t(AFFILIATION_LABELS[member.affiliation])
    else:
        where = t("nog niet gekozen")
    language = t("Nederlands") if member.language is Language.NL else t("Engels")
    other = Language.EN if member.language is Language.NL else Language.NL
    text = "\n".join([
        t("<b>Instellingen</b>"),
        "",
        t("Taal: {language}", language=language),
        t("Buurtnetwerk of rol: {network}", network=escape(where)),
    ])
    await turn.toast()
    await turn.show(text, [
        [turn.button("🇬🇧 English" if other is Language.EN else "🇳🇱 Nederlands",
                     "lg", other.value, "settings")],
        [turn.button(t("Ander buurtnetwerk of rol kiezen"), "np", 0, "")],
        [turn.button(t("🔒 Privacy en mijn gegevens"), "pv")],
    ])
