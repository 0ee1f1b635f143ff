"""Step 3 of a broadcast: the preview (the message exactly as people will get it, "Naar 1.234
mensen"), then *Nu versturen*, or *Later versturen* at a moment chosen with a button or typed
(``when.parsing``). Confirming ends the dialog in the same transaction and shows the live
progress message (``progress``)."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

import when.parsing as when
from bot import dialogs
from bot.actions import action
from bot.context import Buttons, Turn
from bot.handlers.broadcasts import draft
from bot.handlers.broadcasts.progress import PROGRESS_KEY, BroadcastProgress, progress_view
from models.broadcasts import operations as ops
from models.broadcasts.entities import Broadcast, BroadcastStatus
from models.dialogs.entities import DialogState
from models.dialogs.operations import DialogChanged
from models.errors import DomainError

log = logging.getLogger(__name__)

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


# --- the preview --------------------------------------------------------------------------------


async def present(turn: Turn, broadcast_id: int, note: str = "") -> None:
    """Go to the preview: what was chosen (on the menu the button was on), the message as people
    will get it, then how many and the buttons."""
    t = turn.t
    broadcast, count, audience = await _read(turn, broadcast_id)
    if await draft.at(turn, broadcast_id, "preview") is None:
        return
    if turn.update.callback_query is not None:
        await turn.show(t("Voor: {audience}", audience=audience))
    try:
        await send_as_people_see_it(turn.context.bot, turn.chat_id, broadcast)
    except BadRequest as error:
        log.info("preview of broadcast %s refused: %s", broadcast.id, error)
        await turn.say(
            t("Telegram kan dit bericht zo niet tonen. Pas de tekst aan en probeer het opnieuw."),
            [
                [
                    turn.button(t("◀ Terug"), draft.on_back_to_text, broadcast.id),
                    turn.button(t("✖ Stop"), draft.on_stop, broadcast.id),
                ]
            ],
        )
        return
    lines = [note] if note else []
    lines += [t("☝️ Zo ziet je bericht eruit."), _recipients(turn, count, audience)]
    await turn.say("\n".join(lines), _buttons(turn, broadcast_id))


async def ask_preview(turn: Turn, dialog: DialogState, notice: str) -> None:
    """The preview's question again, in place (e.g. "◀ Terug" from "when")."""
    broadcast_id = int(dialog.answer("broadcast"))
    _, count, audience = await _read(turn, broadcast_id)
    text = _recipients(turn, count, audience)
    await turn.show(f"{notice}\n\n{text}" if notice else text, _buttons(turn, broadcast_id))


async def _read(turn: Turn, broadcast_id: int) -> tuple[Broadcast, int, str]:
    """The draft, how many it would reach now, and who they are in words."""
    async with turn.deps.database.read() as session:
        broadcast = await ops.get_broadcast(
            session, actor_id=turn.member.id, broadcast_id=broadcast_id
        )
        if broadcast.status is not BroadcastStatus.DRAFT:
            raise ops.BroadcastNotDraft()
        count = await ops.preview(session, broadcast.id, turn.deps.clock())
        audience = await draft.describe_audience(session, turn.t, broadcast.audience)
    return broadcast, count, audience


def _recipients(turn: Turn, count: int, audience: str) -> str:
    return turn.t.plural(
        "Naar <b>{n}</b> persoon: {audience}.",
        "Naar <b>{n}</b> mensen: {audience}.",
        count,
        audience=audience,
    )


def _buttons(turn: Turn, broadcast_id: int) -> Buttons:
    t = turn.t
    return [
        [turn.button(t("📨 Nu versturen"), on_send_now, broadcast_id)],
        [turn.button(t("🕒 Later versturen"), on_later, broadcast_id)],
        [
            turn.button(t("◀ Terug"), draft.on_audience_menu, broadcast_id),
            turn.button(t("✖ Annuleren"), draft.on_stop, broadcast_id),
        ],
    ]


async def send_as_people_see_it(bot: Bot, chat_id: int, broadcast: Broadcast) -> Message:
    """What ``bot/notifications.py`` sends for a broadcast, sent to ``chat_id``."""
    if broadcast.attachment is not None:
        options: dict[str, Any] = {
            "caption": broadcast.html or None,
            "parse_mode": ParseMode.HTML,
            "filename": broadcast.attachment_name,
        }
        if broadcast.attachment_kind == "photo":
            return await bot.send_photo(chat_id, broadcast.attachment, **options)
        return await bot.send_document(chat_id, broadcast.attachment, **options)
    return await bot.send_message(
        chat_id, broadcast.html, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW
    )


@action("Bc")
async def on_back_to_preview(turn: Turn, broadcast_id: int) -> None:
    """◀ Terug from "when": the buttons of the preview again, in place."""
    await turn.toast()
    await draft.to_step(turn, broadcast_id, "preview")


