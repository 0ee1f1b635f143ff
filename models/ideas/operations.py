"""Ideas for masterclass topics and exchange sessions, with votes; questions for the dialogues.

The rules for ideas:
- an idea is a topic for a masterclass or an exchange session between networks; its title has
  3–200 characters, its description at most 1,000;
- a member has at most 5 open ideas; proposing the same title twice is refused kindly;
- proposing counts as your vote: the proposer's vote is there from the start and cannot be
  withdrawn on its own (withdraw the idea instead);
- one vote per member per idea: voting twice changes nothing; a vote can be withdrawn;
- the ranking: open ideas by votes, then oldest first;
- organisers plan an idea into a coming event of the collective programme. An event whose topic
  was "nog te bepalen" takes the idea's title (through ``update_event``, so feeds and notices
  follow); the proposer and every voter get an ``IDEA_PLANNED`` notification.

The rules for dialogue questions:
- only for a dialogue with raads- en burgerleden that has not started, and only by members who
  are registered for it (confirmed, offered a seat or on the waitlist);
- 5–1,000 characters, at most 3 per member per dialogue; sending the same question twice
  changes nothing;
- organisers see them grouped by theme and by network (``questions_for``), and export them for
  the council members without any names (the network a question comes from is all that goes
  along; the document itself is made in ``bot/handlers/ideas/export.py``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import (
    N_,
    DomainError,
    EventCancelled,
    EventStarted,
    MemberUnknown,
    NotAllowed,
    NotFound,
    NotRegistered,
)
from models.events.entities import Event, EventKind, EventStatus
from models.events.operations import update_event
from models.ideas.entities import DialogueQuestion, Idea, IdeaStatus, IdeaVote
from models.members.entities import Member
from models.members.locks import lock_member
from models.networks.entities import Network
from models.organisers import audit
from models.organisers.authorisation import require_organiser
from models.outbox.entities import NotificationKind, OutboxMessage
from models.outbox.operations import enqueue
from models.registrations.entities import ACTIVE, Registration
from models.registrations.locks import lock_event
from models.registrations.policy import RegistrationPolicy

IDEA_KINDS = (EventKind.MASTERCLASS, EventKind.UITWISSELING)
TITLE_MIN = 3
TITLE_MAX = 200
DESCRIPTION_MAX = 1000
OPEN_IDEAS_MAX = 5

QUESTION_MIN = 5
QUESTION_MAX = 1000
QUESTIONS_PER_DIALOGUE = 3
THEME_MAX = 80
# The themes the bot offers as buttons (stored as these Dutch names; shown translated).
THEMES = (
    N_("Wonen"),
    N_("Verkeer"),
    N_("Zorg en welzijn"),
    N_("Groen en openbare ruimte"),
    N_("Veiligheid"),
    N_("Subsidies"),
    N_("Anders"),
)


# --- refusals ---------------------------------------------------------------------------------


class InvalidIdea(DomainError):
    message = N_("Dit idee kan ik zo niet opslaan.")


class TooManyOpenIdeas(DomainError):
    message = N_(
        "Je hebt al {maximum} ideeën open staan. Trek er eerst een in, of wacht tot er een is "
        "ingepland."
    )


class DuplicateIdea(DomainError):
    message = N_("Dit idee had je al voorgesteld: „{title}”. Het staat gewoon in de lijst.")


class IdeaClosed(DomainError):
    message = N_("Dit idee staat niet meer open: het is al ingepland of ingetrokken.")


class OwnIdeaVote(NotAllowed):
    message = N_(
        "Je eigen idee telt jouw stem altijd mee. Wil je het niet meer? Trek het idee dan in."
    )


class NotPlannable(DomainError):
    message = N_("Bij deze bijeenkomst kan ik het idee niet inplannen.")


class NotADialogue(DomainError):
    message = N_("Vragen insturen kan alleen voor een dialoog met raads- en burgerleden.")


class QuestionNeedsRegistration(NotRegistered):
    message = N_("Meld je eerst aan voor deze dialoog; daarna kun je een vraag insturen.")


class InvalidQuestion(DomainError):
    message = N_("Deze vraag kan ik zo niet opslaan.")


class TooManyQuestions(DomainError):
    message = N_(
        "Je hebt al {maximum} vragen ingestuurd voor deze dialoog. Meer kan helaas niet; "
        "je kunt ze tijdens het gesprek natuurlijk ook zelf stellen."
    )


# --- ideas --------------------------------------------------------------------------------------


def clean_title(title: str) -> str:
    """The title as it will be stored (spaces tidied), or a refusal."""
    cleaned = " ".join(title.split())
    if len(cleaned) < TITLE_MIN:
        raise InvalidIdea(N_("Een titel van minstens {minimum} tekens, graag."), minimum=TITLE_MIN)
    if len(cleaned) > TITLE_MAX:
        raise InvalidIdea(
            N_(
                "De titel is te lang (hoogstens {maximum} tekens). De rest kun je kwijt in de "
                "toelichting."
            ),
            maximum=TITLE_MAX,
        )
    return cleaned


def clean_description(description: str) -> str:
    cleaned = description.strip()
    if len(cleaned) > DESCRIPTION_MAX:
        raise InvalidIdea(
            N_("De toelichting is te lang (hoogstens {maximum} tekens)."), maximum=DESCRIPTION_MAX
        )
    return cleaned


async def propose_idea(
    session: AsyncSession,
    *,
    member_id: int,
    kind: EventKind,
    title: str,
    description: str = "",
    now: datetime,
) -> Idea:
    """A new open idea, with the proposer's own vote."""
    if kind not in IDEA_KINDS:
        raise InvalidIdea(N_("Een idee is voor een masterclass of voor een uitwisseling."))
    cleaned_title = clean_title(title)
    cleaned_description = clean_description(description)
    await lock_member(session, member_id)
    open_ideas = (
        await session.scalars(
            select(Idea).where(Idea.proposer_id == member_id, Idea.status == IdeaStatus.OPEN)
        )
    ).all()
    for idea in open_ideas:
        if idea.title.casefold() == cleaned_title.casefold():
            raise DuplicateIdea(title=idea.title)
    if len(open_ideas) >= OPEN_IDEAS_MAX:
        raise TooManyOpenIdeas(maximum=OPEN_IDEAS_MAX)
    idea = Idea(
        proposer_id=member_id,
        kind=kind,
        title=cleaned_title,
        description=cleaned_description,
        status=IdeaStatus.OPEN,
        created_at=now,
    )
    session.add(idea)
    await session.flush()
    session.add(IdeaVote(idea_id=idea.id, member_id=member_id, created_at=now))
    await session.flush()
    return idea


