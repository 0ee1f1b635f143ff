"""Who comes and who came: attendee lists, check-in at the venue, participation per network.

Organisers: ``/deelnemers`` (or "👥 Deelnemers" on an event card, action ``CL``) shows the list
of an event grouped by network, with a CSV, a check-in page (tap names), the code to show at the
venue, and "Afronden" after the event (no-shows). ``/deelname`` shows registrations and attendance
per network and kind of event over a period: a table, a CSV and a bar chart.
Attendees: ``/ikbenerbij`` and then the code shown at the venue.

Every organiser function is authorised in ``models/`` (a member who forges a button gets the
domain's refusal); this module parses, calls the domain and renders.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import timedelta

from babel.dates import format_date
from telegram import Update
from telegram.ext import ContextTypes

from bot import dialogs
from bot.callbacks import Callback, InvalidCallback
from bot.charts import bar_chart_png, code_card_png
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.for_organisers import organisers_only
from bot.render import KIND_ICONS, short, title
from i18n.translate import N_, Translator
from models.attendance import operations as attendance
from models.attendance.queries import (
    Attendee,
    AttendeeList,
    ParticipationReport,
    ParticipationRow,
    attendance_events,
    attendee_csv,
    attendee_list,
    organiser_event,
    participation,
    participation_csv,
    period_bounds,
)
from models.attendance.window import CHECK_IN_OPENS, check_in_open
from models.dialogs.entities import DialogState
from models.dialogs.operations import DialogChanged
from models.errors import DomainError
from models.events.entities import Event, EventKind
from models.organisers.authorisation import require_organiser
from models.registrations.entities import RegistrationStatus

S = RegistrationStatus
EVENTS_PER_PAGE = 6
NAMES_PER_PAGE = 8
# Telegram allows 4,096 characters; the rest of a long list is in the CSV.
TEXT_BUDGET = 3600
# How long after /ikbenerbij a typed message is taken as the code (the check-in dialog).
CODE_WAIT = timedelta(minutes=15)
PERIODS = {
    "year": N_("Dit jaar"),
    "last_year": N_("Vorig jaar"),
    "12m": N_("Laatste 12 maanden"),
}
STATUS_MARKS = {S.ATTENDED: " ✅", S.NO_SHOW: " ❌", S.OFFERED: " 🎟"}
TABLE_NAME_WIDTH = 18
TABLE_NUMBER_WIDTH = 8

ActionHandler = Callable[[Turn, Callback], Awaitable[None]]


def _optional_page(callback: Callback) -> int | None:
    return callback.int_arg(0) if callback.args else None


ACTIONS: dict[str, ActionHandler] = {
    "CE": lambda turn, cb: show_events(turn, _optional_page(cb)),
    "CL": lambda turn, cb: show_list(turn, cb.arg(0)),
    "CC": lambda turn, cb: send_list_csv(turn, cb.arg(0)),
    "CI": lambda turn, cb: show_check_in(turn, cb.arg(0), cb.int_arg(1)),
    "CT": lambda turn, cb: on_toggle(turn, cb.arg(0), cb.int_arg(1), cb.int_arg(2)),
    "CK": lambda turn, cb: show_code(turn, cb.arg(0)),
    "CB": lambda turn, cb: send_code_picture(turn, cb.arg(0)),
    "CF": lambda turn, cb: ask_close(turn, cb.arg(0)),
    "CY": lambda turn, cb: on_close(turn, cb.arg(0)),
    "CS": lambda turn, cb: on_stop_waiting(turn),
    "CQ": lambda turn, cb: ask_period(turn),
    "CP": lambda turn, cb: show_participation(turn, cb.arg(0)),
    "CR": lambda turn, cb: send_participation_csv(turn, cb.arg(0)),
    "CG": lambda turn, cb: send_participation_chart(turn, cb.arg(0)),
}


# --- /deelnemers: choosing an event -----------------------------------------------------------


@organisers_only("deelnemers")
async def attendees_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    try:
        await show_events(turn, None)
    except DomainError as error:
        await turn.say(turn.refusal(error))


async def show_events(turn: Turn, page: int | None) -> None:
    """The coming and just-past events; ``page`` None: the page with the next event on it."""
    t, now = turn.t, turn.deps.clock()
    async with turn.deps.database.read() as session:
        events = await attendance_events(session, actor_id=turn.member.id, now=now)
    await turn.toast()
    if not events:
        await turn.show(t("Er zijn geen bijeenkomsten van de afgelopen weken of binnenkort."))
        return
    pages = math.ceil(len(events) / EVENTS_PER_PAGE)
    if page is None:
        upcoming = next((i for i, e in enumerate(events) if e.ends_at > now), len(events) - 1)
        page = upcoming // EVENTS_PER_PAGE
    page = min(max(page, 0), pages - 1)
    shown = events[page * EVENTS_PER_PAGE : (page + 1) * EVENTS_PER_PAGE]
    rows: Buttons = [
        [turn.button(_event_label(t, event), "CL", event.public_code)] for event in shown
    ]
    nav = []
    if page > 0:
        nav.append(turn.button(t("◀ Eerder"), "CE", page - 1))
    if page < pages - 1:
        nav.append(turn.button(t("Later ▶"), "CE", page + 1))
    if nav:
        rows.append(nav)
    await turn.show(t("👥 <b>Deelnemers</b>\nVan welke bijeenkomst?"), rows)


def _event_label(t: Translator, event: Event) -> str:
    return " ".join(
        [KIND_ICONS[event.kind], short(title(t, event), 28), "·", t.moment(event.starts_at)]
    )


# --- the list -----------------------------------------------------------------------------------


async def _list(turn: Turn, code: str) -> AttendeeList:
    async with turn.deps.database.read() as session:
        event = await organiser_event(session, actor_id=turn.member.id, public_code=code)
        return await attendee_list(session, actor_id=turn.member.id, event_id=event.id)


async def show_list(turn: Turn, code: str, *, notice: str = "") -> None:
    listing = await _list(turn, code)
    text = list_text(turn.t, listing)
    if notice:
        text = f"{notice}\n\n{text}"
    await turn.toast()
    await turn.show(text, list_buttons(turn, listing))


def list_text(t: Translator, listing: AttendeeList) -> str:
    event, totals = listing.event, listing.totals
    lines = [
        t("👥 <b>Deelnemers</b> · {title}", title=escape(title(t, event))),
        f"{KIND_ICONS[event.kind]} {t.span(event.starts_at, event.ends_at)}",
        "",
        t.plural("{n} persoon aangemeld", "{n} personen aangemeld", totals.people)
        + " · "
        + t.plural("{n} aanmelding", "{n} aanmeldingen", totals.registrations),
    ]
    counts = [
        t("✅ {n} aanwezig", n=t.number(totals.attended)) if totals.attended else "",
        t("❌ {n} niet gekomen", n=t.number(totals.no_show)) if totals.no_show else "",
        t("🎟 {n} met een aangeboden plek", n=t.number(totals.offered)) if totals.offered else "",
        t("⏳ {n} op de wachtlijst", n=t.number(totals.waitlisted)) if totals.waitlisted else "",
    ]
    if any(counts):
        lines.append(" · ".join(c for c in counts if c))
    body: list[str] = []
    for group in listing.groups:
        body += ["", f"<b>{escape(group.label(t))}</b> · {t.number(group.people)}"]
        body += [f"  • {_person(t, attendee)}" for attendee in group.attendees]
    if listing.waitlist:
        body += ["", t("⏳ <b>Wachtlijst</b>")]
        body += [
            f"  {attendee.waitlist_position}. {_person(t, attendee)} · "
            f"{escape(attendee.group_label(t))}"
            for attendee in listing.waitlist
        ]
    if not listing.groups and not listing.waitlist:
        body += ["", t("Er heeft zich nog niemand aangemeld.")]
    return "\n".join(_within_budget(t, lines, body))


def _person(t: Translator, attendee: Attendee) -> str:
    name = "<i>" + t("anoniem") + "</i>" if attendee.name is None else escape(attendee.name)
    if attendee.party_size > 1:
        name += f" +{attendee.party_size - 1}"
    return name + STATUS_MARKS.get(attendee.status, "")


def _within_budget(t: Translator, head: list[str], body: list[str]) -> list[str]:
    size = sum(len(line) + 1 for line in head)
    for index, line in enumerate(body):
        size += len(line) + 1
        if size > TEXT_BUDGET:
            hidden = sum(1 for rest in body[index:] if rest.startswith("  "))
            return [
                *head,
                *body[:index],
                "",
                t.plural(
                    "… en nog {n} naam: zie de CSV.", "… en nog {n} namen: zie de CSV.", hidden
                ),
            ]
    return [*head, *body]


def list_buttons(turn: Turn, listing: AttendeeList) -> Buttons:
    t, event, now = turn.t, listing.event, turn.deps.clock()
    code = event.public_code
    rows: Buttons = []
    first = [turn.button(t("📄 CSV"), "CC", code)]
    if event.is_published and now >= event.starts_at - CHECK_IN_OPENS and listing.seated:
        first.append(turn.button(t("✅ Inchecken"), "CI", code, 0))
    rows.append(first)
    if event.is_published and check_in_open(event, now):
        rows.append([turn.button(t("🔢 Code voor de zaal"), "CK", code)])
    if event.is_published and now >= event.ends_at and listing.totals.confirmed:
        rows.append([turn.button(t("Afronden"), "CF", code)])
    rows.append([turn.button(t("🔄 Vernieuwen"), "CL", code), turn.button(t("◀ Terug"), "CE")])
    return rows


async def send_list_csv(turn: Turn, code: str) -> None:
    async with turn.deps.database.transaction() as session:
        event = await organiser_event(session, actor_id=turn.member.id, public_code=code)
        listing = await attendance.export_attendees(
            session, actor_id=turn.member.id, event_id=event.id, now=turn.deps.clock()
        )
    await turn.toast()
    day = listing.event.starts_at.astimezone(turn.t.tz).date().isoformat()
    await turn.context.bot.send_document(
        turn.chat_id,
        document=attendee_csv(listing, translate=turn.t),
        filename=f"deelnemers-{day}-{code}.csv",
        caption=title(turn.t, listing.event),
    )


# --- checking in --------------------------------------------------------------------------------


async def show_check_in(turn: Turn, code: str, page: int, *, notice: str = "") -> None:
    t = turn.t
    listing = await _list(turn, code)
    people = sorted(
        (a for a in listing.seated if a.status is not S.OFFERED),
        key=lambda a: (a.name is None, (a.name or "").casefold(), a.registration_id),
    )
    pages = max(1, math.ceil(len(people) / NAMES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = people[page * NAMES_PER_PAGE : (page + 1) * NAMES_PER_PAGE]
    inside = sum(a.party_size for a in people if a.checked_in)
    text = "\n".join(
        [
            t("✅ <b>Inchecken</b> · {title}", title=escape(title(t, listing.event))),
            t("Tik op een naam om iemand in of uit te checken."),
            t(
                "{inside} van de {total} binnen.",
                inside=t.number(inside),
                total=t.number(sum(a.party_size for a in people)),
            ),
        ]
    )
    if notice:
        text = f"{notice}\n\n{text}"
    rows: Buttons = [
        [turn.button(_check_in_label(t, a), "CT", code, a.registration_id, page)] for a in shown
    ]
    nav = []
    if page > 0:
        nav.append(turn.button("◀", "CI", code, page - 1))
    if pages > 1:
        nav.append(turn.button(f"{page + 1}/{pages}", "CI", code, page))
    if page < pages - 1:
        nav.append(turn.button("▶", "CI", code, page + 1))
    if nav:
        rows.append(nav)
    rows.append([turn.button(t("◀ Terug"), "CL", code)])
    await turn.toast()
    await turn.show(text, rows)


def _check_in_label(t: Translator, attendee: Attendee) -> str:
    name = t("anoniem") if attendee.name is None else short(attendee.name, 30)
    if attendee.party_size > 1:
        name += f" +{attendee.party_size - 1}"
    return ("✅ " if attendee.checked_in else "⬜ ") + name


async def on_toggle(turn: Turn, code: str, registration_id: int, page: int) -> None:
    async with turn.deps.database.transaction() as session:
        event = await organiser_event(session, actor_id=turn.member.id, public_code=code)
        outcome = await attendance.toggle_attendance(
            session,
            actor_id=turn.member.id,
            event_id=event.id,
            registration_id=registration_id,
            now=turn.deps.clock(),
            policy=turn.deps.policy,
        )
    if outcome.registration.status is S.ATTENDED:
        await turn.toast(turn.t("✅ Ingecheckt."))
    else:
        await turn.toast(turn.t("Niet meer ingecheckt."))
    await show_check_in(turn, code, page)


async def show_code(turn: Turn, code: str) -> None:
    t = turn.t
    async with turn.deps.database.transaction() as session:
        event = await organiser_event(session, actor_id=turn.member.id, public_code=code)
        venue_code = await attendance.check_in_code(
            session, actor_id=turn.member.id, event_id=event.id, now=turn.deps.clock()
        )
    text = "\n".join(
        [
            t("🔢 <b>Code voor de zaal</b> · {title}", title=escape(title(t, event))),
            "",
            f"<b>{' '.join(venue_code)}</b>",
            "",
            t(
                "Laat deze code zien in de zaal. Deelnemers sturen /ikbenerbij en typen de code; "
                "dan staan ze meteen als aanwezig op de lijst. De code werkt tot het einde van "
                "de bijeenkomst."
            ),
        ]
    )
    await turn.toast()
    await turn.show(
        text,
        [
            [turn.button(t("🖼 Groot in beeld"), "CB", code)],
            [turn.button(t("◀ Terug"), "CL", code)],
        ],
    )


async def send_code_picture(turn: Turn, code: str) -> None:
    async with turn.deps.database.transaction() as session:
        event = await organiser_event(session, actor_id=turn.member.id, public_code=code)
        venue_code = await attendance.check_in_code(
            session, actor_id=turn.member.id, event_id=event.id, now=turn.deps.clock()
        )
    await turn.toast()
    caption = turn.t("Stuur /ikbenerbij aan de bot en typ deze code.")
    await turn.context.bot.send_photo(
        turn.chat_id, photo=code_card_png(venue_code, caption), caption=caption
    )


async def ask_close(turn: Turn, code: str) -> None:
    """Closing marks everyone not checked in as absent: ask once more."""
    t = turn.t
    listing = await _list(turn, code)
    if turn.deps.clock() < listing.event.ends_at:
        raise attendance.NotYetOver()
    waiting = sum(1 for a in listing.seated if a.status is S.CONFIRMED)
    await turn.toast()
    await turn.show(
        t.plural(
            "Afronden: {n} aanmelding is niet ingecheckt en telt dan als niet gekomen. Klopt dat?",
            "Afronden: {n} aanmeldingen zijn niet ingecheckt en tellen dan als niet gekomen. "
            "Klopt dat?",
            waiting,
        ),
        [[turn.button(t("Ja, afronden"), "CY", code), turn.button(t("Nee, terug"), "CL", code)]],
    )


async def on_close(turn: Turn, code: str) -> None:
    async with turn.deps.database.transaction() as session:
        event = await organiser_event(session, actor_id=turn.member.id, public_code=code)
        closed = await attendance.close_attendance(
            session,
            actor_id=turn.member.id,
            event_id=event.id,
            now=turn.deps.clock(),
            policy=turn.deps.policy,
        )
    t = turn.t
    notice = t(
        "Afgerond: {attended} aanwezig, {no_show} niet gekomen.",
        attended=t.number(closed.attended),
        no_show=t.number(closed.no_show),
    )
    await turn.toast(notice)
    await show_list(turn, code, notice=notice)


# --- /ikbenerbij: attendees check themselves in --------------------------------------------------


async def check_in_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ikbenerbij: ask for the code (or take it right away: /ikbenerbij K7P2)."""
    turn = await begin_turn(update, context)  # ends a dialog it finds (bot/dialogs.py)
    if context.args:
        await _check_in(turn, " ".join(context.args), None)
        return
    await dialogs.begin(turn, CHECK_IN, "code")


