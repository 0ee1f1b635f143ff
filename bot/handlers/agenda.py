"""/agenda and the event card: browse, register, waitlist, bring someone, cancel, claim.

Each button calls one domain operation and then shows the card again, edited in place, so the
member always sees the state that was just committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from bot.callbacks import Callback, InvalidCallback
from bot.context import Turn, begin_turn, escape
from bot.handlers.onboarding import ask_network
from bot.render import agenda_text, event_buttons, event_text, short, title
from models.errors import DomainError
from models.events.entities import Event
from models.events.queries import (
    EventOverview,
    agenda_page,
    event_overview,
    overview_by_code,
    visible_event,
)
from models.registrations import operations as registrations
from models.registrations.operations import Outcome

EVENTS_PER_PAGE = 5


async def agenda(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    await show_agenda(turn, 0)


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
        [turn.button(f"{short(title(turn.t, o.event))}", "ev", o.event.public_code)]
        for o in shown.overviews
    ]
    nav = []
    if shown.page > 0:
        nav.append(turn.button(turn.t("◀ Eerder"), "ag", shown.page - 1))
    if shown.page < shown.pages - 1:
        nav.append(turn.button(turn.t("Later ▶"), "ag", shown.page + 1))
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
    try:
        overview = await overview_for(turn, code)
    except DomainError as error:
        await turn.toast(turn.refusal(error))
        if fresh:
            await turn.say(turn.refusal(error))
        else:
            await turn.show(turn.refusal(error))
        return
    await show_overview(turn, overview, fresh=fresh, notice=notice)


async def show_overview(
    turn: Turn, overview: EventOverview, *, fresh: bool = False, notice: str = ""
) -> None:
    text = event_text(turn.t, overview)
    if notice:
        text = f"{notice}\n\n{text}"
    if fresh:
        await turn.say(text, event_buttons(turn, overview))
    else:
        await turn.show(text, event_buttons(turn, overview))


async def on_open(turn: Turn, code: str) -> None:
    await turn.toast()
    await show_event(turn, code)


async def on_register(turn: Turn, code: str, party_size: int) -> None:
    if not turn.member.onboarded:
        # Fair share and the organisers' overview need to know where someone comes from.
        await turn.toast(turn.t("Eerst nog één vraag."))
        await ask_network(turn, then=code)
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


async def on_waitlist(turn: Turn, code: str) -> None:
    await on_register(turn, code, 1)


async def on_cancel_asked(turn: Turn, code: str) -> None:
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
        [[turn.button(t("Ja, afmelden"), "cx", code), turn.button(t("Nee, ik kom"), "ev", code)]],
    )


async def on_cancel(turn: Turn, code: str) -> None:
    await _act(
        turn,
        code,
        registrations.cancel,
        turn.t("Je bent afgemeld. Jammer dat je er niet bij bent!"),
    )


async def on_party_size(turn: Turn, code: str, party_size: int) -> None:
    await _act(
        turn, code, registrations.change_party_size, turn.t("Aangepast."), party_size=party_size
    )


async def on_claim(turn: Turn, code: str) -> None:
    await _act(turn, code, registrations.claim_seat, turn.t("De plek is van jou! 🎉"))


async def on_decline(turn: Turn, code: str) -> None:
    await _act(
        turn,
        code,
        registrations.decline_offer,
        turn.t("Dank je; de plek gaat naar de volgende op de wachtlijst."),
    )


async def confirm_change(turn: Turn, callback: Callback) -> None:
    """A registration-changing tap that came too soon after its button appeared under the
    finger (``bot/doubletap.py``): ask, with the same change behind "Ja" and the card behind
    "Nee"; nothing changes until then."""
    code = callback.arg(0)
    async with turn.deps.database.read() as session:
        event = await visible_event(session, public_code=code, member=turn.member)
    t = turn.t
    name = escape(title(t, event))
    action = callback.action
    if action == "rg" and callback.int_arg(1) > 1:
        question = t.plural(
            "Wil je je samen met {n} persoon aanmelden voor <b>{title}</b>?",
            "Wil je je samen met {n} personen aanmelden voor <b>{title}</b>?",
            callback.int_arg(1) - 1,
            title=name,
        )
        yes = t("Ja, aanmelden")
    elif action == "rg":
        question = t("Wil je je aanmelden voor <b>{title}</b>?", title=name)
        yes = t("Ja, aanmelden")
    elif action == "wl":
        question = t("Wil je op de wachtlijst voor <b>{title}</b>?", title=name)
        yes = t("Ja, op de wachtlijst")
    elif action == "ps" and callback.int_arg(1) > 1:
        question = t.plural(
            "Kom je samen met {n} persoon naar <b>{title}</b>?",
            "Kom je samen met {n} personen naar <b>{title}</b>?",
            callback.int_arg(1) - 1,
            title=name,
        )
        yes = t("Ja, aanpassen")
    elif action == "ps":
        question = t("Kom je alleen naar <b>{title}</b>?", title=name)
        yes = t("Ja, aanpassen")
    elif action == "cl":
        question = t("Wil je de plek voor <b>{title}</b> claimen?", title=name)
        yes = t("Ja, claimen")
    elif action == "dc":
        question = t("Wil je de plek voor <b>{title}</b> laten gaan?", title=name)
        yes = t("Ja, laat maar")
    elif action == "cx":
        question = t("Weet je zeker dat je je wilt afmelden voor <b>{title}</b>?", title=name)
        yes = t("Ja, afmelden")
    else:
        raise InvalidCallback(f"{action}: no question for it")
    await turn.toast(t("Twee keer getikt? Kijk even of dit klopt."))
    await turn.show(
        question,
        [[turn.button(yes, action, *callback.args), turn.button(t("Nee"), "ev", code)]],
    )


async def _act(
    turn: Turn,
    code: str,
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
