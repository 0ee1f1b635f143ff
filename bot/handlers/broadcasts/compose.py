"""/bericht, step 1: the text (Telegram's own bold, italic and links are kept), with a photo or
document before or after it if wanted; and the dialog flow that holds the steps together.

Until the broadcast is confirmed, the text, photo or document (and a typed moment at "when")
goes to the member's broadcast dialog (``bot/dialogs.py``, stored in the database with the
draft's id); the draft itself is a DRAFT ``Broadcast`` row from the first text or attachment.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import dialogs, telegram_html
from bot.actions import REGISTRY, action
from bot.context import Buttons, Turn, begin_turn
from bot.handlers.broadcasts import audience, draft, preview
from bot.handlers.for_organisers import organisers_only
from i18n.translate import N_
from models.broadcasts import operations as ops
from models.dialogs.entities import DialogState

# "◀ Terug" typed (or /terug) at each step: where it goes. At the text it stops, as "✖ Stop".
_BEFORE = {
    "audience": "text",
    "networks": "audience",
    "events": "audience",
    "preview": "audience",
    "when": "preview",
}


@organisers_only("bericht")
async def new_broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bericht: continue a draft, or start one."""
    turn = await begin_turn(update, context)  # ends a dialog of another flow, with a word
    async with turn.deps.database.read() as session:
        drafts = await ops.drafts_of(session, actor_id=turn.member.id)
    if not drafts:
        await dialogs.begin(turn, COMPOSE, "text", {"broadcast": None})
        return
    latest = drafts[0]
    await turn.say(
        turn.t(
            "Je was nog met een bericht bezig:\n<i>{excerpt}</i>\nWil je daarmee verder?",
            excerpt=draft.excerpt(latest),
        ),
        [
            [turn.button(turn.t("Verder met dit bericht"), on_continue, latest.id)],
            [turn.button(turn.t("Nieuw bericht"), on_new, latest.id)],
            [turn.button(turn.t("✖ Stop"), draft.on_stop, 0)],
        ],
    )


@action("Bd")
async def on_continue(turn: Turn, broadcast_id: int) -> None:
    broadcast = await draft.load(turn, broadcast_id)
    await turn.toast()
    if broadcast.audience:
        await preview.present(turn, broadcast.id)
    else:
        await draft.to_step(turn, broadcast.id, "audience")


@action("Bn")
async def on_new(turn: Turn, old_id: int) -> None:
    async with turn.deps.database.transaction() as session:
        await ops.discard_draft(
            session, actor_id=turn.member.id, broadcast_id=old_id, now=turn.deps.clock()
        )
    await turn.toast()
    await dialogs.begin(turn, COMPOSE, "text", {"broadcast": None})


@action("Br")
async def on_remove_attachment(turn: Turn, broadcast_id: int) -> None:
    await draft.change(turn, broadcast_id, remove_attachment=True)
    await turn.toast(turn.t("Bijlage weggehaald."))
    await draft.to_step(turn, broadcast_id, "text")


# --- the text step ------------------------------------------------------------------------------


async def ask_text(turn: Turn, dialog: DialogState, notice: str) -> None:
    t = turn.t
    broadcast_id: int | None = dialog.answer("broadcast")
    lines = [notice] if notice else []
    lines += [
        t("✉️ <b>Bericht aan leden</b>"),
        t(
            "Typ hieronder het bericht. Vet, schuin en links (zoals je ze in Telegram maakt) "
            "blijven behouden. Een foto of document erbij? Stuur die gewoon mee, voor of na "
            "de tekst."
        ),
    ]
    rows: Buttons = []
    if broadcast_id is not None:
        broadcast = await draft.load(turn, broadcast_id)
        lines += ["", t("Nu staat er:"), f"<i>{draft.excerpt(broadcast)}</i>"]
        lines.append(t("Typ een nieuwe tekst om die te vervangen."))
        rows.append([turn.button(t("Tekst houden ▶"), draft.on_audience_menu, broadcast.id)])
        if broadcast.attachment_kind is not None:
            rows.append([turn.button(t("🗑 Bijlage weghalen"), on_remove_attachment, broadcast.id)])
    rows.append([turn.button(t("✖ Stop"), draft.on_stop, broadcast_id or 0)])
    await turn.show("\n".join(lines), rows)


