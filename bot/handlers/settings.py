"""/instellingen: language, network, reminders, the weekly digest, themes and alerts."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.actions import action
from bot.context import Turn, begin_turn, escape
from bot.handlers.calendar import show_feed
from bot.handlers.interests import SETTINGS, show_alert_settings, show_my_themes, summary_lines
from bot.handlers.privacy import show_privacy
from bot.render import AFFILIATION_LABELS
from i18n.translate import N_
from models.errors import NotFound
from models.members.entities import Language
from models.reminders.operations import set_digest, set_reminder_preference
from models.reminders.policy import ReminderPreference

P = ReminderPreference
PREFERENCE_LABELS = {
    P.DEFAULT: N_("Standaard: een week en een dag van tevoren"),
    P.DAY_BEFORE: N_("Alleen de dag ervoor"),
    P.ALSO_2H: N_("Ook 2 uur van tevoren"),
    P.NONE: N_("Geen herinneringen"),
}


async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_settings(await begin_turn(update, context))


@action("st")
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
    text = "\n".join(
        [
            t("<b>Instellingen</b>"),
            "",
            t("Taal: {language}", language=language),
            t("Buurtnetwerk of rol: {network}", network=escape(where)),
            t("Herinneringen: {choice}", choice=t(PREFERENCE_LABELS[member.reminder_preference])),
            t("Weekoverzicht op maandag: {choice}", choice=t("aan") if member.digest else t("uit")),
            *await summary_lines(turn),
        ]
    )
    await turn.toast()
    await turn.show(
        text,
        [
            [
                turn.button(
                    "🇬🇧 English" if other is Language.EN else "🇳🇱 Nederlands",
                    "lg",
                    other.value,
                    "settings",
                )
            ],
            [turn.button(t("⏰ Herinneringen kiezen"), ask_reminders)],
            [
                turn.button(t("🏷 Thema's kiezen"), show_my_themes, SETTINGS),
                turn.button(t("🔔 Nieuwe bijeenkomsten"), show_alert_settings),
            ],
            [turn.button(t("📲 Zet de agenda in je telefoon"), show_feed)],
            [
                turn.button(
                    t("📰 Weekoverzicht uitzetten")
                    if member.digest
                    else t("📰 Weekoverzicht aanzetten"),
                    on_digest,
                    0 if member.digest else 1,
                )
            ],
            [turn.button(t("Ander buurtnetwerk of rol kiezen"), "np", 0, "")],
            [turn.button(t("🔒 Privacy en mijn gegevens"), show_privacy)],
        ],
    )


@action("rq")
async def ask_reminders(turn: Turn) -> None:
    t = turn.t
    await turn.toast()
    rows = [
        [
            turn.button(
                ("• " if turn.member.reminder_preference is p else "") + t(label),
                on_reminder_preference,
                p.value,
            )
        ]
        for p, label in PREFERENCE_LABELS.items()
    ]
    rows.append([turn.button(t("◀ Terug"), show_settings)])
    await turn.show(
        t(
            "Wanneer wil je een herinnering voor bijeenkomsten waarvoor je bent "
            "aangemeld? 's Avonds laat en 's nachts sturen we niets."
        ),
        rows,
    )


@action("rp")
async def on_reminder_preference(turn: Turn, value: str) -> None:
    try:
        preference = ReminderPreference(value)
    except ValueError:
        raise NotFound() from None
    async with turn.deps.database.transaction() as session:
        turn.member = await set_reminder_preference(
            session,
            member_id=turn.member.id,
            preference=preference,
            policy=turn.deps.policy.reminders,
            now=turn.deps.clock(),
        )
    await turn.toast(turn.t("Opgeslagen."))
    await show_settings(turn)


@action("dg")
async def on_digest(turn: Turn, on: int) -> None:
    async with turn.deps.database.transaction() as session:
        turn.member = await set_digest(session, member_id=turn.member.id, on=bool(on))
    await turn.toast(turn.t("Opgeslagen."))
    await show_settings(turn)
