"""Changing an event from its admin card: one field (moving it is changing its moment), or
cancelling it with a reason. For an event of a series, a new time or place asks whether it is for
this one only or for all coming ones.

Registrants and the waitlist hear of a change or a cancellation through the outbox
(``models.events.operations``); the organiser sees how many. "◀ Terug" at the first question and
"✖ Stop" show the card again: nothing was changed.
"""

from __future__ import annotations

from typing import Any

from bot import dialogs
from bot.actions import code_of
from bot.context import Turn, escape
from bot.handlers.programme import admin_card
from bot.handlers.programme.fields import FIELD_KEYS, FIELDS, reason_text
from bot.handlers.programme.steps import (
    CANCEL,
    EDIT,
    Answer,
    Next,
    Question,
    Rules,
    Screen,
    choice,
    draft,
    programme_flow,
    screen,
    stored,
    with_told,
)
from i18n.translate import N_
from models.dialogs.entities import DialogState
from models.errors import DomainError
from models.events.operations import cancel_event, event_by_code, update_event
from models.events.series import update_series


async def on_stop(turn: Turn, dialog: DialogState) -> None:
    """ "✖ Stop", or "◀ Terug" at the first question: the card again, as it was."""
    await admin_card.show_admin_card(turn, dialog.answer("code"), notice=turn.t("Niets gewijzigd."))


def header(turn: Turn, dialog: DialogState) -> str:
    event_title = escape(str(dialog.answer("title", "")))
    if dialog.flow == CANCEL:
        return turn.t("<b>Annuleren:</b> {title}", title=event_title)
    return turn.t("<b>Wijzigen:</b> {title}", title=event_title)


# --- one field ----------------------------------------------------------------------------------


async def _after_field(turn: Turn, dialog: DialogState, following: Next) -> None:
    """Apply the field just answered; for an event of a series, first ask how far."""
    if following.branch:
        await dialogs.go(turn, dialog, following.branch, stored(following.changes))
        return
    values = {**draft(dialog), **following.changes}
    if values.get("series_id") is not None and _series_changes(turn, values) is not None:
        await dialogs.go(turn, dialog, "scope", stored(following.changes))
        return
    async with dialogs.finishing(turn, dialog) as session:
        event = await event_by_code(session, values["code"])
        _event, notifications = await update_event(
            session,
            event_id=event.id,
            actor_id=turn.member.id,
            changes=_changes(values),
            now=turn.deps.clock(),
            policy=turn.deps.policy,
        )
    notice = with_told(turn, turn.t("✅ Aangepast."), notifications)
    await admin_card.show_admin_card(turn, values["code"], notice=notice)


def _changes(values: dict[str, Any]) -> dict[str, Any]:
    return {key: values.get(key) for key in FIELD_KEYS[values["field"]]}


def _series_changes(turn: Turn, values: dict[str, Any]) -> dict[str, Any] | None:
    """What "Alle komende" would change for the whole series, or None when it does not apply
    (only the date changed, or the event went online: that is for this one only)."""
    if values["field"] == "moment":
        new_time = values["starts_at"].astimezone(turn.t.tz).strftime("%H:%M")
        old_time = values["original_start"].astimezone(turn.t.tz).strftime("%H:%M")
        return {"local_time": new_time} if new_time != old_time else None
    if values["field"] == "place" and values.get("location"):
        return {"location": values["location"]}
    return None


def _ask_scope(turn: Turn, dialog: DialogState) -> Screen:
    t = turn.t
    rows = [
        [choice(turn, dialog, t("Alleen deze"), "one")],
        [choice(turn, dialog, t("Alle komende van de reeks"), "all")],
    ]
    question = t(
        "Deze bijeenkomst hoort bij een reeks. Geldt de wijziging alleen voor deze, of "
        "voor alle komende bijeenkomsten van de reeks?"
    )
    changes = _series_changes(turn, draft(dialog)) or {}
    if "local_time" in changes:
        question += "\n" + t(
            "(Voor de andere bijeenkomsten verandert alleen de tijd: {time}.)",
            time=changes["local_time"],
        )
    return screen(turn, dialog, question, rows)


