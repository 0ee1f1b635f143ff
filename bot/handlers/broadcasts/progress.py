"""The live progress of a confirmed broadcast: the progress message ("2.340 / 5.000 verzonden")
with ⛔ Stoppen, kept up to date from the database by ``BroadcastProgress`` (so it picks up where
it was after a restart), and the final report. Not a dialog: it waits for nobody's typing."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.actions import action, button_for
from bot.callbacks import CallbackSigner
from bot.context import Buttons, Turn, escape
from bot.render import short
from i18n.translate import N_, Translator, translator
from models.broadcasts import operations as ops
from models.broadcasts import queries
from models.broadcasts.entities import Broadcast, BroadcastStatus
from models.clock import Clock
from models.db import Database
from models.members.entities import Member

log = logging.getLogger(__name__)

B = BroadcastStatus
PROGRESS_KEY = "broadcast_progress"
# Why messages were not sent, as the report tells organisers (``OutboxMessage.last_error``).
_REASONS = {
    "too late": N_("te laat"),
    "member gone": N_("account verwijderd"),
    "member unreachable": N_("niet bereikbaar"),
    "member has no Telegram account": N_("geen Telegram"),
}


@action("Bq")
async def on_stop_sending(turn: Turn, broadcast_id: int) -> None:
    """⛔ Stoppen: what was not sent yet is not sent; the report so far."""
    t = turn.t
    async with turn.deps.database.transaction() as session:
        await ops.cancel_broadcast(
            session, actor_id=turn.member.id, broadcast_id=broadcast_id, now=turn.deps.clock()
        )
    await turn.toast(t("Gestopt."))
    async with turn.deps.database.read() as session:
        broadcast = await ops.get_broadcast(
            session, actor_id=turn.member.id, broadcast_id=broadcast_id
        )
        report = await ops.broadcast_report(session, broadcast_id)
    text, buttons = progress_view(t, turn.deps.signer, turn.user_id, broadcast, report)
    await turn.show(text, buttons)


def report_lines(t: Translator, report: ops.BroadcastReport) -> list[str]:
    lines = [t("✅ Bezorgd: {n}", n=t.number(report.delivered))]
    if report.blocked:
        lines.append(
            t("🚫 Heeft de bot geblokkeerd of is niet bereikbaar: {n}", n=t.number(report.blocked))
        )
    if report.failed:
        lines.append(t("⚠️ Mislukt: {n}", n=t.number(report.failed)))
        for reason, count in report.failed_reasons.most_common(5):
            lines.append(f"   • {escape(short(_reason(t, reason), 80))}: {t.number(count)}")
    if report.skipped:
        lines.append(t("⏭ Overgeslagen: {n}", n=t.number(report.skipped)))
        for reason, count in report.skipped_reasons.most_common(3):
            lines.append(f"   • {escape(short(_reason(t, reason), 80))}: {t.number(count)}")
    if report.cancelled:
        lines.append(t("⛔ Niet verstuurd (gestopt): {n}", n=t.number(report.cancelled)))
    if report.pending:
        lines.append(t("⏳ Nog te versturen: {n}", n=t.number(report.pending)))
    return lines


def _reason(t: Translator, reason: str) -> str:
    known = _REASONS.get(reason)
    return t(known) if known else reason


def progress_view(
    t: Translator,
    signer: CallbackSigner,
    user_id: int,
    broadcast: Broadcast,
    report: ops.BroadcastReport,
) -> tuple[str, Buttons]:
    """The progress message: scheduled, sending (live), done or stopped."""
    total = report.total or broadcast.recipients

    def stop_button(label: str) -> InlineKeyboardButton:  # no Turn here: the job edits it too
        return button_for(signer, user_id, label, on_stop_sending, broadcast.id)

    if broadcast.status is B.SCHEDULED:
        assert broadcast.send_at is not None
        text = t.plural(
            "🕒 <b>Ingepland</b> voor {moment}, naar {n} persoon.",
            "🕒 <b>Ingepland</b> voor {moment}, naar {n} mensen.",
            total,
            moment=t.moment_in_text(broadcast.send_at),
        )
        return text, [[stop_button(t("⛔ Niet versturen"))]]
    counts = t(
        "{done} / {total} verzonden",
        done=t.number(report.processed),
        total=t.number(total),
    )
    if broadcast.status is B.SENDING:
        lines = [t("📨 <b>Bericht wordt verstuurd</b>"), counts, *report_lines(t, report)]
        return "\n".join(lines), [[stop_button(t("⛔ Stoppen"))]]
    if broadcast.status is B.CANCELLED:
        lines = [t("⛔ <b>Bericht gestopt</b>"), counts, *report_lines(t, report)]
        return "\n".join(lines), []
    lines = [t("✅ <b>Bericht verstuurd</b>"), counts, *report_lines(t, report)]
    return "\n".join(lines), []


class BroadcastProgress:
    """Keeps each sending broadcast's progress message up to date, from the database.

    ``tick()`` moves scheduled broadcasts to SENDING when their moment comes and sending ones to
    DONE when nothing is left, edits each progress message (at most once per ``interval_s``, and
    only when the numbers changed) and sends the final report. With a scheduler it runs itself
    every ``interval_s`` while anything is sending, at the next scheduled moment otherwise, and
    not at all when there is nothing to do; ``wake()`` after a confirmation.
    """

    JOB = "broadcast-progress"

    def __init__(
        self,
        database: Database,
        bot: Bot,
        signer: CallbackSigner,
        clock: Clock,
        *,
        scheduler: AsyncIOScheduler | None = None,
        interval_s: float = 3.0,
        timezone: str = "Europe/Amsterdam",
    ) -> None:
        self.database = database
        self.bot = bot
        self.signer = signer
        self.clock = clock
        self.scheduler = scheduler
        self.interval_s = interval_s
        self.timezone = timezone
        self._shown: dict[int, str] = {}

    def start(self) -> None:
        """Pick up where it was (after a restart too)."""
        self.wake()

    def wake(self) -> None:
        if self.scheduler is None or not self.scheduler.running:
            return
        self.scheduler.add_job(
            self._job,
            "date",
            run_date=self.clock(),
            id=self.JOB,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=2,
        )

    async def _job(self) -> None:
        try:
            await self.tick()
        except Exception:  # never take the scheduler down; the next wake tries again
            log.exception("broadcast progress failed")
            self._schedule(self.clock() + timedelta(seconds=self.interval_s))

    async def tick(self) -> None:
        now = self.clock()
        async with self.database.read() as session:
            active = await queries.any_pending(session)
        if active:
            async with self.database.transaction() as session:
                changes = await ops.advance_broadcasts(session, now=now)
            for broadcast, before in changes:
                await self._show(broadcast, before)
        await self._schedule_next()

    async def _show(self, broadcast: Broadcast, before: BroadcastStatus) -> None:
        if broadcast.progress_chat_id is None or broadcast.progress_message_id is None:
            return
        if broadcast.status is B.SCHEDULED:
            return  # shown when it was confirmed; nothing moves until its moment
        async with self.database.read() as session:
            report = await ops.broadcast_report(session, broadcast.id)
            organiser = (
                await session.get(Member, broadcast.created_by_id)
                if broadcast.created_by_id
                else None
            )
        language = organiser.language.value if organiser is not None else "nl"
        t = translator(language, self.timezone).at(self.clock())
        chat_id = broadcast.progress_chat_id
        text, buttons = progress_view(t, self.signer, chat_id, broadcast, report)
        if self._shown.get(broadcast.id) != text:
            await self._edit(chat_id, broadcast.progress_message_id, text, buttons)
            self._shown[broadcast.id] = text
        if broadcast.status is B.DONE and before is not B.DONE:
            self._shown.pop(broadcast.id, None)
            try:
                await self.bot.send_message(
                    chat_id,
                    "\n".join([t("✅ <b>Je bericht is verstuurd.</b>"), *report_lines(t, report)]),
                    parse_mode=ParseMode.HTML,
                )
            except TelegramError as error:
                log.warning("broadcast %s: could not send the report: %s", broadcast.id, error)

    async def _edit(self, chat_id: int, message_id: int, text: str, buttons: Buttons) -> None:
        try:
            await self.bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=InlineKeyboardMarkup(buttons) if buttons else None,
            )
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                log.info("progress message %s/%s: %s", chat_id, message_id, error)
        except TelegramError as error:
            log.warning("progress message %s/%s: %s", chat_id, message_id, error)

    async def _schedule_next(self) -> None:
        if self.scheduler is None:
            return
        now = self.clock()
        async with self.database.read() as session:
            state = await queries.sending_state(session)
        if state.sending:
            self._schedule(now + timedelta(seconds=self.interval_s))
        elif state.next_scheduled is not None:
            self._schedule(max(state.next_scheduled, now + timedelta(seconds=self.interval_s)))
        elif self.scheduler.get_job(self.JOB) is not None:
            self.scheduler.remove_job(self.JOB)

    def _schedule(self, when: datetime) -> None:
        if self.scheduler is None or not self.scheduler.running:
            return
        self.scheduler.add_job(
            self._job,
            "date",
            run_date=when,
            id=self.JOB,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=2,
        )