async def vote(session: AsyncSession, *, member_id: int, idea_id: int, now: datetime) -> bool:
    """Vote for an open idea. True if a vote was added; voting twice changes nothing."""
    await _member(session, member_id)
    idea = await _lock_idea(session, idea_id)
    if idea.status is not IdeaStatus.OPEN:
        raise IdeaClosed()
    if await _vote_of(session, idea.id, member_id) is not None:
        return False
    session.add(IdeaVote(idea_id=idea.id, member_id=member_id, created_at=now))
    await session.flush()
    return True


async def withdraw_vote(
    session: AsyncSession, *, member_id: int, idea_id: int, now: datetime
) -> bool:
    """Take a vote back. True if there was one; the proposer's own vote stays."""
    await _member(session, member_id)
    idea = await _lock_idea(session, idea_id)
    if idea.status is not IdeaStatus.OPEN:
        raise IdeaClosed()
    if idea.proposer_id == member_id:
        raise OwnIdeaVote()
    existing = await _vote_of(session, idea.id, member_id)
    if existing is None:
        return False
    await session.delete(existing)
    await session.flush()
    return True


async def withdraw_idea(
    session: AsyncSession, *, actor_id: int, idea_id: int, now: datetime
) -> Idea:
    """The proposer, or an organiser, withdraws an open idea. Withdrawing twice changes nothing."""
    actor = await _member(session, actor_id)
    idea = await _lock_idea(session, idea_id)
    as_organiser = idea.proposer_id != actor.id
    if as_organiser and not actor.is_organiser:
        raise NotAllowed()
    if idea.status is IdeaStatus.WITHDRAWN:
        return idea
    if idea.status is not IdeaStatus.OPEN:
        raise IdeaClosed()
    idea.status = IdeaStatus.WITHDRAWN
    if as_organiser:
        await audit.record(
            session,
            actor_id=actor.id,
            action="idea.withdraw",
            object_type="idea",
            object_id=idea.id,
            now=now,
            before={"status": IdeaStatus.OPEN, "title": idea.title},
            after={"status": IdeaStatus.WITHDRAWN},
        )
    await session.flush()
    return idea


class RankedIdea(NamedTuple):
    idea: Idea
    votes: int
    voted_by_me: bool


