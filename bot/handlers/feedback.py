"""How was it? Ratings and comments from attendees; /feedback shows organisers the answers, and
lets a member rate the events they came to.

After a rating, "Wil je er nog iets over kwijt?" is a dialog (``COMMENT``, ``bot/dialogs.py``):
what the member types next is the comment, as long as that question is open (the comment window
of ``models.feedback``); a command or another feature's button ends it, with a word that the
rating is kept.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import ContextTypes

from bot import dialogs
from bot.actions import EventCode, action
from bot.context import Turn, begin_turn, escape
from bot.handlers.agenda import show_agenda
from bot.handlers.fallback import answer_text
from bot.handlers.for_organisers import organisers_only
from bot.render import KIND_ICONS, short, title
from i18n.translate import N_
from models.dialogs.entities import DialogState
from models.events.queries import visible_event
from models.feedback.operations import (
    COMMENT_WINDOW,
    events_to_rate,
    feedback_summary,
    record_comment,
    record_rating,
)

SUMMARY_PERIOD = timedelta(days=365)


@action("fb")
async def on_rating(turn: Turn, code: EventCode, rating: int) -> None:
    async with turn.deps.database.transaction() as session:
        event = await visible_event(session, public_code=code, member=turn.member)
        await record_rating(
            session,
            event_id=event.id,
            member_id=turn.member.id,
            rating=rating,
            now=turn.deps.clock(),
        )
    await turn.toast(turn.t("Dank je wel!"))
    await dialogs.begin(turn, COMMENT, "comment", {"code": code, "rating": rating})


async def _ask_comment(turn: Turn, dialog: DialogState, notice: str) -> None:
    text = turn.t(
        "Dank je wel voor je cijfer ({rating}). Wil je er nog iets over kwijt? "
        "Typ het gerust hieronder; het gaat naar de organisatoren.",
        rating=dialog.answer("rating"),
    )
    await turn.show(f"{notice}\n\n{text}" if notice else text)


async def _take_comment(turn: Turn, dialog: DialogState, text: str) -> None:
    async with dialogs.finishing(turn, dialog) as session:
        event = await visible_event(session, public_code=dialog.answer("code"), member=turn.member)
        feedback = await record_comment(
            session, member_id=turn.member.id, event_id=event.id, text=text, now=turn.deps.clock()
        )
    if feedback is None:  # the rating's window closed meanwhile: an ordinary message
        await answer_text(turn, text)
        return
    await turn.say(turn.t("Genoteerd, dank je wel! De organisatoren lezen het."))


async def _no_comment(turn: Turn, _dialog: DialogState) -> None:
    await turn.toast()
    await turn.show(turn.t("Goed, geen opmerking. Je cijfer is opgeslagen."))


# "Wil je er nog iets over kwijt?": open for the comment window after a rating.
COMMENT = dialogs.register(
    dialogs.Flow(
        "comment",
        steps={"comment": dialogs.Step(_ask_comment, _take_comment)},
        ended=N_("Je cijfer is opgeslagen, zonder opmerking."),
        expired=N_("De vraag om een opmerking bij je cijfer stond niet meer open."),
        actions=dialogs.codes(on_rating),
        # /feedback shows the ratings again (this one with its stars): no word needed.
        commands=frozenset({"feedback"}),
        idle=COMMENT_WINDOW,
        on_stop=_no_comment,
        on_back_out=_no_comment,
    )
)


@action("ok")
async def on_acknowledged(turn: Turn, code: EventCode) -> None:
    """'Ik kom' under a reminder: nothing changes, but it's nice to hear."""
    async with turn.deps.database.read() as session:
        await visible_event(session, public_code=code, member=turn.member)
    await turn.toast(turn.t("Fijn, tot dan! 👋"))


@action("fr")
async def ask_rating(turn: Turn, code: EventCode) -> None:
    """The same question as after an event, for one the member chose."""
    t = turn.t
    async with turn.deps.database.read() as session:
        event = await visible_event(session, public_code=code, member=turn.member)
    await turn.toast()
    headline = f"{KIND_ICONS[event.kind]} <b>{escape(title(t, event))}</b>"
    await turn.show(
        t("Hoe was {event}? Geef een cijfer van 1 (matig) tot 5 (heel goed).", event=headline),
        [[turn.button(str(n), on_rating, event.public_code, n) for n in range(1, 6)]],
    )


async def show_events_to_rate(turn: Turn) -> None:
    """/feedback for a member: the events they came to, to give (or change) a rating."""
    t = turn.t
    now = turn.deps.clock()
    async with turn.deps.database.read() as session:
        to_rate = await events_to_rate(
            session, member_id=turn.member.id, now=now, since=now - SUMMARY_PERIOD
        )
    await turn.toast()
    if not to_rate:
        await turn.show(
            t(
                "Je bent nog niet bij een bijeenkomst geweest die voorbij is, dus er valt nog "
                "niets te beoordelen. Na een bijeenkomst waar je bij was, vraag ik je hoe het "
                "was; hier kun je dan ook een cijfer geven."
            ),
            [[turn.button(t("📅 Agenda"), show_agenda, 0)]],
        )
        return
    rows = []
    for item in to_rate:
        event = item.event
        label = (
            f"{KIND_ICONS[event.kind]} {short(title(t, event), 28)} · {t.moment(event.starts_at)}"
        )
        if item.rating is not None:
            label += f" · {'⭐' * item.rating}"
        rows.append([turn.button(label, ask_rating, event.public_code)])
    await turn.show(
        t(
            "<b>Hoe was het?</b> Kies een bijeenkomst waar je bij was en geef een cijfer. "
            "De organisatoren lezen mee en leren ervan."
        ),
        rows,
    )


@organisers_only("feedback", otherwise=show_events_to_rate)
async def feedback_overview(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    t = turn.t
    async with turn.deps.database.read() as session:
        summaries = await feedback_summary(
            session, actor_id=turn.member.id, since=turn.deps.clock() - SUMMARY_PERIOD
        )
    if not summaries:
        await turn.say(t("Er zijn nog geen beoordelingen binnen."))
        return
    lines = [t("<b>Beoordelingen</b>")]
    for summary in summaries:
        event = summary.event
        average = t.decimal(summary.average) if summary.average is not None else "–"
        lines += [
            "",
            f"{KIND_ICONS[event.kind]} <b>{escape(title(t, event))}</b> · "
            f"{t.moment(event.starts_at)}",
            t.plural(
                "{average} gemiddeld uit {n} beoordeling",
                "{average} gemiddeld uit {n} beoordelingen",
                summary.responses,
                average=average,
            ),
        ]
        lines += [f"  “{escape(comment)}”" for comment in summary.comments[:10]]
    await turn.say("\n".join(lines))
