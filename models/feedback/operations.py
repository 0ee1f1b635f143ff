"""Asking attendees how it was, and showing organisers the answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import N_, DomainError, NotAllowed
from models.events.entities import Event, EventStatus
from models.feedback.entities import Feedback
from models.organisers.authorisation import require_organiser
from models.registrations.entities import Registration, RegistrationStatus

COMMENT_MAX = 2000
# A typed message counts as the comment only shortly after the rating.
COMMENT_WINDOW = timedelta(hours=2)


class RatingInvalid(DomainError):
    message = N_("Kies een cijfer van 1 tot 5.")


async def record_rating(
    session: AsyncSession, *, event_id: int, member_id: int, rating: int, now: datetime
) -> Feedback:
    """A member who was registered for a past event rates it (again: the last rating counts)."""
    if not 1 <= rating <= 5:
        raise RatingInvalid()
    came = await session.scalar(
        select(Registration.id)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.event_id == event_id,
            Registration.member_id == member_id,
            Registration.status.in_([RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED]),
            Event.starts_at <= now,
        )
    )
    if came is None:
        raise NotAllowed()
    feedback = await session.scalar(
        select(Feedback).where(Feedback.event_id == event_id, Feedback.member_id == member_id)
    )
    if feedback is None:
        feedback = Feedback(event_id=event_id, member_id=member_id, created_at=now)
        session.add(feedback)
    feedback.rating = rating
    feedback.awaiting_comment = True
    feedback.updated_at = now
    await session.flush()
    return feedback


async def record_comment(
    session: AsyncSession, *, member_id: int, text: str, now: datetime, event_id: int | None = None
) -> Feedback | None:
    """Take a typed message as the comment, if the member was just asked for one (for the
    rating of ``event_id``, if given); None when no rating waits for a comment."""
    query = (
        select(Feedback)
        .where(
            Feedback.member_id == member_id,
            Feedback.awaiting_comment.is_(True),
            Feedback.updated_at >= now - COMMENT_WINDOW,
        )
        .order_by(Feedback.updated_at.desc())
        .limit(1)
    )
    if event_id is not None:
        query = query.where(Feedback.event_id == event_id)
    feedback = await session.scalar(query)
    if feedback is None:
        return None
    feedback.comment = text.strip()[:COMMENT_MAX] or None
    feedback.awaiting_comment = False
    feedback.updated_at = now
    await session.flush()
    return feedback


async def skip_comment(session: AsyncSession, *, member_id: int) -> None:
    for feedback in (
        await session.scalars(
            select(Feedback).where(
                Feedback.member_id == member_id, Feedback.awaiting_comment.is_(True)
            )
        )
    ).all():
        feedback.awaiting_comment = False


@dataclass(frozen=True)
class EventToRate:
    event: Event
    rating: int | None  # the member's rating so far


async def events_to_rate(
    session: AsyncSession, *, member_id: int, now: datetime, since: datetime, limit: int = 8
) -> list[EventToRate]:
    """The events since ``since`` that a member came to and that are over, most recent first,
    with their rating so far: what a member may rate (``record_rating``) without being asked."""
    rows = (
        await session.execute(
            select(Event, Feedback.rating)
            .join(Registration, Registration.event_id == Event.id)
            .outerjoin(
                Feedback, (Feedback.event_id == Event.id) & (Feedback.member_id == member_id)
            )
            .where(
                Registration.member_id == member_id,
                Registration.status.in_(
                    [RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED]
                ),
                Event.status == EventStatus.PUBLISHED,
                Event.ends_at <= now,
                Event.starts_at >= since,
            )
            .order_by(Event.starts_at.desc(), Event.id.desc())
            .limit(limit)
        )
    ).all()
    return [EventToRate(event, rating) for event, rating in rows]


@dataclass(frozen=True)
class FeedbackSummary:
    event: Event
    responses: int
    average: float | None
    comments: list[str]


async def feedback_summary(
    session: AsyncSession, *, actor_id: int, since: datetime
) -> list[FeedbackSummary]:
    """For organisers: per event since ``since``, the number of ratings, the average, comments."""
    await require_organiser(session, actor_id)
    rows = (
        await session.execute(
            select(Event, func.count(Feedback.rating), func.avg(Feedback.rating))
            .join(Feedback, Feedback.event_id == Event.id)
            .where(Event.starts_at >= since)
            .group_by(Event.id)
            .order_by(Event.starts_at.desc())
        )
    ).all()
    summaries = []
    for event, responses, average in rows:
        comments = (
            await session.scalars(
                select(Feedback.comment)
                .where(Feedback.event_id == event.id, Feedback.comment.is_not(None))
                .order_by(Feedback.updated_at)
            )
        ).all()
        summaries.append(
            FeedbackSummary(
                event,
                int(responses),
                float(average) if average is not None else None,
                [c for c in comments if c],
            )
        )
    return summaries
