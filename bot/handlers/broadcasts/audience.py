"""Step 2 of a broadcast: who gets it. Everyone, chosen buurtnetwerken (a paged multi-select),
the registrants, waitlist or attendees of an event, or who registered for nothing this year.
Each choice is stored on the draft at once; then the preview (``preview.present``)."""

from __future__ import annotations

import math
from typing import Any

from telegram import InlineKeyboardButton

from bot.actions import action
from bot.context import Buttons, Turn
from bot.handlers.broadcasts import draft
from bot.handlers.broadcasts.preview import present
from bot.render import KIND_ICONS, short, title
from models.broadcasts import operations as ops
from models.broadcasts.entities import Broadcast
from models.dialogs.entities import DialogState
from models.networks.reference import all_networks
from models.themes.operations import active_themes

NETWORKS_PER_PAGE = 8
EVENTS_PER_PAGE = 6
# The event audiences as their buttons name them.
_EVENT_KINDS = {"r": ops.REGISTRANTS, "w": ops.WAITLIST, "a": ops.ATTENDEES}


# --- the menu -----------------------------------------------------------------------------------


async def ask_audience(turn: Turn, dialog: DialogState, notice: str) -> None:
    t = turn.t
    broadcast = await draft.load(turn, dialog.answer("broadcast"))
    lines = [notice] if notice else []
    lines += [
        t("Je bericht: <i>{excerpt}</i>", excerpt=draft.excerpt(broadcast)),
        "",
        t("<b>Voor wie is dit bericht?</b>"),
    ]
    i = broadcast.id
    rows = [
        [turn.button(t("👥 Iedereen"), on_everyone, i)],
        [turn.button(t("🏘 Buurtnetwerken kiezen"), on_networks_page, i, 0)],
        [turn.button(t("🏷 Wie koos voor een thema"), on_themes, i)],
        [turn.button(t("✅ Wie zich aanmeldde voor een bijeenkomst"), on_events_page, i, "r", 0)],
        [turn.button(t("⏳ De wachtlijst van een bijeenkomst"), on_events_page, i, "w", 0)],
        [turn.button(t("🙋 Wie er was bij een bijeenkomst"), on_events_page, i, "a", 0)],
        [turn.button(t("💤 Wie zich dit jaar nergens voor aanmeldde"), on_inactive, i)],
        _back_and_stop(turn, "text", i),
    ]
    await turn.show("\n".join(lines), rows)


@action("Be")
async def on_everyone(turn: Turn, broadcast_id: int) -> None:
    await _set_audience(turn, broadcast_id, {"kind": ops.EVERYONE})


@action("Bi")
async def on_inactive(turn: Turn, broadcast_id: int) -> None:
    await _set_audience(turn, broadcast_id, {"kind": ops.INACTIVE})


async def _set_audience(turn: Turn, broadcast_id: int, audience: dict[str, Any]) -> None:
    await draft.change(turn, broadcast_id, audience=audience)
    await turn.toast()
    await present(turn, broadcast_id)


def _back_and_stop(turn: Turn, back_to: str, broadcast_id: int) -> list[InlineKeyboardButton]:
    """ "◀ Terug" to the text or to this menu, and "✖ Stop" (the draft goes)."""
    back = draft.on_back_to_text if back_to == "text" else draft.on_audience_menu
    return [
        turn.button(turn.t("◀ Terug"), back, broadcast_id),
        turn.button(turn.t("✖ Stop"), draft.on_stop, broadcast_id),
    ]


# --- chosen buurtnetwerken ----------------------------------------------------------------------


@action("Bw")
async def on_networks_page(turn: Turn, broadcast_id: int, page: int) -> None:
    await turn.toast()
    await draft.to_step(turn, broadcast_id, "networks", page=page)


