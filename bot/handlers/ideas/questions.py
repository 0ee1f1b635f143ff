"""/vraag: a member sends in a question before a dialogue with raads- en burgerleden (the
``QUESTION`` dialog, after choosing the dialogue and a theme); organisers see them grouped by
theme and network (/vragen, in ``bot/handlers/organiser.py``) and export them for the council
members (``export.py``)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import dialogs
from bot.actions import EventCode, action
from bot.callbacks import InvalidCallback
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.agenda import show_agenda
from bot.handlers.ideas.common import on_stop, on_stop_pressed, stop_button
from bot.handlers.ideas.export import questions_document
from bot.render import short, title
from i18n.labels import KIND_ICONS
from i18n.translate import N_
from models.dialogs.entities import DialogState
from models.dialogs.operations import DialogChanged
from models.errors import DomainError
from models.events.entities import EventKind
from models.events.operations import event_by_code
from models.events.queries import visible_event
from models.ideas import operations as ideas

NO_THEME = "n"
OVERVIEW_MAX = 3500  # characters of the chat overview; the export has everything
QUESTION_SHOWN = 300  # characters of one question in the chat overview


# --- members ------------------------------------------------------------------------------------


async def vraag(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)  # ends a dialog it finds (bot/dialogs.py)
    await show_my_dialogues(turn, single_goes_on=True)


async def show_my_dialogues(turn: Turn, *, single_goes_on: bool = False) -> None:
    t = turn.t
    await dialogs.leave(turn)
    async with turn.deps.database.read() as session:
        choices = await ideas.my_dialogues(session, member_id=turn.member.id, now=turn.deps.clock())
    await turn.toast()
    if not choices:
        await turn.show(
            t(
                "Je kunt een vraag of thema insturen voor een dialoog met raads- en burgerleden "
                "als je je daarvoor hebt aangemeld. Kijk in de agenda wanneer de volgende is."
            ),
            [[turn.button(t("📅 Agenda"), show_agenda, 0)]],
        )
        return
    if single_goes_on and len(choices) == 1:
        await show_themes(turn, choices[0].event.public_code)
        return
    rows: Buttons = [
        [
            turn.button(
                f"{KIND_ICONS[c.event.kind]} {short(title(t, c.event), 30)} · "
                f"{t.moment(c.event.starts_at)}",
                show_themes,
                c.event.public_code,
            )
        ]
        for c in choices
    ]
    rows.append([stop_button(turn)])
    await turn.show(t("Voor welke dialoog is je vraag?"), rows)


@action("IG")
async def on_my_dialogues(turn: Turn) -> None:
    await show_my_dialogues(turn)


async def _my_choice(turn: Turn, code: str) -> ideas.DialogueChoice:
    async with turn.deps.database.read() as session:
        event = await visible_event(session, public_code=code, member=turn.member)
        choices = await ideas.my_dialogues(session, member_id=turn.member.id, now=turn.deps.clock())
    for choice in choices:
        if choice.event.id == event.id:
            return choice
    if event.kind is not EventKind.DIALOOG:
        raise ideas.NotADialogue()
    raise ideas.QuestionNeedsRegistration()


@action("IQ")
async def show_themes(turn: Turn, code: EventCode) -> None:
    t = turn.t
    await dialogs.leave(turn)
    choice = await _my_choice(turn, code)
    await turn.toast()
    back = turn.button(t("◀ Terug"), on_my_dialogues)
    left = ideas.QUESTIONS_PER_DIALOGUE - choice.asked
    if left <= 0:
        error = ideas.TooManyQuestions(maximum=ideas.QUESTIONS_PER_DIALOGUE)
        await turn.show(turn.refusal(error), [[back]])
        return
    text = (
        t(
            "🗣 Vraag voor <b>{event}</b> ({moment})\nWaar gaat je vraag over? Kies een thema, "
            "of ga verder zonder thema.",
            event=escape(title(t, choice.event)),
            moment=t.moment(choice.event.starts_at),
        )
        + "\n"
        + t.plural("Je kunt nog {n} vraag insturen.", "Je kunt nog {n} vragen insturen.", left)
    )
    themes = [turn.button(t(theme), on_theme, code, i) for i, theme in enumerate(ideas.THEMES)]
    rows: Buttons = [themes[i : i + 2] for i in range(0, len(themes), 2)]
    rows.append([turn.button(t("Zonder thema verder"), on_theme, code, NO_THEME)])
    rows.append([back, stop_button(turn)])
    await turn.show(text, rows)


def _theme_of(value: str) -> str | None:
    if value == NO_THEME:
        return None
    if not value.isdigit() or int(value) >= len(ideas.THEMES):
        raise InvalidCallback(f"IT: unknown theme {value!r}")
    return ideas.THEMES[int(value)]


@action("IT")
async def on_theme(turn: Turn, code: EventCode, value: str) -> None:
    _theme_of(value)
    await _my_choice(turn, code)  # still registered, still to come
    await turn.toast()
    await dialogs.begin(turn, QUESTION, "question", {"code": code, "theme": value})


async def _ask_question(turn: Turn, dialog: DialogState, notice: str) -> None:
    t = turn.t
    theme = _theme_of(dialog.answer("theme", NO_THEME))
    if theme is None:
        text = t(
            "Typ je vraag voor de raads- en burgerleden. Je naam gaat niet mee, alleen je "
            "buurtnetwerk."
        )
    else:
        text = t(
            "Typ je vraag over <b>{theme}</b> voor de raads- en burgerleden. Je naam gaat niet "
            "mee, alleen je buurtnetwerk.",
            theme=escape(t(theme)),
        )
    await turn.show(
        f"{notice}\n\n{text}" if notice else text, [dialogs.back_and_stop(turn, dialog)]
    )


async def _take_question(turn: Turn, dialog: DialogState, text: str) -> None:
    t = turn.t
    code = dialog.answer("code", "")
    try:
        async with dialogs.finishing(turn, dialog) as session:
            event = await visible_event(session, public_code=code, member=turn.member)
            await ideas.ask_question(
                session,
                member_id=turn.member.id,
                event_id=event.id,
                text=text,
                theme=_theme_of(dialog.answer("theme", NO_THEME)),
                now=turn.deps.clock(),
            )
            choices = await ideas.my_dialogues(
                session, member_id=turn.member.id, now=turn.deps.clock()
            )
            asked = next((c.asked for c in choices if c.event.id == event.id), 0)
    except DialogChanged:
        raise  # the member is shown where the dialog stands now (bot/dialogs.py)
    except ideas.InvalidQuestion as error:
        await _ask_question(turn, dialog, turn.refusal(error))  # the dialog goes on
        return
    except DomainError:  # e.g. the dialogue started meanwhile: the question is over
        await dialogs.leave(turn)
        raise
    rows: Buttons = []
    if asked < ideas.QUESTIONS_PER_DIALOGUE:
        rows.append([turn.button(t("➕ Nog een vraag"), show_themes, code)])
    rows.append([turn.button(t("📅 Agenda"), show_agenda, 0)])
    await turn.say(t("Dank je! Je vraag gaat mee naar het gesprek."), rows)


QUESTION = dialogs.register(
    dialogs.Flow(
        "question",
        steps={"question": dialogs.Step(_ask_question, _take_question)},
        ended=N_("Je vraag voor de dialoog is gestopt; er is niets opgeslagen."),
        expired=N_(
            "Je vraag voor de dialoog is gestopt omdat het een half uur stil was; er is niets "
            "opgeslagen. Begin gerust opnieuw met /vraag."
        ),
        actions=dialogs.codes(on_my_dialogues, show_themes, on_theme, on_stop_pressed),
        commands=frozenset({"vraag", "question"}),
        on_stop=on_stop,
        on_back_out=lambda turn, dialog: show_themes(turn, dialog.answer("code", "")),
    )
)


# --- organisers ---------------------------------------------------------------------------------


@action("IA")
async def show_dialogues_for_organisers(turn: Turn) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        choices = await ideas.dialogues_for_organisers(
            session, actor_id=turn.member.id, now=turn.deps.clock()
        )
    await turn.toast()
    if not choices:
        await turn.show(t("Er staan geen dialogen op de agenda."))
        return
    rows: Buttons = [
        [
            turn.button(
                t.plural(
                    "{title}: {n} vraag",
                    "{title}: {n} vragen",
                    c.asked,
                    title=f"{short(title(t, c.event), 24)} · {t.moment(c.event.starts_at)}",
                ),
                show_questions,
                c.event.public_code,
            )
        ]
        for c in choices
    ]
    await turn.show(t("🗣 <b>Ingestuurde vragen</b>\nKies een dialoog."), rows)


@action("IO")
async def show_questions(turn: Turn, code: EventCode) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        event = await event_by_code(session, code)
        overview = await ideas.questions_for(session, actor_id=turn.member.id, event_id=event.id)
    no_network = t("zonder buurtnetwerk")
    lines = [
        t(
            "🗣 <b>Vragen voor {event}</b> ({moment})",
            event=escape(title(t, event)),
            moment=t.moment(event.starts_at),
        ),
        t.plural("{n} vraag", "{n} vragen", overview.total)
        + ", "
        + t.plural("uit {n} buurtnetwerk.", "uit {n} buurtnetwerken.", overview.networks),
    ]
    shown = 0
    for theme, entries in overview.by_theme:
        heading = escape(t(theme)) if theme else t("Zonder thema")
        lines += ["", f"<b>{heading}</b> ({len(entries)})"]
        for entry in entries:
            if sum(len(line) for line in lines) > OVERVIEW_MAX:
                break
            network = escape(entry.network or no_network)
            lines.append(f"• {escape(short(entry.text, QUESTION_SHOWN))} — <i>{network}</i>")
            shown += 1
    if shown < overview.total:
        lines += ["", t("… en meer. Alles staat in de export.")]
    if overview.by_network:
        lines += ["", t("<b>Per buurtnetwerk</b>")]
        lines.append(
            " · ".join(f"{escape(name or no_network)} {n}" for name, n in overview.by_network)
        )
    rows: Buttons = []
    if overview.total:
        rows.append([turn.button(t("📄 Exporteren"), send_questions_document, code)])
    rows.append([turn.button(t("◀ Terug"), show_dialogues_for_organisers)])
    await turn.toast()
    await turn.show("\n".join(lines), rows)


@action("ID")
async def send_questions_document(turn: Turn, code: EventCode) -> None:
    async with turn.deps.database.read() as session:
        event = await event_by_code(session, code)
        overview = await ideas.questions_for(session, actor_id=turn.member.id, event_id=event.id)
    await turn.toast()
    day = event.starts_at.astimezone(turn.t.tz).date().isoformat()
    await turn.context.bot.send_document(
        turn.chat_id,
        document=questions_document(overview, turn.t),
        filename=f"vragen-dialoog-{day}.txt",
        caption=turn.t(
            "De vragen voor {event}, zonder namen: klaar om door te sturen naar de raads- en "
            "burgerleden.",
            event=title(turn.t, event),
        ),
    )
