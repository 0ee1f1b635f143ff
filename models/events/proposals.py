"""Exchange sessions proposed by a network's board, approved (or not) by an organiser.

A member of a buurtnetwerk proposes an experience-exchange session for their own network: it is
stored as an event with status ``PROPOSED`` (only organisers and the proposer see it). An
organiser approves it (it is published, for that network) or rejects it with a reason (it is
cancelled, the reason kept). Each step is in the audit log.

Telling the proposer later, in their own language, needs a notification kind of its own
(``PROPOSAL_DECIDED``, not yet in ``NotificationKind``); until then the outcome is returned and
the front end tells whoever acts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.alerts.operations import announce_event
from models.errors import N_, DomainError, InvalidEvent, NotFound
from models.events.entities import Event, EventKind, EventStatus
from models.events.operations import (
    AUDIT_FIELDS,
    EventDraft,
    _validate,
    check_reason,
    new_public_code,
)
from models.events.uids import new_event_uid
from models.members.entities import Affiliation, Member
from models.organisers import audit
from models.organisers.authorisation import require_organiser
from models.outbox.entities import NotificationKind
from models.outbox.operations import enqueue
from models.registrations.locks import lock_event
from models.reminders.policy import ReminderPolicy

# A network proposes a handful at a time; more waiting proposals than this is a mistake or spam.
MAX_PENDING_PER_MEMBER = 3


class NotANetworkMember(DomainError):
    message = N_(
        "Alleen leden van een buurtnetwerk kunnen een uitwisseling voorstellen. Kies eerst je "
        "buurtnetwerk in /instellingen."
    )


class TooManyProposals(DomainError):
    message = N_(
        "Je hebt al {count} voorstellen die op een organisator wachten. Wacht even tot die "
        "bekeken zijn."
    )


class ProposalDecided(DomainError):
    message = N_("Over dit voorstel is al besloten.")


async def propose_exchange_session(
    session: AsyncSession, *, member_id: int, draft: EventDraft, now: datetime
) -> Event:
    """A board member proposes an exchange session for their own network."""
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFound()
    if member.affiliation is not Affiliation.BUURTNETWERK or member.network_id is None:
        raise NotANetworkMember()
    pending = await session.scalar(
        select(func.count()).where(
            Event.proposed_by_id == member.id, Event.status == EventStatus.PROPOSED
        )
    )
    if (pending or 0) >= MAX_PENDING_PER_MEMBER:
        raise TooManyProposals(count=MAX_PENDING_PER_MEMBER)
    draft = replace(
        draft,
        kind=EventKind.UITWISSELING,
        network_id=member.network_id,
        series_id=None,
        title=draft.title.strip(),
    )
    _validate(draft, now)
    public_code = new_public_code()
    event = Event(
        public_code=public_code,
        feed_uid=await new_event_uid(session, public_code),
        status=EventStatus.PROPOSED,
        revision=1,
        proposed_by_id=member.id,
        created_at=now,
        updated_at=now,
        **{name: getattr(draft, name) for name in AUDIT_FIELDS if name != "status"},
    )
    session.add(event)
    await session.flush()
    await audit.record(
        session,
        actor_id=member.id,
        action="event.propose",
        object_type="event",
        object_id=event.id,
        now=now,
        after=audit.snapshot(event, AUDIT_FIELDS),
    )
    return event


async def approve_proposal(
    session: AsyncSession,
    *,
    actor_id: int,
    event_id: int,
    now: datetime,
    quiet_hours: ReminderPolicy | None = None,
) -> Event:
    """An organiser publishes a proposed exchange session (for its network)."""
    await require_organiser(session, actor_id)
    event = await _pending(session, event_id)
    if event.starts_at <= now:
        raise InvalidEvent(N_("Dat moment is al voorbij."))
    event.status = EventStatus.PUBLISHED
    event.published_at = now
    event.created_by_id = actor_id
    event.revision += 1
    event.updated_at = now
    await audit.record(
        session,
        actor_id=actor_id,
        action="event.approve",
        object_type="event",
        object_id=event.id,
        now=now,
        before={"status": EventStatus.PROPOSED},
        after={"status": EventStatus.PUBLISHED},
    )
    await _tell_proposer(session, event, now, approved=True, reason=None)
    await session.flush()
    await announce_event(session, event, now=now, quiet_hours=quiet_hours, actor_id=actor_id)
    return event


async def reject_proposal(
    session: AsyncSession, *, actor_id: int, event_id: int, reason: str, now: datetime
) -> Event:
    """An organiser declines a proposal, with a reason the proposer will hear."""
    await require_organiser(session, actor_id)
    check_reason(reason)
    event = await _pending(session, event_id)
    event.status = EventStatus.CANCELLED
    event.cancel_reason = reason.strip()
    event.revision += 1
    event.updated_at = now
    await audit.record(
        session,
        actor_id=actor_id,
        action="event.reject",
        object_type="event",
        object_id=event.id,
        now=now,
        before={"status": EventStatus.PROPOSED, "cancel_reason": None},
        after={"status": EventStatus.CANCELLED, "cancel_reason": event.cancel_reason},
    )
    await _tell_proposer(session, event, now, approved=False, reason=event.cancel_reason)
    await session.flush()
    return event


async def pending_proposals(session: AsyncSession, *, actor_id: int) -> list[Event]:
    """What waits for an organiser's decision, soonest first."""
    await require_organiser(session, actor_id)
    return list(
        (
            await session.scalars(
                select(Event)
                .where(Event.status == EventStatus.PROPOSED)
                .order_by(Event.starts_at, Event.id)
            )
        ).all()
    )


async def my_proposals(session: AsyncSession, *, member_id: int) -> list[Event]:
    """A member's own proposals, whatever became of them, newest first."""
    return list(
        (
            await session.scalars(
                select(Event)
                .where(Event.proposed_by_id == member_id)
                .order_by(Event.created_at.desc(), Event.id.desc())
            )
        ).all()
    )


async def _pending(session: AsyncSession, event_id: int) -> Event:
    event = await lock_event(session, event_id)
    if event.proposed_by_id is None and event.status is not EventStatus.PROPOSED:
        raise NotFound()
    check_undecided(event)
    return event


def check_undecided(event: Event) -> None:
    """Approving or rejecting is for a proposal still waiting: once decided, it stays so."""
    if event.status is not EventStatus.PROPOSED:
        raise ProposalDecided()


__all__ = [
    "MAX_PENDING_PER_MEMBER",
    "NotANetworkMember",
    "ProposalDecided",
    "TooManyProposals",
    "approve_proposal",
    "check_undecided",
    "my_proposals",
    "pending_proposals",
    "propose_exchange_session",
    "reject_proposal",
]


async def _tell_proposer(
    session: AsyncSession, event: Event, now: datetime, *, approved: bool, reason: str | None
) -> None:
    """The board member who proposed it hears the decision (in their language, when sent)."""
    if event.proposed_by_id is None:
        return
    await enqueue(
        session,
        kind=NotificationKind.PROPOSAL_DECIDED,
        member_id=event.proposed_by_id,
        due_at=now,
        key=f"proposal-decided:{event.id}",
        event_id=event.id,
        payload={"approved": approved, "reason": reason},
    )