async def _take_scope(turn: Turn, dialog: DialogState, answer: Answer) -> None:
    values = draft(dialog)
    if answer.choice not in ("one", "all"):
        raise DomainError(N_("Kies een van de knoppen."))
    now, policy = turn.deps.clock(), turn.deps.policy
    async with dialogs.finishing(turn, dialog) as session:
        event = await event_by_code(session, values["code"])
        notifications = []
        count = 1
        if answer.choice == "all":
            result = await update_series(
                session,
                actor_id=turn.member.id,
                series_id=values["series_id"],
                changes=_series_changes(turn, values) or {},
                apply_to="all",
                event_id=event.id,
                now=now,
                policy=policy,
            )
            notifications += result.notifications
            count = len(result.events)
        if answer.choice == "one" or values["field"] == "moment":
            # "Alle komende" keeps the others' dates; this one also moves to the day typed.
            _event, more = await update_event(
                session,
                event_id=event.id,
                actor_id=turn.member.id,
                changes=_changes(values),
                now=now,
                policy=policy,
            )
            notifications += more
    if answer.choice == "one":
        notice = turn.t("✅ Aangepast.")
    else:
        notice = turn.t.plural(
            "Aangepast voor {n} bijeenkomst van de reeks.",
            "Aangepast voor {n} bijeenkomsten van de reeks.",
            count,
        )
    await admin_card.show_admin_card(
        turn, values["code"], notice=with_told(turn, notice, notifications)
    )


EDIT_FLOW = programme_flow(
    EDIT,
    Rules(header, _after_field, shows_now=lambda _dialog: True),
    {**FIELDS, "scope": Question(_ask_scope, _take_scope)},
    ended=N_("Het wijzigen is gestopt; er is niets gewijzigd."),
    actions=[code_of(admin_card.on_change_field)],
    on_stop=on_stop,
)


# --- cancelling ---------------------------------------------------------------------------------


def _ask_reason(turn: Turn, dialog: DialogState) -> Screen:
    question = turn.t(
        "Waarom gaat het niet door? Typ de reden; iedereen die zich heeft aangemeld of op de "
        "wachtlijst staat krijgt die te lezen."
    )
    return screen(turn, dialog, question)


async def _take_reason(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    return Next({"reason": reason_text(answer)})


async def _after_reason(turn: Turn, dialog: DialogState, following: Next) -> None:
    await dialogs.go(turn, dialog, "cancel_confirm", stored(following.changes))


def _ask_confirm(turn: Turn, dialog: DialogState) -> Screen:
    t = turn.t
    question = t(
        "Weet je zeker dat <b>{title}</b> ({moment}) niet doorgaat?\nReden: {reason}",
        title=escape(dialog.answer("title")),
        moment=t.moment_in_text(draft(dialog)["starts_at"]),
        reason=escape(dialog.answer("reason")),
    )
    return screen(turn, dialog, question, [[choice(turn, dialog, t("Ja, annuleren"), "yes")]])


async def _take_confirm(turn: Turn, dialog: DialogState, answer: Answer) -> None:
    if answer.choice != "yes":
        raise DomainError(N_("Kies een van de knoppen."))
    code = dialog.answer("code")
    async with dialogs.finishing(turn, dialog) as session:
        event = await event_by_code(session, code)
        _event, notifications = await cancel_event(
            session,
            event_id=event.id,
            actor_id=turn.member.id,
            reason=dialog.answer("reason"),
            now=turn.deps.clock(),
        )
    notice = with_told(turn, turn.t("❌ Geannuleerd."), notifications)
    await admin_card.show_admin_card(turn, code, notice=notice)


CANCEL_FLOW = programme_flow(
    CANCEL,
    Rules(header, _after_reason),
    {
        "cancel_reason": Question(_ask_reason, _take_reason),
        "cancel_confirm": Question(_ask_confirm, _take_confirm),
    },
    ended=N_("Het annuleren is gestopt; de bijeenkomst gaat gewoon door."),
    actions=[code_of(admin_card.on_cancel)],
    on_stop=on_stop,
)