async def _ask_code(turn: Turn, _dialog: DialogState, notice: str) -> None:
    t = turn.t
    text = t("Typ de code die in de zaal wordt getoond (vier tekens, zoals K7P2).")
    await turn.say(f"{notice}\n{text}" if notice else text, [[turn.button(t("Stop"), "CS")]])


async def _take_code(turn: Turn, dialog: DialogState, typed: str) -> None:
    await _check_in(turn, typed, dialog)


async def _check_in(turn: Turn, typed: str, dialog: DialogState | None) -> None:
    """Check in with ``typed``; with ``dialog`` (the code was asked for) a wrong code may be
    typed again, and a right one ends the dialog in the same transaction."""
    t = turn.t
    try:
        async with (
            dialogs.finishing(turn, dialog)
            if dialog is not None
            else turn.deps.database.transaction()
        ) as session:
            event, outcome = await attendance.check_in_self(
                session,
                member_id=turn.member.id,
                code=typed,
                now=turn.deps.clock(),
                policy=turn.deps.policy,
            )
    except DialogChanged:
        raise  # the member is shown where the dialog stands now (bot/dialogs.py)
    except attendance.WrongCode as error:
        if dialog is not None:  # still asked for (nothing was written)
            await turn.say(
                turn.refusal(error) + "\n" + t("Probeer het nog eens, of tik op Stop."),
                [[turn.button(t("Stop"), "CS")]],
            )
        else:
            await turn.say(turn.refusal(error))
        return
    except DomainError as error:
        await dialogs.leave(turn)
        await turn.say(turn.refusal(error))
        return
    greeting = (
        t("Welkom! Je bent ingecheckt.") if outcome.changed else t("Je was al ingecheckt. Welkom!")
    )
    await turn.say(f"{greeting}\n{KIND_ICONS[event.kind]} <b>{escape(title(t, event))}</b>")