@action("Bt")
async def on_network_toggled(turn: Turn, broadcast_id: int, network_id: int, page: int) -> None:
    broadcast = await draft.load(turn, broadcast_id)
    chosen = set(_chosen_networks(broadcast)) ^ {network_id}
    themes = _chosen_themes(broadcast)
    audience: dict[str, Any] = {}
    if chosen:
        audience = {"kind": ops.NETWORKS, "network_ids": sorted(chosen), "theme_ids": themes}
    elif themes:  # the themes stay: everyone who chose them
        audience = {"kind": ops.EVERYONE, "theme_ids": themes}
    await draft.change(turn, broadcast_id, audience=audience)
    await on_networks_page(turn, broadcast_id, page)


async def ask_networks(turn: Turn, dialog: DialogState, notice: str) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        broadcast = await ops.get_broadcast(
            session, actor_id=turn.member.id, broadcast_id=dialog.answer("broadcast")
        )
        networks = await all_networks(session)
    chosen = set(_chosen_networks(broadcast))
    i = broadcast.id
    pages = max(1, math.ceil(len(networks) / NETWORKS_PER_PAGE))
    page = min(max(int(dialog.answer("page", 0)), 0), pages - 1)
    shown = networks[page * NETWORKS_PER_PAGE : (page + 1) * NETWORKS_PER_PAGE]
    buttons = [
        turn.button(
            ("✅ " if network.id in chosen else "") + network.name,
            on_network_toggled,
            i,
            network.id,
            page,
        )
        for network in shown
    ]
    rows = [buttons[n : n + 2] for n in range(0, len(buttons), 2)]
    rows.append(_pages(turn, page, pages, lambda n: (on_networks_page, i, n)))
    done = t.plural("Klaar: {n} netwerk ▶", "Klaar: {n} netwerken ▶", len(chosen))
    rows.append([turn.button(done, on_networks_done, i)])
    rows.append([turn.button(t("🏷 En wie koos voor een thema"), on_themes, i)])
    rows.append(_back_and_stop(turn, "audience", i))
    text = t("<b>Welke buurtnetwerken?</b> Tik er een of meer aan (✅), en dan op Klaar.")
    await turn.show(f"{notice}\n\n{text}" if notice else text, rows)


@action("Bp")
async def on_networks_done(turn: Turn, broadcast_id: int) -> None:
    broadcast = await draft.load(turn, broadcast_id)
    if broadcast.audience.get("kind") is None:
        raise ops.NoNetworksChosen()  # "Klaar" with no network ticked
    await turn.toast()
    await present(turn, broadcast_id)


def _chosen_networks(broadcast: Broadcast) -> list[int]:
    if broadcast.audience.get("kind") != ops.NETWORKS:
        return []
    return [int(i) for i in broadcast.audience.get("network_ids", [])]


def _pages(turn: Turn, page: int, pages: int, target: Any) -> list[InlineKeyboardButton]:
    """◀ n/m ▶ under a paged list; ``target(n)`` is (handler, *args) of page n."""
    nav = []
    if page > 0:
        nav.append(turn.button("◀", *target(page - 1)))
    nav.append(turn.button(f"{page + 1}/{pages}", *target(page)))
    if page < pages - 1:
        nav.append(turn.button("▶", *target(page + 1)))
    return nav


# --- members who chose a theme (with everyone, or AND with the chosen networks) -----------------


@action("BT")
async def on_themes(turn: Turn, broadcast_id: int) -> None:
    await turn.toast()
    await draft.to_step(turn, broadcast_id, "themes")


@action("BU")
async def on_theme_toggled(turn: Turn, broadcast_id: int, theme_id: int) -> None:
    broadcast = await draft.load(turn, broadcast_id)
    chosen = sorted(set(_chosen_themes(broadcast)) ^ {theme_id})
    networks = _chosen_networks(broadcast)
    audience: dict[str, Any] = (
        {"kind": ops.NETWORKS, "network_ids": networks, "theme_ids": chosen}
        if networks
        else {"kind": ops.EVERYONE, "theme_ids": chosen}
    )
    await draft.change(turn, broadcast_id, audience=audience)
    await on_themes(turn, broadcast_id)


