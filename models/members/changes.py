"""Which members a transaction changed, noted in the session for ``Database`` to announce after
the commit (``Database.on_members_commit``): the bot keeps the members behind recent updates and
must read one again as soon as its row changed."""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from models.db import MEMBERS_CHANGED
from models.members.entities import Member


def _changed(session: Session) -> set[int | None]:
    changed: set[int | None] = session.info.setdefault(MEMBERS_CHANGED, set())
    return changed


@event.listens_for(Session, "after_flush")
def _note_flushed_members(session: Session, _context: Any) -> None:
    for instance in chain(session.new, session.dirty, session.deleted):
        if isinstance(instance, Member):
            _changed(session).add(instance.telegram_id)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    """An UPDATE or DELETE statement on members: which rows it hits is not known here."""
    if (state.is_update or state.is_delete) and state.bind_mapper is Member.__mapper__:
        _changed(state.session).add(None)
