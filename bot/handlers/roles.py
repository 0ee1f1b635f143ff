"""Organiser roles and programme files in the chat.

- ``/organisatoren`` (admins): the organisers, with "Intrekken" (asked once more), the open
  invitation links (each can be withdrawn), and "Nodig een organisator uit": a one-time link,
  valid 48 hours, to forward to the new organiser.
- ``/start o_<secret>`` (the invitation link): the one who opens it becomes an organiser and gets
  the organisers' command menu.
- ``/importeer``: how to import; a ``.toml`` or ``.ics`` document sent by an organiser is read
  and shown as a dry run ("this is what would change") with *Importeren* / *Annuleren*.
  ``/exporteer``: the programme as a TOML document, in the same format.

Where the file waits for "Importeren": nowhere in memory. The plan is sent as a *reply to the
organiser's own document*, so the button's message carries that document (``reply_to_message``)
to the press, also after a restart. The button holds a hash of the file (it must still be the
same file) and a digest of the plan that was shown: the file is downloaded again, planned again
and applied in one transaction, but only if it would still do exactly what was shown; otherwise
the new plan is shown to confirm. If the document is gone (deleted), the organiser is asked to
send it again.

Every operation is authorised in ``models/`` (a member who forges a button or types a command
gets the domain's refusal); this module parses, calls the domain and renders.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.actions import action
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.for_organisers import organisers_only
from bot.menus import refresh_command_menu
from bot.render import KIND_LABELS, short
from i18n.translate import N_
from models.errors import DomainError
from models.events.entities import EventKind, EventStatus
from models.members.entities import Role
from models.organisers.authorisation import require_organiser
from models.organisers.operations import (
    DEEP_LINK_INVITATION,
    INVITATION_VALID,
    accept_invitation,
    invite_organiser,
    list_organisers,
    open_invitations,
    revoke_invitation,
    revoke_organiser,
)
from models.programme import (
    ImportPlan,
    PlannedEvent,
    ProgrammeError,
    apply_import,
    export_programme,
    plan_import,
)

MAX_FILE_BYTES = 1_000_000
FILE_HASH_CHARS = 12
ITEMS_PER_SECTION = 12
TEXT_BUDGET = 3800  # Telegram allows 4,096 characters
EXPORT_NAME = "buurtagenda-programma.toml"
PROGRAMME_FILES = filters.Document.FileExtension("toml") | filters.Document.FileExtension("ics")

FIELD_LABELS = {
    "kind": N_("soort"),
    "title": N_("titel"),
    "description": N_("beschrijving"),
    "speakers": N_("sprekers"),
    "topic_tbd": N_("onderwerp nog open"),
    "location": N_("plaats"),
    "online_url": N_("online link"),
    "starts_at": N_("begin"),
    "ends_at": N_("einde"),
    "capacity": N_("plaatsen"),
    "registration_deadline": N_("aanmelden tot"),
    "fair_share_per_network": N_("plaatsen per netwerk"),
    "fair_share_until": N_("per netwerk tot"),
    "network_id": N_("buurtnetwerk"),
    "status": N_("status"),
}
STATUS_LABELS = {
    EventStatus.DRAFT: N_("concept"),
    EventStatus.PUBLISHED: N_("gepubliceerd"),
    EventStatus.CANCELLED: N_("geannuleerd"),
    EventStatus.PROPOSED: N_("voorgesteld"),
}

# --- organisers ---------------------------------------------------------------------------------


@organisers_only("organisatoren")
async def organisers_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_organisers(await begin_turn(update, context))


@action("Al")
async def show_organisers_button(turn: Turn) -> None:
    await show_organisers(turn)


async def show_organisers(turn: Turn, notice: str = "") -> None:
    t = turn.t
    now = turn.deps.clock()
    async with turn.deps.database.read() as session:
        organisers = await list_organisers(session, actor_id=turn.member.id)
        invitations = await open_invitations(session, actor_id=turn.member.id, now=now)
    await turn.toast()
    lines = [notice, ""] if notice else []
    lines.append(t("<b>Organisatoren</b>"))
    for member in organisers:
        role = t("beheerder") if member.role is Role.ADMIN else t("organisator")
        lines.append(f"• {escape(member.display_name)} · {role}")
    rows: Buttons = [
        [
            turn.button(
                t("Intrekken: {name}", name=short(member.display_name, 30)),
                on_revoke_asked,
                member.id,
            )
        ]
        for member in organisers
        if member.role is Role.ORGANISER
    ]
    if invitations:
        lines += [
            "",
            t.plural(
                "{n} uitnodiging is nog niet gebruikt.",
                "{n} uitnodigingen zijn nog niet gebruikt.",
                len(invitations),
            ),
        ]
        rows += [
            [
                turn.button(
                    t(
                        "Link intrekken (geldig tot {moment})",
                        moment=t.moment_in_text(invitation.expires_at),
                    ),
                    on_invitation_withdrawn,
                    invitation.id,
                )
            ]
            for invitation in invitations
        ]
    lines += [
        "",
        t(
            "Beheerders staan in de configuratie van de dienst. Organisatoren nodig je uit met "
            "een link die één keer werkt."
        ),
    ]
    rows.append([turn.button(t("➕ Nodig een organisator uit"), on_invite)])
    await turn.show("\n".join(lines), rows)


@action("Ai")
async def on_invite(turn: Turn) -> None:
    t = turn.t
    now = turn.deps.clock()
    async with turn.deps.database.transaction() as session:
        secret = await invite_organiser(session, actor_id=turn.member.id, now=now)
    link = turn.deps.start_link(turn.context.bot.username, DEEP_LINK_INVITATION + secret)
    await turn.toast(t("Uitnodiging gemaakt."))
    await turn.show(
        t(
            "Stuur het volgende bericht door aan de nieuwe organisator. De link werkt één keer, "
            "tot {moment}. Wie hem opent, wordt organisator: deel hem dus alleen met die persoon.",
            moment=t.moment_in_text(now + INVITATION_VALID),
        ),
        [[turn.button(t("◀ Organisatoren"), show_organisers_button)]],
    )
    await turn.say(
        t(
            "Je bent uitgenodigd als organisator van Buurtagenda, het programma van de "
            "buurtnetwerken van Maastricht. Tik op deze link om te beginnen (hij werkt één keer, "
            "48 uur lang):\n{link}",
            link=escape(link or ""),
        )
    )


@action("Ar")
async def on_revoke_asked(turn: Turn, member_id: int) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        organisers = await list_organisers(session, actor_id=turn.member.id)
    target = next((m for m in organisers if m.id == member_id), None)
    await turn.toast()
    if target is None or target.role is not Role.ORGANISER:
        await show_organisers(turn, notice=t("Die persoon is geen organisator (meer)."))
        return
    await turn.show(
        t(
            "Weet je zeker dat <b>{name}</b> geen organisator meer is? Diegene kan dan geen "
            "bijeenkomsten of aanmeldingen meer beheren; eigen aanmeldingen blijven staan.",
            name=escape(target.display_name),
        ),
        [
            [
                turn.button(t("Ja, intrekken"), on_revoke_confirmed, member_id),
                turn.button(t("Nee, toch niet"), show_organisers_button),
            ]
        ],
    )


@action("Ay")
async def on_revoke_confirmed(turn: Turn, member_id: int) -> None:
    t = turn.t
    async with turn.deps.database.transaction() as session:
        change = await revoke_organiser(
            session, actor_id=turn.member.id, member_id=member_id, now=turn.deps.clock()
        )
    if change.changed:
        # Their chat gets the members' menu again (the organisers' one was set for that chat).

        await refresh_command_menu(turn.context.application, change.member)
    notice = t("✅ {name} is geen organisator meer.", name=escape(change.member.display_name))
    await show_organisers(turn, notice=notice)


@action("Ax")
async def on_invitation_withdrawn(turn: Turn, invitation_id: int) -> None:
    async with turn.deps.database.transaction() as session:
        await revoke_invitation(
            session, actor_id=turn.member.id, invitation_id=invitation_id, now=turn.deps.clock()
        )
    await show_organisers(turn, notice=turn.t("✅ De link is ingetrokken; hij werkt niet meer."))


async def accept_from_deep_link(turn: Turn, secret: str) -> None:
    """``/start o_<secret>``: become an organiser (called from onboarding's /start)."""
    t = turn.t
    try:
        async with turn.deps.database.transaction() as session:
            change = await accept_invitation(
                session, member_id=turn.member.id, secret=secret, now=turn.deps.clock()
            )
    except DomainError as error:  # said, and on: a newcomer still gets the network question
        await turn.say(turn.refusal(error))
    else:
        turn.member = change.member
        if change.changed:
            await refresh_command_menu(turn.context.application, change.member)
            await turn.say(
                t(
                    "🎉 Je bent nu organisator van Buurtagenda. In het menu (de knop / naast het "
                    "invoerveld) staan je eigen commando's, zoals /programma, /aanmeldingen en "
                    "/importeer."
                )
            )
        else:
            await turn.say(
                t("Je bent al organisator. De uitnodiging blijft geldig voor wie hij bedoeld is.")
            )
    if not turn.member.onboarded:
        from bot.handlers.onboarding import ask_network

        await ask_network(turn)


# --- programme files ------------------------------------------------------------------------


@organisers_only("importeer")
async def import_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    t = turn.t
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
    await turn.say(
        t(
            "<b>Programma inlezen</b>\n"
            "Stuur me een programmabestand als bijlage: een <b>.toml</b>-bestand (het formaat van "
            "/exporteer) of een <b>.ics</b>-bestand uit een agenda (Outlook, Google Agenda).\n\n"
            "Ik laat eerst zien wat er zou veranderen; pas als je op ‘Importeren’ tikt, gebeurt "
            "het echt. Dezelfde uid is dezelfde bijeenkomst, dus hetzelfde bestand twee keer "
            "sturen verandert niets. Wie zich heeft aangemeld, hoort het als een tijd of plaats "
            "verandert."
        ),
        [[turn.button(t("📤 Het huidige programma als bestand"), send_export)]],
    )


@organisers_only("exporteer")
async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await send_export(await begin_turn(update, context))


@action("Ae")
async def send_export(turn: Turn) -> None:
    async with turn.deps.database.read() as session:
        text = await export_programme(session, actor_id=turn.member.id, tz=turn.t.tz)
    await turn.toast()
    await turn.context.bot.send_document(
        turn.chat_id,
        document=text.encode(),
        filename=EXPORT_NAME,
        caption=turn.t(
            "Het programma als bestand. Pas het aan en stuur het terug om het in te lezen."
        ),
    )


def document_handler() -> MessageHandler:  # type: ignore[type-arg]
    """A .toml or .ics document in a private chat (added before the general fallbacks)."""
    return MessageHandler(
        filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & PROGRAMME_FILES,
        on_programme_file,
    )


async def on_programme_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    t = turn.t
    message = update.message
    assert message is not None and message.document is not None
    document = message.document
    try:
        async with turn.deps.database.read() as session:
            await require_organiser(session, turn.member.id)
    except DomainError:
        await turn.say(
            t(
                "Programmabestanden kan alleen een organisator inlezen. Wil je zelf een "
                "bijeenkomst voorstellen? Dat kan met /voorstel, of vraag het je "
                "procescoördinator of opbouwwerker."
            )
        )
        return
    if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
        await _reply(turn, message, t("Dit bestand is te groot (hoogstens 1 MB)."))
        return
    data = await _download(turn, document.file_id)
    if data is None:
        await _reply(turn, message, t("Ik kon het bestand niet ophalen. Probeer het nog eens."))
        return
    try:
        async with turn.deps.database.read() as session:
            plan = await plan_import(
                session,
                data,
                turn.deps.clock(),
                actor_id=turn.member.id,
                filename=document.file_name,
                tz=turn.t.tz,
            )
    except ProgrammeError as error:
        await _reply(turn, message, _file_refusal(turn, error))
        return
    text, rows = _plan_screen(turn, plan, data)
    await _reply(turn, message, text, rows)


@action("Am")
async def on_import_confirmed(turn: Turn, file_hash: str, digest: str) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
    query = turn.update.callback_query
    shown = query.message if query is not None else None
    source = shown.reply_to_message if isinstance(shown, Message) else None
    document = source.document if source is not None else None
    data = await _download(turn, document.file_id) if document is not None else None
    if document is None or data is None or _file_hash(data) != file_hash:
        await turn.toast()
        await turn.show(
            t("Ik heb dat bestand niet meer bij de hand. Stuur het nog eens, dan kijk ik opnieuw.")
        )
        return
    now = turn.deps.clock()
    applied = None
    try:
        async with turn.deps.database.transaction() as session:
            plan = await plan_import(
                session,
                data,
                now,
                actor_id=turn.member.id,
                filename=document.file_name,
                tz=turn.t.tz,
            )
            if plan.has_changes and plan.digest() == digest:
                applied = await apply_import(
                    session, plan, actor_id=turn.member.id, now=now, policy=turn.deps.policy
                )
    except ProgrammeError as error:
        await turn.toast()
        await turn.show(_file_refusal(turn, error))
        return
    if not plan.has_changes:
        await turn.toast()
        await turn.show(t("Alles is al bijgewerkt: er is niets te veranderen."))
        return
    if applied is None:
        # The programme changed since the plan was shown: show what it would do now.
        await turn.toast(t("Er is intussen iets veranderd."))
        text, rows = _plan_screen(turn, plan, data)
        notice = t("Het programma is intussen veranderd. Dit zou er nu gebeuren:")
        await turn.show(notice + "\n\n" + text, rows)
        return
    await turn.toast(t("Ingelezen."))
    lines = [
        t(
            "✅ Ingelezen: {created} nieuw, {changed} gewijzigd, {cancelled} geannuleerd.",
            created=t.number(applied.created),
            changed=t.number(applied.changed),
            cancelled=t.number(applied.cancelled),
        )
    ]
    if applied.notifications:
        lines.append(
            t.plural(
                "{n} bericht gaat naar wie zich had aangemeld.",
                "{n} berichten gaan naar wie zich had aangemeld.",
                len(applied.notifications),
            )
        )
    await turn.show("\n".join(lines))


@action("An")
async def on_import_declined(turn: Turn) -> None:
    await turn.toast()
    await turn.show(turn.t("Goed, er is niets ingelezen."))


# --- helpers ----------------------------------------------------------------------------------


async def _download(turn: Turn, file_id: str) -> bytes | None:
    try:
        telegram_file = await turn.context.bot.get_file(file_id)
        return bytes(await telegram_file.download_as_bytearray())
    except TelegramError:
        return None


async def _reply(turn: Turn, message: Message, text: str, buttons: Buttons | None = None) -> None:
    """Answer as a reply to ``message`` (the import plan must point at its document)."""
    await message.reply_text(
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup(buttons) if buttons else None,
        do_quote=True,
    )


def _file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:FILE_HASH_CHARS]


