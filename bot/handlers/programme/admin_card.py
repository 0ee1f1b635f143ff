"""/programma and the admin card: the coming events, drafts and proposals, and per event what an
organiser can do with it now (change a field, move, publish, cancel, approve or reject a
proposal, the attendees). Every decision is the domain's; a member who presses one of these
buttons hears what /programma is for (``steps.for_organisers``)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot import dialogs
from bot.actions import EventCode, action
from bot.callbacks import InvalidCallback
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.attendance.attendees import show_list
from bot.handlers.for_organisers import organisers_only
from bot.handlers.programme.fields import FIELD_KEYS, FIELD_LABELS, FIELD_STEP
from bot.handlers.programme.steps import (
    CANCEL,
    EDIT,
    NEW_EVENT,
    REJECT,
    SERIES,
    begin_for_organisers,
    for_organisers,
    stored,
)
from bot.render import KIND_ICONS, event_text, short, title
from i18n.translate import N_
from models.events.entities import Event, EventStatus
from models.events.operations import (
    EventDraft,
    check_changeable,
    event_by_code,
    publish_event,
)
from models.events.proposals import approve_proposal, check_undecided
from models.events.queries import EventOverview, event_overview, programme_events
from models.members.entities import Member
from models.organisers.authorisation import require_organiser
from models.themes.operations import active_themes, event_themes_of, set_event_themes

PER_PAGE = 6
# A domain operation that decides about an event (``publish_event``, ``approve_proposal``).
Decision = Callable[..., Awaitable[object]]
STATUS_LABELS = {
    EventStatus.DRAFT: N_("📝 Concept"),
    EventStatus.PUBLISHED: N_("✅ Gepubliceerd"),
    EventStatus.PROPOSED: N_("💡 Voorstel, wacht op goedkeuring"),
    EventStatus.CANCELLED: N_("❌ Geannuleerd"),
}
STATUS_ICONS = {
    EventStatus.DRAFT: "📝",
    EventStatus.PROPOSED: "💡",
    EventStatus.PUBLISHED: "✅",
    EventStatus.CANCELLED: "❌",
}


@organisers_only("programma")
async def programme(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    await show_programme(turn, 0)


@action("EP")
@for_organisers()
async def show_programme(turn: Turn, page: int) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        events = await programme_events(session, actor_id=turn.member.id, now=turn.deps.clock())
    pages = max(1, math.ceil(len(events) / PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = events[page * PER_PAGE : (page + 1) * PER_PAGE]
    if events:
        lines = [t("<b>Programma</b> · de komende bijeenkomsten, ook concepten en voorstellen.")]
    else:
        lines = [t("<b>Programma</b> · er staat nog niets op het programma.")]
    for event in shown:
        lines += [
            "",
            f"{KIND_ICONS[event.kind]} <b>{escape(title(t, event))}</b>",
            f"🗓 {t.moment(event.starts_at)} · {t(STATUS_LABELS[event.status])}",
        ]
    rows: Buttons = [
        [
            turn.button(
                f"{STATUS_ICONS[event.status]} {short(title(t, event))}",
                on_open,
                event.public_code,
            )
        ]
        for event in shown
    ]
    nav = []
    if page > 0:
        nav.append(turn.button(t("◀ Eerder"), show_programme, page - 1))
    if page < pages - 1:
        nav.append(turn.button(t("Later ▶"), show_programme, page + 1))
    if nav:
        rows.append(nav)
    if pages > 1:
        lines += ["", t("Pagina {page} van {pages}", page=page + 1, pages=pages)]
    rows.append(
        [
            turn.button(t("➕ Nieuwe bijeenkomst"), on_new),
            turn.button(t("🗓 Reeks plannen"), on_new_series),
        ]
    )
    await turn.toast()
    await turn.show("\n".join(lines), rows)


@action("EO")
@for_organisers()
async def on_open(turn: Turn, code: EventCode) -> None:
    await show_admin_card(turn, code)


async def show_admin_card(turn: Turn, code: str, *, notice: str = "") -> None:
    """An event as organisers see it, with what they can do to it now."""
    t = turn.t
    now = turn.deps.clock()
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
        event = await event_by_code(session, code)
        overview = await event_overview(
            session, event=event, member=turn.member, now=now, policy=turn.deps.policy
        )
        proposer = await session.get(Member, event.proposed_by_id) if event.proposed_by_id else None
        carried = await event_themes_of(session, event.id)
    lines = [t(STATUS_LABELS[event.status])]
    if proposer is not None and event.status is EventStatus.PROPOSED:
        network = proposer.network.name if proposer.network else ""
        lines.append(
            t(
                "Voorgesteld door {name} ({network})",
                name=escape(proposer.display_name),
                network=escape(network),
            )
        )
    lines += ["", event_text(t, overview)]
    if carried:
        lines.append("🏷 " + escape(", ".join(theme.name for theme in carried)))
    share = fair_share_line(turn, event)
    if share:
        lines.append(share)
    if notice:
        lines = [notice, "", *lines]
    await turn.toast()
    await turn.show("\n".join(lines), _admin_buttons(turn, event, started=overview.started))


def _admin_buttons(turn: Turn, event: Event, *, started: bool) -> Buttons:
    t, code = turn.t, event.public_code
    rows: Buttons = []
    if not event.is_cancelled and not started:
        rows.append(
            [
                turn.button(t("✏️ Wijzigen"), show_field_menu, code),
                turn.button(t("🕒 Verplaatsen"), on_change_field, code, "moment"),
            ]
        )
        if event.status is EventStatus.DRAFT:
            rows.append([turn.button(t("📣 Publiceren"), on_publish, code)])
        if event.status is EventStatus.PROPOSED:
            rows.append(
                [
                    turn.button(t("✅ Goedkeuren"), on_approve, code),
                    turn.button(t("❌ Afwijzen"), on_reject, code),
                ]
            )
        else:
            rows.append([turn.button(t("✖ Annuleren"), on_cancel, code)])
    if not event.is_cancelled:
        rows.append([turn.button(t("🏷 Thema's"), show_event_themes, code)])
    if event.status is EventStatus.PUBLISHED or event.is_cancelled:
        rows.append([turn.button(t("👥 Deelnemers"), show_list, code)])
    rows.append([turn.button(t("◀ Programma"), show_programme, 0)])
    return rows


@action("EF")
@for_organisers()
async def show_field_menu(turn: Turn, code: EventCode) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
        event = await event_by_code(session, code)
    buttons = [
        turn.button(t(label), on_change_field, code, name) for name, label in FIELD_LABELS.items()
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([turn.button(t("◀ Terug"), on_open, code)])
    await turn.toast()
    await turn.show(
        t("Wat wil je wijzigen aan <b>{title}</b>?", title=escape(title(t, event))), rows
    )


@action("EU")
@for_organisers()
async def on_publish(turn: Turn, code: EventCode) -> None:
    await _decide(
        turn,
        code,
        publish_event,
        turn.t("Gepubliceerd."),
        turn.t("📣 Gepubliceerd! Iedereen ziet de bijeenkomst nu in /agenda."),
    )


async def _decide(turn: Turn, code: str, decision: Decision, toast: str, notice: str) -> None:
    """An organiser's one-tap decision about the event (publish, approve), then its card."""
    async with turn.deps.database.transaction() as session:
        event = await event_by_code(session, code)
        await decision(
            session,
            actor_id=turn.member.id,
            event_id=event.id,
            now=turn.deps.clock(),
            quiet_hours=turn.deps.policy.reminders,
        )
    await turn.toast(toast)
    await show_admin_card(turn, code, notice=notice)


