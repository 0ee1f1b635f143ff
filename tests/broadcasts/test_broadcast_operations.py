"""Broadcasts in the domain: audiences, the length of the text, confirming (one row per
recipient, never two), scheduling, stopping, the report and the audit log. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from models.broadcasts import operations as ops
from models.broadcasts.entities import Broadcast, BroadcastStatus
from models.clock import FrozenClock
from models.db import Database
from models.errors import NotAllowed, NotFound
from models.members.entities import Member, Role
from models.organisers.entities import AuditEntry
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.registrations import operations as registrations
from models.registrations.policy import RegistrationPolicy
from tests.factories import make_event, make_member, network_id

S = DeliveryStatus
B = BroadcastStatus


async def organiser(db: Database) -> int:
    return (await make_member(db, name="Olga", role=Role.ORGANISER, network=None)).id


async def draft(
    db: Database, actor: int, now: datetime, html: str = "Hallo <b>allemaal</b>!", **kw: Any
) -> Broadcast:
    async with db.transaction() as session:
        return await ops.create_broadcast(session, actor_id=actor, html=html, now=now, **kw)


async def members_of(db: Database, audience: dict[str, object], now: datetime) -> set[int]:
    async with db.read() as session:
        return set(await ops.audience_members(session, audience, now))


async def outbox(db: Database, broadcast_id: int) -> list[OutboxMessage]:
    async with db.read() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.broadcast_id == broadcast_id)
                    .order_by(OutboxMessage.member_id)
                )
            ).all()
        )


# --- audiences ----------------------------------------------------------------------------------


async def test_the_six_audiences(db: Database, clock: FrozenClock, policy: RegistrationPolicy):
    olga = await organiser(db)
    anna = (await make_member(db, name="Anna", network="wyck")).id
    bram = (await make_member(db, name="Bram", network="wyck")).id
    cor = (await make_member(db, name="Cor", network="belfort-daalhof")).id
    dirk = (await make_member(db, name="Dirk", network=None)).id
    eva = (await make_member(db, name="Eva", network=None)).id
    gone = (await make_member(db, name="Geblokkeerd", network="wyck")).id
    nameless = (await make_member(db, name="Zonder Telegram", network="wyck")).id
    async with db.transaction() as session:
        await session.execute(update(Member).where(Member.id == gone).values(reachable=False))
        await session.execute(update(Member).where(Member.id == nameless).values(telegram_id=None))
    # Last year: Dirk came to something (counts for nothing this year).
    last_year = FrozenClock(datetime(2026, 10, 1, 9, 0, tzinfo=UTC))
    old = await make_event(db, last_year(), capacity=10, title="Vorig jaar")
    coming = await make_event(db, clock(), capacity=2, title="Omgevingswet")
    past = await make_event(db, clock(), starts_in=timedelta(days=2), capacity=10, title="Net")
    async with db.transaction() as session:
        await registrations.register(
            session, event_id=old.id, member_id=dirk, now=last_year(), policy=policy
        )
        for member in (anna, bram, cor):  # Cor ends up on the waitlist
            await registrations.register(
                session, event_id=coming.id, member_id=member, now=clock(), policy=policy
            )
        for member in (anna, gone, eva):
            await registrations.register(
                session, event_id=past.id, member_id=member, now=clock(), policy=policy
            )
        await registrations.cancel(
            session, event_id=past.id, member_id=eva, now=clock(), policy=policy
        )

    everyone = {olga, anna, bram, cor, dirk, eva}
    assert await members_of(db, {"kind": "everyone"}, clock()) == everyone
    wyck = await network_id(db, "wyck")
    assert await members_of(db, {"kind": "networks", "network_ids": [wyck]}, clock()) == {
        anna,
        bram,
    }
    assert await members_of(db, {"kind": "registrants", "event_id": coming.id}, clock()) == {
        anna,
        bram,
    }
    assert await members_of(db, {"kind": "waitlist", "event_id": coming.id}, clock()) == {cor}
    # Eva cancelled her only registration this year: she counts as having registered for nothing.
    assert await members_of(db, {"kind": "inactive"}, clock()) == {olga, dirk, eva}
    assert await members_of(db, {"kind": "inactive", "year": 2026}, clock()) == everyone - {dirk}

    with pytest.raises(ops.EventNotPast):
        await members_of(db, {"kind": "attendees", "event_id": past.id}, clock())
    clock.advance(timedelta(days=2, hours=1))
    async with db.transaction() as session:
        for registration in (await session.scalars(select(registrations.Registration))).all():
            if registration.event_id == past.id and registration.status.value == "confirmed":
                await registrations.record_attendance(
                    session,
                    registration_id=registration.id,
                    actor_id=olga,
                    attended=registration.member_id == anna,
                    now=clock(),
                    policy=policy,
                )
    # Anna was there; the member who blocked the bot was too, but cannot be reached.
    assert await members_of(db, {"kind": "attendees", "event_id": past.id}, clock()) == {anna}


@pytest.mark.parametrize(
    ("audience", "error"),
    [
        ({}, ops.AudienceMissing),
        ({"kind": "iedereen"}, ops.AudienceInvalid),
        ({"kind": "networks", "network_ids": []}, ops.NoNetworksChosen),
        ({"kind": "networks", "network_ids": [999_999]}, NotFound),
        ({"kind": "networks", "network_ids": ["1"]}, ops.AudienceInvalid),
        ({"kind": "registrants"}, ops.AudienceInvalid),
        ({"kind": "waitlist", "event_id": 999_999}, NotFound),
        ({"kind": "inactive", "year": "2027"}, ops.AudienceInvalid),
    ],
)
async def test_audiences_that_cannot_be_used(
    sqlite_db: Database, clock: FrozenClock, audience: dict[str, object], error: type[Exception]
):
    with pytest.raises(error):
        await members_of(sqlite_db, audience, clock())


# --- the text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("", ops.BroadcastEmpty),
        ("   ", ops.BroadcastEmpty),
        ("x" * 4097, ops.BroadcastTooLong),
        ("🌳" * 2049, ops.BroadcastTooLong),  # 4,098 UTF-16 code units, as Telegram counts
        ("<b>" + "x" * 4097 + "</b>", ops.BroadcastTooLong),
    ],
)
def test_what_is_empty_or_too_long_is_refused(html: str, error: type[Exception]):
    with pytest.raises(error):
        ops._check_content(html, has_attachment=False)


def test_the_length_is_what_a_reader_sees():
    """Markup is the bot's business (tests/broadcasts/test_telegram_html.py); the domain counts
    the text without it, an entity as one character."""
    ops._check_content("x" * 4096, has_attachment=False)
    ops._check_content("&lt;" * 4096, has_attachment=False)
    ops._check_content('<a href="https://x.nl/">' + "x" * 4096 + "</a>", has_attachment=False)
    ops._check_content("x" * 1024, has_attachment=True)
    with pytest.raises(ops.CaptionTooLong):
        ops._check_content("x" * 1025, has_attachment=True)


async def test_only_organisers_compose_and_send(sqlite_db: Database, clock: FrozenClock):
    member = (await make_member(sqlite_db, name="Anna")).id
    olga = await organiser(sqlite_db)
    with pytest.raises(NotAllowed):
        await draft(sqlite_db, member, clock())
    mine = await draft(sqlite_db, olga, clock(), audience={"kind": "everyone"})
    for operation in (ops.confirm_broadcast, ops.cancel_broadcast, ops.discard_draft):
        with pytest.raises(NotAllowed):
            async with sqlite_db.transaction() as session:
                await operation(session, actor_id=member, broadcast_id=mine.id, now=clock())
    assert await outbox(sqlite_db, mine.id) == []


async def test_a_photo_keeps_the_caption_short(sqlite_db: Database, clock: FrozenClock):
    olga = await organiser(sqlite_db)
    photo = ops.Attachment("photo", "poster.png", b"\x89PNG...")
    only_photo = await draft(sqlite_db, olga, clock(), html="", attachment=photo)
    assert only_photo.attachment_kind == "photo" and only_photo.html == ""
    long_text = await draft(sqlite_db, olga, clock(), html="x" * 2000)
    with pytest.raises(ops.CaptionTooLong):
        async with sqlite_db.transaction() as session:
            await ops.update_draft(
                session, actor_id=olga, broadcast_id=long_text.id, attachment=photo, now=clock()
            )
    with pytest.raises(ops.AttachmentTooLarge):
        huge = ops.Attachment("document", "x.pdf", b"0" * (ops.ATTACHMENT_MAX_BYTES + 1))
        await draft(sqlite_db, olga, clock(), attachment=huge)
    with pytest.raises(ops.AttachmentInvalid):
        await draft(sqlite_db, olga, clock(), attachment=ops.Attachment("video", "x", b"1"))


# --- confirming, scheduling, stopping -----------------------------------------------------------


async def test_confirm_writes_one_row_per_recipient_and_never_two(db: Database, clock: FrozenClock):
    olga = await organiser(db)
    people = [(await make_member(db, name=f"Lid {n}")).id for n in range(5)]
    broadcast = await draft(db, olga, clock(), audience={"kind": "everyone"})
    async with db.read() as session:
        assert await ops.preview(session, broadcast.id, clock()) == 6
    for _ in range(2):  # a double tap, or a retried confirmation
        async with db.transaction() as session:
            confirmed = await ops.confirm_broadcast(
                session, actor_id=olga, broadcast_id=broadcast.id, now=clock()
            )
    assert confirmed.status is B.SENDING and confirmed.recipients == 6
    rows = await outbox(db, broadcast.id)
    assert sorted(r.member_id for r in rows) == sorted([olga, *people])
    assert {r.idempotency_key for r in rows} == {
        f"broadcast:{broadcast.id}:{r.member_id}" for r in rows
    }
    assert all(r.kind is NotificationKind.BROADCAST and r.status is S.PENDING for r in rows)
    assert all(r.due_at == clock() and r.payload == {} for r in rows)
    async with db.read() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_type == "broadcast")
                .order_by(AuditEntry.id)
            )
        ).all()
    assert actions == ["broadcast.create", "broadcast.confirm"]


async def test_a_resumed_confirmation_adds_only_who_is_missing(
    sqlite_db: Database, clock: FrozenClock
):
    olga = await organiser(sqlite_db)
    await make_member(sqlite_db, name="Anna")
    broadcast = await draft(sqlite_db, olga, clock(), audience={"kind": "everyone"})
    async with sqlite_db.transaction() as session:  # a row from an earlier, interrupted attempt
        session.add(
            OutboxMessage(
                kind=NotificationKind.BROADCAST,
                member_id=olga,
                broadcast_id=broadcast.id,
                due_at=clock(),
                idempotency_key=f"broadcast:{broadcast.id}:{olga}",
                status=S.SENT,
            )
        )
    async with sqlite_db.transaction() as session:
        await ops.confirm_broadcast(session, actor_id=olga, broadcast_id=broadcast.id, now=clock())
    rows = await outbox(sqlite_db, broadcast.id)
    assert len(rows) == 2 and [r.status for r in rows] == [S.SENT, S.PENDING]


async def test_refusals_at_confirmation(sqlite_db: Database, clock: FrozenClock):
    olga = await organiser(sqlite_db)
    no_audience = await draft(sqlite_db, olga, clock())
    wyck = await network_id(sqlite_db, "wyck")
    nobody = await draft(
        sqlite_db, olga, clock(), audience={"kind": "networks", "network_ids": [wyck]}
    )
    everyone = await draft(sqlite_db, olga, clock(), audience={"kind": "everyone"})
    cases = [
        (no_audience.id, None, ops.AudienceMissing),
        (nobody.id, None, ops.NoRecipients),
        (everyone.id, clock() - timedelta(minutes=1), ops.SendAtPast),
    ]
    for broadcast_id, send_at, error in cases:
        with pytest.raises(error):
            async with sqlite_db.transaction() as session:
                await ops.confirm_broadcast(
                    session, actor_id=olga, broadcast_id=broadcast_id, send_at=send_at, now=clock()
                )
    async with sqlite_db.read() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        statuses = set((await session.scalars(select(Broadcast.status))).all())
    assert statuses == {B.DRAFT}


async def test_scheduled_then_due_then_done(sqlite_db: Database, clock: FrozenClock):
    olga = await organiser(sqlite_db)
    await make_member(sqlite_db, name="Anna")
    broadcast = await draft(sqlite_db, olga, clock(), audience={"kind": "everyone"})
    evening = clock() + timedelta(hours=10)
    async with sqlite_db.transaction() as session:
        scheduled = await ops.confirm_broadcast(
            session, actor_id=olga, broadcast_id=broadcast.id, send_at=evening, now=clock()
        )
    assert scheduled.status is B.SCHEDULED and scheduled.send_at == evening
    assert {r.due_at for r in await outbox(sqlite_db, broadcast.id)} == {evening}
    with pytest.raises(ops.BroadcastNotDraft):
        async with sqlite_db.transaction() as session:
            await ops.update_draft(
                session, actor_id=olga, broadcast_id=broadcast.id, html="Anders", now=clock()
            )

    async def advance() -> BroadcastStatus:
        async with sqlite_db.transaction() as session:
            await ops.advance_broadcasts(session, now=clock())
            found = await session.get(Broadcast, broadcast.id, populate_existing=True)
            assert found is not None
            return found.status

    assert await advance() is B.SCHEDULED
    clock.set(evening)
    assert await advance() is B.SENDING
    async with sqlite_db.transaction() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.broadcast_id == broadcast.id)
            .values(status=S.SENT)
        )
    assert await advance() is B.DONE


async def test_stopping_halfway_keeps_what_was_sent_and_skips_the_rest(
    db: Database, clock: FrozenClock
):
    olga = await organiser(db)
    for n in range(9):
        await make_member(db, name=f"Lid {n}")
    broadcast = await draft(db, olga, clock(), audience={"kind": "everyone"})
    async with db.transaction() as session:
        await ops.confirm_broadcast(session, actor_id=olga, broadcast_id=broadcast.id, now=clock())
    rows = await outbox(db, broadcast.id)
    async with db.transaction() as session:  # what the dispatcher did so far
        for row, (status, error) in zip(
            rows,
            [
                (S.SENT, None),
                (S.SENT, None),
                (S.SENT, None),
                (S.FAILED, "blocked by the member"),
                (S.FAILED, "Bad Request: chat not found"),
                (S.SENDING, None),
            ],
            strict=False,
        ):
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(status=status, last_error=error)
            )
    async with db.transaction() as session:
        stopped = await ops.cancel_broadcast(
            session, actor_id=olga, broadcast_id=broadcast.id, now=clock()
        )
    assert stopped == 5  # the claimed one and the four still waiting
    async with db.transaction() as session:  # stopping twice changes nothing
        assert (
            await ops.cancel_broadcast(
                session, actor_id=olga, broadcast_id=broadcast.id, now=clock()
            )
            == 0
        )
    async with db.read() as session:
        report = await ops.broadcast_report(session, broadcast.id)
        found = await session.get(Broadcast, broadcast.id)
    assert found is not None and found.status is B.CANCELLED
    assert (report.total, report.delivered, report.blocked, report.failed) == (10, 3, 1, 1)
    assert (report.cancelled, report.pending, report.skipped) == (5, 0, 0)
    assert report.failed_reasons == {"Bad Request: chat not found": 1}
    assert report.finished
    statuses = [r.status for r in await outbox(db, broadcast.id)]
    assert statuses.count(S.SENT) == 3 and statuses.count(S.SKIPPED) == 5


async def test_a_finished_broadcast_cannot_be_stopped_and_a_stale_stop_discards_nothing(
    sqlite_db: Database, clock: FrozenClock
):
    olga = await organiser(sqlite_db)
    broadcast = await draft(sqlite_db, olga, clock(), audience={"kind": "everyone"})
    async with sqlite_db.transaction() as session:
        await ops.confirm_broadcast(session, actor_id=olga, broadcast_id=broadcast.id, now=clock())
        # "✖ Stop" from the composing steps, pressed after the confirmation: no effect.
        assert not await ops.discard_draft(
            session, actor_id=olga, broadcast_id=broadcast.id, now=clock()
        )
        await session.execute(update(OutboxMessage).values(status=S.SENT))
        await ops.advance_broadcasts(session, now=clock())
    with pytest.raises(ops.BroadcastFinished):
        async with sqlite_db.transaction() as session:
            await ops.cancel_broadcast(
                session, actor_id=olga, broadcast_id=broadcast.id, now=clock()
            )


async def test_drafts_are_kept_and_updated(sqlite_db: Database, clock: FrozenClock):
    olga = await organiser(sqlite_db)
    first = await draft(sqlite_db, olga, clock(), html="Eerste")
    clock.advance(timedelta(minutes=1))
    second = await draft(sqlite_db, olga, clock(), html="Tweede")
    wyck = await network_id(sqlite_db, "wyck")
    async with sqlite_db.transaction() as session:
        await ops.update_draft(
            session,
            actor_id=olga,
            broadcast_id=first.id,
            audience={"kind": "networks", "network_ids": [wyck, wyck]},
            now=clock(),
        )
        updated = await ops.update_draft(
            session, actor_id=olga, broadcast_id=second.id, html=" <i>Nieuw</i> ", now=clock()
        )
        assert updated.html == "<i>Nieuw</i>"
        assert await ops.discard_draft(session, actor_id=olga, broadcast_id=second.id, now=clock())
    async with sqlite_db.read() as session:
        drafts = await ops.drafts_of(session, actor_id=olga)
    assert [d.id for d in drafts] == [first.id]
    assert drafts[0].audience == {"kind": "networks", "network_ids": [wyck]}
    async with sqlite_db.transaction() as session:
        cleared = await ops.update_draft(
            session, actor_id=olga, broadcast_id=first.id, audience={}, now=clock()
        )
    assert cleared.audience == {}
