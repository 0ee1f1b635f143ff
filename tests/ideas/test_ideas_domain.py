"""Ideas: proposing, voting, the ranking, withdrawing, and planning an idea into an event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models.errors import EventCancelled, EventStarted, MemberUnknown, NotAllowed, NotFound
from models.events.entities import Event, EventKind, EventStatus
from models.events.operations import cancel_event
from models.ideas import operations as ideas
from models.ideas.entities import Idea, IdeaStatus, IdeaVote
from models.members.entities import Role
from models.members.operations import forget_member
from models.organisers.entities import AuditEntry
from models.outbox.entities import NotificationKind, OutboxMessage
from tests.factories import make_event, make_member, network_id

M, U = EventKind.MASTERCLASS, EventKind.UITWISSELING


async def propose(db, clock, member, title="Burgerbegroting in de praktijk", **kwargs):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await ideas.propose_idea(
            session,
            member_id=member.id,
            kind=kwargs.pop("kind", M),
            title=title,
            description=kwargs.pop("description", ""),
            now=kwargs.pop("now", clock()),
        )


async def vote(db, clock, member, idea):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await ideas.vote(session, member_id=member.id, idea_id=idea.id, now=clock())


async def unvote(db, clock, member, idea):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await ideas.withdraw_vote(session, member_id=member.id, idea_id=idea.id, now=clock())


async def plan(db, clock, policy, actor, idea, event_id, now=None):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await ideas.plan_idea(
            session,
            actor_id=actor.id,
            idea_id=idea.id,
            event_id=event_id,
            now=now or clock(),
            policy=policy,
        )


async def standing(db, member=None, **kwargs):  # type: ignore[no-untyped-def]
    async with db.read() as session:
        rows = await ideas.ranking(session, member_id=member.id if member else None, **kwargs)
    return [(r.idea.title, r.votes, r.voted_by_me) for r in rows]


async def count(db, entity) -> int:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(entity)) or 0)


async def idea_audit(db) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    """The audit entries about ideas (events keep their own: event.create, event.update, ...)."""
    async with db.read() as session:
        query = select(AuditEntry).where(AuditEntry.object_type == "idea").order_by(AuditEntry.id)
        return list((await session.scalars(query)).all())


async def test_proposing_counts_as_your_vote(db, clock):
    anna = await make_member(db, name="Anna")
    idea = await propose(
        db, clock, anna, title="  Burgerbegroting   in de praktijk ", description=" Hoe? \n"
    )
    assert idea.status is IdeaStatus.OPEN and idea.proposer_id == anna.id
    assert idea.title == "Burgerbegroting in de praktijk" and idea.description == "Hoe?"
    assert await standing(db, anna) == [("Burgerbegroting in de praktijk", 1, True)]
    assert await standing(db) == [("Burgerbegroting in de praktijk", 1, False)]


async def test_impossible_ideas_are_refused_and_nothing_is_stored(db, clock):
    anna = await make_member(db)
    for title, description, kind in [
        ("ab", "", M),
        ("   a    ", "", M),
        ("x" * 201, "", M),
        ("Goede titel", "y" * 1001, M),
        ("Goede titel", "", EventKind.DIALOOG),
        ("Goede titel", "", EventKind.WORKSHOP),
    ]:
        with pytest.raises(ideas.InvalidIdea):
            await propose(db, clock, anna, title=title, description=description, kind=kind)
    assert await count(db, Idea) == 0 and await count(db, IdeaVote) == 0


async def test_limits_are_inclusive(db, clock):
    anna = await make_member(db)
    idea = await propose(db, clock, anna, title="x" * 200, description="y" * 1000)
    assert len(idea.title) == 200
    assert (await propose(db, clock, anna, title="abc")).title == "abc"


async def test_unknown_member_cannot_propose(db, clock):
    async with db.transaction() as session:
        with pytest.raises(MemberUnknown):
            await ideas.propose_idea(session, member_id=999, kind=M, title="Iets", now=clock())


async def test_the_same_idea_twice_is_refused_kindly(db, clock):
    anna, bram = await make_member(db, name="Anna"), await make_member(db, name="Bram")
    await propose(db, clock, anna, title="Groen in de wijk")
    with pytest.raises(ideas.DuplicateIdea) as refused:
        await propose(db, clock, anna, title="groen  in de WIJK", kind=U)
    assert refused.value.params == {"title": "Groen in de wijk"}
    assert "staat gewoon in de lijst" in refused.value.msgid
    await propose(db, clock, bram, title="Groen in de wijk")  # someone else may
    assert await count(db, Idea) == 2


async def test_at_most_five_open_ideas_per_member(db, clock, policy):
    anna = await make_member(db)
    organiser = await make_member(db, name="Olga", role=Role.ORGANISER, network=None)
    event = await make_event(db, clock(), title="Masterclass 3", topic_tbd=True)
    made = [await propose(db, clock, anna, title=f"Idee {n}") for n in range(5)]
    with pytest.raises(ideas.TooManyOpenIdeas) as refused:
        await propose(db, clock, anna, title="Idee 6")
    assert refused.value.params == {"maximum": 5}
    async with db.transaction() as session:  # a withdrawn idea frees a place...
        await ideas.withdraw_idea(session, actor_id=anna.id, idea_id=made[0].id, now=clock())
    await propose(db, clock, anna, title="Idee 6")
    await plan(db, clock, policy, organiser, made[1], event.id)  # ...and so does a planned one
    await propose(db, clock, anna, title="Idee 7")
    with pytest.raises(ideas.TooManyOpenIdeas):
        await propose(db, clock, anna, title="Idee 8")


async def test_one_vote_each_and_it_can_be_withdrawn(db, clock):
    anna, bram = await make_member(db, name="Anna"), await make_member(db, name="Bram")
    idea = await propose(db, clock, anna)
    assert await vote(db, clock, bram, idea) is True
    assert await vote(db, clock, bram, idea) is False  # twice: nothing changes
    assert await vote(db, clock, anna, idea) is False  # the proposer's vote is already there
    assert await standing(db, bram) == [("Burgerbegroting in de praktijk", 2, True)]
    assert await unvote(db, clock, bram, idea) is True
    assert await unvote(db, clock, bram, idea) is False
    assert await standing(db, bram) == [("Burgerbegroting in de praktijk", 1, False)]
    with pytest.raises(ideas.OwnIdeaVote):
        await unvote(db, clock, anna, idea)
    assert await standing(db) == [("Burgerbegroting in de praktijk", 1, False)]


async def test_votes_on_missing_or_closed_ideas_are_refused(db, clock):
    anna, bram = await make_member(db, name="Anna"), await make_member(db, name="Bram")
    idea = await propose(db, clock, anna)
    async with db.transaction() as session:
        with pytest.raises(NotFound):
            await ideas.vote(session, member_id=bram.id, idea_id=idea.id + 100, now=clock())
        with pytest.raises(MemberUnknown):
            await ideas.vote(session, member_id=999, idea_id=idea.id, now=clock())
    async with db.transaction() as session:
        await ideas.withdraw_idea(session, actor_id=anna.id, idea_id=idea.id, now=clock())
    with pytest.raises(ideas.IdeaClosed):
        await vote(db, clock, bram, idea)
    with pytest.raises(ideas.IdeaClosed):
        await unvote(db, clock, bram, idea)
    assert await count(db, IdeaVote) == 1


async def test_ranking_by_votes_then_oldest_first(db, clock):
    people = [await make_member(db, name=f"P{n}") for n in range(4)]
    first = await propose(db, clock, people[0], title="Eerste", now=clock())
    second = await propose(
        db, clock, people[1], title="Tweede", kind=U, now=clock() + timedelta(minutes=1)
    )
    third = await propose(db, clock, people[2], title="Derde", now=clock() + timedelta(minutes=2))
    withdrawn = await propose(db, clock, people[3], title="Weg", now=clock())
    for voter in people[2:]:
        await vote(db, clock, voter, second)
    await vote(db, clock, people[3], third)
    async with db.transaction() as session:
        await ideas.withdraw_idea(session, actor_id=people[3].id, idea_id=withdrawn.id, now=clock())
    assert await standing(db, people[3]) == [
        ("Tweede", 3, True),
        ("Derde", 2, True),
        ("Eerste", 1, False),
    ]
    assert [t for t, _, _ in await standing(db, kind=M)] == ["Derde", "Eerste"]
    assert [t for t, _, _ in await standing(db, limit=1, offset=1)] == ["Derde"]
    await vote(db, clock, people[1], first)  # a tie: the oldest goes first
    assert [t for t, _, _ in await standing(db)] == ["Tweede", "Eerste", "Derde"]
    async with db.read() as session:
        assert await ideas.count_open_ideas(session) == 3
        assert await ideas.count_open_ideas(session, kind=U) == 1
    assert first.created_at < third.created_at


async def test_withdrawing_an_idea_proposer_or_organiser(db, clock):
    anna, bram = await make_member(db, name="Anna"), await make_member(db, name="Bram")
    organiser = await make_member(db, name="Olga", role=Role.ORGANISER, network=None)
    own, other = await propose(db, clock, anna, title="Eigen"), await propose(db, clock, anna)
    with pytest.raises(NotAllowed):
        async with db.transaction() as session:
            await ideas.withdraw_idea(session, actor_id=bram.id, idea_id=own.id, now=clock())
    async with db.transaction() as session:
        done = await ideas.withdraw_idea(session, actor_id=anna.id, idea_id=own.id, now=clock())
        assert done.status is IdeaStatus.WITHDRAWN
    async with db.transaction() as session:  # twice: nothing changes
        again = await ideas.withdraw_idea(session, actor_id=anna.id, idea_id=own.id, now=clock())
        assert again.status is IdeaStatus.WITHDRAWN
    assert await idea_audit(db) == []  # a member's own act is no organiser operation
    async with db.transaction() as session:
        await ideas.withdraw_idea(session, actor_id=organiser.id, idea_id=other.id, now=clock())
    [entry] = await idea_audit(db)
    assert entry.action == "idea.withdraw"
    assert entry.actor_id == organiser.id and entry.object_id == other.id
    assert entry.after == {"status": "withdrawn"}
    assert await standing(db) == []


async def test_plan_an_idea_into_a_masterclass_whose_topic_was_open(db, clock, policy):
    anna, bram, cor = [await make_member(db, name=n) for n in ("Anna", "Bram", "Cor")]
    organiser = await make_member(db, name="Olga", role=Role.ORGANISER, network=None)
    event = await make_event(db, clock(), title="Masterclass 3", topic_tbd=True)
    idea = await propose(
        db, clock, anna, title="De Omgevingswet in je buurt", description="Wat verandert er?"
    )
    await vote(db, clock, bram, idea)
    await vote(db, clock, cor, idea)
    await unvote(db, clock, cor, idea)  # Cor changed his mind: he does not hear of it

    with pytest.raises(NotAllowed):  # members cannot plan
        await plan(db, clock, policy, bram, idea, event.id)
    outcome = await plan(db, clock, policy, organiser, idea, event.id)
    assert outcome.changed and outcome.idea.status is IdeaStatus.PLANNED
    assert [n.member_id for n in outcome.notifications] == [anna.id, bram.id]
    async with db.read() as session:
        stored = await session.get(Event, event.id)
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        planned = await session.get(Idea, idea.id)
    assert stored is not None
    assert stored.title == "De Omgevingswet in je buurt" and not stored.topic_tbd
    assert stored.description == "Wat verandert er?" and stored.revision == event.revision + 1
    assert planned is not None and planned.event_id == event.id
    assert [(r.kind, r.member_id, r.idempotency_key, r.payload, r.event_id) for r in rows] == [
        (
            NotificationKind.IDEA_PLANNED,
            member.id,
            f"idea-planned:{idea.id}:{member.id}",
            {"idea_title": "De Omgevingswet in je buurt"},
            event.id,
        )
        for member in (anna, bram)
    ]
    [entry] = await idea_audit(db)
    assert entry.action == "idea.plan" and entry.actor_id == organiser.id
    assert entry.before is not None and entry.before["event_title"] == "Masterclass 3"
    assert entry.after is not None and entry.after["event_id"] == event.id
    assert await standing(db) == []  # no longer open

    again = await plan(db, clock, policy, organiser, idea, event.id)  # a double tap changes nothing
    assert not again.changed and again.notifications == []
    assert await count(db, OutboxMessage) == 2 and len(await idea_audit(db)) == 1


async def test_planning_into_an_event_with_a_topic_keeps_its_title(db, clock, policy):
    anna = await make_member(db)
    organiser = await make_member(db, name="Olga", role=Role.ORGANISER, network=None)
    event = await make_event(
        db, clock(), title="Uitwisseling: dit werkt bij ons", kind=U, description="Vast"
    )
    idea = await propose(db, clock, anna, kind=U, title="Leren van Wittevrouwenveld")
    outcome = await plan(db, clock, policy, organiser, idea, event.id)
    assert outcome.event.title == "Uitwisseling: dit werkt bij ons"
    assert outcome.event.revision == event.revision
    assert [n.member_id for n in outcome.notifications] == [anna.id]
    other = await make_event(db, clock(), title="Masterclass 4", topic_tbd=True)
    with pytest.raises(ideas.IdeaClosed):  # planned already, elsewhere
        await plan(db, clock, policy, organiser, idea, other.id)


async def test_planning_refusals_change_nothing(db, clock, policy):
    anna, bram = await make_member(db, name="Anna"), await make_member(db, name="Bram")
    organiser = await make_member(db, name="Olga", role=Role.ORGANISER, network=None)
    tbd: dict[str, object] = {"title": "Masterclass 3", "topic_tbd": True}
    fine = await make_event(db, clock(), **tbd)
    cancelled = await make_event(db, clock(), **tbd)
    async with db.transaction() as session:
        await cancel_event(
            session, event_id=cancelled.id, actor_id=None, reason="Ziek", now=clock()
        )
    soon = await make_event(db, clock(), starts_in=timedelta(hours=1), **tbd)
    draft = await make_event(db, clock(), publish=False, **tbd)
    wyck = await make_event(db, clock(), kind=U, network_id=await network_id(db, "wyck"), **tbd)
    dialogue = await make_event(db, clock(), kind=EventKind.DIALOOG, **tbd)
    idea = await propose(db, clock, anna)
    await vote(db, clock, bram, idea)
    withdrawn = await propose(db, clock, anna, title="Ingetrokken")
    async with db.transaction() as session:
        await ideas.withdraw_idea(session, actor_id=anna.id, idea_id=withdrawn.id, now=clock())
    later = clock() + timedelta(hours=2)
    cases = [
        (idea, cancelled.id, clock(), EventCancelled),
        (idea, soon.id, later, EventStarted),
        (idea, draft.id, clock(), ideas.NotPlannable),
        (idea, wyck.id, clock(), ideas.NotPlannable),
        (idea, dialogue.id, clock(), ideas.NotPlannable),
        (idea, fine.id + 100, clock(), NotFound),
        (withdrawn, fine.id, clock(), ideas.IdeaClosed),
    ]
    for which, event_id, now, error in cases:
        with pytest.raises(error):  # the preview refuses as planning itself would
            async with db.read() as session:
                await ideas.plan_preview(
                    session, actor_id=organiser.id, idea_id=which.id, event_id=event_id, now=now
                )
        with pytest.raises(error):
            await plan(db, clock, policy, organiser, which, event_id, now=now)
    async with db.read() as session:
        events = (await session.scalars(select(Event))).all()
        kept = await session.get(Idea, idea.id)
        preview = await ideas.plan_preview(
            session, actor_id=organiser.id, idea_id=idea.id, event_id=fine.id, now=clock()
        )
        with pytest.raises(NotAllowed):
            await ideas.plan_preview(
                session, actor_id=bram.id, idea_id=idea.id, event_id=fine.id, now=clock()
            )
    assert all(e.title == "Masterclass 3" and e.topic_tbd for e in events)
    assert kept is not None and kept.event_id is None and kept.status is IdeaStatus.OPEN
    assert (preview.idea.id, preview.event.id, preview.audience) == (idea.id, fine.id, 2)
    assert await idea_audit(db) == []
    async with db.read() as session:  # (Wyck's own session alerted its members when published)
        told = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind != NotificationKind.NEW_EVENTS)
        )
    assert told == 0


async def test_plannable_events_put_open_topics_first(db, clock):
    organiser = await make_member(db, name="Olga", role=Role.ORGANISER, network=None)
    anna = await make_member(db)
    idea = await propose(db, clock, anna, kind=U, title="Samen sterker")
    days = timedelta(days=1)
    late_tbd = await make_event(
        db, clock(), title="Masterclass 4", topic_tbd=True, starts_in=60 * days
    )
    early_tbd = await make_event(
        db, clock(), title="Masterclass 3", topic_tbd=True, starts_in=30 * days
    )
    exchange = await make_event(db, clock(), title="Uitwisseling", kind=U, starts_in=50 * days)
    masterclass = await make_event(db, clock(), title="Omgevingswet", starts_in=10 * days)
    await make_event(db, clock(), title="Dialoog", kind=EventKind.DIALOOG)
    await make_event(db, clock(), title="Concept", publish=False, topic_tbd=True)
    await make_event(
        db, clock(), title="Alleen Wyck", kind=U, network_id=await network_id(db, "wyck")
    )
    async with db.read() as session:
        events = await ideas.plannable_events(
            session, actor_id=organiser.id, idea_id=idea.id, now=clock()
        )
        with pytest.raises(NotAllowed):
            await ideas.plannable_events(session, actor_id=anna.id, idea_id=idea.id, now=clock())
    assert [e.id for e in events] == [early_tbd.id, late_tbd.id, exchange.id, masterclass.id]
    assert all(e.status is EventStatus.PUBLISHED for e in events)


async def test_a_forgotten_proposer_is_not_told_but_the_voters_are(db, clock, policy):
    anna, bram = await make_member(db, name="Anna"), await make_member(db, name="Bram")
    organiser = await make_member(db, name="Olga", role=Role.ORGANISER, network=None)
    event = await make_event(db, clock(), title="Masterclass 3", topic_tbd=True)
    idea = await propose(db, clock, anna)
    await vote(db, clock, bram, idea)
    async with db.transaction() as session:
        await forget_member(session, member_id=anna.id, now=clock(), policy=policy)
    assert await standing(db) == [("Burgerbegroting in de praktijk", 1, False)]
    outcome = await plan(db, clock, policy, organiser, idea, event.id)
    assert outcome.idea.proposer_id is None
    assert [n.member_id for n in outcome.notifications] == [bram.id]