async def ranking(
    session: AsyncSession,
    *,
    member_id: int | None = None,
    kind: EventKind | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[RankedIdea]:
    """Open ideas by votes, then oldest first; ``voted_by_me`` for ``member_id``."""
    votes = func.count(IdeaVote.member_id).label("votes")
    query = (
        select(Idea, votes)
        .outerjoin(IdeaVote, IdeaVote.idea_id == Idea.id)
        .where(Idea.status == IdeaStatus.OPEN)
        .group_by(Idea.id)
        .order_by(votes.desc(), Idea.created_at, Idea.id)
        .limit(limit)
        .offset(offset)
    )
    if kind is not None:
        query = query.where(Idea.kind == kind)
    rows = (await session.execute(query)).all()
    mine: set[int] = set()
    if member_id is not None and rows:
        mine = set(
            (
                await session.scalars(
                    select(IdeaVote.idea_id).where(
                        IdeaVote.member_id == member_id,
                        IdeaVote.idea_id.in_([idea.id for idea, _ in rows]),
                    )
                )
            ).all()
        )
    return [RankedIdea(idea, int(count), idea.id in mine) for idea, count in rows]


async def count_open_ideas(session: AsyncSession, *, kind: EventKind | None = None) -> int:
    query = select(func.count()).select_from(Idea).where(Idea.status == IdeaStatus.OPEN)
    if kind is not None:
        query = query.where(Idea.kind == kind)
    return int(await session.scalar(query) or 0)


async def get_idea(session: AsyncSession, idea_id: int) -> Idea:
    idea = await session.get(Idea, idea_id)
    if idea is None:
        raise NotFound()
    return idea


async def idea_audience(session: AsyncSession, idea: Idea) -> list[int]:
    """Who hears when the idea is planned: the proposer, then the voters in the order they
    voted (each once)."""
    voters = (
        await session.scalars(
            select(IdeaVote.member_id)
            .where(IdeaVote.idea_id == idea.id)
            .order_by(IdeaVote.created_at, IdeaVote.member_id)
        )
    ).all()
    audience = [idea.proposer_id] if idea.proposer_id is not None else []
    return list(dict.fromkeys([*audience, *voters]))


async def plannable_events(
    session: AsyncSession, *, actor_id: int, idea_id: int, now: datetime, limit: int = 10
) -> list[Event]:
    """For organisers: coming masterclasses and exchange sessions of the collective programme an
    idea can go into; those whose topic is still open first, then those of the idea's kind."""
    await require_organiser(session, actor_id)
    idea = await get_idea(session, idea_id)
    events = (
        await session.scalars(
            select(Event).where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > now,
                Event.network_id.is_(None),
                Event.kind.in_(IDEA_KINDS),
            )
        )
    ).all()
    ordered = sorted(
        events, key=lambda e: (not e.topic_tbd, e.kind is not idea.kind, e.starts_at, e.id)
    )
    return ordered[:limit]


@dataclass(frozen=True)
class PlanPreview:
    idea: Idea
    event: Event
    audience: int  # how many people will be told


async def plan_preview(
    session: AsyncSession, *, actor_id: int, idea_id: int, event_id: int, now: datetime
) -> PlanPreview:
    """What ``plan_idea`` would do, for the organiser to confirm; refuses as it would."""
    await require_organiser(session, actor_id)
    idea = await get_idea(session, idea_id)
    if idea.status is not IdeaStatus.OPEN:
        raise IdeaClosed()
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound()
    _check_plannable(event, now)
    return PlanPreview(idea, event, len(await idea_audience(session, idea)))


@dataclass
class PlanOutcome:
    idea: Idea
    event: Event
    changed: bool = True
    notifications: list[OutboxMessage] = field(default_factory=list)


