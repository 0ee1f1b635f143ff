"""/mijn: my registrations and waitlist places, each a button to its card."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.actions import action
from bot.context import Turn, begin_turn, escape
from bot.handlers.agenda import on_open, show_agenda
from bot.handlers.contact import my_questions_lines
from bot.render import KIND_ICONS, short, title
from models.events.queries import my_registrations
from models.registrations import operations as registrations
from models.registrations.entities import RegistrationStatus

S = RegistrationStatus


async def mine(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_mine(await begin_turn(update, context))


@action("my")
async def show_mine(turn: Turn) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        rows = await my_registrations(session, member_id=turn.member.id, now=turn.deps.clock())
        positions = {
            r.id: await registrations.waitlist_position(session, r)
            for r in rows
            if r.status is S.WAITLISTED
        }
    questions, question_buttons = await my_questions_lines(turn)  # the contact point's
    await turn.toast()
    if not rows:
        await turn.show(
            "\n".join(
                [
                    t("Je bent nergens voor aangemeld. Kijk in de agenda wat er te doen is."),
                    *questions,
                ]
            ),
            [[turn.button(t("📅 Agenda"), show_agenda, 0)], *question_buttons],
        )
        return
    lines = [t("<b>Mijn aanmeldingen</b>")]
    for registration in rows:
        event = registration.event
        if registration.status is S.WAITLISTED:
            state = t("⏳ wachtlijst, plek {position}", position=positions[registration.id])
        elif registration.status is S.OFFERED:
            state = t("🎟 plek voor je vrijgehouden")
        else:
            state = t("✅ aangemeld")
        lines += [
            "",
            f"{KIND_ICONS[event.kind]} <b>{escape(title(t, event))}</b>",
            f"🗓 {t.moment(event.starts_at)} · {state}",
        ]
    buttons = [[turn.button(short(title(t, r.event)), on_open, r.event.public_code)] for r in rows]
    buttons.append([turn.button(t("📅 Agenda"), show_agenda, 0)])
    await turn.show("\n".join([*lines, *questions]), [*buttons, *question_buttons])