# --- the buttons that start a flow ---------------------------------------------------------------
# Each flow (new_event, series, edit, proposals) ends on this card or the programme, so this
# module does not import them: a button here starts its flow by the name it is registered under
# with the dialog engine (``steps``), and the flow names these buttons as its own.


@action("EN")
async def on_new(turn: Turn) -> None:
    await begin_for_organisers(turn, dialogs.FLOWS[NEW_EVENT], "kind", command="nieuw")


@action("EZ")
async def on_new_series(turn: Turn) -> None:
    await begin_for_organisers(turn, dialogs.FLOWS[SERIES], "series_kind", command="reeks")


async def editable_event(turn: Turn, code: str) -> Event:
    """The event behind an admin card's button, for an organiser, if it can still change."""
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
        event = await event_by_code(session, code)
    check_changeable(event)  # the domain's rule, asked before a question is asked about it
    return event


def event_values(event: Event) -> dict[str, Any]:
    """An event's values for a dialog about it (to change one, and to show "Nu: …")."""
    keys = {key for keys in FIELD_KEYS.values() for key in keys}
    values = {key: getattr(event, key) for key in keys}
    values.update(
        code=event.public_code,
        series_id=event.series_id,
        original_start=event.starts_at,
    )
    return stored(values)


@action("EW")
@for_organisers()
async def on_change_field(turn: Turn, code: EventCode, name: str) -> None:
    event = await editable_event(turn, code)
    if name not in FIELD_LABELS:
        raise InvalidCallback(f"EW: unknown field {name!r}")
    await turn.toast()
    await dialogs.begin(
        turn, dialogs.FLOWS[EDIT], FIELD_STEP[name], {"field": name, **event_values(event)}
    )


