"""/deelnemers: the attendee list of an event, its CSV, checking people in by name, the code for
the venue, and "Afronden" after the event."""

from __future__ import annotations

import math

from telegram import Update
from telegram.ext import ContextTypes

from bot.actions import EventCode, action
from bot.charts import code_card_png
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.for_organisers import organisers_only
from bot.render import KIND_ICONS, short, title
from i18n.translate import Translator
from models.attendance import operations as attendance
from models.attendance.queries import (
    Attendee,
    AttendeeList,
    attendance_events,
    attendee_csv,
    attendee_list,
    organiser_event,
)
from models.attendance.window import attendance_window, require_over
from models.events.entities import Event
from models.registrations.entities import RegistrationStatus

S = RegistrationStatus
EVENTS_PER_PAGE = 6
NAMES_PER_PAGE = 8
# Telegram allows 4,096 characters; the rest of a long list is in the CSV.
TEXT_BUDGET = 3600
STATUS_MARKS = {S.ATTENDED: " ✅", S.NO_SHOW: " ❌", S.OFFERED: " 🎟"}


# --- choosing an event --------------------------------------------------------------------------


@organisers_only("deelnemers")
async def attendees_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_events(await begin_turn(update, context))


@action("CE")
async def show_events(turn: Turn, page: int | None = None) -> None:
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
        [turn.button(_event_label(t, event), show_list, event.public_code)] for event in shown
    ]
    nav = []
    if page > 0:
        nav.append(turn.button(t("◀ Eerder"), show_events, page - 1))
    if page < pages - 1:
        nav.append(turn.button(t("Later ▶"), show_events, page + 1))
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


@action("CL")
async def show_list(turn: Turn, code: EventCode) -> None:
    await _show_list(turn, code)


async def _show_list(turn: Turn, code: str, *, notice: str = "") -> None:
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
    t, event = turn.t, listing.event
    window = attendance_window(event, turn.deps.clock())
    code = event.public_code
    rows: Buttons = []
    first = [turn.button(t("📄 CSV"), send_list_csv, code)]
    if window.names and listing.seated:
        first.append(turn.button(t("✅ Inchecken"), show_check_in, code, 0))
    rows.append(first)
    if window.code:
        rows.append([turn.button(t("🔢 Code voor de zaal"), show_code, code)])
    if window.close and listing.totals.confirmed:
        rows.append([turn.button(t("Afronden"), ask_close, code)])
    rows.append(
        [
            turn.button(t("🔄 Vernieuwen"), show_list, code),
            turn.button(t("◀ Terug"), show_events, ""),
        ]
    )
    return rows


@action("CC")
async def send_list_csv(turn: Turn, code: EventCode) -> None:
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


# --- checking in by name, the code for the venue -----------------------------------------------


@action("CI")
async def show_check_in(turn: Turn, code: EventCode, page: int) -> None:
    await _show_check_in(turn, code, page=page)


async def _show_check_in(
    turn: Turn, code: str, *, page: int = 0, with_registration: int | None = None
) -> None:
    """The names, a page at a time; ``with_registration``: the page that has that person."""
    t = turn.t
    listing = await _list(turn, code)
    people = sorted(
        (a for a in listing.seated if a.status is not S.OFFERED),
        key=lambda a: (a.name is None, (a.name or "").casefold(), a.registration_id),
    )
    pages = max(1, math.ceil(len(people) / NAMES_PER_PAGE))
    if with_registration is not None:
        ids = [a.registration_id for a in people]
        if with_registration in ids:
            page = ids.index(with_registration) // NAMES_PER_PAGE
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
    rows: Buttons = [
        [turn.button(_check_in_label(t, a), on_toggle, code, a.registration_id)] for a in shown
    ]
    nav = []
    if page > 0:
        nav.append(turn.button("◀", show_check_in, code, page - 1))
    if pages > 1:
        nav.append(turn.button(f"{page + 1}/{pages}", show_check_in, code, page))
    if page < pages - 1:
        nav.append(turn.button("▶", show_check_in, code, page + 1))
    if nav:
        rows.append(nav)
    rows.append([turn.button(t("◀ Terug"), show_list, code)])
    await turn.toast()
    await turn.show(text, rows)


def _check_in_label(t: Translator, attendee: Attendee) -> str:
    name = t("anoniem") if attendee.name is None else short(attendee.name, 30)
    if attendee.party_size > 1:
        name += f" +{attendee.party_size - 1}"
    return ("✅ " if attendee.checked_in else "⬜ ") + name


@action("CT", older=1)
async def on_toggle(
    turn: Turn, code: EventCode, registration_id: int, page: int | None = None
) -> None:
    """A tap on a name; then the page with that name. (A button carries no page: the event's
    code, the registration and a page could together outgrow Telegram's 64 bytes. Buttons made
    before still carry one.)"""
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
    if page is not None:
        await _show_check_in(turn, code, page=page)
    else:
        await _show_check_in(turn, code, with_registration=registration_id)


async def _venue_code(turn: Turn, code: str) -> tuple[Event, str]:
    """The event and its code for the venue (made the first time; only while check-in is open)."""
    async with turn.deps.database.transaction() as session:
        event = await organiser_event(session, actor_id=turn.member.id, public_code=code)
        venue_code = await attendance.check_in_code(
            session, actor_id=turn.member.id, event_id=event.id, now=turn.deps.clock()
        )
    return event, venue_code


@action("CK")
async def show_code(turn: Turn, code: EventCode) -> None:
    t = turn.t
    event, venue_code = await _venue_code(turn, code)
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
            [turn.button(t("🖼 Groot in beeld"), send_code_picture, code)],
            [turn.button(t("◀ Terug"), show_list, code)],
        ],
    )


@action("CB")
async def send_code_picture(turn: Turn, code: EventCode) -> None:
    _event, venue_code = await _venue_code(turn, code)
    await turn.toast()
    caption = turn.t("Stuur /ikbenerbij aan de bot en typ deze code.")
    await turn.context.bot.send_photo(
        turn.chat_id, photo=code_card_png(venue_code, caption), caption=caption
    )


# --- afterwards ---------------------------------------------------------------------------------


@action("CF")
async def ask_close(turn: Turn, code: EventCode) -> None:
    """Closing marks everyone not checked in as absent: ask once more."""
    t = turn.t
    listing = await _list(turn, code)
    require_over(listing.event, turn.deps.clock())
    waiting = sum(1 for a in listing.seated if a.status is S.CONFIRMED)
    await turn.toast()
    await turn.show(
        t.plural(
            "Afronden: {n} aanmelding is niet ingecheckt en telt dan als niet gekomen. Klopt dat?",
            "Afronden: {n} aanmeldingen zijn niet ingecheckt en tellen dan als niet gekomen. "
            "Klopt dat?",
            waiting,
        ),
        [
            [
                turn.button(t("Ja, afronden"), on_close, code),
                turn.button(t("Nee, terug"), show_list, code),
            ]
        ],
    )


@action("CY")
async def on_close(turn: Turn, code: EventCode) -> None:
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
    await _show_list(turn, code, notice=notice)
