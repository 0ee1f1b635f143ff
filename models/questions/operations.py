"""The contact point: asking, where a question goes, answering, replying, solving; the contact
persons; reminders and escalations.

The rules:
- a member asks in a few words (5–1,000 characters), optionally about a theme (an active one)
  or an event they may see; at most 5 unsolved questions per member;
- **where it goes** (``route_for``): the contact persons for its theme; else those for the
  member's network; else the admins. A contact person is an organiser (or admin) who took that
  theme or network in ``/contactpersonen``; one who is no longer an organiser counts for nothing.
  Who a question is for is looked up when needed (``recipients``): contact persons who join
  later can answer it, and a route whose contact persons all left goes to the admins;
- **who may read a question**: the member who asked, and whoever may answer it: the contact
  persons of its route as they are now, and every admin (``may_answer``). Nobody else, whatever
  button they press. An organiser does not answer their own question;
- an answer makes the question *answered* and goes to the member (``QUESTION_ANSWERED``); the
  member can reply (the question is open again, ``QUESTION_REPLY`` to the contact persons) or
  mark it solved; a solved question takes no more answers or replies;
- **reminders** (``remind_and_escalate``, swept by ``scheduler/jobs.py``): a question waiting for
  its contact person for 2 working days (``working_days.py``) reminds them once; after 4 working
  days the admins hear of it as well. Both count again from the member's latest reply. They are
  written once (a flag per wait, and idempotency keys), and move out of the quiet hours;
- every message the service sends here is an outbox row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import N_, DomainError, MemberUnknown, NotAllowed, NotFound
from models.events.entities import Event
from models.members.entities import ORGANISER_ROLES, Member, Role
from models.members.locks import lock_member
from models.networks.entities import Network
from models.organisers import audit
from models.organisers.authorisation import require_organiser
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.outbox.operations import enqueue
from models.questions.entities import (
    ContactPerson,
    Question,
    QuestionMessage,
    QuestionStatus,
    Route,
)
from models.questions.working_days import after_working_days
from models.reminders.policy import ReminderPolicy
from models.themes.entities import Theme
from models.themes.operations import event_themes_of

K = NotificationKind
QUESTION_MIN = 5
QUESTION_MAX = 1000
ANSWER_MAX = 2000
OPEN_QUESTIONS_MAX = 5
REMIND_AFTER_WORKING_DAYS = 2
ESCALATE_AFTER_WORKING_DAYS = 4
# The outbox kinds of the contact point; each row's payload names its ``question_id``.
QUESTION_KINDS = (
    K.QUESTION_ASKED,
    K.QUESTION_ANSWERED,
    K.QUESTION_REPLY,
    K.QUESTION_REMINDER,
    K.QUESTION_ESCALATED,
)


# --- refusals ---------------------------------------------------------------------------------


class InvalidQuestion(DomainError):
    message = N_("Deze vraag kan ik zo niet opslaan.")


class TooManyOpenQuestions(DomainError):
    message = N_(
        "Je hebt al {maximum} vragen open staan. Markeer een beantwoorde vraag als opgelost, "
        "of wacht op een antwoord."
    )


class QuestionSolved(DomainError):
    message = N_("Deze vraag is al opgelost. Heb je een nieuwe vraag? Stel hem gerust opnieuw.")


class ThemeUnavailable(DomainError):
    message = N_("Dit thema bestaat niet (meer).")


class OwnQuestion(NotAllowed):
    message = N_("Dit is je eigen vraag: een antwoord komt van een ander.")


def clean_text(text: str, *, maximum: int, minimum: int = 1) -> str:
    """The text as stored (outer spaces off), or a refusal saying why."""
    cleaned = text.strip()
    if len(cleaned) < minimum:
        raise InvalidQuestion(
            N_("Dat is wat kort. Een paar woorden (minstens {minimum} tekens), graag."),
            minimum=minimum,
        )
    if len(cleaned) > maximum:
        raise InvalidQuestion(
            N_(
                "Dat is te lang (hoogstens {maximum} tekens). Houd het kort; later kun je "
                "nog reageren."
            ),
            maximum=maximum,
        )
    return cleaned


# --- who a question is for ----------------------------------------------------------------------


async def contact_persons(
    session: AsyncSession, *, theme_id: int | None = None, network_id: int | None = None
) -> list[Member]:
    """The organisers who are contact person for the theme (or the network), by name."""
    where = (
        ContactPerson.theme_id == theme_id
        if theme_id is not None
        else ContactPerson.network_id == network_id
    )
    return list(
        (
            await session.scalars(
                select(Member)
                .join(ContactPerson, ContactPerson.member_id == Member.id)
                .where(where, Member.role.in_(ORGANISER_ROLES))
                .order_by(Member.display_name, Member.id)
            )
        ).all()
    )


async def admins(session: AsyncSession) -> list[Member]:
    return list(
        (
            await session.scalars(
                select(Member).where(Member.role == Role.ADMIN).order_by(Member.id)
            )
        ).all()
    )


async def route_for(
    session: AsyncSession, *, theme_id: int | None, network_id: int | None
) -> tuple[Route, list[Member]]:
    """Where a new question goes: its theme's contact persons, else the network's, else the
    admins."""
    if theme_id is not None:
        found = await contact_persons(session, theme_id=theme_id)
        if found:
            return Route.THEME, found
    if network_id is not None:
        found = await contact_persons(session, network_id=network_id)
        if found:
            return Route.NETWORK, found
    return Route.ADMINS, await admins(session)


async def _route_contacts(session: AsyncSession, question: Question) -> list[Member]:
    if question.route is Route.THEME and question.theme_id is not None:
        return await contact_persons(session, theme_id=question.theme_id)
    if question.route is Route.NETWORK and question.network_id is not None:
        return await contact_persons(session, network_id=question.network_id)
    return []


async def recipients(session: AsyncSession, question: Question) -> list[Member]:
    """Who the question is for now: its route's contact persons, or the admins when there are
    none (any more). Never the member who asked."""
    found = await _route_contacts(session, question) or await admins(session)
    return [member for member in found if member.id != question.member_id]


async def may_answer(session: AsyncSession, member: Member, question: Question) -> bool:
    """The admins, and the contact persons of the question's route as they are now."""
    if member.id == question.member_id or member.role not in ORGANISER_ROLES:
        return False
    if member.role is Role.ADMIN:
        return True
    return any(contact.id == member.id for contact in await _route_contacts(session, question))


