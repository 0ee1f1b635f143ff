"""What every handler needs, and the per-update ``Turn``: the member, their language, replies."""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import actions, doubletap
from bot.callbacks import CallbackSigner
from bot.flood import FloodGuard
from calendars.links import start_link
from i18n.translate import Translator, language_from_telegram, translator
from models.clock import Clock
from models.db import Database
from models.dialogs.entities import DialogState
from models.dialogs.operations import stored_dialog
from models.errors import DomainError
from models.members.entities import Language, Member, Role
from models.members.operations import ensure_member, member_with_dialog
from models.registrations.policy import RegistrationPolicy

log = logging.getLogger(__name__)

Buttons = list[list[InlineKeyboardButton]]
# Links in our messages (map, online meeting) should not unfold into large previews.
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class RecentMembers:
    """The members behind recent updates, so that a member tapping through cards is not read
    again for every tap (that read was about a seventh of a tap's cost, ``bench/updates.py``).

    The database stays the source of truth: a member is forgotten as soon as a commit changed
    their row (``Database.on_members_commit``; any change, by whomever, in this process), and
    read again after ``ttl_s`` anyway (a change from another process). A read that a commit
    overtook is not kept: it may predate that commit.
    """

    def __init__(
        self, ttl_s: float = 10.0, size: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._clock = clock
        self._members: dict[int, tuple[float, Member]] = {}
        self.generation = 0  # changes at every forget: a read from before it is not kept

    def get(self, telegram_id: int) -> Member | None:
        kept = self._members.get(telegram_id)
        if kept is None:
            return None
        if self._clock() - kept[0] > self.ttl_s:
            del self._members[telegram_id]
            return None
        return kept[1]

    def keep(self, member: Member, generation: int) -> None:
        """Keep ``member``, read when ``self.generation`` was ``generation``."""
        if generation != self.generation or member.telegram_id is None:
            return
        if len(self._members) >= self.size:
            self._members.clear()  # simple and rare: everyone is read again once
        self._members[member.telegram_id] = (self._clock(), member)

    def forget(self, telegram_ids: set[int | None]) -> None:
        self.generation += 1
        if None in telegram_ids:
            self._members.clear()
            return
        for telegram_id in telegram_ids:
            if telegram_id is not None:
                self._members.pop(telegram_id, None)


@dataclass
class BotDeps:
    database: Database
    clock: Clock
    policy: RegistrationPolicy
    signer: CallbackSigner
    admins: tuple[int, ...] = ()
    default_language: str = "nl"
    timezone: str = "Europe/Amsterdam"
    public_url: str = "http://127.0.0.1:8080"
    sandbox: bool = False  # start links open the sandbox page, not t.me (calendars/links.py)
    flood: FloodGuard = field(default_factory=FloodGuard)
    members: RecentMembers = field(default_factory=RecentMembers)

    def start_link(self, bot_username: str | None, payload: str) -> str | None:
        """Where "/start <payload>" is one tap away: t.me with a real bot, else the sandbox."""
        sandbox_url = self.public_url if self.sandbox else None
        return start_link(payload, bot_username=bot_username, sandbox_url=sandbox_url)


def deps_of(context: ContextTypes.DEFAULT_TYPE) -> BotDeps:
    deps = context.bot_data["deps"]
    assert isinstance(deps, BotDeps)
    return deps


@dataclass
class Turn:
    """One update from one member: who they are, how to talk to them, how to answer."""

    update: Update
    context: ContextTypes.DEFAULT_TYPE
    deps: BotDeps
    member: Member
    t: Translator
    # The member's dialog as stored (``bot/dialogs.py``), lapsed or not; read for this update.
    dialog: DialogState | None = None
    answered: bool = False
    # The configuration made this member admin in this turn (``bot.menus.on_turn``).
    became_admin: bool = False

    @property
    def user_id(self) -> int:
        assert self.update.effective_user is not None
        return self.update.effective_user.id

    @property
    def chat_id(self) -> int:
        assert self.update.effective_chat is not None
        return self.update.effective_chat.id

    def button(
        self, label: str, action: str | actions.Handler, *args: str | int
    ) -> InlineKeyboardButton:
        """A button for this member that runs ``action`` (an ``@action`` handler) with ``args``."""
        if not isinstance(action, str):
            if len(args) != actions.arity(action):
                raise ValueError(f"{action.__qualname__}: {len(args)} arguments")
            action = actions.code_of(action)
        return InlineKeyboardButton(
            label, callback_data=self.deps.signer.encode(self.user_id, action, *args)
        )

    def refresh_language(self) -> None:
        self.t = translator(self.member.language.value, self.deps.timezone).at(self.deps.clock())

    async def say(self, text: str, buttons: Buttons | None = None) -> Message:
        """A new message."""
        return await self.context.bot.send_message(
            self.chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup(buttons) if buttons else None,
            link_preview_options=_NO_PREVIEW,
        )

    async def show(self, text: str, buttons: Buttons | None = None) -> None:
        """Replace the message the button was on (a card edited in place), else a new message."""
        query = self.update.callback_query
        if query is not None and isinstance(query.message, Message):
            if buttons and query.message.reply_markup is not None:
                buttons = self._guard_double_tap(buttons, query.message.reply_markup, query.data)
            try:
                await query.message.edit_text(
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=InlineKeyboardMarkup(buttons) if buttons else None,
                    link_preview_options=_NO_PREVIEW,
                )
                return
            except BadRequest as error:
                if "not modified" in str(error).lower():
                    return
                log.info("could not edit message, sending a new one: %s", error)
        await self.say(text, buttons)

    def _guard_double_tap(
        self, buttons: Buttons, before: InlineKeyboardMarkup, pressed: str | None
    ) -> Buttons:
        """The card replaces the one just tapped: a registration-changing button where the
        finger was carries the moment it appeared (``bot/doubletap.py``)."""
        spot = doubletap.spot_of(before.inline_keyboard, pressed)
        if spot is None:
            return buttons
        now = self.deps.clock()
        return doubletap.mark_under_finger(
            buttons, spot, lambda data: self.deps.signer.shown(self.user_id, data, now)
        )

    async def toast(self, text: str = "") -> None:
        """Answer the button press (the small notice at the top of the chat), once."""
        if self.update.callback_query is not None and not self.answered:
            self.answered = True
            await self.update.callback_query.answer(text[:200] or None)

    def refusal(self, error: DomainError) -> str:
        return self.t(error.msgid, **error.params)


TurnWatcher = Callable[[Turn], Awaitable[None]]
# Called with every turn before its handler goes on (``bot/dialogs.py`` ends a dialog that a
# command or another flow's button leaves).
_turn_watchers: list[TurnWatcher] = []


def watch_turns(watcher: TurnWatcher) -> None:
    if watcher not in _turn_watchers:
        _turn_watchers.append(watcher)


async def begin_turn(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Turn:
    """Load (or on first contact, create) the member behind this update, with their dialog."""
    deps = deps_of(context)
    user = update.effective_user
    assert user is not None
    generation = deps.members.generation
    member = deps.members.get(user.id)
    dialog: DialogState | None = None
    # The member may be kept from a recent update, their dialog never: behind a load balancer
    # another instance may have stored the member's next step a moment ago, and whether typed
    # text is an answer (and to what), or whether a button leaves a dialog, depends on it. So a
    # member read comes with the dialog in one statement; a kept member costs one small read
    # of the dialog alone (plain columns by primary key). Caching the dialog as well would
    # save that read, but a dialog started on another instance within the member's 10 s would
    # then be missed: the next text would land in it after the member had moved on.
    async with deps.database.read() as session:
        if member is None:
            found = await member_with_dialog(session, user.id)
            if found is not None:
                member, dialog = found
                deps.members.keep(member, generation)
        else:
            dialog = await stored_dialog(session, member_id=member.id)
    became_admin = False
    if member is None or (user.id in deps.admins) != (member.role.value == "admin"):
        was_admin = member is not None and member.role is Role.ADMIN
        language = Language(language_from_telegram(user.language_code, deps.default_language))
        async with deps.database.transaction() as session:
            member, _ = await ensure_member(
                session,
                telegram_id=user.id,
                display_name=user.full_name,
                language=language,
                admin_ids=deps.admins,
            )
            # A new member's network was never loaded, and once the session is closed reading
            # it would fail (DetachedInstanceError), e.g. /instellingen as the first message.
            await session.refresh(member, ["network"])
        # The configuration made them admin: their menu now (bot.menus.on_turn).
        became_admin = member.role is Role.ADMIN and not was_admin
    t = translator(member.language.value, deps.timezone).at(deps.clock())
    turn = Turn(update, context, deps, member, t, dialog, became_admin=became_admin)
    for watcher in _turn_watchers:
        await watcher(turn)
    return turn


def escape(text: str) -> str:
    return html.escape(text, quote=False)