def _file_refusal(turn: Turn, error: ProgrammeError) -> str:
    t = turn.t
    return "\n\n".join(
        [
            t("⚠️ Dit bestand kan ik niet inlezen; er is niets veranderd."),
            escape(error.render(t)),
            t("Pas het aan en stuur het opnieuw. Een voorbeeld van het formaat: /exporteer."),
        ]
    )


def _plan_screen(turn: Turn, plan: ImportPlan, data: bytes) -> tuple[str, Buttons]:
    t = turn.t
    if not plan.has_changes:
        lines = [
            t("Dit bestand verandert niets: alles staat al zo in Buurtagenda."),
            t.plural(
                "{n} bijeenkomst is hetzelfde.",
                "{n} bijeenkomsten zijn hetzelfde.",
                len(plan.unchanged),
            ),
        ]
        lines += _section(turn, t("⏭ Overgeslagen:"), plan.skipped, plan)
        return _fit("\n".join(lines)), []
    lines = [t("<b>Dit verandert er als je importeert</b>")]
    lines += _section(turn, t("➕ Nieuw:"), plan.create, plan)
    lines += _section(turn, t("✏️ Gewijzigd:"), plan.change, plan)
    lines += _section(turn, t("❌ Geannuleerd:"), plan.cancel, plan)
    lines += _section(turn, t("⏭ Overgeslagen:"), plan.skipped, plan)
    if plan.unchanged:
        lines += [
            "",
            t.plural(
                "{n} bijeenkomst blijft hetzelfde.",
                "{n} bijeenkomsten blijven hetzelfde.",
                len(plan.unchanged),
            ),
        ]
    rows = [
        [
            turn.button(t("✅ Importeren"), on_import_confirmed, _file_hash(data), plan.digest()),
            turn.button(t("Annuleren"), on_import_declined),
        ]
    ]
    return _fit("\n".join(lines)), rows


