"""A question's thread: the thread itself, the member's reply and "✅ Opgelost", and the contact
person's answer (the ``CONTACT_REPLY`` and ``CONTACT_ANSWER`` dialogs). Who may read or answer
is decided by the domain (``thread``, ``answer``, ``reply``), whoever presses the button."""

from __future__ import annotations

from collections.abc import Callable

from bot import actions, dialogs
from bot.actions import action
from bot.context import Buttons, Turn, escape
from bot.handlers.contact.common import thread_text
from bot.render import short
from i18n.translate import N_
from models.dialogs.entities import DialogState
from models.dialogs.operations import DialogChanged
from models.errors import DomainError, NotAllowed
from models.questions import operations as questions

# Where "◀" leads from a thread: the asker's list of questions (``ask.py``) or a contact
# person's open questions (``bot/handlers/contact_persons.py``). Both lead to threads, so they
# import this module and name themselves here (``back_from_thread``), not the other way round.
_BACK: dict[bool, actions.Handler] = {}


def back_from_thread(*, asker: bool) -> Callable[[actions.Handler], actions.Handler]:
    """Declare the list "◀" goes back to from a thread, for the asker or a contact person."""

    def declare(handler: actions.Handler) -> actions.Handler:
        _BACK[asker] = handler
        return handler

    return declare


@action("Qv")
async def show_thread(turn: Turn, question_id: int) -> None:
    await render_thread(turn, question_id)


async def render_thread(turn: Turn, question_id: int, notice: str = "") -> None:
    t = turn.t
    await dialogs.leave(turn)
    async with turn.deps.database.read() as session:
        shown = await questions.thread(session, viewer_id=turn.member.id, question_id=question_id)
    await turn.toast()
    rows: Buttons = []
    if shown.is_asker and not shown.solved:
        rows.append(
            [
                turn.button(t("↩️ Reageren"), on_reply, question_id),
                turn.button(t("✅ Opgelost"), on_solved, question_id),
            ]
        )
    if shown.may_answer:
        rows.append([turn.button(t("✍️ Beantwoorden"), on_answer, question_id)])
    back = t("◀ Mijn vragen") if shown.is_asker else t("◀ Open vragen")
    rows.append([turn.button(back, _BACK[shown.is_asker])])
    text = thread_text(t, shown)
    await turn.show(f"{notice}\n\n{text}" if notice else text, rows)


@action("Qs")
async def on_solved(turn: Turn, question_id: int) -> None:
    async with turn.deps.database.transaction() as session:
        await questions.mark_solved(
            session, member_id=turn.member.id, question_id=question_id, now=turn.deps.clock()
        )
    await turn.toast(turn.t("Fijn dat het is opgelost!"))
    await show_thread(turn, question_id)


@action("Qr")
async def on_reply(turn: Turn, question_id: int) -> None:
    async with turn.deps.database.read() as session:
        shown = await questions.thread(session, viewer_id=turn.member.id, question_id=question_id)
    if not shown.is_asker:
        raise NotAllowed()
    if shown.solved:
        raise questions.QuestionSolved()
    await turn.toast()
    await dialogs.begin(turn, CONTACT_REPLY, "text", {"question": question_id})


@action("Qa")
async def on_answer(turn: Turn, question_id: int) -> None:
    async with turn.deps.database.read() as session:
        shown = await questions.thread(session, viewer_id=turn.member.id, question_id=question_id)
    if shown.solved:
        raise questions.QuestionSolved()
    if not shown.may_answer:
        raise NotAllowed()
    await turn.toast()
    await dialogs.begin(turn, CONTACT_ANSWER, "text", {"question": question_id})


async def _prompt(turn: Turn, text: str, buttons: Buttons) -> None:
    """A new message, not an edit: the notice the button was on (the answer, the question)
    stays readable in the chat."""
    await turn.toast()
    await turn.say(text, buttons)


async def _ask_reply(turn: Turn, dialog: DialogState, notice: str) -> None:
    text = turn.t("Typ je reactie. Die gaat naar de contactpersoon.")
    await _prompt(
        turn, f"{notice}\n\n{text}" if notice else text, [dialogs.back_and_stop(turn, dialog)]
    )


async def _ask_answer(turn: Turn, dialog: DialogState, notice: str) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        shown = await questions.thread(
            session, viewer_id=turn.member.id, question_id=int(dialog.answer("question", 0))
        )
    text = t(
        "Typ je antwoord op de vraag van {who}:\n<i>{question}</i>",
        who=escape(shown.asker or t("anoniem")),
        question=escape(short(shown.question.text, 600)),
    )
    await _prompt(
        turn, f"{notice}\n\n{text}" if notice else text, [dialogs.back_and_stop(turn, dialog)]
    )


async def _take(turn: Turn, dialog: DialogState, text: str, *, answering: bool) -> None:
    question_id = int(dialog.answer("question", 0))
    try:
        async with dialogs.finishing(turn, dialog) as session:
            if answering:
                await questions.answer(
                    session,
                    actor_id=turn.member.id,
                    question_id=question_id,
                    text=text,
                    now=turn.deps.clock(),
                )
            else:
                await questions.reply(
                    session,
                    member_id=turn.member.id,
                    question_id=question_id,
                    text=text,
                    now=turn.deps.clock(),
                )
    except DialogChanged:
        raise
    except questions.InvalidQuestion as error:
        await dialogs.ask_again(turn, dialog, turn.refusal(error))  # the dialog goes on
        return
    except DomainError:
        await dialogs.leave(turn)
        raise
    t = turn.t
    sent = t("✅ Je antwoord is verstuurd.") if answering else t("✅ Je reactie is verstuurd.")
    await render_thread(turn, question_id, sent)


async def _take_reply(turn: Turn, dialog: DialogState, text: str) -> None:
    await _take(turn, dialog, text, answering=False)


async def _take_answer(turn: Turn, dialog: DialogState, text: str) -> None:
    await _take(turn, dialog, text, answering=True)


async def _back_to_thread(turn: Turn, dialog: DialogState) -> None:
    await show_thread(turn, int(dialog.answer("question", 0)))


CONTACT_REPLY = dialogs.register(
    dialogs.Flow(
        "contact_reply",
        steps={"text": dialogs.Step(_ask_reply, _take_reply)},
        ended=N_("Je reactie is gestopt; er is niets verstuurd."),
        expired=N_("Je reactie is gestopt omdat het een half uur stil was; er is niets verstuurd."),
        actions=dialogs.codes(on_reply),
        on_stop=_back_to_thread,
        on_back_out=_back_to_thread,
    )
)
CONTACT_ANSWER = dialogs.register(
    dialogs.Flow(
        "contact_answer",
        steps={"text": dialogs.Step(_ask_answer, _take_answer)},
        ended=N_("Je antwoord is gestopt; er is niets verstuurd."),
        expired=N_(
            "Je antwoord is gestopt omdat het een half uur stil was; er is niets verstuurd."
        ),
        actions=dialogs.codes(on_answer),
        on_stop=_back_to_thread,
        on_back_out=_back_to_thread,
    )
)
