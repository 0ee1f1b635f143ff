"""Exchange sessions proposed by a network's board member, approved or rejected by organisers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models.errors import InvalidEvent, NotAllowed, NotFound
from models.events.entities import EventKind, EventStatus
from models.events.operations import EventDraft, upcoming_events
from models.events.proposals import (
    MAX_PENDING_PER_MEMBER,
    NotANetworkMember,
    ProposalDecided,
    TooManyProposals,
    approve_proposal,
    my_proposals,
    pending_proposals,
    propose_exchange_session,
    reject_proposal,
)
from models.members.entities import Affiliation, Role
from models.organisers.entities import AuditEntry
from models.registrations import operations as ops
from tests.factories import make_member, network_id


def exchange(now, **overrides):  # type: ignore[no-untyped-def]
    start = now + timedelta(days=20)
    fields = {
        "kind": EventKind.MASTERCLASS,  # whatever is asked: a proposal is an exchange session
        "title": "  Hoe houden we vrijwilligers vast?  ",
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "location": "Buurthuis Wyck",
        "capacity": 15,
        "network_id": None,
    }
    fields.update(overrides)
    return EventDraft(**fields)


async def test_a_board_member_proposes_and_an_organiser_approves(db, clock, policy):
    proposer = await make_member(db, name="Anna", network="wyck")
    organiser = await make_member(db, name="Ruud", role=Role.ORGANISER, network=None)
    neighbour = await make_member(db, name="Bram", network="wyck")
    outsider = await make_member(db, name="Cor", network="amby")
    async with db.transaction() as session:
        event = await propose_exchange_session(
            session, member_id=proposer.id, draft=exchange(clock()), now=clock()
        )
    assert event.status is EventStatus.PROPOSED and event.kind is EventKind.UITWISSELING
    assert event.network_id == await network_id(db, "wyck")
    assert (
        event.proposed_by_id == proposer.id and event.title == "Hoe houden we vrijwilligers vast?"
    )
    async with db.read() as session:
        assert await upcoming_events(session, now=clock(), network_id=event.network_id) == []
        assert [e.id for e in await my_proposals(session, member_id=proposer.id)] == [event.id]
        assert [e.id for e in await pending_proposals(session, actor_id=organiser.id)] == [event.id]
    with pytest.raises(NotFound):  # not open before approval, to anyone
        async with db.transaction() as session:
            await ops.register(
                session, event_id=event.id, member_id=neighbour.id, now=clock(), policy=policy
            )

    async with db.transaction() as session:
        approved = await approve_proposal(
            session, actor_id=organiser.id, event_id=event.id, now=clock()
        )
    assert approved.status is EventStatus.PUBLISHED and approved.published_at == clock()
    async with db.read() as session:
        assert [
            e.id
            for e in await upcoming_events(session, now=clock(), network_id=approved.network_id)
        ] == [event.id]
        assert await upcoming_events(session, now=clock()) == []  # only for that network
    async with db.transaction() as session:
        outcome = await ops.register(
            session, event_id=event.id, member_id=neighbour.id, now=clock(), policy=policy
        )
    assert outcome.changed
    with pytest.raises(NotFound):
        async with db.transaction() as session:
            await ops.register(
                session, event_id=event.id, member_id=outsider.id, now=clock(), policy=policy
            )
    with pytest.raises(ProposalDecided):
        async with db.transaction() as session:
            await reject_proposal(
                session, actor_id=organiser.id, event_id=event.id, reason="x", now=clock()
            )
    async with db.read() as session:
        actions = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.actor_id).order_by(AuditEntry.id)
            )
        ).all()
    assert [tuple(row) for row in actions] == [
        ("event.propose", proposer.id),
        ("event.approve", organiser.id),
    ]


async def test_an_organiser_rejects_with_a_reason(db, clock):
    proposer = await make_member(db, name="Anna", network="malberg")
    organiser = await make_member(db, name="Ruud", role=Role.ORGANISER, network=None)
    async with db.transaction() as session:
        event = await propose_exchange_session(
            session, member_id=proposer.id, draft=exchange(clock()), now=clock()
        )
    with pytest.raises(InvalidEvent):
        async with db.transaction() as session:
            await reject_proposal(
                session, actor_id=organiser.id, event_id=event.id, reason="  ", now=clock()
            )
    async with db.transaction() as session:
        rejected = await reject_proposal(
            session,
            actor_id=organiser.id,
            event_id=event.id,
            reason="Past beter bij de dialoog in april.",
            now=clock(),
        )
    assert rejected.status is EventStatus.CANCELLED
    assert rejected.cancel_reason == "Past beter bij de dialoog in april."
    with pytest.raises(ProposalDecided):
        async with db.transaction() as session:
            await approve_proposal(session, actor_id=organiser.id, event_id=event.id, now=clock())
    async with db.read() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "event.reject"))
    assert entry is not None and entry.after["cancel_reason"].startswith("Past beter")


async def test_who_may_propose_and_decide(db, clock):
    resident = await make_member(db, name="Dirk", network=None, affiliation=Affiliation.BEWONER)
    proposer = await make_member(db, name="Anna", network="wyck")
    with pytest.raises(NotANetworkMember):
        async with db.transaction() as session:
            await propose_exchange_session(
                session, member_id=resident.id, draft=exchange(clock()), now=clock()
            )
    with pytest.raises(InvalidEvent):  # the usual rules: not in the past
        async with db.transaction() as session:
            await propose_exchange_session(
                session,
                member_id=proposer.id,
                draft=exchange(clock(), starts_at=clock() - timedelta(days=1)),
                now=clock(),
            )
    async with db.transaction() as session:
        event = await propose_exchange_session(
            session, member_id=proposer.id, draft=exchange(clock()), now=clock()
        )
    for actor in (proposer, resident):
        with pytest.raises(NotAllowed):
            async with db.transaction() as session:
                await approve_proposal(session, actor_id=actor.id, event_id=event.id, now=clock())
        with pytest.raises(NotAllowed):
            async with db.read() as session:
                await pending_proposals(session, actor_id=actor.id)
    async with db.read() as session:
        assert (await my_proposals(session, member_id=proposer.id))[0].status is (
            EventStatus.PROPOSED
        )


async def test_a_member_has_only_a_few_proposals_waiting(db, clock):
    proposer = await make_member(db, name="Anna", network="wyck")
    for _ in range(MAX_PENDING_PER_MEMBER):
        async with db.transaction() as session:
            await propose_exchange_session(
                session, member_id=proposer.id, draft=exchange(clock()), now=clock()
            )
    with pytest.raises(TooManyProposals):
        async with db.transaction() as session:
            await propose_exchange_session(
                session, member_id=proposer.id, draft=exchange(clock()), now=clock()
            )


async def test_a_proposal_whose_moment_passed_cannot_be_approved(db, clock):
    proposer = await make_member(db, name="Anna", network="wyck")
    organiser = await make_member(db, name="Ruud", role=Role.ORGANISER, network=None)
    async with db.transaction() as session:
        event = await propose_exchange_session(
            session, member_id=proposer.id, draft=exchange(clock()), now=clock()
        )
    clock.advance(timedelta(days=30))
    with pytest.raises(InvalidEvent):
        async with db.transaction() as session:
            await approve_proposal(session, actor_id=organiser.id, event_id=event.id, now=clock())


async def test_the_proposer_hears_the_decision(db, clock):
    from models.outbox.entities import NotificationKind, OutboxMessage

    proposer = await make_member(db, name="Anna", network="wyck")
    organiser = await make_member(db, name="Ruud", role=Role.ORGANISER, network=None)
    async with db.transaction() as session:
        first = await propose_exchange_session(
            session, member_id=proposer.id, draft=exchange(clock()), now=clock()
        )
        second = await propose_exchange_session(
            session, member_id=proposer.id, draft=exchange(clock(), title="Tweede"), now=clock()
        )
    async with db.transaction() as session:
        await approve_proposal(session, actor_id=organiser.id, event_id=first.id, now=clock())
        await reject_proposal(
            session,
            actor_id=organiser.id,
            event_id=second.id,
            reason="Valt samen met de dialoog",
            now=clock(),
        )
    async with db.read() as session:
        notices = (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == NotificationKind.PROPOSAL_DECIDED)
                .order_by(OutboxMessage.id)
            )
        ).all()
    assert [(n.member_id, n.event_id, n.payload["approved"]) for n in notices] == [
        (proposer.id, first.id, True),
        (proposer.id, second.id, False),
    ]
    assert notices[1].payload["reason"] == "Valt samen met de dialoog"