async def on_stop_waiting(turn: Turn, _dialog: DialogState | None = None) -> None:
    await dialogs.leave(turn)
    await turn.toast()
    await turn.show(turn.t("Goed, we laten het even. Met /ikbenerbij kun je het opnieuw doen."))


# Typed after /ikbenerbij, the code shown at the venue (a quarter of an hour to type it).
CHECK_IN = dialogs.register(
    dialogs.Flow(
        "checkin",
        steps={"code": dialogs.Step(_ask_code, _take_code)},
        ended=N_("Inchecken met de code is gestopt. Met /ikbenerbij kun je het opnieuw doen."),
        expired=N_(
            "Het wachten op de code is voorbij (na een kwartier). Met /ikbenerbij kun je het "
            "opnieuw doen."
        ),
        actions=frozenset({"CS"}),
        commands=frozenset({"ikbenerbij", "checkin"}),
        idle=CODE_WAIT,
        on_stop=on_stop_waiting,
        typed_words=False,  # a code could be "STOP"
    )
)


# --- /deelname: participation per network ------------------------------------------------------


@organisers_only("deelname")
async def participation_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    try:
        await ask_period(turn)
    except DomainError as error:
        await turn.say(turn.refusal(error))


async def ask_period(turn: Turn) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
    await turn.toast()
    await turn.show(
        t("📊 <b>Deelname per buurtnetwerk</b>\nOver welke periode?"),
        [[turn.button(t(label), "CP", key)] for key, label in PERIODS.items()],
    )