@action("BD")
async def on_themes_done(turn: Turn, broadcast_id: int) -> None:
    await turn.toast()
    await present(turn, broadcast_id)


async def ask_themes(turn: Turn, dialog: DialogState, notice: str) -> None:
    t = turn.t
    i = int(dialog.answer("broadcast"))
    broadcast = await draft.load(turn, i)
    async with turn.deps.database.read() as session:
        offered = await active_themes(session)
    chosen = set(_chosen_themes(broadcast))
    buttons = [
        turn.button(
            ("✅ " if theme.id in chosen else "▫️ ") + theme.name, on_theme_toggled, i, theme.id
        )
        for theme in offered
    ]
    rows = [buttons[n : n + 2] for n in range(0, len(buttons), 2)]
    rows.append([turn.button(t("Klaar ▶"), on_themes_done, i)])
    rows.append(_back_and_stop(turn, "audience", i))
    if _chosen_networks(broadcast):
        text = t(
            "<b>Welke thema's?</b> Het bericht gaat naar wie in de gekozen buurtnetwerken een "
            "van deze thema's koos (✅)."
        )
    else:
        text = t("<b>Welke thema's?</b> Het bericht gaat naar wie een van deze thema's koos (✅).")
    await turn.show(f"{notice}\n\n{text}" if notice else text, rows)


def _chosen_themes(broadcast: Broadcast) -> list[int]:
    if broadcast.audience.get("kind") not in (ops.EVERYONE, ops.NETWORKS):
        return []
    return [int(i) for i in broadcast.audience.get("theme_ids", [])]


# --- an event's registrants, waitlist or attendees ----------------------------------------------


@action("Bv")
async def on_events_page(turn: Turn, broadcast_id: int, code: str, page: int) -> None:
    _event_kind(code)
    await turn.toast()
    await draft.to_step(turn, broadcast_id, "events", events=code, page=page)


async def ask_events(turn: Turn, dialog: DialogState, notice: str) -> None:
    t = turn.t
    code = str(dialog.answer("events", "r"))
    kind = _event_kind(code)
    i = int(dialog.answer("broadcast"))
    async with turn.deps.database.read() as session:
        events = await ops.audience_events(
            session, actor_id=turn.member.id, kind=kind, now=turn.deps.clock()
        )
    pages = max(1, math.ceil(len(events) / EVENTS_PER_PAGE))
    page = min(max(int(dialog.answer("page", 0)), 0), pages - 1)
    shown = events[page * EVENTS_PER_PAGE : (page + 1) * EVENTS_PER_PAGE]
    rows: Buttons = [
        [
            turn.button(
                f"{KIND_ICONS[event.kind]} {short(title(t, event), 30)} · "
                f"{t.moment(event.starts_at)}",
                on_event_chosen,
                i,
                code,
                event.id,
            )
        ]
        for event in shown
    ]
    if pages > 1:
        rows.append(_pages(turn, page, pages, lambda n: (on_events_page, i, code, n)))
    rows.append(_back_and_stop(turn, "audience", i))
    if not events:
        text = t("Er zijn geen bijeenkomsten om uit te kiezen.")
    elif kind == ops.ATTENDEES:
        text = t("<b>Welke bijeenkomst?</b> Het bericht gaat naar wie erbij was.")
    elif kind == ops.WAITLIST:
        text = t("<b>Welke bijeenkomst?</b> Het bericht gaat naar wie op de wachtlijst staat.")
    else:
        text = t("<b>Welke bijeenkomst?</b> Het bericht gaat naar wie zich aanmeldde.")
    await turn.show(f"{notice}\n\n{text}" if notice else text, rows)


@action("Bg")
async def on_event_chosen(turn: Turn, broadcast_id: int, code: str, event_id: int) -> None:
    await _set_audience(turn, broadcast_id, {"kind": _event_kind(code), "event_id": event_id})


def _event_kind(code: str) -> str:
    kind = _EVENT_KINDS.get(code)
    if kind is None:
        raise ops.AudienceInvalid()
    return kind
