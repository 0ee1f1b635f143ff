"""/instellingen: language, network, reminders, the weekly digest, themes and alerts.

What a member wants to hear about, and how: their themes (✅/▫️ buttons), the kinds of meeting
they follow, and new plans at once, in the weekly digest, or not at all. Reached from
/instellingen, from an alert's "🔔 Meldingen instellen", and once at the end of onboarding ("Waar
wil je over horen?", skippable: ``ask_after_onboarding``, run by ``home.show_welcome``).
``origin`` on the themes' buttons says where they lead: ``SETTINGS`` back to the settings,
``ONBOARDING`` on to the agenda.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import actions
from bot.actions import action
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.agenda import show_agenda
from bot.handlers.calendar import show_feed
from bot.handlers.mine import show_mine
from bot.handlers.onboarding import language_button, on_network_page
from bot.handlers.privacy import show_privacy
from bot.render import AFFILIATION_LABELS
from i18n.labels import KIND_ICONS, KIND_LABELS
from i18n.translate import N_
from models.alerts import operations as alerts
from models.alerts.policy import AlertPreference
from models.errors import NotFound
from models.events.entities import EventKind
from models.members.entities import Language
from models.reminders.operations import set_digest, set_reminder_preference
from models.reminders.policy import ReminderPreference
from models.themes import operations as themes

P = ReminderPreference
PREFERENCE_LABELS = {
    P.DEFAULT: N_("Standaard: een week en een dag van tevoren"),
    P.DAY_BEFORE: N_("Alleen de dag ervoor"),
    P.ALSO_2H: N_("Ook 2 uur van tevoren"),
    P.NONE: N_("Geen herinneringen"),
}

ONBOARDING, SETTINGS = "ob", "st"
ALERT_LABELS = {
    AlertPreference.NOW: N_("meteen"),
    AlertPreference.DIGEST: N_("in het weekoverzicht"),
    AlertPreference.OFF: N_("niet"),
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
            [language_button(turn, other, actions.code_of(show_settings))],
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
            [turn.button(t("Ander buurtnetwerk of rol kiezen"), on_network_page, 0)],
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


# --- what a member wants to hear about -----------------------------------------------------


async def summary_lines(turn: Turn) -> list[str]:
    """Two lines for /instellingen: the chosen themes, and how new plans reach the member."""
    t = turn.t
    async with turn.deps.database.read() as session:
        chosen = await themes.member_themes_of(session, turn.member.id)
    names = ", ".join(theme.label(turn.member.language.value) for theme in chosen)
    return [
        t("Thema's: {themes}", themes=escape(names) if names else t("geen")),
        t(
            "Nieuwe bijeenkomsten die bij je passen: {choice}",
            choice=t(ALERT_LABELS[turn.member.alert_preference]),
        ),
    ]


async def ask_after_onboarding(turn: Turn, greeting: str) -> None:
    """The one screen at the end of onboarding: "Waar wil je over horen?" (skippable)."""
    await _show_themes(turn, ONBOARDING, greeting)


@action("TM")
async def show_my_themes(turn: Turn, origin: str) -> None:
    await _show_themes(turn, origin)


async def _show_themes(turn: Turn, origin: str, greeting: str = "") -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        offered = await themes.active_themes(session)
        chosen = {theme.id for theme in await themes.member_themes_of(session, turn.member.id)}
    text = t(
        "<b>Waar wil je over horen?</b>\nKies de thema's die je interesseren: komt er iets "
        "over op de agenda, dan hoor je het meteen. Je buurtnetwerk hoort er altijd bij."
    )
    if greeting:
        text = f"{greeting}\n\n{text}"
    language = turn.member.language.value
    buttons = [
        turn.button(
            ("✅ " if theme.id in chosen else "▫️ ") + theme.label(language),
            on_toggle_theme,
            theme.id,
            origin,
        )
        for theme in offered
    ]
    rows: Buttons = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if origin == ONBOARDING:
        done = t("✔ Klaar") if chosen else t("Overslaan")
        rows.append([turn.button(done, on_themes_done, origin)])
    else:
        rows.append([turn.button(t("◀ Terug"), show_settings)])
    await turn.toast()
    await turn.show(text, rows)


@action("TT")
async def on_toggle_theme(turn: Turn, theme_id: int, origin: str) -> None:
    async with turn.deps.database.transaction() as session:
        now_chosen = await themes.toggle_member_theme(
            session, member_id=turn.member.id, theme_id=theme_id
        )
    await turn.toast(turn.t("Gekozen.") if now_chosen else turn.t("Niet meer gekozen."))
    await show_my_themes(turn, origin)


@action("TD")
async def on_themes_done(turn: Turn, origin: str) -> None:
    await turn.toast()
    t = turn.t
    await turn.show(
        t(
            "Bekijk het programma en meld je aan via de agenda. "
            "Je keuzes wijzig je in /instellingen."
        ),
        [
            [
                turn.button(t("📅 Agenda"), show_agenda, 0),
                turn.button(t("🙋 Mijn aanmeldingen"), show_mine),
            ],
            [turn.button(t("⚙️ Instellingen"), show_settings)],
        ],
    )


@action("AL")
async def show_alert_settings(turn: Turn) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        kinds = set(await alerts.followed_kinds(session, turn.member.id))
    current = turn.member.alert_preference
    text = "\n".join(
        [
            t("<b>Nieuwe bijeenkomsten</b>"),
            t(
                "Wordt er iets gepland dat bij je past (een bijeenkomst van je eigen "
                "buurtnetwerk, over een thema dat je koos, of een soort die je volgt), dan "
                "hoor je het: {choice}. 's Avonds laat en 's nachts sturen we niets.",
                choice=t(ALERT_LABELS[current]),
            ),
            "",
            t("Soorten die je volgt:"),
        ]
    )
    rows: Buttons = [
        [
            turn.button(("• " if p is current else "") + t(label), on_alert_preference, p.value)
            for p, label in ALERT_LABELS.items()
        ]
    ]
    rows += [
        [
            turn.button(
                ("✅ " if kind in kinds else "▫️ ") + f"{KIND_ICONS[kind]} {t(KIND_LABELS[kind])}",
                on_toggle_kind,
                kind.value,
            )
        ]
        for kind in EventKind
    ]
    rows.append([turn.button(t("🏷 Thema's kiezen"), show_my_themes, SETTINGS)])
    rows.append([turn.button(t("◀ Terug"), show_settings)])
    await turn.toast()
    await turn.show(text, rows)


@action("AP")
async def on_alert_preference(turn: Turn, value: str) -> None:
    try:
        preference = AlertPreference(value)
    except ValueError:
        raise NotFound() from None
    async with turn.deps.database.transaction() as session:
        turn.member = await alerts.set_alert_preference(
            session, member_id=turn.member.id, preference=preference
        )
    await turn.toast(turn.t("Opgeslagen."))
    await show_alert_settings(turn)


@action("AK")
async def on_toggle_kind(turn: Turn, value: str) -> None:
    try:
        kind = EventKind(value)
    except ValueError:
        raise NotFound() from None
    async with turn.deps.database.transaction() as session:
        following = await alerts.toggle_followed_kind(session, member_id=turn.member.id, kind=kind)
    await turn.toast(turn.t("Je volgt dit nu.") if following else turn.t("Je volgt dit niet meer."))
    await show_alert_settings(turn)