# --- asking, answering, replying ----------------------------------------------------------------


async def ask(
    session: AsyncSession,
    *,
    member_id: int,
    text: str,
    now: datetime,
    theme_id: int | None = None,
    event_id: int | None = None,
) -> Question:
    """A new question, routed, with a notice to each of its recipients."""
    cleaned = clean_text(text, maximum=QUESTION_MAX, minimum=QUESTION_MIN)
    member = await lock_member(session, member_id)
    if theme_id is not None:
        theme = await session.get(Theme, theme_id)
        if theme is None or theme.retired_at is not None:
            raise ThemeUnavailable()
    if event_id is not None:
        event = await session.get(Event, event_id)
        if event is None or not event.visible_to(member.network_id):
            raise NotFound()
        if theme_id is None:  # about an event: its first theme decides where it goes
            event_themes = await event_themes_of(session, event_id)
            theme_id = next((t.id for t in event_themes if t.retired_at is None), None)
    unsolved = len(
        (
            await session.scalars(
                select(Question.id).where(
                    Question.member_id == member_id, Question.status != QuestionStatus.SOLVED
                )
            )
        ).all()
    )
    if unsolved >= OPEN_QUESTIONS_MAX:
        raise TooManyOpenQuestions(maximum=OPEN_QUESTIONS_MAX)
    route, found = await route_for(session, theme_id=theme_id, network_id=member.network_id)
    question = Question(
        member_id=member_id,
        network_id=member.network_id,
        theme_id=theme_id,
        event_id=event_id,
        route=route,
        text=cleaned,
        status=QuestionStatus.OPEN,
        asked_at=now,
        waiting_since=now,
        round=1,
    )
    session.add(question)
    await session.flush()
    session.add(
        QuestionMessage(
            question_id=question.id, author_id=member_id, from_contact=False, text=cleaned, at=now
        )
    )
    await session.flush()
    to = [m for m in found if m.id != member_id] or [
        m for m in await admins(session) if m.id != member_id
    ]
    await _notify(session, K.QUESTION_ASKED, to, question, due_at=now, key="asked")
    return question