async def _report(turn: Turn, period: str) -> ParticipationReport:
    if period not in PERIODS:
        raise InvalidCallback(f"unknown period {period!r}")
    since, until = period_bounds(period, turn.deps.clock(), turn.t.tz)
    async with turn.deps.database.read() as session:
        return await participation(session, actor_id=turn.member.id, since=since, until=until)


def _period_label(t: Translator, report: ParticipationReport) -> str:
    first = report.since.astimezone(t.tz).date()
    last = (report.until - timedelta(microseconds=1)).astimezone(t.tz).date()
    return "{} – {}".format(
        format_date(first, "d MMM y", locale=t.language),
        format_date(last, "d MMM y", locale=t.language),
    )


async def show_participation(turn: Turn, period: str) -> None:
    t = turn.t
    report = await _report(turn, period)
    lines = [
        t("📊 <b>Deelname per buurtnetwerk</b>"),
        f"{t(PERIODS[period])}: {_period_label(t, report)}",
        "",
    ]
    if report.kinds:
        lines.append(
            t.plural(
                "{n} bijeenkomst: {kinds}",
                "{n} bijeenkomsten: {kinds}",
                sum(report.events.values()),
                kinds=" · ".join(
                    f"{KIND_ICONS[kind]} {t.number(report.events[kind])}" for kind in report.kinds
                ),
            )
        )
    if report.total.registrations:
        lines += [
            f"<pre>{escape(participation_table(t, report))}</pre>",
            t("In personen. Aangemeld: met een plek (niet afgemeld, niet op de wachtlijst)."),
        ]
    else:
        lines.append(t("In deze periode heeft niemand zich aangemeld."))
    if report.networks_without_participation:
        lines += [
            "",
            t(
                "<b>Nog niet meegedaan:</b> {names}",
                names=escape(", ".join(report.networks_without_participation)),
            ),
        ]
    await turn.toast()
    await turn.show(
        "\n".join(lines),
        [
            [turn.button(t("📄 CSV"), "CR", period), turn.button(t("📊 Grafiek"), "CG", period)],
            [turn.button(t("◀ Andere periode"), "CQ")],
        ],
    )


