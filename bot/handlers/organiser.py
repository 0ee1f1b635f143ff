"""Commands for organisers: /aanmeldingen (who comes to what, from which network) and /vragen (the
questions sent in for a dialogue, ``bot/handlers/ideas/questions.py``)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.context import begin_turn, escape
from bot.handlers.for_organisers import organisers_only
from bot.handlers.ideas.questions import show_dialogues_for_organisers
from bot.render import KIND_ICONS, title
from models.errors import DomainError
from models.events.queries import registrations_by_network


@organisers_only("aanmeldingen")
async def registrations_overview(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    t = turn.t
    try:
        async with turn.deps.database.read() as session:
            rows = await registrations_by_network(
                session, actor_id=turn.member.id, now=turn.deps.clock()
            )
    except DomainError as error:
        await turn.say(turn.refusal(error))
        return
    if not rows:
        await turn.say(t("Er staan geen bijeenkomsten op de agenda."))
        return
    lines = [t("<b>Aanmeldingen per bijeenkomst</b>")]
    for row in rows:
        event = row.event
        lines += [
            "",
            f"{KIND_ICONS[event.kind]} <b>{escape(title(t, event))}</b> · "
            f"{t.moment(event.starts_at)}",
        ]
        lines.append(
            t(
                "{confirmed} aangemeld · {waiting} op de wachtlijst",
                confirmed=t.number(row.confirmed),
                waiting=t.number(row.waitlisted),
            )
        )
        for group, seats in row.by_group:
            name = escape(group) if group else t("zonder netwerk")
            lines.append(f"  • {name}: {t.number(seats)}")
    await turn.say("\n".join(lines))


@organisers_only("vragen")
async def vragen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_dialogues_for_organisers(await begin_turn(update, context))