async def plan_idea(
    session: AsyncSession,
    *,
    actor_id: int,
    idea_id: int,
    event_id: int,
    now: datetime,
    policy: RegistrationPolicy,
) -> PlanOutcome:
    """An organiser turns an idea into an event; the proposer and the voters are told."""
    await require_organiser(session, actor_id)
    idea = await _lock_idea(session, idea_id)
    event = await lock_event(session, event_id)
    if idea.status is IdeaStatus.PLANNED and idea.event_id == event.id:
        return PlanOutcome(idea, event, changed=False)  # a double tap
    if idea.status is not IdeaStatus.OPEN:
        raise IdeaClosed()
    _check_plannable(event, now)
    before = {
        "status": idea.status,
        "event_id": idea.event_id,
        "event_title": event.title,
        "topic_tbd": event.topic_tbd,
    }
    if event.topic_tbd:
        changes: dict[str, object] = {"title": idea.title, "topic_tbd": False}
        if not event.description.strip() and idea.description:
            changes["description"] = idea.description
        event, _ = await update_event(
            session, event_id=event.id, actor_id=actor_id, changes=changes, now=now, policy=policy
        )
    idea.status = IdeaStatus.PLANNED
    idea.event_id = event.id
    notifications = []
    for member_id in await idea_audience(session, idea):
        message = await enqueue(
            session,
            kind=NotificationKind.IDEA_PLANNED,
            member_id=member_id,
            due_at=now,
            key=f"idea-planned:{idea.id}:{member_id}",
            payload={"idea_title": idea.title},
            event_id=event.id,
        )
        if message is not None:
            notifications.append(message)
    await audit.record(
        session,
        actor_id=actor_id,
        action="idea.plan",
        object_type="idea",
        object_id=idea.id,
        now=now,
        before=before,
        after={
            "status": idea.status,
            "event_id": event.id,
            "event_title": event.title,
            "topic_tbd": event.topic_tbd,
            "notified": len(notifications),
        },
    )
    await session.flush()
    return PlanOutcome(idea, event, notifications=notifications)


def _check_plannable(event: Event, now: datetime) -> None:
    if event.is_cancelled:
        raise EventCancelled()
    if now >= event.starts_at:
        raise EventStarted()
    if event.status is not EventStatus.PUBLISHED:
        raise NotPlannable(
            N_(
                "Publiceer de bijeenkomst eerst; dan kunnen de indiener en de stemmers hem ook "
                "bekijken."
            )
        )
    if event.network_id is not None:
        raise NotPlannable(
            N_(
                "Deze bijeenkomst is van één buurtnetwerk. Kies een bijeenkomst die voor "
                "iedereen open staat."
            )
        )
    if event.kind not in IDEA_KINDS:
        raise NotPlannable(N_("Een idee past bij een masterclass of een uitwisseling."))


# --- dialogue questions -------------------------------------------------------------------------


def clean_question(text: str) -> str:
    cleaned = text.strip()
    if len(cleaned) < QUESTION_MIN:
        raise InvalidQuestion(
            N_("Een vraag van minstens {minimum} tekens, graag."), minimum=QUESTION_MIN
        )
    if len(cleaned) > QUESTION_MAX:
        raise InvalidQuestion(
            N_("Je vraag is te lang (hoogstens {maximum} tekens). Kun je hem wat inkorten?"),
            maximum=QUESTION_MAX,
        )
    return cleaned


def _clean_theme(theme: str | None) -> str | None:
    cleaned = " ".join((theme or "").split())
    if len(cleaned) > THEME_MAX:
        raise InvalidQuestion(
            N_("Het thema is te lang (hoogstens {maximum} tekens)."), maximum=THEME_MAX
        )
    return cleaned or None


async def ask_question(
    session: AsyncSession,
    *,
    member_id: int,
    event_id: int,
    text: str,
    theme: str | None = None,
    now: datetime,
) -> DialogueQuestion:
    """A registrant sends in a question (and a theme) before a dialogue."""
    member = await lock_member(session, member_id)
    event = await session.get(Event, event_id)
    if event is None or not event.visible_to(member.network_id):
        raise NotFound()
    if event.kind is not EventKind.DIALOOG:
        raise NotADialogue()
    if event.is_cancelled:
        raise EventCancelled()
    if now >= event.starts_at:
        raise EventStarted()
    registered = await session.scalar(
        select(Registration.id).where(
            Registration.event_id == event.id,
            Registration.member_id == member.id,
            Registration.status.in_(ACTIVE),
        )
    )
    if registered is None:
        raise QuestionNeedsRegistration()
    cleaned = clean_question(text)
    cleaned_theme = _clean_theme(theme)
    earlier = (
        await session.scalars(
            select(DialogueQuestion).where(
                DialogueQuestion.event_id == event.id, DialogueQuestion.member_id == member.id
            )
        )
    ).all()
    for question in earlier:
        if question.text.casefold() == cleaned.casefold():
            return question  # sent twice: nothing changes
    if len(earlier) >= QUESTIONS_PER_DIALOGUE:
        raise TooManyQuestions(maximum=QUESTIONS_PER_DIALOGUE)
    question = DialogueQuestion(
        event_id=event.id,
        member_id=member.id,
        network_id=member.network_id,
        theme=cleaned_theme,
        text=cleaned,
        created_at=now,
    )
    session.add(question)
    await session.flush()
    return question