async def take_text(turn: Turn, dialog: DialogState, _text: str) -> None:
    """Typed text at any step before "when": the draft's (new) text, as Telegram formatted it."""
    message = turn.update.message
    assert message is not None
    await _save(turn, dialog, _checked(message.text_html), None)


async def take_attachment(turn: Turn, dialog: DialogState, message: Message) -> None:
    """A photo or document (with its caption as the text, if it has one)."""
    attachment = await _attachment_of(message)
    text = _checked(message.caption_html) if message.caption else None
    await _save(turn, dialog, text, attachment)


def _checked(telegram_formatted: str) -> str:
    text = telegram_html.clean_html(telegram_formatted)
    telegram_html.check_html(text)
    return text


async def _save(
    turn: Turn, dialog: DialogState, text: str | None, attachment: ops.Attachment | None
) -> None:
    """Into the draft (a new one at the first text), then on to the audience or the preview.
    A refusal (too long for a caption, say) reaches the member; the draft stays as it was."""
    broadcast_id: int | None = dialog.answer("broadcast")
    now = turn.deps.clock()
    async with turn.deps.database.transaction() as session:
        if broadcast_id is None:
            saved = await ops.create_broadcast(
                session, actor_id=turn.member.id, html=text or "", attachment=attachment, now=now
            )
        else:
            saved = await ops.update_draft(
                session,
                actor_id=turn.member.id,
                broadcast_id=broadcast_id,
                html=text,
                attachment=attachment,
                now=now,
            )
    note = turn.t("📎 Bijlage bewaard.") if attachment is not None else turn.t("✅ Tekst bewaard.")
    if saved.audience:
        await preview.present(turn, saved.id, note)
    else:
        await draft.to_step(turn, saved.id, "audience", note)


async def _attachment_of(message: Message) -> ops.Attachment | None:
    megabytes = ops.ATTACHMENT_MAX_BYTES // 1024 // 1024
    if message.photo:
        photo = message.photo[-1]
        if photo.file_size and photo.file_size > ops.ATTACHMENT_MAX_BYTES:
            raise ops.AttachmentTooLarge(megabytes=megabytes)
        data = await (await photo.get_file()).download_as_bytearray()
        return ops.Attachment("photo", "foto.jpg", bytes(data))
    if message.document:
        document = message.document
        if document.file_size and document.file_size > ops.ATTACHMENT_MAX_BYTES:
            raise ops.AttachmentTooLarge(megabytes=megabytes)
        data = await (await document.get_file()).download_as_bytearray()
        return ops.Attachment("document", document.file_name or "document", bytes(data))
    return None


# --- the flow -----------------------------------------------------------------------------------


async def _back_out(turn: Turn, dialog: DialogState) -> None:
    """Typed "terug" (the buttons name their own screen): the screen before, or stop."""
    before = _BEFORE.get(dialog.step)
    if before is None:
        await draft.stopped(turn, dialog.answer("broadcast"))
        return
    await dialogs.begin(turn, COMPOSE, before, dict(dialog.answers))


async def _on_stop(turn: Turn, dialog: DialogState) -> None:
    await draft.stopped(turn, dialog.answer("broadcast"))


def _content_step(ask: dialogs.Ask) -> dialogs.Step:
    """A step that also takes a new text, photo or document for the draft (all but "when")."""
    return dialogs.Step(ask, take_text, take_message=take_attachment)


COMPOSE = dialogs.register(
    dialogs.Flow(
        draft.FLOW,
        steps={
            "text": _content_step(ask_text),
            "audience": _content_step(audience.ask_audience),
            "networks": _content_step(audience.ask_networks),
            "events": _content_step(audience.ask_events),
            "themes": _content_step(audience.ask_themes),
            "preview": _content_step(preview.ask_preview),
            "when": dialogs.Step(preview.ask_when, preview.take_moment),
        },
        ended=N_(
            "Je bericht is onderbroken. Wat je al had gestuurd, staat klaar: ga verder met "
            "/bericht."
        ),
        expired=N_(
            "Je bericht is onderbroken omdat het een uur stil was. Wat je al had gestuurd, "
            "staat klaar: ga verder met /bericht."
        ),
        # Every button of broadcasts (prefix B), also the progress message's ⛔ Stoppen.
        actions=frozenset(code for code in REGISTRY if code.startswith("B")),
        commands=frozenset({"bericht", "announce"}),
        idle=timedelta(hours=1),  # an announcement takes longer to write than a title
        on_stop=_on_stop,
        on_back_out=_back_out,
    )
)
