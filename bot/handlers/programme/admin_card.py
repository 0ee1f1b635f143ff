"""/programma and the admin card: the coming events, drafts and proposals, and per event what an
organiser can do with it now (change a field, move, publish, cancel, approve or reject a
proposal, the attendees). Every decision is the domain's; a member who presses one of these
buttons hears what /programma is for (``steps.for_organisers``)."""

from __future__ import annotations

import math

from telegram import Update
from telegram.ext import ContextTypes

from bot.actions import EventCode, action
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.for_organisers import organisers_only
from bot.handlers.programme import edit, new_event, proposals, series
from bot.handlers.programme.fields import FIELD_LABELS
from bot.handlers.programme.steps import for_organisers
from bot.render import KIND_ICONS, event_text, short, title
from i18n.translate import N_
from models.events.entities import Event, EventStatus
from models.events.operations import EventDraft, event_by_code, publish_event
from models.events.queries import EventOverview, event_overview, programme_events
from models.members.entities import Member
from models.organisers.authorisation import require_organiser
from models.themes.operations import event_themes_of

PER_PAGE = 6
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
            turn.button(t("➕ Nieuwe bijeenkomst"), new_event.on_new),
            turn.button(t("🗓 Reeks plannen"), series.on_new_series),
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
                turn.button(t("🕒 Verplaatsen"), edit.on_change_field, code, "moment"),
            ]
        )
        if event.status is EventStatus.DRAFT:
            rows.append([turn.button(t("📣 Publiceren"), on_publish, code)])
        if event.status is EventStatus.PROPOSED:
            rows.append(
                [
                    turn.button(t("✅ Goedkeuren"), proposals.on_approve, code),
                    turn.button(t("❌ Afwijzen"), proposals.on_reject, code),
                ]
            )
        else:
            rows.append([turn.button(t("✖ Annuleren"), edit.on_cancel, code)])
    if not event.is_cancelled:
        rows.append([turn.button(t("🏷 Thema's"), "EK", code)])  # bot/handlers/event_themes.py
    if event.status is EventStatus.PUBLISHED or event.is_cancelled:
        rows.append([turn.button(t("👥 Deelnemers"), "CL", code)])
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
        turn.button(t(label), edit.on_change_field, code, name)
        for name, label in FIELD_LABELS.items()
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
    async with turn.deps.database.transaction() as session:
        event = await event_by_code(session, code)
        await publish_event(
            session,
            event_id=event.id,
            actor_id=turn.member.id,
            now=turn.deps.clock(),
            quiet_hours=turn.deps.policy.reminders,
        )
    notice = turn.t("📣 Gepubliceerd! Iedereen ziet de bijeenkomst nu in /agenda.")
    await turn.toast(turn.t("Gepubliceerd."))
    await show_admin_card(turn, code, notice=notice)


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
