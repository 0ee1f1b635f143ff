"""Personal feed tokens: made once, stored hashed, rotated, resolved, fetches recorded."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from models.errors import NotFound
from models.feeds import operations as tokens
from models.feeds.entities import FeedToken
from models.members.operations import forget_member
from tests.factories import make_member


async def test_a_token_is_made_once_and_only_its_hash_is_stored(db, clock):
    member = await make_member(db)
    async with db.transaction() as session:
        issued = await tokens.feed_token_for(session, member_id=member.id, now=clock())
    async with db.transaction() as session:
        again = await tokens.feed_token_for(session, member_id=member.id, now=clock())
    assert issued.plain is not None and again.plain is None
    assert again.feed_token.id == issued.feed_token.id
    # >= 128 random bits: 24 bytes, 32 URL-safe characters.
    assert len(issued.plain) == 32
    async with db.read() as session:
        stored = (await session.scalars(select(FeedToken))).all()
    assert [row.token_hash for row in stored] == [hashlib.sha256(issued.plain.encode()).hexdigest()]
    assert issued.plain not in {row.token_hash for row in stored}


async def test_resolving_finds_the_token_and_nothing_else(db, clock):
    member = await make_member(db)
    async with db.transaction() as session:
        plain = (await tokens.feed_token_for(session, member_id=member.id, now=clock())).plain
    assert plain is not None
    async with db.read() as session:
        found = await tokens.resolve_feed_token(session, plain)
        assert found is not None and found.member_id == member.id
        for wrong in (
            plain[:-1] + ("A" if plain[-1] != "A" else "B"),
            "",
            "x" * 32,
            "../etc",
            plain * 2,
        ):
            assert await tokens.resolve_feed_token(session, wrong) is None


async def test_rotating_makes_the_old_link_unknown(db, clock):
    member = await make_member(db)
    async with db.transaction() as session:
        old = (await tokens.feed_token_for(session, member_id=member.id, now=clock())).plain
    async with db.transaction() as session:
        token = await tokens.resolve_feed_token(session, old)
        await tokens.record_fetch(session, token_id=token.id, now=clock())
    clock.advance(timedelta(days=1))
    async with db.transaction() as session:
        new = await tokens.rotate_feed_token(session, member_id=member.id, now=clock())
    assert new != old
    async with db.read() as session:
        assert await tokens.resolve_feed_token(session, old) is None
        rotated = await tokens.resolve_feed_token(session, new)
    assert rotated is not None and rotated.rotated_at == clock()
    assert rotated.last_fetched_at is None  # nobody fetched the new link yet


async def test_rotating_without_a_token_makes_one(db, clock):
    member = await make_member(db)
    async with db.transaction() as session:
        plain = await tokens.rotate_feed_token(session, member_id=member.id, now=clock())
    async with db.read() as session:
        assert (await tokens.resolve_feed_token(session, plain)).member_id == member.id


async def test_fetches_are_recorded_coarsely_and_counted_as_subscribers(db, clock):
    anna, ben = await make_member(db, name="Anna"), await make_member(db, name="Ben")
    async with db.transaction() as session:
        anna_token = (
            await tokens.feed_token_for(session, member_id=anna.id, now=clock())
        ).feed_token
        await tokens.feed_token_for(session, member_id=ben.id, now=clock())
    async with db.transaction() as session:
        assert await tokens.record_fetch(session, token_id=anna_token.id, now=clock())
    clock.advance(timedelta(minutes=5))
    async with db.transaction() as session:
        assert not await tokens.record_fetch(session, token_id=anna_token.id, now=clock())
        assert await tokens.subscriber_count(session, now=clock()) == 1
    clock.advance(tokens.FETCH_GRANULARITY)
    async with db.transaction() as session:
        assert await tokens.record_fetch(session, token_id=anna_token.id, now=clock())
        status = await tokens.feed_token_of(session, member_id=anna.id)
        assert status is not None and status.last_fetched_at == clock()  # "laatst opgehaald"
    clock.advance(tokens.SUBSCRIBER_WINDOW + timedelta(minutes=1))
    async with db.read() as session:
        assert await tokens.subscriber_count(session, now=clock()) == 0


async def test_revoking_and_forgetting_remove_the_token(db, clock, policy):
    anna, ben = await make_member(db, name="Anna"), await make_member(db, name="Ben")
    async with db.transaction() as session:
        anna_plain = (await tokens.feed_token_for(session, member_id=anna.id, now=clock())).plain
        await tokens.feed_token_for(session, member_id=ben.id, now=clock())
    async with db.transaction() as session:
        assert await tokens.revoke_feed_token(session, member_id=ben.id)
        assert not await tokens.revoke_feed_token(session, member_id=ben.id)
        await forget_member(session, member_id=anna.id, now=clock(), policy=policy)
    async with db.read() as session:
        assert await tokens.resolve_feed_token(session, anna_plain) is None
        assert (await session.scalars(select(FeedToken))).all() == []


async def test_no_token_for_an_unknown_member(db, clock):
    async with db.transaction() as session:
        with pytest.raises(NotFound):
            await tokens.feed_token_for(session, member_id=999_999, now=clock())