def participation_table(t: Translator, report: ParticipationReport) -> str:
    """Narrow enough for a phone: per network a line with its totals, then a line per kind."""
    kinds = report.kinds
    header = _table_line("", t("aangem."), t("aanw."))
    lines = [header, "-" * len(header)]

    def block(name: str, row: ParticipationRow | None) -> None:
        total = row.total if row else report.total
        lines.append(_table_line(name, total.registrations, total.attended))
        if len(kinds) < 2:
            return
        for kind in kinds:
            figures = row.figures(kind) if row else report.total_for(kind)
            if figures.registrations:
                lines.append(
                    _table_line(
                        " · " + t(KIND_SHORT[kind]), figures.registrations, figures.attended
                    )
                )

    taking_part = [row for row in report.rows if row.total.registrations]
    taking_part.sort(key=lambda row: -row.total.registrations)  # stable: by name within
    for row in taking_part:
        block(row.label(t), row)
    lines.append("-" * len(header))
    block(t("Totaal"), None)
    return "\n".join(lines)


KIND_SHORT = {
    EventKind.MASTERCLASS: N_("Masterclass"),
    EventKind.DIALOOG: N_("Dialoog"),
    EventKind.UITWISSELING: N_("Uitwisseling"),
    EventKind.WORKSHOP: N_("Workshop"),
}


