"""/idee: propose a masterclass topic or an exchange session, vote, see the ranking; organisers
plan an idea into an event.

A new idea is the ``IDEA`` dialog (``bot/dialogs.py``): its kind (a button), its title and a
description (typed).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from bot import dialogs
from bot.actions import EventCode, action
from bot.callbacks import InvalidCallback
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.ideas.common import on_stop, on_stop_pressed
from bot.render import short, title
from i18n.labels import KIND_ICONS, KIND_LABELS
from i18n.translate import N_
from models.dialogs.entities import DialogState
from models.dialogs.operations import DialogChanged
from models.errors import DomainError
from models.events.entities import EventKind
from models.events.operations import event_by_code, upcoming_events
from models.ideas import operations as ideas
from models.ideas.entities import IdeaStatus

IDEAS_PER_PAGE = 5
KINDS = {"m": EventKind.MASTERCLASS, "u": EventKind.UITWISSELING}


# --- the menu and a new idea --------------------------------------------------------------------


async def idee(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)  # ends a dialog it finds (bot/dialogs.py)
    await show_menu(turn)


@action("IM")
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
            [turn.button(t("➕ Nieuw idee"), on_new_idea)],
            [turn.button(t("🗳 Ideeën bekijken"), show_ranking, 0)],
        ],
    )


@action("IN")
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


@action("IK")
async def on_kind(turn: Turn, code: str) -> None:
    """A kind button of a message sent before the dialog engine: afresh."""
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
    except DomainError as error:  # the same question again, with the reason
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
        [[turn.button(t("Overslaan"), on_skip_description)], dialogs.back_and_stop(turn, dialog)],
    )


async def _take_description(turn: Turn, dialog: DialogState, text: str) -> None:
    try:
        cleaned = ideas.clean_description(text)
    except DomainError as error:  # the same question again, with the reason
        await _ask_description(turn, dialog, turn.refusal(error))
        return
    await _propose(turn, dialog, cleaned)


@action("IS")
async def on_skip_description(turn: Turn) -> None:
    dialog = dialogs.current(turn, IDEA, "description")
    if dialog is None:
        await turn.toast()
        await turn.show(
            turn.t("Dit is verlopen; er is niets opgeslagen. Begin opnieuw met /idee of /vraag.")
        )
        return
    await _propose(turn, dialog, "")


async def _propose(turn: Turn, dialog: DialogState, description: str) -> None:
    t = turn.t
    see = [[turn.button(t("🗳 Ideeën bekijken"), show_ranking, 0)]]
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
    except DomainError as error:  # e.g. too many open ideas: the flow ends, the list is a tap away
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
        actions=dialogs.codes(on_new_idea, on_kind, on_skip_description, on_stop_pressed),
        commands=frozenset({"idee", "idea"}),
        on_stop=on_stop,
        on_back_out=lambda turn, _dialog: show_menu(turn),
    )
)


# --- the ranking and voting ---------------------------------------------------------------------


@action("IL")
async def show_ranking(turn: Turn, page: int) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        total = await ideas.count_open_ideas(session)
        pages = max(1, math.ceil(total / IDEAS_PER_PAGE))
        page = min(max(page, 0), pages - 1)
        rows = await ideas.ranking(
            session, member_id=turn.member.id, limit=IDEAS_PER_PAGE, offset=page * IDEAS_PER_PAGE
        )
    new = [turn.button(t("➕ Nieuw idee"), on_new_idea)]
    await turn.toast()
    if not rows:
        text = t("💡 Er zijn nog geen ideeën. Heb jij er een? Jouw idee is zeer welkom!")
        await turn.show(text, [new])
        return
    heading = t("💡 <b>Ideeën</b> · de meeste stemmen bovenaan")
    if pages > 1:
        heading += f" · {page + 1}/{pages}"
    lines = [heading]
    buttons: Buttons = []
    for position, row in enumerate(rows, start=page * IDEAS_PER_PAGE + 1):
        idea = row.idea
        facts = [f"{KIND_ICONS[idea.kind]} {t(KIND_LABELS[idea.kind])}", f"👍 {row.votes}"]
        name = short(idea.title, 24)
        if idea.proposer_id == turn.member.id:
            facts.append(t("jouw idee"))
            label, handler = t("Intrekken: {title}", title=name), on_withdraw_asked
        elif row.voted_by_me:
            facts.append(t("je hebt gestemd"))
            label, handler = t("Stem intrekken: {title}", title=name), on_unvote
        else:
            label, handler = t("👍 Stem: {title}", title=name), on_vote
        lines += ["", f"<b>{position}. {escape(idea.title)}</b>", " · ".join(facts)]
        if idea.description:
            lines.append(f"<i>{escape(short(idea.description, 160))}</i>")
        buttons.append([turn.button(label, handler, idea.id, page)])
        if turn.member.is_organiser:
            buttons.append([turn.button(t("📅 Inplannen: {title}", title=name), on_plan, idea.id)])
    nav = []
    if page > 0:
        nav.append(turn.button("◀", show_ranking, page - 1))
    if page < pages - 1:
        nav.append(turn.button("▶", show_ranking, page + 1))
    if nav:
        buttons.append(nav)
    buttons.append(new)
    await turn.show("\n".join(lines), buttons)


async def _then_ranking(
    turn: Turn,
    page: int,
    change: Callable[[AsyncSession], Awaitable[object]],
    done: str,
    unchanged: str = "",
) -> None:
    """Make ``change``, say how it went (a refusal too), and show the ranking as it is now."""
    try:
        async with turn.deps.database.transaction() as session:
            changed = await change(session)
    except DomainError as error:
        await turn.toast(turn.refusal(error))
    else:
        await turn.toast(done if changed is not False else unchanged)
    await show_ranking(turn, page)


async def _vote_change(
    turn: Turn,
    idea_id: int,
    page: int,
    operation: Callable[..., Awaitable[bool]],
    done: str,
    unchanged: str,
) -> None:
    """A vote given or taken back (``operation``); ``done``/``unchanged``: msgids of the toast."""

    async def change(session: AsyncSession) -> bool:
        return await operation(
            session, member_id=turn.member.id, idea_id=idea_id, now=turn.deps.clock()
        )

    await _then_ranking(turn, page, change, turn.t(done), turn.t(unchanged))


@action("IV")
async def on_vote(turn: Turn, idea_id: int, page: int) -> None:
    await _vote_change(
        turn, idea_id, page, ideas.vote, N_("👍 Je stem is geteld."), N_("Je had al gestemd.")
    )


@action("IU")
async def on_unvote(turn: Turn, idea_id: int, page: int) -> None:
    await _vote_change(
        turn,
        idea_id,
        page,
        ideas.withdraw_vote,
        N_("Je stem is ingetrokken."),
        N_("Je had niet gestemd."),
    )


@action("IW")
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
                turn.button(t("Ja, intrekken"), on_withdraw, idea_id, page),
                turn.button(t("Nee, laat staan"), show_ranking, page),
            ]
        ],
    )


@action("IY")
async def on_withdraw(turn: Turn, idea_id: int, page: int) -> None:
    await _then_ranking(
        turn,
        page,
        lambda session: ideas.withdraw_idea(
            session, actor_id=turn.member.id, idea_id=idea_id, now=turn.deps.clock()
        ),
        turn.t("Het idee is ingetrokken."),
    )


# --- organisers plan one ------------------------------------------------------------------------


@action("IP")
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
        rows.append([turn.button(label, on_plan_chosen, idea.id, event.public_code)])
    rows.append([turn.button(t("🗑 Idee intrekken"), on_withdraw_asked, idea.id, 0)])
    rows.append([turn.button(t("◀ Terug"), show_ranking, 0)])
    await turn.toast()
    await turn.show(text, rows)


@action("IE")
async def on_plan_chosen(turn: Turn, idea_id: int, code: EventCode) -> None:
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
            [turn.button(t("✅ Inplannen"), on_plan_confirmed, idea_id, code)],
            [turn.button(t("◀ Terug"), on_plan, idea_id)],
        ],
    )


@action("IC")
async def on_plan_confirmed(turn: Turn, idea_id: int, code: EventCode) -> None:
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
    await turn.show(text, [[turn.button(t("◀ Terug naar de ideeën"), show_ranking, 0)]])