@dataclass(frozen=True)
class DialogueChoice:
    event: Event
    asked: int  # questions this member (or, for organisers: everyone) sent in


async def my_dialogues(
    session: AsyncSession, *, member_id: int, now: datetime
) -> list[DialogueChoice]:
    """Coming dialogues this member is registered for, with how many questions they sent in."""
    asked = (
        select(func.count())
        .where(DialogueQuestion.event_id == Event.id, DialogueQuestion.member_id == member_id)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(Event, asked)
            .join(Registration, Registration.event_id == Event.id)
            .where(
                Event.kind == EventKind.DIALOOG,
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > now,
                Registration.member_id == member_id,
                Registration.status.in_(ACTIVE),
            )
            .order_by(Event.starts_at, Event.id)
        )
    ).all()
    return [DialogueChoice(event, int(count)) for event, count in rows]


async def dialogues_for_organisers(
    session: AsyncSession, *, actor_id: int, now: datetime, limit: int = 10
) -> list[DialogueChoice]:
    """Dialogues with their questions: the coming ones, then the most recent past ones."""
    await require_organiser(session, actor_id)
    asked = select(func.count()).where(DialogueQuestion.event_id == Event.id).scalar_subquery()
    rows = (
        await session.execute(
            select(Event, asked).where(
                Event.kind == EventKind.DIALOOG, Event.status != EventStatus.CANCELLED
            )
        )
    ).all()
    coming = sorted(
        ((e, n) for e, n in rows if e.starts_at > now), key=lambda row: row[0].starts_at
    )
    past = sorted(
        ((e, n) for e, n in rows if e.starts_at <= now and n),
        key=lambda row: row[0].starts_at,
        reverse=True,
    )
    return [DialogueChoice(event, int(count)) for event, count in [*coming, *past][:limit]]


@dataclass(frozen=True)
class QuestionEntry:
    text: str
    theme: str | None
    network: str | None  # the network's name; None: the asker has no network


@dataclass(frozen=True)
class QuestionOverview:
    event: Event
    by_theme: list[tuple[str | None, list[QuestionEntry]]]  # most asked first, no theme last
    by_network: list[tuple[str | None, int]]  # most questions first, no network last

    @property
    def total(self) -> int:
        return sum(len(entries) for _, entries in self.by_theme)

    @property
    def networks(self) -> int:
        return sum(1 for name, _ in self.by_network if name is not None)


async def questions_for(session: AsyncSession, *, actor_id: int, event_id: int) -> QuestionOverview:
    """For organisers: the questions for one dialogue, grouped by theme and by network. No names:
    what organisers pass on is the question and where it comes from."""
    await require_organiser(session, actor_id)
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound()
    if event.kind is not EventKind.DIALOOG:
        raise NotADialogue()
    rows = (
        await session.execute(
            select(DialogueQuestion.text, DialogueQuestion.theme, Network.name)
            .outerjoin(Network, Network.id == DialogueQuestion.network_id)
            .where(DialogueQuestion.event_id == event.id)
            .order_by(DialogueQuestion.created_at, DialogueQuestion.id)
        )
    ).all()
    themes: defaultdict[str | None, list[QuestionEntry]] = defaultdict(list)
    networks: defaultdict[str | None, int] = defaultdict(int)
    for text, theme, network in rows:
        themes[theme].append(QuestionEntry(text, theme, network))
        networks[network] += 1
    by_theme = [
        (theme, sorted(entries, key=lambda e: (e.network is None, e.network or "")))
        for theme, entries in sorted(
            themes.items(), key=lambda item: (item[0] is None, -len(item[1]), item[0] or "")
        )
    ]
    by_network = sorted(
        networks.items(), key=lambda item: (item[0] is None, -item[1], item[0] or "")
    )
    return QuestionOverview(event, by_theme, by_network)


# --- helpers ------------------------------------------------------------------------------------


async def _member(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None:
        raise MemberUnknown()
    return member


async def _lock_idea(session: AsyncSession, idea_id: int) -> Idea:
    idea = await session.scalar(
        select(Idea)
        .where(Idea.id == idea_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if idea is None:
        raise NotFound()
    return idea


async def _vote_of(session: AsyncSession, idea_id: int, member_id: int) -> IdeaVote | None:
    return await session.scalar(
        select(IdeaVote).where(IdeaVote.idea_id == idea_id, IdeaVote.member_id == member_id)
    )
