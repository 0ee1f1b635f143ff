"""/contact: who the contact persons are (per theme, and for my network), and "❓ Vraag stellen":
a question in a few words, about a theme, an event or nothing in particular (the
``CONTACT_QUESTION`` dialog). Where it goes is the domain's decision (``route_for``). And my
questions (also in /mijn), each leading to its thread (``thread.py``)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import dialogs
from bot.actions import EventCode, action
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.contact.common import route_words, state
from bot.handlers.contact.thread import back_from_thread, show_thread
from bot.render import KIND_ICONS, short, title
from i18n.translate import N_
from models.dialogs.entities import DialogState
from models.dialogs.operations import DialogChanged
from models.errors import DomainError
from models.events.queries import agenda_page, visible_event
from models.questions import operations as questions
from models.questions.entities import QuestionStatus
from models.themes.entities import Theme
from models.themes.operations import active_themes

EVENTS_SHOWN = 8
QUESTION_SHOWN = 60  # characters of a question in a list
ICONS = {QuestionStatus.OPEN: "⏳", QuestionStatus.ANSWERED: "💬", QuestionStatus.SOLVED: "✅"}


async def contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_contact(await begin_turn(update, context))


@action("Qk")
async def show_contact(turn: Turn) -> None:
    t = turn.t
    await dialogs.leave(turn)
    async with turn.deps.database.read() as session:
        overview = await questions.contact_overview(session, network_id=turn.member.network_id)
        mine = await questions.my_questions(session, member_id=turn.member.id, limit=1)
    nobody = t("de beheerders")
    lines = [t("📬 <b>Contactpersonen</b>")]
    if overview.network is not None:
        names = ", ".join(overview.network_contacts) or nobody
        lines.append(
            t(
                "Voor je buurtnetwerk {network}: {names}",
                network=escape(overview.network.name),
                names=escape(names),
            )
        )
    if overview.themes:
        lines += ["", t("<b>Per thema</b>")]
        for theme, contacts in overview.themes:
            label = escape(theme.label(t.language))
            lines.append(f"• {label}: {escape(', '.join(contacts) or nobody)}")
    lines += [
        "",
        t(
            "Je vraag gaat naar de contactpersoon voor het thema, anders naar die van je "
            "buurtnetwerk, anders naar de beheerders. Het antwoord krijg je hier in de chat."
        ),
    ]
    rows: Buttons = [[turn.button(t("❓ Vraag stellen"), choose_subject)]]
    if mine:
        rows.append([turn.button(t("📋 Mijn vragen"), show_my_questions)])
    await turn.toast()
    await turn.show("\n".join(lines), rows)


@action("Qq")
async def choose_subject(turn: Turn) -> None:
    t = turn.t
    await dialogs.leave(turn)
    async with turn.deps.database.read() as session:
        themes = await active_themes(session)
    await turn.toast()
    buttons = [turn.button(theme.label(t.language), on_theme, theme.id) for theme in themes]
    rows: Buttons = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([turn.button(t("📅 Over een bijeenkomst"), choose_event)])
    rows.append([turn.button(t("Zonder thema verder"), on_no_theme)])
    rows.append([turn.button(t("◀ Terug"), show_contact)])
    await turn.show(
        t("❓ <b>Vraag stellen</b>\nWaar gaat je vraag over? Kies een thema of een bijeenkomst."),
        rows,
    )


@action("Ql")
async def choose_event(turn: Turn) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        shown = await agenda_page(
            session,
            member=turn.member,
            now=turn.deps.clock(),
            policy=turn.deps.policy,
            page=0,
            per_page=EVENTS_SHOWN,
        )
    await turn.toast()
    rows: Buttons = [
        [
            turn.button(
                f"{KIND_ICONS[o.event.kind]} {short(title(t, o.event), 30)} · "
                f"{t.moment(o.event.starts_at)}",
                on_event,
                o.event.public_code,
            )
        ]
        for o in shown.overviews
    ]
    rows.append([turn.button(t("◀ Terug"), choose_subject)])
    text = t("Over welke bijeenkomst gaat je vraag?")
    if not shown.overviews:
        text = t("Er staan nu geen bijeenkomsten op de agenda.")
    await turn.show(text, rows)


@action("Qt")
async def on_theme(turn: Turn, theme_id: int) -> None:
    async with turn.deps.database.read() as session:
        theme = await session.get(Theme, theme_id)
    if theme is None or theme.retired_at is not None:
        raise questions.ThemeUnavailable()
    await turn.toast()
    await dialogs.begin(turn, CONTACT_QUESTION, "text", {"theme": theme_id})


@action("Qe")
async def on_event(turn: Turn, code: EventCode) -> None:
    async with turn.deps.database.read() as session:
        await visible_event(session, public_code=code, member=turn.member)
    await turn.toast()
    await dialogs.begin(turn, CONTACT_QUESTION, "text", {"event": code})


@action("Qn")
async def on_no_theme(turn: Turn) -> None:
    await turn.toast()
    await dialogs.begin(turn, CONTACT_QUESTION, "text", {})


async def _ask_text(turn: Turn, dialog: DialogState, notice: str) -> None:
    t = turn.t
    about = ""
    theme_id = dialog.answer("theme", None)
    code = dialog.answer("event", None)
    async with turn.deps.database.read() as session:
        if theme_id is not None:
            theme = await session.get(Theme, theme_id)
            if theme is not None:
                about = t("over <b>{theme}</b> ", theme=escape(theme.label(t.language)))
        elif code is not None:
            event = await visible_event(session, public_code=code, member=turn.member)
            about = t("over <b>{event}</b> ", event=escape(title(t, event)))
    text = t(
        "Typ je vraag {about}in een paar woorden. Een organisator antwoordt je hier in de chat.",
        about=about,
    )
    await turn.show(
        f"{notice}\n\n{text}" if notice else text, [dialogs.back_and_stop(turn, dialog)]
    )


async def _take_text(turn: Turn, dialog: DialogState, text: str) -> None:
    t = turn.t
    code = dialog.answer("event", None)
    try:
        async with dialogs.finishing(turn, dialog) as session:
            event_id = None
            if code is not None:
                event = await visible_event(session, public_code=code, member=turn.member)
                event_id = event.id
            question = await questions.ask(
                session,
                member_id=turn.member.id,
                text=text,
                now=turn.deps.clock(),
                theme_id=dialog.answer("theme", None),
                event_id=event_id,
            )
            theme = await session.get(Theme, question.theme_id) if question.theme_id else None
            route = question.route
    except DialogChanged:
        raise
    except questions.InvalidQuestion as error:
        await dialogs.ask_again(turn, dialog, turn.refusal(error))  # the dialog goes on
        return
    except DomainError:
        await dialogs.leave(turn)
        raise
    await turn.say(
        t(
            "✅ Je vraag is verstuurd naar {who}. Het antwoord komt hier in de chat; in "
            "/mijn zie je hoe het ermee staat.",
            who=route_words(t, route, theme),
        ),
        [[turn.button(t("📋 Mijn vragen"), show_my_questions)]],
    )


# --- my questions (also in /mijn) ---------------------------------------------------------------


async def my_questions_lines(turn: Turn) -> tuple[list[str], Buttons]:
    """The /mijn section: my unsolved questions with their state, and a button to all of them."""
    t = turn.t
    async with turn.deps.database.read() as session:
        mine = await questions.my_questions(session, member_id=turn.member.id)
    if not mine:
        return [], []
    unsolved = [q for q in mine if q.status is not QuestionStatus.SOLVED]
    lines = ["", t("<b>Mijn vragen</b>")]
    for question in unsolved[:5]:
        lines.append(f"• {escape(short(question.text, QUESTION_SHOWN))} · {state(t, question)}")
    if not unsolved:
        lines.append(t("Al je vragen zijn opgelost."))
    return lines, [[turn.button(t("📋 Mijn vragen"), show_my_questions)]]


@action("Qm")
@back_from_thread(asker=True)
async def show_my_questions(turn: Turn) -> None:
    t = turn.t
    await dialogs.leave(turn)
    async with turn.deps.database.read() as session:
        mine = await questions.my_questions(session, member_id=turn.member.id)
    await turn.toast()
    rows: Buttons = [
        [turn.button(f"{ICONS[q.status]} {short(q.text, 40)}", show_thread, q.id)] for q in mine
    ]
    rows.append([turn.button(t("❓ Vraag stellen"), choose_subject)])
    if not mine:
        await turn.show(t("Je hebt nog geen vragen gesteld."), rows)
        return
    lines = [t("📋 <b>Mijn vragen</b>")]
    lines += [f"• {escape(short(q.text, QUESTION_SHOWN))} · {state(t, q)}" for q in mine]
    await turn.show("\n".join(lines), rows)


CONTACT_QUESTION = dialogs.register(
    dialogs.Flow(
        "contact_question",
        steps={"text": dialogs.Step(_ask_text, _take_text)},
        ended=N_("Je vraag is gestopt; er is niets verstuurd."),
        expired=N_(
            "Je vraag is gestopt omdat het een half uur stil was; er is niets verstuurd. "
            "Begin gerust opnieuw met /contact."
        ),
        actions=dialogs.codes(choose_subject, choose_event, on_theme, on_event, on_no_theme),
        commands=frozenset({"contact"}),
        on_back_out=lambda turn, dialog: choose_subject(turn),
    )
)
