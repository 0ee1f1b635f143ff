"""How things look in the chat: event cards, the agenda list, labels. Pure functions of data."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote_plus

from telegram import InlineKeyboardButton

from bot.context import Buttons, escape
from i18n.labels import AFFILIATION_LABELS, KIND_ICONS, KIND_LABELS
from i18n.translate import Translator
from models.events.entities import Event, EventKind
from models.events.queries import EventOverview
from models.registrations.allowed import CardAction
from models.registrations.entities import RegistrationStatus

S = RegistrationStatus
A = CardAction
DESCRIPTION_MAX = 700
__all__ = ["AFFILIATION_LABELS", "KIND_ICONS", "KIND_LABELS"]


def kind_label(t: Translator, kind: EventKind) -> str:
    return f"{KIND_ICONS[kind]} {t(KIND_LABELS[kind])}"


def title(t: Translator, event: Event) -> str:
    if event.topic_tbd:
        return t("{title} (onderwerp nog te bepalen)", title=event.title)
    return event.title


def map_link(location: str) -> str:
    return f"https://www.openstreetmap.org/search?query={quote_plus(location + ', Maastricht')}"


def seats_line(t: Translator, overview: EventOverview) -> str:
    event = overview.event
    if event.capacity is None:
        return t("Iedereen is welkom; er is geen maximum.")
    if overview.seats_left and overview.seats_left > 0:
        return t.plural(
            "Nog {n} plaats vrij van de {capacity}.",
            "Nog {n} plaatsen vrij van de {capacity}.",
            overview.seats_left,
            capacity=t.number(event.capacity),
        )
    if overview.waitlist_length:
        return t.plural(
            "Vol · {n} persoon op de wachtlijst.",
            "Vol · {n} mensen op de wachtlijst.",
            overview.waitlist_length,
        )
    return t("Vol · de wachtlijst is nog leeg.")


def my_status_line(t: Translator, overview: EventOverview) -> str | None:
    registration = overview.registration
    if registration is None or registration.status is S.CANCELLED:
        return None
    if registration.status is S.CONFIRMED:
        if registration.party_size > 1:
            return t.plural(
                "✅ Je bent aangemeld, samen met {n} persoon.",
                "✅ Je bent aangemeld, samen met {n} personen.",
                registration.party_size - 1,
            )
        return t("✅ Je bent aangemeld.")
    if registration.status is S.WAITLISTED:
        return t(
            "⏳ Je staat op de wachtlijst, plek {position}.",
            position=t.number(overview.waitlist_position or 1),
        )
    if registration.status is S.OFFERED and registration.offer_expires_at is not None:
        return t(
            "🎟 Er staat een plek voor je klaar tot {deadline}. Claim hem snel!",
            deadline=t.moment_in_text(registration.offer_expires_at),
        )
    if registration.status is S.ATTENDED:
        return t("✅ Je was erbij.")
    return None


def event_text(t: Translator, overview: EventOverview) -> str:
    event = overview.event
    lines = [
        f"<b>{escape(title(t, event))}</b>",
        f"{kind_label(t, event.kind)}",
        f"🗓 {t.span(event.starts_at, event.ends_at)}",
    ]
    if event.location:
        lines.append(
            f'📍 <a href="{escape(map_link(event.location))}">{escape(event.location)}</a>'
        )
    if event.online_url:
        join = t("Online meedoen")
        lines.append(f'💻 <a href="{escape(event.online_url)}">{join}</a>')
    if event.speakers:
        lines.append(f"🎤 {escape(event.speakers)}")
    if event.description:
        text = event.description.strip()
        if len(text) > DESCRIPTION_MAX:
            text = text[:DESCRIPTION_MAX].rsplit(" ", 1)[0] + " …"
        lines += ["", escape(text)]
    if event.is_cancelled:
        lines += [
            "",
            t("❌ <b>Gaat niet door.</b> {reason}", reason=escape(event.cancel_reason or "")),
        ]
        return "\n".join(lines)
    lines += ["", seats_line(t, overview)]
    if event.registration_deadline and not overview.started:
        lines.append(
            t(
                "Aanmelden kan tot {deadline}.",
                deadline=t.moment_in_text(event.registration_deadline),
            )
        )
    if not overview.registration_open and not overview.started and not overview.is_in:
        lines.append(t("De aanmelding is gesloten."))
    status = my_status_line(t, overview)
    if status:
        lines += ["", status]
    return "\n".join(lines)


# A card's button for one of the member's actions (``bot.handlers.agenda`` knows the handlers).
ButtonFor = Callable[[CardAction], InlineKeyboardButton]


def event_buttons(
    overview: EventOverview, button: ButtonFor, back: InlineKeyboardButton
) -> Buttons:
    """A button for each action the domain allows the member now (``overview.actions``), and
    "◀ Agenda" (``back``); nothing else is offered.

    Laid out against the double tap (``bot/doubletap.py``): the card that a tap leads to never
    has a button that changes the registration where the tapped button was, counted from the
    top or from the bottom. So the harmless "📅 In mijn agenda" / "◀ Agenda" take the places
    the previous card's action buttons had, the party buttons alternate rows with "◀ Agenda"
    as the party grows or shrinks, and a card keeps as many rows as the card it follows.
    """
    allowed = overview.actions
    status = overview.status

    def row(*actions: CardAction) -> list[InlineKeyboardButton]:
        return [button(action) for action in actions if action in allowed]

    calendar = row(A.ADD_TO_CALENDAR)
    if status is S.OFFERED and allowed & {A.CLAIM, A.DECLINE}:
        # As in the offer's own message: claim or let go first.
        return _rows(row(A.CLAIM, A.DECLINE), calendar, [back])
    if status is S.WAITLISTED and A.LEAVE_WAITLIST in allowed:
        return _rows(row(A.CLAIM), calendar, [back], row(A.LEAVE_WAITLIST))
    if status is S.CONFIRMED and A.CANCEL in allowed:
        cancel = row(A.CANCEL)
        party_row = row(A.ONE_FEWER, A.BRING_GUEST)
        if party_row and overview.registration is not None:
            # Each change of the party size moves the party buttons to the other row, and
            # "◀ Agenda" (or "Afmelden") takes their place.
            if overview.registration.party_size % 2:
                return _rows(calendar, [back], cancel, party_row)
            return _rows(calendar, party_row, cancel, [back])
        return _rows(calendar, [back], cancel)
    if A.JOIN_WAITLIST in allowed:
        return _rows(calendar, row(A.JOIN_WAITLIST), [back])
    if A.REGISTER in allowed:
        return _rows(calendar, row(A.REGISTER), row(A.REGISTER_WITH_GUEST), [back])
    return _rows([*calendar, back])


def _rows(*rows: list[InlineKeyboardButton]) -> Buttons:
    return [row for row in rows if row]


def agenda_text(t: Translator, overviews: list[EventOverview], page: int, pages: int) -> str:
    if not overviews:
        return t(
            "Er staan op dit moment geen bijeenkomsten op de agenda. "
            "Je hoort het hier zodra er iets nieuws is."
        )
    lines = [t("<b>Agenda</b> · kies een bijeenkomst voor meer informatie en aanmelden.")]
    for overview in overviews:
        event = overview.event
        lines += [
            "",
            f"{KIND_ICONS[event.kind]} <b>{escape(title(t, event))}</b>",
            f"🗓 {t.moment(event.starts_at)}",
        ]
        if event.location:
            lines.append(f"📍 {escape(event.location)}")
        status = my_status_line(t, overview)
        lines.append(status or seats_line(t, overview))
    if pages > 1:
        lines += ["", t("Pagina {page} van {pages}", page=page + 1, pages=pages)]
    return "\n".join(lines)


def short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
