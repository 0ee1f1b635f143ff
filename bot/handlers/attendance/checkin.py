"""/ikbenerbij: attendees check themselves in with the code shown at the venue. Asking for the
code is a dialog (``CHECK_IN``, ``bot/dialogs.py``), so the code typed after a restart still
counts; a code given with the command (``/ikbenerbij K7P2``) is taken at once. When check-in is
open is the domain's decision (``models.attendance.operations.check_in_self``)."""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardButton, Update
from telegram.ext import ContextTypes

from bot import dialogs
from bot.actions import action
from bot.context import Turn, begin_turn, escape
from bot.render import KIND_ICONS, title
from i18n.translate import N_
from models.attendance import operations as attendance
from models.dialogs.entities import DialogState
from models.dialogs.operations import DialogChanged
from models.errors import DomainError

# How long after /ikbenerbij a typed message is taken as the code (the check-in dialog).
CODE_WAIT = timedelta(minutes=15)


async def check_in_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ikbenerbij: ask for the code (or take it right away: /ikbenerbij K7P2)."""
    turn = await begin_turn(update, context)  # ends a dialog it finds (bot/dialogs.py)
    if context.args:
        await _check_in(turn, " ".join(context.args), None)
        return
    await dialogs.begin(turn, CHECK_IN, "code")


async def _ask_code(turn: Turn, _dialog: DialogState, notice: str) -> None:
    t = turn.t
    text = t("Typ de code die in de zaal wordt getoond (vier tekens, zoals K7P2).")
    await turn.say(f"{notice}\n{text}" if notice else text, [[_stop_button(turn)]])


async def _take_code(turn: Turn, dialog: DialogState, typed: str) -> None:
    await _check_in(turn, typed, dialog)


async def _check_in(turn: Turn, typed: str, dialog: DialogState | None) -> None:
    """Check in with ``typed``; with ``dialog`` (the code was asked for) a wrong code may be
    typed again, and a right one ends the dialog in the same transaction."""
    t = turn.t
    try:
        async with dialogs.finishing(turn, dialog) as session:
            event, outcome = await attendance.check_in_self(
                session,
                member_id=turn.member.id,
                code=typed,
                now=turn.deps.clock(),
                policy=turn.deps.policy,
            )
    except DialogChanged:
        raise  # the member is shown where the dialog stands now (bot/dialogs.py)
    except attendance.WrongCode as error:
        if dialog is None:
            raise
        # Still asked for (nothing was written): another try.
        await turn.say(
            turn.refusal(error) + "\n" + t("Probeer het nog eens, of tik op Stop."),
            [[_stop_button(turn)]],
        )
        return
    except DomainError:
        await dialogs.leave(turn)  # e.g. not yet open: the code is asked for no longer
        raise
    greeting = (
        t("Welkom! Je bent ingecheckt.") if outcome.changed else t("Je was al ingecheckt. Welkom!")
    )
    await turn.say(f"{greeting}\n{KIND_ICONS[event.kind]} <b>{escape(title(t, event))}</b>")


async def on_stop_waiting(turn: Turn, _dialog: DialogState | None = None) -> None:
    await dialogs.leave(turn)
    await turn.toast()
    await turn.show(turn.t("Goed, we laten het even. Met /ikbenerbij kun je het opnieuw doen."))


@action("CS")
async def on_stop_pressed(turn: Turn) -> None:
    await on_stop_waiting(turn)


def _stop_button(turn: Turn) -> InlineKeyboardButton:
    return turn.button(turn.t("Stop"), on_stop_pressed)


# Typed after /ikbenerbij, the code shown at the venue (a quarter of an hour to type it).
CHECK_IN = dialogs.register(
    dialogs.Flow(
        "checkin",
        steps={"code": dialogs.Step(_ask_code, _take_code)},
        ended=N_("Inchecken met de code is gestopt. Met /ikbenerbij kun je het opnieuw doen."),
        expired=N_(
            "Het wachten op de code is voorbij (na een kwartier). Met /ikbenerbij kun je het "
            "opnieuw doen."
        ),
        actions=dialogs.codes(on_stop_pressed),
        commands=frozenset({"ikbenerbij", "checkin"}),
        idle=CODE_WAIT,
        on_stop=on_stop_waiting,
        typed_words=False,  # a code could be "STOP"
    )
)