@action("EX")
@for_organisers()
async def on_cancel(turn: Turn, code: EventCode) -> None:
    event = await editable_event(turn, code)
    await turn.toast()
    await dialogs.begin(turn, dialogs.FLOWS[CANCEL], "cancel_reason", event_values(event))


@action("EA")
@for_organisers()
async def on_approve(turn: Turn, code: EventCode) -> None:
    await _decide(
        turn,
        code,
        approve_proposal,
        turn.t("Goedgekeurd."),
        turn.t("✅ Goedgekeurd: de uitwisseling staat nu in de agenda van het netwerk."),
    )


@action("ER")
@for_organisers()
async def on_reject(turn: Turn, code: EventCode) -> None:
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
        event = await event_by_code(session, code)
    check_undecided(event)  # the domain's rule, asked before the reason is asked
    await turn.toast()
    await dialogs.begin(turn, dialogs.FLOWS[REJECT], "reject_reason", event_values(event))


# --- an event's themes ("🏷 Thema's"): each tap saved at once (organisers only, audited); set
# before publishing they count for the alerts (models/alerts), later for the agenda and digest


@action("EK")
async def show_event_themes(turn: Turn, code: EventCode) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
        event = await event_by_code(session, code)
        offered = await active_themes(session)
        carried = {theme.id for theme in await event_themes_of(session, event.id)}
    buttons = [
        turn.button(
            ("✅ " if theme.id in carried else "▫️ ") + theme.name, on_theme_toggle, code, theme.id
        )
        for theme in offered
    ]
    rows: Buttons = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([turn.button(t("◀ Terug"), on_open, code)])
    await turn.toast()
    await turn.show(
        t(
            "<b>Thema's van {title}</b>\nWie een van deze thema's koos, hoort het meteen "
            "als de bijeenkomst gepubliceerd wordt.",
            title=escape(title(t, event)),
        ),
        rows,
    )


@action("EY")
async def on_theme_toggle(turn: Turn, code: EventCode, theme_id: int) -> None:
    async with turn.deps.database.transaction() as session:
        event = await event_by_code(session, code)
        current = [theme.id for theme in await event_themes_of(session, event.id)]
        wanted = [i for i in current if i != theme_id]
        if theme_id not in current:
            wanted.append(theme_id)
        await set_event_themes(
            session,
            actor_id=turn.member.id,
            event_id=event.id,
            theme_ids=wanted,
            now=turn.deps.clock(),
        )
    await turn.toast(turn.t("Opgeslagen."))
    await show_event_themes(turn, code)


# --- how an event looks before it is saved ------------------------------------------------------


def preview_text(turn: Turn, draft: EventDraft) -> str:
    """The event card as volunteers will see it, for a draft that is not saved yet."""
    event = Event(
        public_code="",
        status=EventStatus.DRAFT,
        revision=1,
        **{name: getattr(draft, name) for name in draft.__dataclass_fields__},
    )
    event.description = draft.description or ""
    event.speakers = draft.speakers or ""
    overview = EventOverview(
        event=event,
        seats_left=draft.capacity,
        waitlist_length=0,
        registration=None,
        waitlist_position=None,
        last_call=False,
        registration_open=True,
        started=False,
    )
    text = event_text(turn.t, overview)
    share = fair_share_line(turn, event)
    return f"{text}\n{share}" if share else text


def fair_share_line(turn: Turn, event: Event) -> str:
    if not event.fair_share_per_network:
        return ""
    if event.fair_share_until is not None:
        return turn.t(
            "⚖️ Hoogstens {n} plaatsen per netwerk tot {moment}; daarna is de rest vrij.",
            n=turn.t.number(event.fair_share_per_network),
            moment=turn.t.moment_in_text(event.fair_share_until),
        )
    return turn.t(
        "⚖️ Hoogstens {n} plaatsen per netwerk.", n=turn.t.number(event.fair_share_per_network)
    )
