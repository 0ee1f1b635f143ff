"""A member's questions in their data export, and forgetting them (AVG).

Forgetting a member deletes their unanswered questions with their threads. An answered question
stays without them, its text, thread, network and event erased: only its theme and moments
remain, so the response-time figures (``figures.py``) stay right. Their pending notices about
their questions (to contact persons too) go as well. What they wrote as a contact person in
another member's thread stays there, without their name: it is that member's conversation.
Their contact-person roles go with the member row (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.events.entities import Event
from models.networks.entities import Network
from models.outbox.entities import DeliveryStatus, OutboxMessage
from models.questions.entities import ContactPerson, Question, QuestionMessage
from models.questions.operations import QUESTION_KINDS
from models.themes.entities import Theme


async def export_questions(session: AsyncSession, *, member_id: int) -> dict[str, Any]:
    """The member's questions with their threads, and what they are contact person for."""
    questions = (
        await session.scalars(
            select(Question).where(Question.member_id == member_id).order_by(Question.id)
        )
    ).all()
    messages = (
        await session.scalars(
            select(QuestionMessage)
            .where(QuestionMessage.question_id.in_([q.id for q in questions]))
            .order_by(QuestionMessage.at, QuestionMessage.id)
        )
    ).all()
    themes = {t.id: t.name for t in (await session.scalars(select(Theme))).all()}
    events = {
        e_id: title
        for e_id, title in (
            await session.execute(
                select(Event.id, Event.title).where(
                    Event.id.in_([q.event_id for q in questions if q.event_id])
                )
            )
        ).all()
    }
    contact = (
        await session.execute(
            select(ContactPerson.theme_id, Network.name)
            .outerjoin(Network, Network.id == ContactPerson.network_id)
            .where(ContactPerson.member_id == member_id)
            .order_by(ContactPerson.id)
        )
    ).all()
    return {
        "questions": [
            {
                "text": q.text,
                "theme": themes.get(q.theme_id) if q.theme_id else None,
                "event": events.get(q.event_id) if q.event_id else None,
                "status": q.status.value,
                "asked_at": q.asked_at.isoformat(),
                "first_answered_at": q.first_answered_at.isoformat()
                if q.first_answered_at
                else None,
                "solved_at": q.solved_at.isoformat() if q.solved_at else None,
                "thread": [
                    {
                        "from": "contactpersoon" if m.from_contact else "ik",
                        "text": m.text,
                        "at": m.at.isoformat(),
                    }
                    for m in messages
                    if m.question_id == q.id
                ],
            }
            for q in questions
        ],
        "contact_person_for": [
            {"theme": themes.get(theme_id)} if theme_id is not None else {"network": network}
            for theme_id, network in contact
        ],
    }


async def forget_questions(session: AsyncSession, *, member_id: int) -> int:
    """Erase the member's questions (answered ones stay as anonymous timings); returns how many
    were kept that way. Call before the member row is deleted."""
    questions = (
        await session.execute(
            select(Question.id, Question.first_answered_at).where(Question.member_id == member_id)
        )
    ).all()
    if not questions:
        return 0
    ids = [question_id for question_id, _ in questions]
    kept = [question_id for question_id, answered in questions if answered is not None]
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.kind.in_(QUESTION_KINDS),
            OutboxMessage.status == DeliveryStatus.PENDING,
            OutboxMessage.payload["question_id"].as_integer().in_(ids),
        )
    )
    await session.execute(delete(QuestionMessage).where(QuestionMessage.question_id.in_(ids)))
    await session.execute(
        delete(Question).where(Question.id.in_([i for i in ids if i not in kept]))
    )
    if kept:
        await session.execute(
            update(Question)
            .where(Question.id.in_(kept))
            .values(member_id=None, text="", network_id=None, event_id=None)
        )
    return len(kept)
