"""What a member wants to hear about, and how: their themes (✅/▫️ buttons), the kinds of meeting
they follow, and new plans at once, in the weekly digest, or not at all.

Reached from /instellingen, from an alert's "🔔 Meldingen instellen", and once at the end of
onboarding ("Waar wil je over horen?", skippable). ``origin`` on the buttons says where "Klaar"
leads: "st" back to the settings, "ob" on to the main menu.
"""

from __future__ import annotations

from bot.actions import action
from bot.context import Buttons, Turn, escape
from i18n.labels import KIND_ICONS, KIND_LABELS
from i18n.translate import N_
from models.alerts import operations as alerts
from models.alerts.policy import AlertPreference
from models.errors import NotFound
from models.events.entities import EventKind
from models.themes import operations as themes

ONBOARDING, SETTINGS = "ob", "st"
ALERT_LABELS = {
    AlertPreference.NOW: N_("meteen"),
    AlertPreference.DIGEST: N_("in het weekoverzicht"),
    AlertPreference.OFF: N_("niet"),
}


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
        rows.append([turn.button(t("◀ Terug"), "st")])  # /instellingen
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
            [turn.button(t("📅 Agenda"), "ag", 0), turn.button(t("🙋 Mijn aanmeldingen"), "my")],
            [turn.button(t("⚙️ Instellingen"), "st")],
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
    rows.append([turn.button(t("◀ Terug"), "st")])  # /instellingen
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
