"""The questions for an event's fields, once for every flow that asks them: a new event, a
proposal and a change from the admin card (kind, title, moment, end, place or link, seats,
registration deadline, fair share and its release, speakers, description), and the reason for a
cancellation or a rejection.

A question asks with the value as it is now when something is being changed ("Nu: …",
``steps.now_line``), and reads what was typed or pressed; a refusal asks it again with the
reason (``steps``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import when.parsing as when
from bot.callbacks import InvalidCallback
from bot.context import Turn, escape
from bot.handlers.programme.steps import (
    EDIT,
    NEW_EVENT,
    PROPOSAL,
    Answer,
    Next,
    Question,
    Screen,
    choice,
    draft,
    now_line,
    screen,
)
from bot.render import KIND_LABELS, kind_label, short
from i18n.translate import N_
from models.dialogs.entities import DialogState
from models.errors import DomainError, InvalidEvent
from models.events.entities import EventKind
from models.events.limits import check_length

# The fields of an event that can be changed from its card, with their button labels.
FIELD_LABELS = {
    "title": N_("Wijzig titel"),
    "moment": N_("Wijzig moment"),
    "end": N_("Wijzig einde"),
    "place": N_("Wijzig plaats of link"),
    "capacity": N_("Wijzig aantal plaatsen"),
    "deadline": N_("Wijzig aanmelddeadline"),
    "fairshare": N_("Wijzig plaatsen per netwerk"),
    "speakers": N_("Wijzig sprekers"),
    "description": N_("Wijzig beschrijving"),
}
# The step that asks for a field, and the event's attributes it sets.
FIELD_STEP = {
    "kind": "kind",
    "title": "title",
    "moment": "start",
    "end": "end",
    "place": "place",
    "capacity": "capacity",
    "deadline": "deadline",
    "fairshare": "fairshare",
    "speakers": "speakers",
    "description": "description",
}
FIELD_KEYS = {
    "kind": ("kind",),
    "title": ("title",),
    "moment": ("starts_at", "ends_at", "registration_deadline", "fair_share_until"),
    "end": ("ends_at",),
    "place": ("location", "online_url"),
    "capacity": ("capacity",),
    "deadline": ("registration_deadline",),
    "fairshare": ("fair_share_per_network", "fair_share_until"),
    "speakers": ("speakers",),
    "description": ("description",),
}
_BARE_LINK = re.compile(r"^[\w-]+(\.[\w-]+)+(/\S*)?$")


def _ask_kind(turn: Turn, dialog: DialogState) -> Screen:
    rows = [[choice(turn, dialog, kind_label(turn.t, kind), kind.value)] for kind in EventKind]
    current = draft(dialog).get("kind")
    now = now_line(turn, dialog, turn.t(KIND_LABELS[current]) if current else None)
    return screen(turn, dialog, turn.t("Wat voor bijeenkomst wordt het?") + now, rows)


async def _take_kind(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    try:
        return Next({"kind": EventKind(answer.choice or "")})
    except ValueError:
        raise DomainError(N_("Kies een van de knoppen.")) from None


def _ask_title(turn: Turn, dialog: DialogState) -> Screen:
    question = turn.t("Wat is de titel? Typ hem hieronder.")
    if dialog.flow == PROPOSAL:
        question = turn.t(
            "Leuk dat je een uitwisseling wilt organiseren! Wat is de titel? "
            "Typ hem hieronder, bijvoorbeeld <i>Zo pakten wij de speeltuin aan</i>."
        )
    current = dialog.answer("title")
    now = now_line(turn, dialog, escape(current) if current else None)
    return screen(turn, dialog, question + now)


async def _take_title(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    text = " ".join(answer.text.split())
    if not text:
        raise InvalidEvent(N_("Een bijeenkomst heeft een titel nodig."))
    check_length("title", text)  # the domain's limit, asked again at once rather than at the end
    return Next({"title": text})


def _ask_start(turn: Turn, dialog: DialogState) -> Screen:
    question = turn.t(
        "Wanneer begint het? Typ de datum en de tijd, bijvoorbeeld <i>12-3-2027 19:30</i>, "
        "<i>12 maart 19:30</i> of <i>volgende week donderdag 20:00</i>."
    )
    if dialog.flow == EDIT:
        question = turn.t(
            "Naar welk moment gaat het? Typ de nieuwe datum en tijd, bijvoorbeeld "
            "<i>12 maart 19:30</i>. Het einde schuift mee; wie zich heeft aangemeld krijgt "
            "bericht."
        )
    now = now_line(turn, dialog, _moment_or_none(turn, draft(dialog).get("starts_at")))
    return screen(turn, dialog, question + now)


async def _take_start(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    if not answer.text:
        raise when.MomentNotUnderstood()
    start = when.parse_moment(answer.text, now=turn.deps.clock(), tz=turn.t.tz)
    values = draft(dialog)
    changes: dict[str, Any] = {"starts_at": start}
    before = values.get("starts_at")
    if isinstance(before, datetime):
        # Moving: the end, the deadline and the release of seats keep their distance.
        for key in ("ends_at", "registration_deadline", "fair_share_until"):
            value = values.get(key)
            if isinstance(value, datetime):
                changes[key] = value + (start - before)
    if dialog.flow == PROPOSAL:
        changes["ends_at"] = start + timedelta(hours=2)  # organisers adjust it when approving
    return Next(changes)


def _ask_end(turn: Turn, dialog: DialogState) -> Screen:
    rows = [
        [
            choice(turn, dialog, turn.t("1,5 uur"), 90),
            choice(turn, dialog, turn.t("2 uur"), 120),
            choice(turn, dialog, turn.t("3 uur"), 180),
        ]
    ]
    question = turn.t(
        "Hoe lang duurt het? Kies hieronder, of typ een eindtijd of duur, bijvoorbeeld "
        "<i>tot 21:30</i>, <i>1,5 uur</i> of <i>90 min</i>."
    )
    end = draft(dialog).get("ends_at")
    now = now_line(turn, dialog, turn.t.time(end) if isinstance(end, datetime) else None)
    return screen(turn, dialog, question + now, rows)


async def _take_end(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    start = draft(dialog)["starts_at"]
    if answer.choice is not None:
        return Next({"ends_at": start + timedelta(minutes=small_number(answer.choice))})
    return Next({"ends_at": when.parse_end(answer.text, start=start, tz=turn.t.tz)})


def _ask_place(turn: Turn, dialog: DialogState) -> Screen:
    rows = [
        [
            choice(turn, dialog, turn.t("💻 Online"), "online"),
            choice(turn, dialog, turn.t("Nog niet bekend"), "none"),
        ]
    ]
    question = turn.t(
        "Waar is het? Typ de plek met adres, bijvoorbeeld <i>Buurtcentrum Wyck, "
        "Rechtstraat 12</i>, of kies <b>Online</b>."
    )
    place = dialog.answer("location") or dialog.answer("online_url")
    now = now_line(turn, dialog, escape(place) if place else None)
    return screen(turn, dialog, question + now, rows)


async def _take_place(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    if answer.choice == "online":
        return Next(branch="link")
    if answer.choice == "none":
        return Next({"location": None, "online_url": None})
    return Next({"location": place_text(answer.text), "online_url": None})


def place_text(typed: str) -> str:
    """A typed place, on one line; refused when empty or too long."""
    text = " ".join(typed.split())
    if not text:
        raise DomainError(N_("Typ de plek, of kies een van de knoppen."))
    check_length("location", text)
    return text


def _ask_link(turn: Turn, dialog: DialogState) -> Screen:
    question = turn.t(
        "Wat is de link om online mee te doen? Typ of plak hem hieronder, bijvoorbeeld "
        "<i>https://meet.jit.si/buurtnetwerken</i>."
    )
    link = dialog.answer("online_url")
    return screen(turn, dialog, question + now_line(turn, dialog, escape(link) if link else None))


async def _take_link(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    link = answer.text.strip()
    if link and not link.startswith(("https://", "http://")) and _BARE_LINK.match(link):
        link = f"https://{link}"
    if not link.startswith(("https://", "http://")) or " " in link or len(link) > 500:
        raise InvalidEvent(N_("Een online link begint met https://"))
    return Next({"online_url": link, "location": None})


def _ask_capacity(turn: Turn, dialog: DialogState) -> Screen:
    rows = [
        [choice(turn, dialog, str(n), n) for n in (20, 30, 40, 60)],
        [choice(turn, dialog, turn.t("Geen maximum"), "none")],
    ]
    question = turn.t("Hoeveel plaatsen zijn er? Kies hieronder of typ een aantal.")
    capacity = dialog.answer("capacity")
    current: str | None
    if "capacity" in dialog.answers and capacity is None:
        current = turn.t("geen maximum")
    else:
        current = turn.t.number(capacity) if capacity else None
    return screen(turn, dialog, question + now_line(turn, dialog, current), rows)


async def _take_capacity(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    capacity = _number(answer, when.parse_capacity)
    changes: dict[str, Any] = {"capacity": capacity}
    share = dialog.answer("fair_share_per_network")
    if dialog.flow == NEW_EVENT and share and capacity and share > capacity:
        # Asked again later, or shown in the preview.
        changes.update(fair_share_per_network=None, fair_share_until=None)
    return Next(changes)


def _ask_deadline(turn: Turn, dialog: DialogState) -> Screen:
    rows = [
        [
            choice(turn, dialog, turn.t("1 dag vooraf"), "1"),
            choice(turn, dialog, turn.t("2 dagen vooraf"), "2"),
            choice(turn, dialog, turn.t("Geen"), "none"),
        ]
    ]
    question = turn.t(
        "Tot wanneer kunnen mensen zich aanmelden? Kies hieronder, of typ een moment, "
        "bijvoorbeeld <i>10 maart 12:00</i>."
    )
    deadline = draft(dialog).get("registration_deadline")
    current = _moment_or_none(turn, deadline)
    if "registration_deadline" in dialog.answers and deadline is None:
        current = turn.t("geen")
    return screen(turn, dialog, question + now_line(turn, dialog, current), rows)


async def _take_deadline(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    start = draft(dialog)["starts_at"]
    now = turn.deps.clock()
    deadline: datetime | None
    if answer.choice == "none":
        deadline = None
    elif answer.choice is not None:
        deadline = _days_before(turn, start, answer.choice)
    else:
        deadline = when.parse_deadline(answer.text, start=start, now=now, tz=turn.t.tz)
    return Next({"registration_deadline": deadline})


def _ask_fairshare(turn: Turn, dialog: DialogState) -> Screen:
    rows = [
        [
            choice(turn, dialog, turn.t("Geen"), "none"),
            choice(turn, dialog, "2", 2),
            choice(turn, dialog, "3", 3),
            choice(turn, dialog, turn.t("5 per netwerk"), 5),
        ]
    ]
    question = turn.t(
        "Eerlijke verdeling: hoeveel plaatsen mag één buurtnetwerk hoogstens bezetten, "
        "tot een week of zo vooraf? Daarna is de rest vrij voor iedereen. Kies <b>Geen</b> als "
        "iedereen zich gewoon kan aanmelden."
    )
    share = dialog.answer("fair_share_per_network")
    current = turn.t.number(share) if share else turn.t("geen")
    return screen(turn, dialog, question + now_line(turn, dialog, current), rows)


async def _take_fairshare(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    share = _number(answer, when.parse_number)
    capacity = dialog.answer("capacity")
    if share is not None and capacity is not None and share > capacity:
        raise InvalidEvent(N_("Er zijn meer plaatsen per netwerk dan plaatsen in totaal."))
    if share is None:
        return Next({"fair_share_per_network": None, "fair_share_until": None})
    return Next({"fair_share_per_network": share}, branch="release")


def _ask_release(turn: Turn, dialog: DialogState) -> Screen:
    rows = [
        [
            choice(turn, dialog, turn.t("1 week vooraf"), 7),
            choice(turn, dialog, turn.t("3 dagen vooraf"), 3),
        ]
    ]
    question = turn.t(
        "Wanneer komen de plaatsen die netwerken niet gebruiken vrij voor iedereen? Kies "
        "hieronder of typ een moment."
    )
    release = _moment_or_none(turn, draft(dialog).get("fair_share_until"))
    return screen(turn, dialog, question + now_line(turn, dialog, release), rows)


async def _take_release(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    start = draft(dialog)["starts_at"]
    if answer.choice is not None:
        return Next({"fair_share_until": _days_before(turn, start, answer.choice)})
    now = turn.deps.clock()
    release = when.parse_deadline(answer.text, start=start, now=now, tz=turn.t.tz)
    if release is None:
        raise when.DeadlineNotUnderstood()
    return Next({"fair_share_until": release})


def _ask_speakers(turn: Turn, dialog: DialogState) -> Screen:
    question = turn.t(
        "Wie spreken er of leiden het? Typ de namen, bijvoorbeeld <i>Sanne Peters (gemeente), "
        "Jos Hermans (Trajekt)</i>."
    )
    speakers = dialog.answer("speakers")
    return _optional(turn, dialog, question, escape(speakers) if speakers else None)


async def _take_speakers(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    text = "" if answer.choice == "skip" else " ".join(answer.text.split())
    check_length("speakers", text)
    return Next({"speakers": text})


def _ask_description(turn: Turn, dialog: DialogState) -> Screen:
    question = turn.t(
        "Waar gaat het over? Typ een korte beschrijving: wat mensen er leren of bespreken, en "
        "voor wie het is."
    )
    description = dialog.answer("description")
    return _optional(
        turn, dialog, question, escape(short(description, 120)) if description else None
    )


async def _take_description(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    text = "" if answer.choice == "skip" else answer.text.strip()
    check_length("description", text)
    return Next({"description": text})


# Every field question by its step name.
FIELDS = {
    "kind": Question(_ask_kind, _take_kind),
    "title": Question(_ask_title, _take_title),
    "start": Question(_ask_start, _take_start),
    "end": Question(_ask_end, _take_end),
    "place": Question(_ask_place, _take_place),
    "link": Question(_ask_link, _take_link),
    "capacity": Question(_ask_capacity, _take_capacity),
    "deadline": Question(_ask_deadline, _take_deadline),
    "fairshare": Question(_ask_fairshare, _take_fairshare),
    "release": Question(_ask_release, _take_release),
    "speakers": Question(_ask_speakers, _take_speakers),
    "description": Question(_ask_description, _take_description),
}


def reason_text(answer: Answer) -> str:
    """The reason for a cancellation or a rejection, as typed; refused when empty or too long."""
    reason = answer.text.strip()
    if not reason:
        raise InvalidEvent(N_("Geef een reden op, dan kunnen we die doorgeven."))
    check_length("reason", reason)
    return reason


# --- small helpers ------------------------------------------------------------------------------


def small_number(value: str) -> int:
    """A number from a choice button (a forged one is refused as a broken button)."""
    if not value.isdigit() or len(value) > 4:
        raise InvalidCallback(f"not a small number: {value!r}")
    return int(value)


def _optional(turn: Turn, dialog: DialogState, question: str, current: str | None) -> Screen:
    """A question that may stay unanswered: skipped (a new event), or emptied (a change)."""
    label = turn.t("Weghalen") if dialog.flow == EDIT else turn.t("Overslaan")
    now = now_line(turn, dialog, current)
    return screen(turn, dialog, question + now, [[choice(turn, dialog, label, "skip")]])


def _number(answer: Answer, parse: Callable[[str], int | None]) -> int | None:
    """A number of seats, pressed ("none": no limit) or typed."""
    if answer.choice is None:
        return parse(answer.text)
    return None if answer.choice == "none" else small_number(answer.choice)


def _days_before(turn: Turn, start: datetime, days: str) -> datetime:
    moment = when.Before(days=small_number(days)).moment(start, turn.t.tz)
    if moment <= turn.deps.clock():
        raise when.MomentInPast()
    return moment


def _moment_or_none(turn: Turn, value: Any) -> str | None:
    return turn.t.moment(value) if isinstance(value, datetime) else None
