"""/agenda and the event card: browse, register, waitlist, bring someone, cancel, claim.

Each button calls one domain operation and then shows the card again, edited in place, so the
member always sees the state that was just committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, Update
from telegram.ext import ContextTypes

from bot import actions
from bot.actions import EventCode, action
from bot.callbacks import Callback, InvalidCallback
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.calendar import on_calendar_file
from bot.handlers.onboarding import ask_network
from bot.render import agenda_text, event_buttons, event_text, short, title
from i18n.translate import Translator
from models.events.entities import Event
from models.events.queries import (
    EventOverview,
    agenda_page,
    event_overview,
    overview_by_code,
    visible_event,
)
from models.registrations import operations as registrations
from models.registrations.allowed import CardAction
from models.registrations.operations import Outcome

A = CardAction

EVENTS_PER_PAGE = 5


async def agenda(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    await show_agenda(turn, 0)


@action("ag")
async def show_agenda(turn: Turn, page: int) -> None:
    async with turn.deps.database.read() as session:
        shown = await agenda_page(
            session,
            member=turn.member,
            now=turn.deps.clock(),
            policy=turn.deps.policy,
            page=page,
            per_page=EVENTS_PER_PAGE,
        )
    rows = [
        [turn.button(f"{short(title(turn.t, o.event))}", on_open, o.event.public_code)]
        for o in shown.overviews
    ]
    nav = []
    if shown.page > 0:
        nav.append(turn.button(turn.t("◀ Eerder"), show_agenda, shown.page - 1))
    if shown.page < shown.pages - 1:
        nav.append(turn.button(turn.t("Later ▶"), show_agenda, shown.page + 1))
    if nav:
        rows.append(nav)
    await turn.toast()
    await turn.show(agenda_text(turn.t, shown.overviews, shown.page, shown.pages), rows)


async def overview_for(turn: Turn, code: str) -> EventOverview:
    async with turn.deps.database.read() as session:
        return await overview_by_code(
            session,
            public_code=code,
            member=turn.member,
            now=turn.deps.clock(),
            policy=turn.deps.policy,
        )


async def _overview_after_change(session: AsyncSession, turn: Turn, event: Event) -> EventOverview:
    """The card right after a change, in the change's own transaction: the state about to be
    committed (the event was just locked and refreshed by the operation)."""
    return await event_overview(
        session, event=event, member=turn.member, now=turn.deps.clock(), policy=turn.deps.policy
    )


async def show_event(turn: Turn, code: str, *, fresh: bool = False, notice: str = "") -> None:
    """The event card. ``fresh``: always a new message (a deep link, not a button)."""
    overview = await overview_for(turn, code)
    await show_overview(turn, overview, fresh=fresh, notice=notice)


async def show_overview(
    turn: Turn, overview: EventOverview, *, fresh: bool = False, notice: str = ""
) -> None:
    text = event_text(turn.t, overview)
    if notice:
        text = f"{notice}\n\n{text}"
    if fresh:
        await turn.say(text, card_buttons(turn, overview))
    else:
        await turn.show(text, card_buttons(turn, overview))


def card_buttons(turn: Turn, overview: EventOverview) -> Buttons:
    """The card's buttons: what the domain allows this member now (``overview.actions``), laid
    out by ``bot.render.event_buttons``."""
    t, code = turn.t, overview.event.public_code
    party = overview.registration.party_size if overview.registration is not None else 1

    def button(allowed: CardAction) -> InlineKeyboardButton:
        match allowed:
            case A.REGISTER:
                return turn.button(t("✅ Aanmelden"), on_register, code, 1)
            case A.REGISTER_WITH_GUEST:
                return turn.button(t("✅ Aanmelden met iemand erbij"), on_register, code, 2)
            case A.JOIN_WAITLIST:
                return turn.button(t("⏳ Zet me op de wachtlijst"), on_waitlist, code)
            case A.BRING_GUEST:
                return turn.button(t("➕ Ik neem iemand mee"), on_party_size, code, party + 1)
            case A.ONE_FEWER:
                return turn.button(
                    t("➖ Ik kom met één persoon minder"), on_party_size, code, party - 1
                )
            case A.CANCEL:
                return turn.button(t("Afmelden"), on_cancel_asked, code)
            case A.LEAVE_WAITLIST:
                return turn.button(t("Van de wachtlijst af"), on_cancel_asked, code)
            case A.CLAIM:
                return turn.button(t("🎟 Plek claimen"), on_claim, code)
            case A.DECLINE:
                return turn.button(t("Laat maar"), on_decline, code)
            case A.ADD_TO_CALENDAR:
                return turn.button(t("📅 In mijn agenda"), on_calendar_file, code)

    return event_buttons(overview, button, turn.button(t("◀ Agenda"), show_agenda, 0))


# Every button that acts on an event shows its card again after a refusal (``bot.buttons``),
# so the member sees the state that made the domain say no.


@action("ev", shows_event=True)
async def on_open(turn: Turn, code: EventCode) -> None:
    await turn.toast()
    await show_event(turn, code)


@action("rg", changes_registration=True, shows_event=True)
async def on_register(turn: Turn, code: EventCode, party_size: int) -> None:
    if not turn.member.onboarded:
        # Fair share and the organisers' overview need to know where someone comes from.
        await turn.toast(turn.t("Eerst nog één vraag."))
        await ask_network(turn, then=actions.then(on_open, code))
        return
    async with turn.deps.database.transaction() as session:
        event = await visible_event(session, public_code=code, member=turn.member, lock=True)
        outcome = await registrations.register(
            session,
            event_id=event.id,
            member_id=turn.member.id,
            now=turn.deps.clock(),
            policy=turn.deps.policy,
            party_size=party_size,
        )
        # The card as committed, read in the same transaction (no second session).
        overview = await _overview_after_change(session, turn, event)
    t = turn.t
    if not outcome.changed:
        notice = t("Je was al aangemeld; er is niets veranderd.")
    elif outcome.registration.status.value == "confirmed":
        notice = t("Gelukt! Je bent aangemeld. 🎉")
    else:
        notice = t(
            "Het is vol: je staat op de wachtlijst, plek {position}. "
            "Komt er een plek vrij, dan hoor je het meteen.",
            position=t.number(outcome.waitlist_position or 1),
        )
    await turn.toast(notice)
    await show_overview(turn, overview)


@action("wl", changes_registration=True, shows_event=True)
async def on_waitlist(turn: Turn, code: EventCode) -> None:
    await on_register(turn, code, 1)


@action("cq", shows_event=True)
async def on_cancel_asked(turn: Turn, code: EventCode) -> None:
    """Cancelling is easy to tap by mistake: ask once more."""
    async with turn.deps.database.read() as session:
        event = await visible_event(session, public_code=code, member=turn.member)
    t = turn.t
    await turn.toast()
    await turn.show(
        t(
            "Weet je zeker dat je je wilt afmelden voor <b>{title}</b>?",
            title=escape(title(t, event)),
        ),
        [
            [
                turn.button(t("Ja, afmelden"), on_cancel, code),
                turn.button(t("Nee, ik kom"), on_open, code),
            ]
        ],
    )


@action("cx", changes_registration=True, shows_event=True)
async def on_cancel(turn: Turn, code: EventCode) -> None:
    await _act(
        turn,
        code,
        registrations.cancel,
        turn.t("Je bent afgemeld. Jammer dat je er niet bij bent!"),
    )


@action("ps", changes_registration=True, shows_event=True)
async def on_party_size(turn: Turn, code: EventCode, party_size: int) -> None:
    await _act(
        turn, code, registrations.change_party_size, turn.t("Aangepast."), party_size=party_size
    )


@action("cl", changes_registration=True, shows_event=True)
async def on_claim(turn: Turn, code: EventCode) -> None:
    await _act(turn, code, registrations.claim_seat, turn.t("De plek is van jou! 🎉"))


@action("dc", changes_registration=True, shows_event=True)
async def on_decline(turn: Turn, code: EventCode) -> None:
    await _act(
        turn,
        code,
        registrations.decline_offer,
        turn.t("Dank je; de plek gaat naar de volgende op de wachtlijst."),
    )


# --- the double tap: "did you mean it?" ---------------------------------------------------------
# What a registration-changing button asks when tapped too soon: the question and its "Ja",
# from the event's title and the button's arguments after the event's code.
Question = Callable[..., tuple[str, str]]


def _ask_register(t: Translator, name: str, party_size: int) -> tuple[str, str]:
    if party_size > 1:
        return t.plural(
            "Wil je je samen met {n} persoon aanmelden voor <b>{title}</b>?",
            "Wil je je samen met {n} personen aanmelden voor <b>{title}</b>?",
            party_size - 1,
            title=name,
        ), t("Ja, aanmelden")
    return t("Wil je je aanmelden voor <b>{title}</b>?", title=name), t("Ja, aanmelden")


def _ask_waitlist(t: Translator, name: str) -> tuple[str, str]:
    return t("Wil je op de wachtlijst voor <b>{title}</b>?", title=name), t("Ja, op de wachtlijst")


def _ask_party_size(t: Translator, name: str, party_size: int) -> tuple[str, str]:
    if party_size > 1:
        return t.plural(
            "Kom je samen met {n} persoon naar <b>{title}</b>?",
            "Kom je samen met {n} personen naar <b>{title}</b>?",
            party_size - 1,
            title=name,
        ), t("Ja, aanpassen")
    return t("Kom je alleen naar <b>{title}</b>?", title=name), t("Ja, aanpassen")


def _ask_claim(t: Translator, name: str) -> tuple[str, str]:
    return t("Wil je de plek voor <b>{title}</b> claimen?", title=name), t("Ja, claimen")


def _ask_decline(t: Translator, name: str) -> tuple[str, str]:
    return t("Wil je de plek voor <b>{title}</b> laten gaan?", title=name), t("Ja, laat maar")


def _ask_cancel(t: Translator, name: str) -> tuple[str, str]:
    return (
        t("Weet je zeker dat je je wilt afmelden voor <b>{title}</b>?", title=name),
        t("Ja, afmelden"),
    )


QUESTIONS: dict[actions.Handler, Question] = {
    on_register: _ask_register,
    on_waitlist: _ask_waitlist,
    on_party_size: _ask_party_size,
    on_claim: _ask_claim,
    on_decline: _ask_decline,
    on_cancel: _ask_cancel,
}


async def confirm_change(turn: Turn, callback: Callback) -> None:
    """A registration-changing tap that came too soon after its button appeared under the
    finger (``bot/doubletap.py``): ask, with the same change behind "Ja" and the card behind
    "Nee"; nothing changes until then."""
    declared = actions.find(callback.action)
    code, *rest = declared.parse(callback)
    question = QUESTIONS.get(declared.handler)
    if question is None:
        raise InvalidCallback(f"{declared.code}: no question for it")
    async with turn.deps.database.read() as session:
        event = await visible_event(session, public_code=code, member=turn.member)
    t = turn.t
    text, yes = question(t, escape(title(t, event)), *rest)
    await turn.toast(t("Twee keer getikt? Kijk even of dit klopt."))
    await turn.show(
        text,
        [[turn.button(yes, declared.handler, code, *rest), turn.button(t("Nee"), on_open, code)]],
    )


async def _act(
    turn: Turn,
    code: EventCode,
    operation: Callable[..., Awaitable[Outcome]],
    done: str,
    **arguments: Any,
) -> None:
    """One of the member's own operations on the event behind a button, then the card as it is
    now, read in the same transaction (so it shows exactly what was committed)."""
    async with turn.deps.database.transaction() as session:
        event = await visible_event(session, public_code=code, member=turn.member, lock=True)
        await operation(
            session,
            event_id=event.id,
            member_id=turn.member.id,
            now=turn.deps.clock(),
            policy=turn.deps.policy,
            **arguments,
        )
        overview = await _overview_after_change(session, turn, event)
    await turn.toast(done)
    await show_overview(turn, overview)