async def answer(
    session: AsyncSession, *, actor_id: int, question_id: int, text: str, now: datetime
) -> QuestionMessage:
    """A contact person's (or an admin's) answer; it goes to the member who asked."""
    actor = await session.get(Member, actor_id)
    if actor is None:
        raise MemberUnknown()
    question = await _locked_question(session, question_id)
    if question.member_id == actor_id:
        raise OwnQuestion()
    if not await may_answer(session, actor, question):
        raise NotAllowed()
    if question.status is QuestionStatus.SOLVED:
        raise QuestionSolved()
    cleaned = clean_text(text, maximum=ANSWER_MAX)
    message = QuestionMessage(
        question_id=question.id, author_id=actor_id, from_contact=True, text=cleaned, at=now
    )
    session.add(message)
    before = question.status
    question.status = QuestionStatus.ANSWERED
    if question.first_answered_at is None:
        question.first_answered_at = now
    await session.flush()
    # A reminder or escalation still waiting (the quiet hours) is no longer needed.
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.kind.in_((K.QUESTION_REMINDER, K.QUESTION_ESCALATED)),
            OutboxMessage.status == DeliveryStatus.PENDING,
            OutboxMessage.payload["question_id"].as_integer() == question.id,
        )
        .values(status=DeliveryStatus.SKIPPED, last_error="answered")
    )
    assert question.member_id is not None
    await enqueue(
        session,
        kind=K.QUESTION_ANSWERED,
        member_id=question.member_id,
        due_at=now,
        key=f"question:{question.id}:message:{message.id}",
        payload={"question_id": question.id, "message_id": message.id},
    )
    await audit.record(
        session,
        actor_id=actor_id,
        action="question.answer",
        object_type="question",
        object_id=question.id,
        now=now,
        before={"status": before},
        after={"status": question.status, "message_id": message.id},
    )
    return message


async def reply(
    session: AsyncSession, *, member_id: int, question_id: int, text: str, now: datetime
) -> QuestionMessage:
    """The member's reply in their own question's thread; the question waits for its contact
    person again (after an answer: the reminder and escalation count from now)."""
    question = await _locked_question(session, question_id)
    if question.member_id != member_id:
        raise NotAllowed()
    if question.status is QuestionStatus.SOLVED:
        raise QuestionSolved()
    cleaned = clean_text(text, maximum=QUESTION_MAX)
    message = QuestionMessage(
        question_id=question.id, author_id=member_id, from_contact=False, text=cleaned, at=now
    )
    session.add(message)
    if question.status is QuestionStatus.ANSWERED:
        question.status = QuestionStatus.OPEN
        question.waiting_since = now
        question.round += 1
        question.reminded_at = question.escalated_at = None
    await session.flush()
    await _notify(
        session,
        K.QUESTION_REPLY,
        await recipients(session, question),
        question,
        due_at=now,
        key=f"message:{message.id}",
        message_id=message.id,
    )
    return message


async def mark_solved(
    session: AsyncSession, *, member_id: int, question_id: int, now: datetime
) -> Question:
    """The member closes their question; closing it twice changes nothing."""
    question = await _locked_question(session, question_id)
    if question.member_id != member_id:
        raise NotAllowed()
    if question.status is not QuestionStatus.SOLVED:
        question.status = QuestionStatus.SOLVED
        question.solved_at = now
        await session.flush()
    return question


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadMessage:
    from_contact: bool
    author: str | None  # None: a forgotten member
    text: str
    at: datetime


@dataclass(frozen=True)
class Thread:
    question: Question
    asker: str | None
    network: str | None
    theme: Theme | None
    event: Event | None
    messages: list[ThreadMessage]
    is_asker: bool  # the viewer asked it
    may_answer: bool  # the viewer may answer it

    @property
    def solved(self) -> bool:
        return self.question.status is QuestionStatus.SOLVED


