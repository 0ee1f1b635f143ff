"""Board members propose an exchange session for their own network (``/voorstel``); an
organiser approves it from its admin card, or rejects it with a reason the proposer reads
(``models.events.proposals``)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import dialogs
from bot.actions import EventCode, action
from bot.context import Turn, begin_turn, escape
from bot.handlers.programme import admin_card, edit
from bot.handlers.programme.fields import FIELDS, reason_text
from bot.handlers.programme.steps import (
    PROPOSAL,
    REJECT,
    Answer,
    Question,
    Rules,
    Screen,
    choice,
    draft,
    event_draft,
    for_organisers,
    heading,
    in_order,
    programme_flow,
    screen,
    summary,
)
from i18n.translate import N_
from models.dialogs.entities import DialogState
from models.errors import DomainError
from models.events.entities import EventKind
from models.events.operations import event_by_code
from models.events.proposals import (
    NotANetworkMember,
    approve_proposal,
    check_undecided,
    propose_exchange_session,
    reject_proposal,
)
from models.members.entities import Affiliation
from models.organisers.authorisation import require_organiser

ORDER = ["title", "start", "place", "description", "send"]


# --- a board member's proposal ------------------------------------------------------------------


async def propose_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    member = turn.member
    if member.affiliation is not Affiliation.BUURTNETWERK or member.network_id is None:
        raise NotANetworkMember()  # said by bot/errors.py; nothing begins
    await dialogs.begin(turn, PROPOSAL_FLOW, "title")


def _ask_send(turn: Turn, dialog: DialogState) -> Screen:
    t = turn.t
    preview = admin_card.preview_text(turn, event_draft(draft(dialog), kind=EventKind.UITWISSELING))
    rows = [[choice(turn, dialog, t("📨 Voorstel versturen"), "send")]]
    return summary(
        turn, dialog, t("Dit stuur je naar de organisatoren. Klopt alles?"), preview, rows
    )


async def _take_send(turn: Turn, dialog: DialogState, answer: Answer) -> None:
    if answer.choice != "send":
        raise DomainError(N_("Kies een van de knoppen."))
    async with dialogs.finishing(turn, dialog) as session:
        await propose_exchange_session(
            session,
            member_id=turn.member.id,
            draft=event_draft(draft(dialog), kind=EventKind.UITWISSELING),
            now=turn.deps.clock(),
        )
    await turn.show(
        turn.t(
            "📨 Je voorstel is doorgestuurd naar de organisatoren. Je hoort van ze zodra ze "
            "ernaar gekeken hebben."
        )
    )


PROPOSAL_FLOW = programme_flow(
    PROPOSAL,
    Rules(heading(N_("<b>Uitwisseling voorstellen</b>")), in_order(ORDER)),
    {
        **{step: FIELDS[step] for step in ("title", "start", "place", "link", "description")},
        "send": Question(_ask_send, _take_send),
    },
    ended=N_("Je voorstel is gestopt; er is niets verstuurd."),
    commands=["voorstel", "propose"],
)


# --- an organiser decides -----------------------------------------------------------------------


@action("EA")
@for_organisers()
async def on_approve(turn: Turn, code: EventCode) -> None:
    async with turn.deps.database.transaction() as session:
        event = await event_by_code(session, code)
        await approve_proposal(
            session,
            actor_id=turn.member.id,
            event_id=event.id,
            now=turn.deps.clock(),
            quiet_hours=turn.deps.policy.reminders,
        )
    await turn.toast(turn.t("Goedgekeurd."))
    notice = turn.t("✅ Goedgekeurd: de uitwisseling staat nu in de agenda van het netwerk.")
    await admin_card.show_admin_card(turn, code, notice=notice)


@action("ER")
@for_organisers()
async def on_reject(turn: Turn, code: EventCode) -> None:
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
        event = await event_by_code(session, code)
    check_undecided(event)  # the domain's rule, asked before the reason is asked
    await turn.toast()
    await dialogs.begin(turn, REJECT_FLOW, "reject_reason", edit.event_values(event))


def _reject_header(turn: Turn, dialog: DialogState) -> str:
    event_title = escape(str(dialog.answer("title", "")))
    return turn.t("<b>Voorstel afwijzen:</b> {title}", title=event_title)


def _ask_reason(turn: Turn, dialog: DialogState) -> Screen:
    question = turn.t(
        "Waarom wijs je het voorstel af? Typ de reden; de indiener krijgt die te lezen."
    )
    return screen(turn, dialog, question)


async def _take_reason(turn: Turn, dialog: DialogState, answer: Answer) -> None:
    reason = reason_text(answer)
    code = dialog.answer("code")
    async with dialogs.finishing(turn, dialog) as session:
        event = await event_by_code(session, code)
        await reject_proposal(
            session,
            actor_id=turn.member.id,
            event_id=event.id,
            reason=reason,
            now=turn.deps.clock(),
        )
    await admin_card.show_admin_card(turn, code, notice=turn.t("Het voorstel is afgewezen."))


async def _no_further_step(_turn: Turn, _dialog: DialogState, _following: object) -> None:
    raise AssertionError("rejecting a proposal has one step")


REJECT_FLOW = programme_flow(
    REJECT,
    Rules(_reject_header, _no_further_step),
    {"reject_reason": Question(_ask_reason, _take_reason)},
    ended=N_("Het afwijzen is gestopt; het voorstel wacht nog op een besluit."),
    actions=["ER"],
    on_stop=edit.on_stop,  # the card again: nothing changed
)
