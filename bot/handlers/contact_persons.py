"""For organisers: /contactpersonen (take or leave a theme or a network as its fixed contact
person) and /vragenlijst (the questions waiting for me, the one waiting longest first; an admin
sees all of them). A member who types either hears what it is for, and is shown /contact."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.actions import action
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.contact.common import theme_name, waited
from bot.handlers.contact.thread import back_from_thread, show_thread
from bot.handlers.for_organisers import organisers_only
from bot.render import short
from models.networks.reference import all_networks
from models.questions import operations as questions
from models.themes.entities import Theme
from models.themes.operations import active_themes

NETWORKS_PER_PAGE = 10
OPEN_SHOWN = 20


@organisers_only("contactpersonen")
async def contact_persons_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_my_contact_roles(await begin_turn(update, context))


@action("Qc")
async def show_my_contact_roles(turn: Turn) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        mine = await questions.my_contacts(session, actor_id=turn.member.id)
        themes = await active_themes(session)
        waiting = await questions.open_questions(session, actor_id=turn.member.id)
        networks = [n.name for n in await all_networks(session) if n.id in mine.network_ids]
    await turn.toast()
    my_themes = [theme.label(t.language) for theme in themes if theme.id in mine.theme_ids]
    lines = [
        t("🧭 <b>Vaste contactpersonen</b>"),
        t(
            "Vragen over een thema gaan naar de contactpersonen voor dat thema, anders naar die "
            "van het buurtnetwerk van wie vraagt, anders naar de beheerders. Tik op een thema "
            "om het op je te nemen of los te laten."
        ),
        "",
        t("Jouw thema's: {names}", names=escape(", ".join(my_themes) or t("geen"))),
        t("Jouw buurtnetwerken: {names}", names=escape(", ".join(networks) or t("geen"))),
    ]
    buttons = [
        turn.button(
            ("✓ " if theme.id in mine.theme_ids else "") + theme.label(t.language),
            on_toggle_theme,
            theme.id,
        )
        for theme in themes
    ]
    rows: Buttons = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([turn.button(t("🏘 Buurtnetwerken kiezen"), show_networks, 0)])
    rows.append(
        [
            turn.button(
                t.plural("📋 Open vragen ({n})", "📋 Open vragen ({n})", len(waiting)),
                show_open_questions,
            )
        ]
    )
    await turn.show("\n".join(lines), rows)


@action("Qh")
async def on_toggle_theme(turn: Turn, theme_id: int) -> None:
    async with turn.deps.database.transaction() as session:
        mine = await questions.my_contacts(session, actor_id=turn.member.id)
        label = theme_name(turn.t, await session.get(Theme, theme_id))
        if theme_id in mine.theme_ids:
            await questions.leave_contact(
                session, actor_id=turn.member.id, theme_id=theme_id, now=turn.deps.clock()
            )
            notice = turn.t("Je bent geen contactpersoon meer voor {theme}.", theme=label)
        else:
            await questions.take_contact(
                session, actor_id=turn.member.id, theme_id=theme_id, now=turn.deps.clock()
            )
            notice = turn.t("Je bent nu contactpersoon voor {theme}.", theme=label)
    await turn.toast(notice)
    await show_my_contact_roles(turn)


@action("Qw")
async def show_networks(turn: Turn, page: int) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        mine = await questions.my_contacts(session, actor_id=turn.member.id)
        networks = await all_networks(session)
    pages = max(1, -(-len(networks) // NETWORKS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = networks[page * NETWORKS_PER_PAGE : (page + 1) * NETWORKS_PER_PAGE]
    await turn.toast()
    rows: Buttons = [
        [
            turn.button(
                ("✓ " if network.id in mine.network_ids else "") + network.name,
                on_toggle_network,
                network.id,
                page,
            )
        ]
        for network in shown
    ]
    nav = []
    if page > 0:
        nav.append(turn.button(t("◀ Eerder"), show_networks, page - 1))
    if page < pages - 1:
        nav.append(turn.button(t("Later ▶"), show_networks, page + 1))
    if nav:
        rows.append(nav)
    rows.append([turn.button(t("◀ Terug"), show_my_contact_roles)])
    await turn.show(
        t("🏘 Voor welke buurtnetwerken ben je vaste contactpersoon? Tik om te kiezen."), rows
    )


@action("Qg")
async def on_toggle_network(turn: Turn, network_id: int, page: int) -> None:
    async with turn.deps.database.transaction() as session:
        mine = await questions.my_contacts(session, actor_id=turn.member.id)
        if network_id in mine.network_ids:
            await questions.leave_contact(
                session, actor_id=turn.member.id, network_id=network_id, now=turn.deps.clock()
            )
        else:
            await questions.take_contact(
                session, actor_id=turn.member.id, network_id=network_id, now=turn.deps.clock()
            )
    await show_networks(turn, page)


@organisers_only("vragenlijst")
async def open_questions_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_open_questions(await begin_turn(update, context))


@action("Qo")
@back_from_thread(asker=False)
async def show_open_questions(turn: Turn) -> None:
    t = turn.t
    now = turn.deps.clock()
    async with turn.deps.database.read() as session:
        waiting = await questions.open_questions(session, actor_id=turn.member.id)
        themes = {theme.id: theme for theme in await active_themes(session)}
    await turn.toast()
    rows: Buttons = [[turn.button(t("🧭 Mijn thema's en netwerken"), show_my_contact_roles)]]
    if not waiting:
        await turn.show(t("📋 Er wachten geen vragen op jouw antwoord."), rows)
        return
    lines = [
        t.plural(
            "📋 <b>{n} open vraag</b>, die het langst wacht eerst",
            "📋 <b>{n} open vragen</b>, die het langst wacht eerst",
            len(waiting),
        )
    ]
    question_rows: Buttons = []
    for question in waiting[:OPEN_SHOWN]:
        theme = themes.get(question.theme_id) if question.theme_id else None
        lines.append(
            f"• {waited(t, question.waiting_since, now)} · {escape(theme_name(t, theme))}: "
            f"{escape(short(question.text, 60))}"
        )
        question_rows.append([turn.button(short(question.text, 40), show_thread, question.id)])
    await turn.show("\n".join(lines), question_rows + rows)
