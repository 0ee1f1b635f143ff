"""The dialog row: one per member at most, and the immutable view of it the bot works with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class Dialog(Base):
    """Where one member is in a flow that waits for their typed input."""

    __tablename__ = "dialogs"

    # The member is the key: at most one active dialog each. Deleted with the member (AVG).
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The steps behind, oldest first: [{"step": ..., "answers": {...}}, ...], for "◀ Terug".
    back: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # New at every start: a button of an earlier dialog is recognised as such.
    token: Mapped[str] = mapped_column(String(12))
    # Rises with every change: a change made on a stale view is refused (DialogChanged).
    version: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Behind:
    """A step behind the current one, with the answers as they were when it was asked."""

    step: str
    answers: Mapping[str, Any]


@dataclass(frozen=True)
class DialogState:
    """A dialog as read: plain values, safe to keep after the session is gone."""

    member_id: int
    flow: str
    step: str
    answers: Mapping[str, Any]
    back: tuple[Behind, ...]
    token: str
    version: int
    started_at: datetime
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def answer(self, key: str, default: Any = None) -> Any:
        return self.answers.get(key, default)

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> DialogState:
        return cls(
            member_id=row["member_id"],
            flow=row["flow"],
            step=row["step"],
            answers=dict(row["answers"] or {}),
            back=tuple(
                Behind(entry["step"], dict(entry.get("answers") or {}))
                for entry in row["back"] or []
            ),
            token=row["token"],
            version=row["version"],
            started_at=row["started_at"],
            expires_at=row["expires_at"],
        )
