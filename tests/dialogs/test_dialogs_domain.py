"""The dialog store on SQLite and PostgreSQL: one dialog per member, every change checked against
the version seen, lapsed dialogs count as none, and a forgotten member's dialog goes with them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from models.dialogs import operations as dialogs
from models.dialogs.entities import Behind
from models.members.operations import export_member_data, forget_member, member_with_dialog
from scheduler.jobs import sweep_dialogs
from tests.factories import make_member


async def test_start_advance_back_and_end(db, clock):
    anna = await make_member(db)
    async with db.transaction() as session:
        started = await dialogs.start(
            session, member_id=anna.id, flow="idea", step="kind", now=clock()
        )
    assert started.replaced is None
    assert started.dialog.expires_at == clock() + dialogs.IDLE
    clock.advance(timedelta(minutes=10))
    async with db.transaction() as session:
        title = await dialogs.advance(
            session, dialog=started.dialog, step="title", answers={"kind": "m"}, now=clock()
        )
        description = await dialogs.advance(
            session, dialog=title, step="description", answers={"title": "Groen"}, now=clock()
        )
    assert description.back == (Behind("kind", {}), Behind("title", {"kind": "m"}))
    async with db.read() as session:
        stored = await dialogs.active_dialog(session, member_id=anna.id, now=clock())
    assert stored == description
    assert stored.answers == {"kind": "m", "title": "Groen"}
    assert stored.expires_at == clock() + dialogs.IDLE  # from the last answer

    async with db.transaction() as session:
        back = await dialogs.go_back(session, dialog=stored, now=clock())
    assert back is not None and back.step == "title" and back.answers == {"kind": "m"}
    async with db.transaction() as session:
        first = await dialogs.go_back(session, dialog=back, now=clock())
        assert first is not None and first.step == "kind" and first.back == ()
        assert await dialogs.go_back(session, dialog=first, now=clock()) is None
        ended = await dialogs.end(session, member_id=anna.id, dialog=first)
    assert ended == first
    async with db.read() as session:
        assert await dialogs.stored_dialog(session, member_id=anna.id) is None
    async with db.transaction() as session:
        assert await dialogs.end(session, member_id=anna.id) is None


async def test_a_new_dialog_replaces_the_active_one_and_says_which(db, clock):
    anna = await make_member(db)
    async with db.transaction() as session:
        broadcast = await dialogs.start(
            session, member_id=anna.id, flow="broadcast", step="text", now=clock()
        )
    async with db.transaction() as session:
        idea = await dialogs.start(
            session, member_id=anna.id, flow="idea", step="kind", now=clock()
        )
    assert idea.replaced == broadcast.dialog
    assert idea.dialog.version > broadcast.dialog.version
    assert idea.dialog.token != broadcast.dialog.token
    # The broadcast's view is stale now: it can neither move on nor end the idea.
    async with db.transaction() as session:
        with pytest.raises(dialogs.DialogChanged):
            await dialogs.advance(session, dialog=broadcast.dialog, step="when", now=clock())
    async with db.transaction() as session:
        with pytest.raises(dialogs.DialogChanged):
            await dialogs.end(session, member_id=anna.id, dialog=broadcast.dialog)
    async with db.read() as session:
        assert await dialogs.active_dialog(session, member_id=anna.id, now=clock()) == idea.dialog


async def test_two_instances_taking_turns_and_a_stale_one_is_refused(db, clock):
    anna = await make_member(db)
    async with db.transaction() as session:
        started = await dialogs.start(
            session, member_id=anna.id, flow="idea", step="title", now=clock()
        )
    # Instance A and instance B both read the dialog.
    async with db.read() as session:
        seen_by_a = await dialogs.active_dialog(session, member_id=anna.id, now=clock())
    async with db.read() as session:
        seen_by_b = await dialogs.active_dialog(session, member_id=anna.id, now=clock())
    assert seen_by_a == seen_by_b == started.dialog
    assert seen_by_a is not None and seen_by_b is not None
    async with db.transaction() as session:
        moved = await dialogs.advance(
            session, dialog=seen_by_a, step="description", answers={"title": "A"}, now=clock()
        )
    # B acts on what it saw: refused, and nothing of its change is stored.
    with pytest.raises(dialogs.DialogChanged):
        async with db.transaction() as session:
            await dialogs.advance(
                session, dialog=seen_by_b, step="description", answers={"title": "B"}, now=clock()
            )
    async with db.read() as session:
        now_seen_by_b = await dialogs.active_dialog(session, member_id=anna.id, now=clock())
    assert now_seen_by_b == moved and now_seen_by_b.answers == {"title": "A"}
    # Read again, B takes its turn.
    async with db.transaction() as session:
        await dialogs.advance(session, dialog=now_seen_by_b, step="done", now=clock())


async def test_a_lapsed_dialog_counts_as_none_and_cannot_be_continued(db, clock):
    anna = await make_member(db)
    async with db.transaction() as session:
        started = await dialogs.start(
            session,
            member_id=anna.id,
            flow="checkin",
            step="code",
            now=clock(),
            idle=timedelta(minutes=15),
        )
    clock.advance(timedelta(minutes=15))
    async with db.read() as session:
        assert await dialogs.active_dialog(session, member_id=anna.id, now=clock()) is None
        lapsed = await dialogs.stored_dialog(session, member_id=anna.id)  # still there
    assert lapsed is not None and lapsed.expired(clock())
    async with db.transaction() as session:
        with pytest.raises(dialogs.DialogChanged):
            await dialogs.advance(session, dialog=started.dialog, step="x", now=clock())
    async with db.transaction() as session:
        again = await dialogs.start(
            session, member_id=anna.id, flow="idea", step="kind", now=clock()
        )
    assert again.replaced is None  # a lapsed dialog is not "ended" by the new one

    bram = await make_member(db, name="Bram")
    async with db.transaction() as session:
        await dialogs.start(session, member_id=bram.id, flow="idea", step="kind", now=clock())
    clock.advance(dialogs.IDLE)
    assert await sweep_dialogs(db, clock) == 2  # the scheduler clears lapsed rows
    async with db.read() as session:
        assert await dialogs.stored_dialog(session, member_id=bram.id) is None


async def test_the_member_read_brings_the_dialog_in_one_statement(db, clock):
    anna = await make_member(db)
    bram = await make_member(db, name="Bram")
    async with db.transaction() as session:
        started = await dialogs.start(
            session, member_id=anna.id, flow="idea", step="kind", now=clock(), answers={"a": 1}
        )
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.read() as session:
            found = await member_with_dialog(session, anna.telegram_id or 0)
            nothing = await member_with_dialog(session, bram.telegram_id or 0)
            nobody = await member_with_dialog(session, 1)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 3
    assert found is not None and found[0].id == anna.id and found[1] == started.dialog
    assert found[0].network is not None and found[0].network.slug == "wyck"
    assert nothing is not None and nothing[0].id == bram.id and nothing[1] is None
    assert nobody is None


async def test_the_dialog_is_in_the_export_and_goes_with_a_forgotten_member(db, clock, policy):
    anna = await make_member(db)
    async with db.transaction() as session:
        await dialogs.start(
            session,
            member_id=anna.id,
            flow="idea",
            step="description",
            now=clock(),
            answers={"title": "Groen in de wijk"},
        )
    async with db.read() as session:
        exported = await export_member_data(session, member_id=anna.id)
    assert exported["dialog"]["flow"] == "idea"
    assert exported["dialog"]["answers"] == {"title": "Groen in de wijk"}
    async with db.transaction() as session:
        await forget_member(session, member_id=anna.id, now=clock(), policy=policy)
    async with db.read() as session:
        assert await dialogs.stored_dialog(session, member_id=anna.id) is None
