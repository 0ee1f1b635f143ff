"""The contact point's rules in models/questions, on SQLite and PostgreSQL: where a question
goes, who may read and answer it, working days, the reminder and the escalation, the response
times, and the member's data (export, forgetting)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from models.clock import FrozenClock
from models.db import Database
from models.errors import NotAllowed
from models.members.entities import Member, Role
from models.members.operations import export_member_data, forget_member
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.questions import operations as questions
from models.questions.entities import Question, QuestionMessage, QuestionStatus, Route
from models.questions.figures import median, percentile, response_times
from models.questions.working_days import after_working_days
from models.registrations.policy import RegistrationPolicy
from models.reminders.policy import ReminderPolicy
from models.themes.entities import Theme
from tests.factories import make_member, network_id

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FRIDAY_15H = datetime(2027, 3, 5, 15, 0, tzinfo=AMSTERDAM)


async def theme(db: Database, slug: str) -> int:
    async with db.read() as session:
        found = await session.scalar(select(Theme.id).where(Theme.slug == slug))
    assert found is not None
    return found


async def ask(db: Database, member: Member, now: datetime, theme_id: int | None = None) -> int:
    async with db.transaction() as session:
        question = await questions.ask(
            session,
            member_id=member.id,
            text="Een vraag in een paar woorden",
            now=now,
            theme_id=theme_id,
        )
    return question.id


async def notices(db: Database, kind: NotificationKind) -> list[int | None]:
    async with db.read() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage.member_id)
                    .where(OutboxMessage.kind == kind)
                    .order_by(OutboxMessage.id)
                )
            ).all()
        )


def test_working_days() -> None:
    local = AMSTERDAM
    # Friday 15:00 + 2 working days: Tuesday 15:00 (the weekend does not count).
    assert after_working_days(FRIDAY_15H, 2, local) == datetime(2027, 3, 9, 15, tzinfo=local)
    # Asked on Saturday: counted from Monday 00:00.
    saturday = datetime(2027, 3, 6, 10, tzinfo=local)
    assert after_working_days(saturday, 2, local) == datetime(2027, 3, 10, 0, tzinfo=local)
    # Wednesday + 4: Tuesday; across the change to summer time (28 March), by the wall clock.
    wednesday = datetime(2027, 3, 24, 10, tzinfo=local)
    assert after_working_days(wednesday, 4, local) == datetime(2027, 3, 30, 10, tzinfo=local)


def test_median_and_nearest_rank_percentile() -> None:
    hours = [timedelta(hours=h) for h in (10, 1, 3, 20, 2)]
    assert median(hours) == timedelta(hours=3)
    assert percentile(hours, 0.9) == timedelta(hours=20)  # ⌈4.5⌉ = the 5th
    assert median(hours[:4]) == timedelta(hours=6.5)  # 1, 3, 10, 20: (3 + 10) / 2
    assert percentile(hours[:1], 0.9) == timedelta(hours=10)
    assert median([]) is None and percentile([], 0.9) is None


async def test_a_question_goes_to_the_theme_then_the_network_then_the_admins(
    db: Database, clock: FrozenClock
) -> None:
    wonen, onderwijs = await theme(db, "wonen"), await theme(db, "onderwijs")
    olga = await make_member(db, name="Olga", network=None, role=Role.ORGANISER)
    piet = await make_member(db, name="Piet", network=None, role=Role.ORGANISER)
    gone = await make_member(db, name="Gert", network=None, role=Role.ORGANISER)
    ada = await make_member(db, name="Ada", network=None, role=Role.ADMIN)
    anouk = await make_member(db, name="Anouk", network="wyck")
    bram = await make_member(db, name="Bram", network="amby")
    now = clock()
    async with db.transaction() as session:
        await questions.take_contact(session, actor_id=olga.id, theme_id=wonen, now=now)
        wyck = await network_id(db, "wyck")
        await questions.take_contact(session, actor_id=piet.id, network_id=wyck, now=now)
        await questions.take_contact(session, actor_id=gone.id, theme_id=onderwijs, now=now)
        (await session.get(Member, gone.id)).role = Role.MEMBER  # type: ignore[union-attr]

    routes = []
    for member, theme_id in ((anouk, wonen), (anouk, onderwijs), (bram, onderwijs), (bram, None)):
        question_id = await ask(db, member, now, theme_id)
        async with db.read() as session:
            question = await session.get(Question, question_id)
            assert question is not None
            routes.append(
                (
                    question.route,
                    [m.display_name for m in await questions.recipients(session, question)],
                )
            )
    assert routes == [
        (Route.THEME, ["Olga"]),
        (Route.NETWORK, ["Piet"]),  # Gert is no organiser any more: counts for nothing
        (Route.ADMINS, ["Ada"]),
        (Route.ADMINS, ["Ada"]),
    ]
    assert await notices(db, NotificationKind.QUESTION_ASKED) == [olga.id, piet.id, ada.id, ada.id]
    # Olga leaves Wonen: its question goes to the admins now, and she may no longer answer it.
    async with db.transaction() as session:
        assert await questions.leave_contact(session, actor_id=olga.id, theme_id=wonen, now=now)
    async with db.transaction() as session:
        first = await session.scalar(select(Question).order_by(Question.id))
        assert first is not None
        assert [m.id for m in await questions.recipients(session, first)] == [ada.id]
        with pytest.raises(NotAllowed):
            await questions.answer(
                session, actor_id=olga.id, question_id=first.id, text="Ja", now=now
            )


async def test_only_the_asker_and_who_may_answer_read_a_question(
    db: Database, clock: FrozenClock
) -> None:
    wonen = await theme(db, "wonen")
    olga = await make_member(db, name="Olga", network=None, role=Role.ORGANISER)
    otto = await make_member(db, name="Otto", network=None, role=Role.ORGANISER)
    ada = await make_member(db, name="Ada", network=None, role=Role.ADMIN)
    anouk = await make_member(db, name="Anouk")
    bram = await make_member(db, name="Bram")
    now = clock()
    async with db.transaction() as session:
        await questions.take_contact(session, actor_id=olga.id, theme_id=wonen, now=now)
    question_id = await ask(db, anouk, now, wonen)

    for stranger in (bram, otto):
        async with db.transaction() as session:
            with pytest.raises(NotAllowed):
                await questions.thread(session, viewer_id=stranger.id, question_id=question_id)
            with pytest.raises(NotAllowed):
                await questions.answer(
                    session, actor_id=stranger.id, question_id=question_id, text="x", now=now
                )
            with pytest.raises(NotAllowed):
                await questions.reply(
                    session, member_id=stranger.id, question_id=question_id, text="x", now=now
                )
            with pytest.raises(NotAllowed):
                await questions.mark_solved(
                    session, member_id=stranger.id, question_id=question_id, now=now
                )
        async with db.read() as session:
            assert await questions.open_questions(session, actor_id=otto.id) == []
    async with db.transaction() as session:
        with pytest.raises(questions.OwnQuestion):
            await questions.answer(
                session, actor_id=anouk.id, question_id=question_id, text="x", now=now
            )
        with pytest.raises(NotAllowed):  # the contact person does not close it for the member
            await questions.mark_solved(
                session, member_id=olga.id, question_id=question_id, now=now
            )
    async with db.read() as session:
        assert (
            await questions.thread(session, viewer_id=anouk.id, question_id=question_id)
        ).is_asker
        for contact in (olga, ada):
            seen = await questions.thread(session, viewer_id=contact.id, question_id=question_id)
            assert seen.may_answer and not seen.is_asker
        assert [q.id for q in await questions.open_questions(session, actor_id=ada.id)] == [
            question_id
        ]
    async with db.read() as session:
        question = await session.get(Question, question_id)
        assert question is not None and question.status is QuestionStatus.OPEN


async def test_reminder_then_escalation_once_per_wait(db: Database) -> None:
    clock = FrozenClock(FRIDAY_15H)
    wonen = await theme(db, "wonen")
    olga = await make_member(db, name="Olga", network=None, role=Role.ORGANISER)
    ada = await make_member(db, name="Ada", network=None, role=Role.ADMIN)
    anouk = await make_member(db, name="Anouk")
    async with db.transaction() as session:
        await questions.take_contact(session, actor_id=olga.id, theme_id=wonen, now=clock())
    question_id = await ask(db, anouk, clock(), wonen)
    policy = ReminderPolicy()

    async def sweep(at: datetime) -> int:
        clock.set(at)
        async with db.transaction() as session:
            return await questions.remind_and_escalate(session, now=clock(), policy=policy)

    assert await sweep(FRIDAY_15H + timedelta(days=3, hours=23)) == 0  # Monday night
    assert await sweep(FRIDAY_15H + timedelta(days=4)) == 1  # Tuesday 15:00
    assert await sweep(FRIDAY_15H + timedelta(days=4, hours=2)) == 0
    assert await notices(db, NotificationKind.QUESTION_REMINDER) == [olga.id]
    # Olga answers; Anouk replies on Wednesday: the count starts again from the reply.
    async with db.transaction() as session:
        await questions.answer(
            session,
            actor_id=olga.id,
            question_id=question_id,
            text="Ik zoek het uit.",
            now=FRIDAY_15H + timedelta(days=5),
        )
        await questions.reply(
            session,
            member_id=anouk.id,
            question_id=question_id,
            text="Nog iets gevonden?",
            now=FRIDAY_15H + timedelta(days=5, hours=1),
        )
    assert await sweep(FRIDAY_15H + timedelta(days=6)) == 0
    # Wednesday 16:00 + 2 working days = Friday 16:00 (round 2's reminder); + 4 = Tuesday.
    assert await sweep(FRIDAY_15H + timedelta(days=7, hours=1)) == 1
    assert await sweep(FRIDAY_15H + timedelta(days=10, hours=1)) == 0  # Monday
    assert await sweep(FRIDAY_15H + timedelta(days=11, hours=1)) == 1
    assert await sweep(FRIDAY_15H + timedelta(days=12)) == 0
    assert await notices(db, NotificationKind.QUESTION_REMINDER) == [olga.id, olga.id]
    assert await notices(db, NotificationKind.QUESTION_ESCALATED) == [ada.id]


async def test_a_reminder_in_the_quiet_hours_waits_and_an_answer_skips_it(db: Database) -> None:
    clock = FrozenClock(datetime(2027, 3, 5, 23, 0, tzinfo=AMSTERDAM))  # Friday 23:00
    olga = await make_member(db, name="Olga", network=None, role=Role.ADMIN)
    anouk = await make_member(db, name="Anouk")
    question_id = await ask(db, anouk, clock())
    clock.set(datetime(2027, 3, 9, 23, 30, tzinfo=AMSTERDAM))  # Tuesday 23:30
    async with db.transaction() as session:
        assert (
            await questions.remind_and_escalate(session, now=clock(), policy=ReminderPolicy()) == 1
        )
    async with db.transaction() as session:
        reminder = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == NotificationKind.QUESTION_REMINDER)
        )
        assert reminder is not None
        assert reminder.due_at == datetime(2027, 3, 10, 8, 0, tzinfo=AMSTERDAM)
        await questions.answer(
            session, actor_id=olga.id, question_id=question_id, text="Morgen!", now=clock()
        )
    async with db.read() as session:
        reminder = await session.get(OutboxMessage, reminder.id, populate_existing=True)
        assert reminder is not None and reminder.status is DeliveryStatus.SKIPPED


async def test_response_times_per_theme_on_a_known_fixture(
    db: Database, clock: FrozenClock
) -> None:
    wonen, onderwijs = await theme(db, "wonen"), await theme(db, "onderwijs")
    ada = await make_member(db, name="Ada", network=None, role=Role.ADMIN)
    anouk = await make_member(db, name="Anouk")
    start = clock()
    fixture = {
        wonen: [timedelta(hours=h) for h in (10, 1, 3, 20, 2)],
        onderwijs: [timedelta(minutes=30), timedelta(minutes=90)],
    }
    for theme_id, waits in fixture.items():
        for wait in waits:
            question_id = await ask(db, anouk, start, theme_id)
            async with db.transaction() as session:
                await questions.answer(
                    session,
                    actor_id=ada.id,
                    question_id=question_id,
                    text="Antwoord",
                    now=start + wait,
                )
                await questions.mark_solved(
                    session, member_id=anouk.id, question_id=question_id, now=start + wait
                )
    await ask(db, anouk, start)  # without a theme, not answered yet
    before = await ask(db, anouk, start - timedelta(days=400), wonen)  # outside the period
    assert before
    async with db.read() as session:
        figures = await response_times(
            session,
            actor_id=ada.id,
            since=start - timedelta(days=1),
            until=start + timedelta(days=1),
        )
    rows = [
        (t.theme.slug if t.theme else None, t.answered, t.waiting, t.median, t.p90)
        for t in figures.themes
    ]
    assert rows == [
        ("wonen", 5, 0, timedelta(hours=3), timedelta(hours=20)),
        ("onderwijs", 2, 0, timedelta(hours=1), timedelta(minutes=90)),
        (None, 0, 1, None, None),
    ]
    total = figures.total
    assert (total.answered, total.waiting) == (7, 1)
    assert total.median == timedelta(hours=2) and total.p90 == timedelta(hours=20)
    with pytest.raises(NotAllowed):
        async with db.read() as session:
            await response_times(session, actor_id=anouk.id, since=start, until=start)


async def test_questions_in_the_export_and_forgotten_answered_ones_count_anonymously(
    db: Database, clock: FrozenClock
) -> None:
    wonen = await theme(db, "wonen")
    olga = await make_member(db, name="Olga", network=None, role=Role.ORGANISER)
    anouk = await make_member(db, name="Anouk")
    now = clock()
    async with db.transaction() as session:
        await questions.take_contact(session, actor_id=olga.id, theme_id=wonen, now=now)
    answered = await ask(db, anouk, now, wonen)
    waiting = await ask(db, anouk, now, wonen)
    async with db.transaction() as session:
        await questions.answer(
            session,
            actor_id=olga.id,
            question_id=answered,
            text="Het antwoord",
            now=now + timedelta(hours=5),
        )
    async with db.read() as session:
        mine = await export_member_data(session, member_id=anouk.id)
        hers = await export_member_data(session, member_id=olga.id)
    assert [q["status"] for q in mine["questions"]] == ["answered", "open"]
    assert [m["text"] for m in mine["questions"][0]["thread"]] == [
        "Een vraag in een paar woorden",
        "Het antwoord",
    ]
    assert mine["questions"][0]["theme"] == "Wonen"
    assert hers["contact_person_for"] == [{"theme": "Wonen"}]

    async with db.transaction() as session:
        await forget_member(session, member_id=anouk.id, now=now, policy=RegistrationPolicy())
    async with db.read() as session:
        left = (await session.scalars(select(Question))).all()
        messages = (await session.scalars(select(QuestionMessage))).all()
        pending = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == NotificationKind.QUESTION_ASKED)
            )
        ).all()
        figures = await response_times(
            session, actor_id=olga.id, since=now - timedelta(days=1), until=now + timedelta(days=1)
        )
    assert [(q.id, q.member_id, q.text, q.network_id) for q in left] == [(answered, None, "", None)]
    assert messages == []
    assert [m.status for m in pending] == []  # Olga's notices about them went too
    assert figures.total.answered == 1 and figures.total.median == timedelta(hours=5)
    assert waiting not in [q.id for q in left]
    # The anonymous question is nobody's to read any more.
    async with db.read() as session:
        with pytest.raises(Exception, match="vinden"):
            await questions.thread(session, viewer_id=olga.id, question_id=answered)