# --- now or later -------------------------------------------------------------------------------


@action("Bs")
async def on_send_now(turn: Turn, broadcast_id: int) -> None:
    await confirm(turn, broadcast_id, None)


@action("Bl")
async def on_later(turn: Turn, broadcast_id: int) -> None:
    await turn.toast()
    await draft.to_step(turn, broadcast_id, "when")


async def ask_when(turn: Turn, dialog: DialogState, notice: str) -> None:
    """When: this evening at 19:00, tomorrow at 09:00, or a typed moment."""
    t = turn.t
    i = int(dialog.answer("broadcast"))
    now = turn.deps.clock()
    local = now.astimezone(t.tz)
    rows: Buttons = []
    tonight = _local(local.date().isoformat(), 19, 0, t.tz)
    if tonight > now + timedelta(minutes=5):
        rows.append([turn.button(t("Vanavond 19:00"), on_moment_chosen, i, _minutes(tonight))])
    tomorrow = _local((local + timedelta(days=1)).date().isoformat(), 9, 0, t.tz)
    rows.append([turn.button(t("Morgen 09:00"), on_moment_chosen, i, _minutes(tomorrow))])
    rows.append(
        [
            turn.button(t("◀ Terug"), on_back_to_preview, i),
            turn.button(t("✖ Annuleren"), draft.on_stop, i),
        ]
    )
    text = t(
        "<b>Wanneer moet het bericht weg?</b> Kies hieronder, of typ een moment, "
        "bijvoorbeeld {example}.",
        example=_example(now, t.tz),
    )
    await turn.show(f"{notice}\n\n{text}" if notice else text, rows)


@action("Bm")
async def on_moment_chosen(turn: Turn, broadcast_id: int, minutes: int) -> None:
    await confirm(turn, broadcast_id, datetime.fromtimestamp(minutes * 60, tz=ZoneInfo("UTC")))


async def take_moment(turn: Turn, dialog: DialogState, text: str) -> None:
    """A typed moment: understood, then confirmed; otherwise the question again with why."""
    t = turn.t
    try:
        moment = when.parse_moment(text, now=turn.deps.clock(), tz=t.tz)
    except when.MomentInPast as error:
        await ask_when(turn, dialog, turn.refusal(error))
        return
    except when.MomentNotUnderstood:
        example = _example(turn.deps.clock(), t.tz)
        await ask_when(
            turn, dialog, t("Dat moment begrijp ik niet. Typ het zo: {example}", example=example)
        )
        return
    except when.MomentError as error:
        await ask_when(
            turn, dialog, t("Dat moment begrijp ik niet. {reason}", reason=turn.refusal(error))
        )
        return
    try:
        await confirm(turn, int(dialog.answer("broadcast")), moment)
    except DialogChanged:
        raise  # the engine shows where the dialog stands now
    except DomainError as error:  # e.g. nobody to send it to: asked again, with why
        await ask_when(turn, dialog, turn.refusal(error))


async def confirm(turn: Turn, broadcast_id: int, send_at: datetime | None) -> None:
    """Send now or at ``send_at``; the dialog on this draft ends in the same transaction."""
    t = turn.t
    dialog = draft.composing(turn, broadcast_id)
    transaction: AbstractAsyncContextManager[AsyncSession] = (
        dialogs.finishing(turn, dialog) if dialog is not None else turn.deps.database.transaction()
    )
    async with transaction as session:
        broadcast = await ops.confirm_broadcast(
            session,
            actor_id=turn.member.id,
            broadcast_id=broadcast_id,
            send_at=send_at,
            now=turn.deps.clock(),
        )
    scheduled = broadcast.status is BroadcastStatus.SCHEDULED
    await turn.toast(t("Ingepland.") if scheduled else t("Verzenden…"))
    async with turn.deps.database.read() as session:
        report = await ops.broadcast_report(session, broadcast.id)
    text, buttons = progress_view(t, turn.deps.signer, turn.user_id, broadcast, report)
    query = turn.update.callback_query
    if query is not None and isinstance(query.message, Message):
        await turn.show(text, buttons)
        shown: Message = query.message
    else:
        shown = await turn.say(text, buttons)
    async with turn.deps.database.transaction() as session:
        await ops.set_progress_message(
            session,
            actor_id=turn.member.id,
            broadcast_id=broadcast.id,
            chat_id=turn.chat_id,
            message_id=shown.message_id,
        )
    progress = turn.context.bot_data.get(PROGRESS_KEY)
    if isinstance(progress, BroadcastProgress):
        progress.wake()


def _local(day: str, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=tz)


def _minutes(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def _example(now: datetime, tz: ZoneInfo) -> str:
    return (now.astimezone(tz) + timedelta(days=1)).strftime("%d-%m-%Y 19:30")