async def thread(session: AsyncSession, *, viewer_id: int, question_id: int) -> Thread:
    """A question and its messages, for the member who asked it or someone who may answer it;
    ``NotAllowed`` for anyone else."""
    viewer = await session.get(Member, viewer_id)
    question = await session.get(Question, question_id)
    if viewer is None or question is None or question.member_id is None:
        raise NotFound()
    is_asker = question.member_id == viewer_id
    answering = await may_answer(session, viewer, question)
    if not is_asker and not answering:
        raise NotAllowed()
    asker = await session.get(Member, question.member_id)
    network = await session.get(Network, question.network_id) if question.network_id else None
    rows = (
        await session.execute(
            select(QuestionMessage, Member.display_name)
            .outerjoin(Member, Member.id == QuestionMessage.author_id)
            .where(QuestionMessage.question_id == question_id)
            .order_by(QuestionMessage.at, QuestionMessage.id)
        )
    ).all()
    return Thread(
        question=question,
        asker=asker.display_name if asker else None,
        network=network.name if network else None,
        theme=await session.get(Theme, question.theme_id) if question.theme_id else None,
        event=await session.get(Event, question.event_id) if question.event_id else None,
        messages=[ThreadMessage(m.from_contact, name, m.text, m.at) for m, name in rows],
        is_asker=is_asker,
        may_answer=answering and question.status is not QuestionStatus.SOLVED,
    )


async def my_questions(session: AsyncSession, *, member_id: int, limit: int = 20) -> list[Question]:
    """The member's questions: unsolved first, then the newest."""
    rows = (
        await session.scalars(
            select(Question)
            .where(Question.member_id == member_id)
            .order_by(Question.asked_at.desc(), Question.id.desc())
            .limit(limit)
        )
    ).all()
    return sorted(rows, key=lambda q: q.status is QuestionStatus.SOLVED)


async def open_questions(session: AsyncSession, *, actor_id: int) -> list[Question]:
    """The questions waiting for this organiser (or, for an admin, for anyone), the one waiting
    longest first."""
    actor = await require_organiser(session, actor_id)
    waiting = (
        await session.scalars(
            select(Question)
            .where(Question.status == QuestionStatus.OPEN, Question.member_id.is_not(None))
            .order_by(Question.waiting_since, Question.id)
        )
    ).all()
    return [q for q in waiting if await may_answer(session, actor, q)]


# --- contact persons ----------------------------------------------------------------------------


async def take_contact(
    session: AsyncSession,
    *,
    actor_id: int,
    now: datetime,
    theme_id: int | None = None,
    network_id: int | None = None,
) -> bool:
    """The organiser becomes contact person for a theme or a network. True if that is new."""
    await require_organiser(session, actor_id)
    object_type, object_id = await _contact_target(session, theme_id, network_id)
    if await _assignment(session, actor_id, theme_id, network_id) is not None:
        return False
    session.add(
        ContactPerson(member_id=actor_id, theme_id=theme_id, network_id=network_id, created_at=now)
    )
    await audit.record(
        session,
        actor_id=actor_id,
        action="contact.take",
        object_type=object_type,
        object_id=object_id,
        now=now,
    )
    await session.flush()
    return True


async def leave_contact(
    session: AsyncSession,
    *,
    actor_id: int,
    now: datetime,
    theme_id: int | None = None,
    network_id: int | None = None,
) -> bool:
    """The organiser is no longer contact person for it. True if they were."""
    await require_organiser(session, actor_id)
    if (theme_id is None) == (network_id is None):
        raise NotFound()
    assignment = await _assignment(session, actor_id, theme_id, network_id)
    if assignment is None:
        return False
    await session.delete(assignment)
    await audit.record(
        session,
        actor_id=actor_id,
        action="contact.leave",
        object_type="theme" if theme_id is not None else "network",
        object_id=theme_id if theme_id is not None else network_id,
        now=now,
    )
    await session.flush()
    return True


async def _contact_target(
    session: AsyncSession, theme_id: int | None, network_id: int | None
) -> tuple[str, int]:
    if (theme_id is None) == (network_id is None):
        raise NotFound()
    if theme_id is not None:
        theme = await session.get(Theme, theme_id)
        if theme is None or theme.retired_at is not None:
            raise ThemeUnavailable()
        return "theme", theme_id
    assert network_id is not None
    network = await session.get(Network, network_id)
    if network is None or not network.active:
        raise NotFound()
    return "network", network_id


async def _assignment(
    session: AsyncSession, member_id: int, theme_id: int | None, network_id: int | None
) -> ContactPerson | None:
    where = (
        ContactPerson.theme_id == theme_id
        if theme_id is not None
        else ContactPerson.network_id == network_id
    )
    found: ContactPerson | None = await session.scalar(
        select(ContactPerson).where(ContactPerson.member_id == member_id, where)
    )
    return found


