"""/themas: organisers keep the list of themes (add, rename, take off the list, put back).

Every change is the domain's (``models/themes/operations.py``: organisers only, audited); a
member who presses one of these buttons hears the domain's refusal. A new name is typed: the
``THEME`` dialog (``bot/dialogs.py``) asks the Dutch name, then the English one (or "Overslaan").
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import dialogs
from bot.actions import action
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.for_organisers import organisers_only
from i18n.translate import N_
from models.dialogs.entities import DialogState
from models.organisers.authorisation import require_organiser
from models.themes import operations as themes
from models.themes.entities import Theme


@organisers_only("themas")
async def themes_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_theme_list(await begin_turn(update, context))


@action("TA")
async def show_theme_list(turn: Turn) -> None:
    await _show_list(turn)


async def _show_list(turn: Turn, notice: str = "") -> None:
    t = turn.t
    await dialogs.leave(turn)
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
        listed = await themes.all_themes(session)
    lines = [
        t(
            "<b>Thema's</b> · leden kiezen hieruit waar ze over willen horen; bijeenkomsten en "
            "berichten dragen ze."
        ),
        "",
    ]
    for theme in listed:
        line = f"• {escape(theme.name)}"
        if theme.name_en:
            line += f" <i>({escape(theme.name_en)})</i>"
        if not theme.active:
            line += " · " + t("niet meer aangeboden")
        lines.append(line)
    rows: Buttons = [[turn.button(t("➕ Nieuw thema"), on_new_theme)]]
    buttons = [turn.button(_label(theme), show_theme, theme.id) for theme in listed]
    rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    await turn.toast()
    text = "\n".join(lines)
    await turn.show(f"{notice}\n\n{text}" if notice else text, rows)


def _label(theme: Theme) -> str:
    return theme.name if theme.active else f"🗄 {theme.name}"


@action("TE")
async def show_theme(turn: Turn, theme_id: int) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
        theme = await session.get(Theme, theme_id)
    if theme is None:
        raise themes.ThemeUnknown()
    lines = [f"<b>{escape(theme.name)}</b>"]
    lines.append(t("Engels: {name}", name=escape(theme.name_en or t("geen"))))
    if not theme.active:
        lines.append(t("Niet meer aangeboden aan leden."))
    retire = (
        turn.button(t("🗄 Niet meer aanbieden"), on_retire, theme.id, 1)
        if theme.active
        else turn.button(t("♻️ Weer aanbieden"), on_retire, theme.id, 0)
    )
    await turn.toast()
    await turn.show(
        "\n".join(lines),
        [
            [turn.button(t("✏️ Naam wijzigen"), on_rename, theme.id)],
            [retire],
            [turn.button(t("◀ Thema's"), show_theme_list)],
        ],
    )


@action("TR")
async def on_retire(turn: Turn, theme_id: int, retire: int) -> None:
    async with turn.deps.database.transaction() as session:
        await themes.retire_theme(
            session,
            actor_id=turn.member.id,
            theme_id=theme_id,
            now=turn.deps.clock(),
            retired=bool(retire),
        )
    await turn.toast(turn.t("Opgeslagen."))
    await show_theme(turn, theme_id)


@action("TN")
async def on_new_theme(turn: Turn) -> None:
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
    await turn.toast()
    await dialogs.begin(turn, THEME, "name", {"theme_id": 0})


@action("TW")
async def on_rename(turn: Turn, theme_id: int) -> None:
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
    await turn.toast()
    await dialogs.begin(turn, THEME, "name", {"theme_id": theme_id})


async def _ask_name(turn: Turn, dialog: DialogState, notice: str) -> None:
    t = turn.t
    if dialog.answer("theme_id"):
        text = t("Typ de nieuwe Nederlandse naam van het thema.")
    else:
        text = t("➕ <b>Nieuw thema</b>\nTyp de Nederlandse naam, bijvoorbeeld „Groen in de wijk”.")
    await turn.show(
        f"{notice}\n\n{text}" if notice else text, [dialogs.back_and_stop(turn, dialog)]
    )


async def _take_name(turn: Turn, dialog: DialogState, text: str) -> None:
    name = " ".join(text.split())
    if not 2 <= len(name) <= 60:
        await _ask_name(turn, dialog, turn.refusal(themes.ThemeNameInvalid(maximum=60)))
        return
    await dialogs.go(turn, dialog, "name_en", {"name": name})


async def _ask_name_en(turn: Turn, dialog: DialogState, notice: str) -> None:
    t = turn.t
    text = t(
        "En de Engelse naam? Typ hem, of kies Overslaan (dan zien Engelstaligen de Nederlandse)."
    )
    await turn.show(
        f"{notice}\n\n{text}" if notice else text,
        [[dialogs.choice(turn, dialog, t("Overslaan"), "-")], dialogs.back_and_stop(turn, dialog)],
    )


async def _take_name_en(turn: Turn, dialog: DialogState, text: str) -> None:
    await _save(turn, dialog, " ".join(text.split()))


async def _skip_name_en(turn: Turn, dialog: DialogState, _value: str) -> None:
    await _save(turn, dialog, "")


async def _save(turn: Turn, dialog: DialogState, name_en: str) -> None:
    theme_id = int(dialog.answer("theme_id") or 0)
    name = str(dialog.answer("name"))
    try:
        async with dialogs.finishing(turn, dialog) as session:
            if theme_id:
                theme = await themes.rename_theme(
                    session,
                    actor_id=turn.member.id,
                    theme_id=theme_id,
                    name=name,
                    name_en=name_en,
                    now=turn.deps.clock(),
                )
            else:
                theme = await themes.add_theme(
                    session,
                    actor_id=turn.member.id,
                    name=name,
                    name_en=name_en,
                    now=turn.deps.clock(),
                )
    except (themes.ThemeExists, themes.ThemeNameInvalid) as error:  # type it again
        moved = await dialogs.go(turn, dialog, "name", remember=False, ask=False)
        if moved is not None:
            await _ask_name(turn, moved, turn.refusal(error))
        return
    await _show_list(turn, turn.t("Opgeslagen: {name}", name=escape(theme.name)))


THEME = dialogs.register(
    dialogs.Flow(
        "theme",
        steps={
            "name": dialogs.Step(_ask_name, _take_name),
            "name_en": dialogs.Step(_ask_name_en, _take_name_en, choose=_skip_name_en),
        },
        ended=N_("Het thema is niet opgeslagen."),
        expired=N_("Het thema is niet opgeslagen: het was een half uur stil."),
        commands=frozenset({"themas", "themes"}),
    )
)
