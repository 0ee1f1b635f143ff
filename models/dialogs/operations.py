"""Starting, moving through and ending a member's dialog. Plain functions on the caller's
session (the caller owns the transaction, so a flow's last answer and the end of its dialog can
be one commit). Every change is checked against the version the caller saw: a change on a stale
view raises ``DialogChanged`` and writes nothing."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Executable, Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.dialogs.entities import Behind, Dialog, DialogState
from models.errors import N_, DomainError

# A dialog left alone this long is over (a flow may choose another time).
IDLE = timedelta(minutes=30)

_TABLE = cast(Table, Dialog.__table__)
# Read as plain columns, not as an ORM entity: a dialog is a value the bot passes around, and
# the member read (``models.members.operations.member_with_dialog``) takes the same columns.
COLUMNS = tuple(_TABLE.c)
# Built once: the bot reads a member's dialog for every update it handles.
_BY_MEMBER = select(*COLUMNS).where(_TABLE.c.member_id == bindparam("member_id"))


def _upsert(insert: Callable[..., sqlite.Insert | postgresql.Insert]) -> Executable:
    """Insert the member's dialog, or replace the one they had (both dialects spell it alike)."""
    statement = insert(_TABLE)
    changed = {c.name: statement.excluded[c.name] for c in COLUMNS if c.name != "member_id"}
    return statement.on_conflict_do_update(index_elements=[_TABLE.c.member_id], set_=changed)


_UPSERT = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}


class DialogChanged(DomainError):
    """The dialog is no longer as the caller saw it: another instance (or another tap) moved it
    on, ended it, or it lapsed. Nothing was written."""

    message = N_("Dit gesprek ging intussen al verder. Kijk bij de laatste vraag.")


@dataclass(frozen=True)
class Started:
    dialog: DialogState
    # The dialog this one replaced, if it was still active: the member should hear it ended.
    replaced: DialogState | None


def state_from_row(row: Mapping[Any, Any]) -> DialogState | None:
    """A dialog from ``COLUMNS`` in a result row (None: an outer join found none)."""
    return None if row["member_id"] is None else DialogState.from_row(row)


async def stored_dialog(session: AsyncSession, *, member_id: int) -> DialogState | None:
    """The member's dialog as stored, lapsed or not (the bot tells a member whose dialog lapsed)."""
    row = (await session.execute(_BY_MEMBER, {"member_id": member_id})).mappings().first()
    return None if row is None else DialogState.from_row(row)


async def active_dialog(
    session: AsyncSession, *, member_id: int, now: datetime
) -> DialogState | None:
    """The member's dialog, if any and not lapsed (a lapsed one counts as none)."""
    dialog = await stored_dialog(session, member_id=member_id)
    return None if dialog is None or dialog.expired(now) else dialog


async def start(
    session: AsyncSession,
    *,
    member_id: int,
    flow: str,
    step: str,
    now: datetime,
    answers: Mapping[str, Any] | None = None,
    back: Sequence[Behind] = (),
    idle: timedelta = IDLE,
) -> Started:
    """Start ``flow`` at ``step``; any dialog the member had ends (returned, if it was active)."""
    locked = _BY_MEMBER.with_for_update()  # PostgreSQL; SQLite's write lock is the whole file
    row = (await session.execute(locked, {"member_id": member_id})).mappings().first()
    old = None if row is None else DialogState.from_row(row)
    dialog = DialogState(
        member_id=member_id,
        flow=flow,
        step=step,
        answers=dict(answers or {}),
        back=tuple(back),
        token=secrets.token_hex(4),
        # Never the same version twice for a member: a view of an ended dialog stays stale.
        version=old.version + 1 if old is not None else 1,
        started_at=now,
        expires_at=now + idle,
    )
    await session.execute(
        _UPSERT[session.get_bind().dialect.name], {"member_id": member_id, **_values(dialog)}
    )
    replaced = old if old is not None and not old.expired(now) else None
    return Started(dialog, replaced)


async def advance(
    session: AsyncSession,
    *,
    dialog: DialogState,
    step: str,
    now: datetime,
    answers: Mapping[str, Any] | None = None,
    remember: bool = True,
    idle: timedelta = IDLE,
) -> DialogState:
    """Go on to ``step``, with ``answers`` added to those so far. ``remember``: "◀ Terug" from
    there returns to the current step, with the answers as they are now (False: it skips it)."""
    back = (*dialog.back, Behind(dialog.step, dialog.answers)) if remember else dialog.back
    moved = replace(
        dialog,
        step=step,
        answers={**dialog.answers, **(answers or {})},
        back=back,
        version=dialog.version + 1,
        expires_at=now + idle,
    )
    await _store(session, seen=dialog, now=now, moved=moved)
    return moved


async def go_back(
    session: AsyncSession, *, dialog: DialogState, now: datetime, idle: timedelta = IDLE
) -> DialogState | None:
    """The step before, with its answers as they were; None when there is none (the flow's
    first step: the caller decides what "back" means then)."""
    if not dialog.back:
        return None
    *rest, previous = dialog.back
    moved = replace(
        dialog,
        step=previous.step,
        answers=dict(previous.answers),
        back=tuple(rest),
        version=dialog.version + 1,
        expires_at=now + idle,
    )
    await _store(session, seen=dialog, now=now, moved=moved)
    return moved


async def end(
    session: AsyncSession, *, member_id: int, dialog: DialogState | None = None
) -> DialogState | None:
    """End the member's dialog. With ``dialog``: only if it is still as seen (else
    ``DialogChanged``). Returns the dialog that ended, None if there was none."""
    statement = delete(_TABLE).where(_TABLE.c.member_id == member_id)
    if dialog is not None:
        statement = statement.where(
            _TABLE.c.version == dialog.version, _TABLE.c.token == dialog.token
        )
    row = (await session.execute(statement.returning(*COLUMNS))).mappings().first()
    if row is None and dialog is not None:
        raise DialogChanged()
    return None if row is None else DialogState.from_row(row)


async def delete_expired(session: AsyncSession, *, now: datetime) -> int:
    """Remove lapsed dialogs (what was typed in them is not kept longer than needed)."""
    result = await session.execute(delete(_TABLE).where(_TABLE.c.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _store(
    session: AsyncSession, *, seen: DialogState, now: datetime, moved: DialogState
) -> None:
    result = await session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.member_id == seen.member_id,
            _TABLE.c.version == seen.version,
            _TABLE.c.token == seen.token,
            _TABLE.c.expires_at > now,
        )
        .values(**_values(moved))
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise DialogChanged()


def _values(dialog: DialogState) -> dict[str, Any]:
    return {
        "flow": dialog.flow,
        "step": dialog.step,
        "answers": dict(dialog.answers),
        "back": [{"step": b.step, "answers": dict(b.answers)} for b in dialog.back],
        "token": dialog.token,
        "version": dialog.version,
        "started_at": dialog.started_at,
        "expires_at": dialog.expires_at,
    }