@dataclass(frozen=True)
class ContactOverview:
    """Who the contact persons are: per active theme (in the list's order), and for a network."""

    themes: list[tuple[Theme, list[str]]]
    network: Network | None
    network_contacts: list[str]


async def contact_overview(session: AsyncSession, *, network_id: int | None) -> ContactOverview:
    rows = (
        await session.execute(
            select(ContactPerson.theme_id, ContactPerson.network_id, Member.display_name)
            .join(Member, Member.id == ContactPerson.member_id)
            .where(Member.role.in_(ORGANISER_ROLES))
            .order_by(Member.display_name, Member.id)
        )
    ).all()
    by_theme: dict[int, list[str]] = {}
    by_network: list[str] = []
    for theme_id, contact_network_id, name in rows:
        if theme_id is not None:
            by_theme.setdefault(theme_id, []).append(name)
        elif network_id is not None and contact_network_id == network_id:
            by_network.append(name)
    themes = (
        await session.scalars(
            select(Theme).where(Theme.retired_at.is_(None)).order_by(Theme.position, Theme.id)
        )
    ).all()
    network = await session.get(Network, network_id) if network_id is not None else None
    return ContactOverview(
        [(theme, by_theme.get(theme.id, [])) for theme in themes], network, by_network
    )


@dataclass(frozen=True)
class MyContacts:
    """What an organiser is contact person for."""

    theme_ids: frozenset[int]
    network_ids: frozenset[int]


async def my_contacts(session: AsyncSession, *, actor_id: int) -> MyContacts:
    await require_organiser(session, actor_id)
    rows = (
        await session.execute(
            select(ContactPerson.theme_id, ContactPerson.network_id).where(
                ContactPerson.member_id == actor_id
            )
        )
    ).all()
    return MyContacts(
        frozenset(t for t, _ in rows if t is not None),
        frozenset(n for _, n in rows if n is not None),
    )


# --- reminders and escalations ------------------------------------------------------------------


async def remind_and_escalate(
    session: AsyncSession, *, now: datetime, policy: ReminderPolicy
) -> int:
    """Remind the contact persons of questions waiting 2 working days, and tell the admins of
    those waiting 4; once per wait. Returns the notices written."""
    earliest = now - timedelta(days=REMIND_AFTER_WORKING_DAYS)  # working days are at least days
    waiting = (
        await session.scalars(
            select(Question)
            .where(
                Question.status == QuestionStatus.OPEN,
                Question.member_id.is_not(None),
                Question.waiting_since <= earliest,
                Question.escalated_at.is_(None),
            )
            .order_by(Question.id)
            .with_for_update()
        )
    ).all()
    due = policy.end_of_quiet_hours(now) if policy.in_quiet_hours(now) else now
    written = 0
    for question in waiting:
        since = question.waiting_since
        if question.reminded_at is None and now >= after_working_days(
            since, REMIND_AFTER_WORKING_DAYS, policy.tz
        ):
            question.reminded_at = now
            written += await _notify(
                session,
                K.QUESTION_REMINDER,
                await recipients(session, question),
                question,
                due_at=due,
                key=f"r{question.round}:remind",
            )
        if now >= after_working_days(since, ESCALATE_AFTER_WORKING_DAYS, policy.tz):
            question.escalated_at = now
            written += await _notify(
                session,
                K.QUESTION_ESCALATED,
                [m for m in await admins(session) if m.id != question.member_id],
                question,
                due_at=due,
                key=f"r{question.round}:escalate",
            )
    await session.flush()
    return written


# --- helpers ------------------------------------------------------------------------------------


async def _notify(
    session: AsyncSession,
    kind: NotificationKind,
    members: Sequence[Member],
    question: Question,
    *,
    due_at: datetime,
    key: str,
    message_id: int | None = None,
) -> int:
    payload: dict[str, int] = {"question_id": question.id}
    if message_id is not None:
        payload["message_id"] = message_id
    written = 0
    for member in members:
        row: OutboxMessage | None = await enqueue(
            session,
            kind=kind,
            member_id=member.id,
            due_at=due_at,
            key=f"question:{question.id}:{key}:{member.id}",
            payload=payload,
        )
        written += row is not None
    return written


async def _locked_question(session: AsyncSession, question_id: int) -> Question:
    question = await session.scalar(
        select(Question)
        .where(Question.id == question_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if question is None or question.member_id is None:
        raise NotFound()
    return question
