"""/idee: propose a masterclass topic or an exchange session, vote, see the ranking; organisers
plan an idea into an event. /vraag: send in a question before a dialogue with raads- en
burgerleden; /vragen: organisers see them grouped and export them for the council members.

The typed steps (an idea's kind, title and description; a question) are two dialog flows
(``bot/dialogs.py``): ``IDEA`` and ``QUESTION``. Where a member is in them is stored in the
database, so a restart or another instance continues where they were; another command or a
button of another feature ends them (with a word), and after 30 minutes of silence they lapse.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot import dialogs
from bot.callbacks import Callback, InvalidCallback
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.for_organisers import organisers_only
from bot.handlers.onboarding import main_menu
from bot.render import short, title
from i18n.labels import KIND_ICONS, KIND_LABELS
from i18n.translate import N_
from models.dialogs.entities import DialogState
from models.dialogs.operations import DialogChanged
from models.errors import DomainError
from models.events.entities import EventKind
from models.events.operations import event_by_code, upcoming_events
from models.events.queries import visible_event
from models.ideas import operations as ideas
from models.ideas.entities import IdeaStatus

IDEAS_PER_PAGE = 5
KINDS = {"m": EventKind.MASTERCLASS, "u": EventKind.UITWISSELING}
NO_THEME = "n"
OVERVIEW_MAX = 3500  # characters of the chat overview; the export has everything
QUESTION_SHOWN = 300  # characters of one question in the chat overview


# --- the typed steps --------------------------------------------------------------------------


def _back_and_stop(turn: Turn, action: str, *args: str | int) -> list[Any]:
    """Back and stop on a screen that is not a dialog step (the dialogue and theme choice)."""
    return [turn.button(turn.t("◀ Terug"), action, *args), turn.button(turn.t("✖ Stop"), "IX")]


async def on_stop(turn: Turn, _dialog: DialogState | None = None) -> None:
    await dialogs.leave(turn)
    await turn.toast()
    await turn.show(turn.t("Gestopt; er is niets opgeslagen."), main_menu(turn))


async def _expired(turn: Turn) -> None:
    await turn.toast()
    await turn.show(
        turn.t("Dit is verlopen; er is niets opgeslagen. Begin opnieuw met /idee of /vraag.")
    )


# --- ideas: the menu and a new idea -----------------------------------------------------------


async def idee(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)  # ends a dialog it finds (bot/dialogs.py)
    await show_menu(turn)


async def show_menu(turn: Turn) -> None:
    t = turn.t
    await dialogs.leave(turn)
    async with turn.deps.database.read() as session:
        events = await upcoming_events(
            session, now=turn.deps.clock(), network_id=turn.member.network_id
        )
    open_topics = sum(1 for event in events if event.topic_tbd)
    text = (
        t("💡 <b>Ideeën</b>")
        + "\n"
        + t(
            "Heb je een onderwerp voor een masterclass, of een idee voor een uitwisseling tussen "
            "buurtnetwerken? Stel het voor; anderen kunnen erop stemmen. De organisatoren kiezen "
            "uit wat het meest leeft."
        )
    )
    if open_topics:
        text += "\n\n" + t.plural(
            "Van {n} komende bijeenkomst is het onderwerp nog niet bepaald: ideeën zijn zeer "
            "welkom!",
            "Van {n} komende bijeenkomsten is het onderwerp nog niet bepaald: ideeën zijn zeer "
            "welkom!",
            open_topics,
        )
    await turn.toast()
    await turn.show(
        text,
        [
            [turn.button(t("➕ Nieuw idee"), "IN")],
            [turn.button(t("🗳 Ideeën bekijken"), "IL", 0)],
        ],
    )


async def on_new_idea(turn: Turn) -> None:
    await turn.toast()
    await dialogs.begin(turn, IDEA, "kind")


async def _ask_kind(turn: Turn, dialog: DialogState, notice: str) -> None:
    t = turn.t
    text = t("➕ <b>Nieuw idee</b>\nWaar gaat je idee over?")
    await turn.show(
        f"{notice}\n\n{text}" if notice else text,
        [
            [dialogs.choice(turn, dialog, t("🎓 Onderwerp voor een masterclass"), "m")],
            [dialogs.choice(turn, dialog, t("🤝 Uitwisseling tussen netwerken"), "u")],
            dialogs.back_and_stop(turn, dialog),
        ],
    )


async def _choose_kind(turn: Turn, dialog: DialogState, code: str) -> None:
    if code not in KINDS:
        raise InvalidCallback(f"kind: unknown kind {code!r}")
    await dialogs.go(turn, dialog, "title", {"kind": code})


async def on_kind(turn: Turn, code: str) -> None:
    """A kind button of a message sent before the dialog engine (action IK): afresh."""
    if code not in KINDS:
        raise InvalidCallback(f"IK: unknown kind {code!r}")
    await turn.toast()
    dialog = await dialogs.begin(turn, IDEA, "kind", ask=False)
    await dialogs.go(turn, dialog, "title", {"kind": code})


async def _ask_title(turn: Turn, dialog: DialogState, notice: str) -> None:
    t = turn.t
    if dialog.answer("kind") == "m":
        text = t(
            "Typ de titel van je idee, in een paar woorden. Bijvoorbeeld: „Wat betekent de "
            "Omgevingswet voor onze buurt?”"
        )
    else:
        text = t(
            "Typ de titel van je idee, in een paar woorden. Bijvoorbeeld: „Hoe houden we "
            "vrijwilligers betrokken?”"
        )
    await turn.show(
        f"{notice}\n\n{text}" if notice else text, [dialogs.back_and_stop(turn, dialog)]
    )


async def _take_title(turn: Turn, dialog: DialogState, text: str) -> None:
    try:
        cleaned = ideas.clean_title(text)
    except DomainError as error:
        await _ask_title(turn, dialog, turn.refusal(error))
        return
    await dialogs.go(turn, dialog, "description", {"title": cleaned})


async def _ask_description(turn: Turn, dialog: DialogState, notice: str) -> None:
    t = turn.t
    text = t(
        "Mooi: <b>{title}</b>\nWil je er nog iets bij vertellen, bijvoorbeeld waarom dit "
        "belangrijk is voor je buurt? Typ een korte toelichting, of kies Overslaan.",
        title=escape(dialog.answer("title", "")),
    )
    await turn.show(
        f"{notice}\n\n{text}" if notice else text,
        [[turn.button(t("Overslaan"), "IS")], dialogs.back_and_stop(turn, dialog)],
    )


async def _take_description(turn: Turn, dialog: DialogState, text: str) -> None:
    try:
        cleaned = ideas.clean_description(text)
    except DomainError as error:
        await _ask_description(turn, dialog, turn.refusal(error))
        return
    await _propose(turn, dialog, cleaned)


async def on_skip_description(turn: Turn) -> None:
    dialog = dialogs.current(turn, IDEA, "description")
    if dialog is None:
        await _expired(turn)
        return
    await _propose(turn, dialog, "")


async def _propose(turn: Turn, dialog: DialogState, description: str) -> None:
    t = turn.t
    see = [[turn.button(t("🗳 Ideeën bekijken"), "IL", 0)]]
    try:
        async with dialogs.finishing(turn, dialog) as session:
            idea = await ideas.propose_idea(
                session,
                member_id=turn.member.id,
                kind=KINDS[dialog.answer("kind")],
                title=dialog.answer("title"),
                description=description,
                now=turn.deps.clock(),
            )
    except DialogChanged:
        raise  # the member is shown where the dialog stands now (bot/dialogs.py)
    except DomainError as error:
        await dialogs.leave(turn)
        await turn.toast(turn.refusal(error))
        await turn.show(turn.refusal(error), see)
        return
    await turn.toast(t("Dank je!"))
    await turn.show(
        t(
            "Dank je! Je idee „{title}” staat erbij. Jouw stem telt al mee; nu kunnen anderen "
            "ook stemmen.",
            title=escape(idea.title),
        ),
        see,
    )


IDEA = dialogs.register(
    dialogs.Flow(
        "idea",
        steps={
            "kind": dialogs.Step(_ask_kind, choose=_choose_kind),
            "title": dialogs.Step(_ask_title, _take_title),
            "description": dialogs.Step(_ask_description, _take_description),
        },
        ended=N_("Je nieuwe idee is gestopt; er is niets opgeslagen."),
        expired=N_(
            "Je nieuwe idee is gestopt omdat het een half uur stil was; er is niets opgeslagen. "
            "Begin gerust opnieuw met /idee."
        ),
        actions=frozenset({"IN", "IK", "IS", "IX"}),
        commands=frozenset({"idee", "idea"}),
        on_stop=on_stop,
        on_back_out=lambda turn, _dialog: show_menu(turn),
    )
)


# --- ideas: the ranking and voting ------------------------------------------------------------


async def show_ranking(turn: Turn, page: int, notice: str = "") -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        total = await ideas.count_open_ideas(session)
        pages = max(1, math.ceil(total / IDEAS_PER_PAGE))
        page = min(max(page, 0), pages - 1)
        rows = await ideas.ranking(
            session, member_id=turn.member.id, limit=IDEAS_PER_PAGE, offset=page * IDEAS_PER_PAGE
        )
    new = [turn.button(t("➕ Nieuw idee"), "IN")]
    await turn.toast()
    if not rows:
        text = t("💡 Er zijn nog geen ideeën. Heb jij er een? Jouw idee is zeer welkom!")
        await turn.show(f"{notice}\n\n{text}" if notice else text, [new])
        return
    heading = t("💡 <b>Ideeën</b> · de meeste stemmen bovenaan")
    if pages > 1:
        heading += f" · {page + 1}/{pages}"
    lines = [notice, ""] if notice else []
    lines.append(heading)
    buttons: Buttons = []
    for position, row in enumerate(rows, start=page * IDEAS_PER_PAGE + 1):
        idea = row.idea
        facts = [f"{KIND_ICONS[idea.kind]} {t(KIND_LABELS[idea.kind])}", f"👍 {row.votes}"]
        name = short(idea.title, 24)
        if idea.proposer_id == turn.member.id:
            facts.append(t("jouw idee"))
            button = turn.button(t("Intrekken: {title}", title=name), "IW", idea.id, page)
        elif row.voted_by_me:
            facts.append(t("je hebt gestemd"))
            button = turn.button(t("Stem intrekken: {title}", title=name), "IU", idea.id, page)
        else:
            button = turn.button(t("👍 Stem: {title}", title=name), "IV", idea.id, page)
        lines += ["", f"<b>{position}. {escape(idea.title)}</b>", " · ".join(facts)]
        if idea.description:
            lines.append(f"<i>{escape(short(idea.description, 160))}</i>")
        buttons.append([button])
        if turn.member.is_organiser:
            buttons.append([turn.button(t("📅 Inplannen: {title}", title=name), "IP", idea.id)])
    nav = []
    if page > 0:
        nav.append(turn.button("◀", "IL", page - 1))
    if page < pages - 1:
        nav.append(turn.button("▶", "IL", page + 1))
    if nav:
        buttons.append(nav)
    buttons.append(new)
    await turn.show("\n".join(lines), buttons)


async def on_vote(turn: Turn, idea_id: int, page: int) -> None:
    try:
        async with turn.deps.database.transaction() as session:
            added = await ideas.vote(
                session, member_id=turn.member.id, idea_id=idea_id, now=turn.deps.clock()
            )
    except DomainError as error:
        await turn.toast(turn.refusal(error))
    else:
        await turn.toast(turn.t("👍 Je stem is geteld.") if added else turn.t("Je had al gestemd."))
    await show_ranking(turn, page)


async def on_unvote(turn: Turn, idea_id: int, page: int) -> None:
    try:
        async with turn.deps.database.transaction() as session:
            removed = await ideas.withdraw_vote(
                session, member_id=turn.member.id, idea_id=idea_id, now=turn.deps.clock()
            )
    except DomainError as error:
        await turn.toast(turn.refusal(error))
    else:
        await turn.toast(
            turn.t("Je stem is ingetrokken.") if removed else turn.t("Je had niet gestemd.")
        )
    await show_ranking(turn, page)


async def on_withdraw_asked(turn: Turn, idea_id: int, page: int) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        idea = await ideas.get_idea(session, idea_id)
    await turn.toast()
    await turn.show(
        t(
            "Wil je het idee „{title}” intrekken? De stemmen erop vervallen.",
            title=escape(idea.title),
        ),
        [
            [
                turn.button(t("Ja, intrekken"), "IY", idea_id, page),
                turn.button(t("Nee, laat staan"), "IL", page),
            ]
        ],
    )


async def on_withdraw(turn: Turn, idea_id: int, page: int) -> None:
    try:
        async with turn.deps.database.transaction() as session:
            await ideas.withdraw_idea(
                session, actor_id=turn.member.id, idea_id=idea_id, now=turn.deps.clock()
            )
    except DomainError as error:
        await turn.toast(turn.refusal(error))
    else:
        await turn.toast(turn.t("Het idee is ingetrokken."))
    await show_ranking(turn, page)


# --- ideas: organisers plan one ---------------------------------------------------------------


async def on_plan(turn: Turn, idea_id: int) -> None:
    """Organisers: choose the event this idea goes into."""
    t = turn.t
    now = turn.deps.clock()
    async with turn.deps.database.read() as session:
        events = await ideas.plannable_events(
            session, actor_id=turn.member.id, idea_id=idea_id, now=now
        )
        idea = await ideas.get_idea(session, idea_id)
    if idea.status is not IdeaStatus.OPEN:
        raise ideas.IdeaClosed()
    text = t(
        "📅 <b>{title}</b> inplannen\nKies de bijeenkomst waar dit idee een plek krijgt. "
        "Bijeenkomsten waarvan het onderwerp nog open is, staan bovenaan; die krijgen de titel "
        "van het idee.",
        title=escape(idea.title),
    )
    if not events:
        text += "\n\n" + t(
            "Er staat geen komende masterclass of uitwisseling in de agenda. Maak eerst een "
            "bijeenkomst aan; daarna kun je het idee hier inplannen."
        )
    rows: Buttons = []
    for event in events:
        name = short(event.title, 26)
        if event.topic_tbd:
            name = t("{title} (onderwerp open)", title=name)
        label = f"{KIND_ICONS[event.kind]} {name} · {t.moment(event.starts_at)}"
        rows.append([turn.button(label, "IE", idea.id, event.public_code)])
    rows.append([turn.button(t("🗑 Idee intrekken"), "IW", idea.id, 0)])
    rows.append([turn.button(t("◀ Terug"), "IL", 0)])
    await turn.toast()
    await turn.show(text, rows)


async def on_plan_chosen(turn: Turn, idea_id: int, code: str) -> None:
    """Organisers: confirm before anyone is told."""
    t = turn.t
    async with turn.deps.database.read() as session:
        event = await event_by_code(session, code)
        preview = await ideas.plan_preview(
            session,
            actor_id=turn.member.id,
            idea_id=idea_id,
            event_id=event.id,
            now=turn.deps.clock(),
        )
    lines = [
        t(
            "„{idea}” inplannen bij <b>{event}</b> ({moment})?",
            idea=escape(preview.idea.title),
            event=escape(event.title),
            moment=t.moment_in_text(event.starts_at),
        )
    ]
    if event.topic_tbd:
        lines.append(t("De bijeenkomst krijgt de titel van het idee."))
    lines.append(
        t.plural(
            "{n} persoon krijgt hiervan bericht: wie het idee voorstelde en wie erop stemde.",
            "{n} mensen krijgen hiervan bericht: wie het idee voorstelde en wie erop stemden.",
            preview.audience,
        )
    )
    await turn.toast()
    await turn.show(
        "\n".join(lines),
        [
            [turn.button(t("✅ Inplannen"), "IC", idea_id, code)],
            [turn.button(t("◀ Terug"), "IP", idea_id)],
        ],
    )


async def on_plan_confirmed(turn: Turn, idea_id: int, code: str) -> None:
    t = turn.t
    async with turn.deps.database.transaction() as session:
        event = await event_by_code(session, code)
        outcome = await ideas.plan_idea(
            session,
            actor_id=turn.member.id,
            idea_id=idea_id,
            event_id=event.id,
            now=turn.deps.clock(),
            policy=turn.deps.policy,
        )
    await turn.toast(t("Ingepland!"))
    text = t(
        "✅ „{idea}” is ingepland bij <b>{event}</b> ({moment}).",
        idea=escape(outcome.idea.title),
        event=escape(title(t, outcome.event)),
        moment=t.moment_in_text(outcome.event.starts_at),
    )
    if outcome.notifications:
        text += "\n" + t.plural(
            "{n} persoon krijgt zo bericht.",
            "{n} mensen krijgen zo bericht.",
            len(outcome.notifications),
        )
    await turn.show(text, [[turn.button(t("◀ Terug naar de ideeën"), "IL", 0)]])


# --- dialogue questions: members ----------------------------------------------------------------


async def vraag(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)  # ends a dialog it finds (bot/dialogs.py)
    try:
        await show_my_dialogues(turn, single_goes_on=True)
    except DomainError as error:
        await turn.say(turn.refusal(error))


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
            [[turn.button(t("📅 Agenda"), "ag", 0)]],
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
                "IQ",
                c.event.public_code,
            )
        ]
        for c in choices
    ]
    rows.append([turn.button(t("✖ Stop"), "IX")])
    await turn.show(t("Voor welke dialoog is je vraag?"), rows)


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


async def show_themes(turn: Turn, code: str) -> None:
    t = turn.t
    await dialogs.leave(turn)
    choice = await _my_choice(turn, code)
    await turn.toast()
    left = ideas.QUESTIONS_PER_DIALOGUE - choice.asked
    if left <= 0:
        error = ideas.TooManyQuestions(maximum=ideas.QUESTIONS_PER_DIALOGUE)
        await turn.show(turn.refusal(error), [[turn.button(t("◀ Terug"), "IG")]])
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
    themes = [turn.button(t(theme), "IT", code, i) for i, theme in enumerate(ideas.THEMES)]
    rows: Buttons = [themes[i : i + 2] for i in range(0, len(themes), 2)]
    rows.append([turn.button(t("Zonder thema verder"), "IT", code, NO_THEME)])
    rows.append(_back_and_stop(turn, "IG"))
    await turn.show(text, rows)


def _theme_of(value: str) -> str | None:
    if value == NO_THEME:
        return None
    if not value.isdigit() or int(value) >= len(ideas.THEMES):
        raise InvalidCallback(f"IT: unknown theme {value!r}")
    return ideas.THEMES[int(value)]


async def on_theme(turn: Turn, code: str, value: str) -> None:
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
    except DomainError as error:
        await dialogs.leave(turn)
        await turn.say(turn.refusal(error))
        return
    rows: Buttons = []
    if asked < ideas.QUESTIONS_PER_DIALOGUE:
        rows.append([turn.button(t("➕ Nog een vraag"), "IQ", code)])
    rows.append([turn.button(t("📅 Agenda"), "ag", 0)])
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
        actions=frozenset({"IG", "IQ", "IT", "IX"}),
        commands=frozenset({"vraag", "question"}),
        on_stop=on_stop,
        on_back_out=lambda turn, dialog: show_themes(turn, dialog.answer("code", "")),
    )
)


# --- dialogue questions: organisers -------------------------------------------------------------


@organisers_only("vragen")
async def vragen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    try:
        await show_dialogues_for_organisers(turn)
    except DomainError as error:
        await turn.say(turn.refusal(error))


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
                "IO",
                c.event.public_code,
            )
        ]
        for c in choices
    ]
    await turn.show(t("🗣 <b>Ingestuurde vragen</b>\nKies een dialoog."), rows)


async def show_questions(turn: Turn, code: str) -> None:
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
        rows.append([turn.button(t("📄 Exporteren"), "ID", code)])
    rows.append([turn.button(t("◀ Terug"), "IA")])
    await turn.toast()
    await turn.show("\n".join(lines), rows)


async def send_questions_document(turn: Turn, code: str) -> None:
    async with turn.deps.database.read() as session:
        event = await event_by_code(session, code)
        document = await ideas.questions_document(
            session, actor_id=turn.member.id, event_id=event.id, t=turn.t
        )
    await turn.toast()
    day = event.starts_at.astimezone(turn.t.tz).date().isoformat()
    await turn.context.bot.send_document(
        turn.chat_id,
        document=document,
        filename=f"vragen-dialoog-{day}.txt",
        caption=turn.t(
            "De vragen voor {event}, zonder namen: klaar om door te sturen naar de raads- en "
            "burgerleden.",
            event=title(turn.t, event),
        ),
    )


ACTIONS: dict[str, Callable[[Turn, Callback], Awaitable[None]]] = {
    "IM": lambda turn, cb: show_menu(turn),
    "IN": lambda turn, cb: on_new_idea(turn),
    "IK": lambda turn, cb: on_kind(turn, cb.arg(0)),
    "IS": lambda turn, cb: on_skip_description(turn),
    "IX": lambda turn, cb: on_stop(turn),
    "IL": lambda turn, cb: show_ranking(turn, cb.int_arg(0)),
    "IV": lambda turn, cb: on_vote(turn, cb.int_arg(0), cb.int_arg(1)),
    "IU": lambda turn, cb: on_unvote(turn, cb.int_arg(0), cb.int_arg(1)),
    "IW": lambda turn, cb: on_withdraw_asked(turn, cb.int_arg(0), cb.int_arg(1)),
    "IY": lambda turn, cb: on_withdraw(turn, cb.int_arg(0), cb.int_arg(1)),
    "IP": lambda turn, cb: on_plan(turn, cb.int_arg(0)),
    "IE": lambda turn, cb: on_plan_chosen(turn, cb.int_arg(0), cb.arg(1)),
    "IC": lambda turn, cb: on_plan_confirmed(turn, cb.int_arg(0), cb.arg(1)),
    "IG": lambda turn, cb: show_my_dialogues(turn),
    "IQ": lambda turn, cb: show_themes(turn, cb.arg(0)),
    "IT": lambda turn, cb: on_theme(turn, cb.arg(0), cb.arg(1)),
    "IA": lambda turn, cb: show_dialogues_for_organisers(turn),
    "IO": lambda turn, cb: show_questions(turn, cb.arg(0)),
    "ID": lambda turn, cb: send_questions_document(turn, cb.arg(0)),
}