def _section(turn: Turn, heading: str, items: list[PlannedEvent], plan: ImportPlan) -> list[str]:
    if not items:
        return []
    t = turn.t
    lines = ["", f"{heading} {t.number(len(items))}"]
    for planned in items[:ITEMS_PER_SECTION]:
        lines.append(f"• {t.moment(planned.starts_at)} · {escape(short(planned.title, 60))}")
        for change in planned.changes:
            lines.append(
                "   "
                + t(
                    "{field}: {old} → {new}",
                    field=t(FIELD_LABELS.get(change.name, change.name)),
                    old=_shown(turn, change.name, change.old, plan),
                    new=_shown(turn, change.name, change.new, plan),
                )
            )
        if planned.cancel_reason:
            lines.append("   " + t("reden: {reason}", reason=escape(planned.cancel_reason)))
        if planned.note:
            lines.append("   " + t(planned.note))
    if len(items) > ITEMS_PER_SECTION:
        lines.append(t.plural("… en nog {n}", "… en nog {n}", len(items) - ITEMS_PER_SECTION))
    return lines


def _shown(turn: Turn, name: str, value: Any, plan: ImportPlan) -> str:
    t = turn.t
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return t.moment(value)
    if isinstance(value, bool):
        return t("ja") if value else t("nee")
    if isinstance(value, EventKind):
        return t(KIND_LABELS[value])
    if isinstance(value, EventStatus):
        return t(STATUS_LABELS[value])
    if name == "network_id":
        return escape(plan.network_names.get(value, "?"))
    if isinstance(value, int):
        return t.number(value)
    return escape(short(str(value), 60))


def _fit(text: str) -> str:
    if len(text) <= TEXT_BUDGET:
        return text
    cut = text[:TEXT_BUDGET].rsplit("\n", 1)[0]
    return cut + "\n…"


__all__ = [
    "accept_from_deep_link",
    "document_handler",
    "export_command",
    "import_command",
    "organisers_command",
]