def _table_line(name: str, registrations: int | str, attended: int | str) -> str:
    if len(name) > TABLE_NAME_WIDTH:
        name = name[: TABLE_NAME_WIDTH - 1] + "…"
    return (
        f"{name:<{TABLE_NAME_WIDTH}}"
        f"{registrations!s:>{TABLE_NUMBER_WIDTH}}{attended!s:>{TABLE_NUMBER_WIDTH}}"
    )


async def send_participation_csv(turn: Turn, period: str) -> None:
    report = await _report(turn, period)
    await turn.toast()
    first = report.since.astimezone(turn.t.tz).date().isoformat()
    last = (report.until - timedelta(microseconds=1)).astimezone(turn.t.tz).date().isoformat()
    await turn.context.bot.send_document(
        turn.chat_id,
        document=participation_csv(report, translate=turn.t),
        filename=f"deelname-{first}-{last}.csv",
        caption=turn.t("Deelname per buurtnetwerk") + ", " + _period_label(turn.t, report),
    )


def participation_chart(t: Translator, report: ParticipationReport) -> bytes:
    rows = sorted(
        (row for row in report.networks if row.total.registrations),
        key=lambda row: -row.total.registrations,
    )
    footer = ""
    if report.networks_without_participation:
        footer = t(
            "Nog niet meegedaan: {names}", names=", ".join(report.networks_without_participation)
        )
    return bar_chart_png(
        title=t("Deelname per buurtnetwerk"),
        subtitle=_period_label(t, report) + " · " + t("in personen"),
        series=[t("aangemeld"), t("aanwezig")],
        rows=[(row.label(t), [row.total.registrations, row.total.attended]) for row in rows],
        footer=footer,
        empty=t("In deze periode heeft niemand zich aangemeld."),
    )


async def send_participation_chart(turn: Turn, period: str) -> None:
    report = await _report(turn, period)
    await turn.toast()
    await turn.context.bot.send_photo(
        turn.chat_id,
        photo=participation_chart(turn.t, report),
        caption=turn.t("Deelname per buurtnetwerk") + ", " + _period_label(turn.t, report),
    )


__all__ = [
    "ACTIONS",
    "attendees_command",
    "check_in_command",
    "participation_command",
]
