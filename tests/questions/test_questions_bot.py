"""The contact point end to end through the emulator: a question routed to the right contact
person, answered, replied to and solved; the reminder after two working days and the admins
after four (over a weekend); nobody reads or answers another member's question, also not with
forged or replayed buttons; the response times in the organisers' report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.flood import FloodGuard
from bot.notifications import TelegramDelivery
from emulator import Person
from models.members.entities import Affiliation, Member, Role
from models.members.operations import ensure_member, set_affiliation
from models.outbox.entities import NotificationKind, OutboxMessage
from models.questions.entities import Question, QuestionStatus
from models.themes.entities import Theme
from scheduler.dispatcher import Dispatcher, DispatcherSettings
from scheduler.jobs import sweep_questions
from tests.bot.conftest import World, labels, press
from tests.factories import network_id

NOT_ALLOWED = "Dat mag je helaas niet doen."
# Friday 5 March 2027, 15:00 in Maastricht (CET).
FRIDAY_15H = datetime(2027, 3, 5, 14, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def unhurried(world: World) -> None:
    """These journeys send more than a person would in ten seconds: no "rustig aan" here."""
    world.deps.flood = FloodGuard(limit=10_000)


def dispatcher(world: World) -> Dispatcher:
    delivery = TelegramDelivery(world.application.bot, world.deps.signer)
    return Dispatcher(
        world.db, delivery, world.clock, settings=DispatcherSettings(rate_per_s=0, max_in_flight=1)
    )


async def person(
    world: World, name: str, *, network: str | None = "wyck", role: Role = Role.MEMBER
) -> Person:
    someone = world.person(name)
    async with world.db.transaction() as session:
        member, _ = await ensure_member(session, telegram_id=someone.id, display_name=name)
        member.role = role
        await set_affiliation(
            session,
            member_id=member.id,
            affiliation=Affiliation.BUURTNETWERK if network else Affiliation.GEMEENTE,
            network_id=await network_id(world.db, network) if network else None,
        )
    return someone


async def admin(world: World, name: str = "Ada") -> Person:
    someone = await person(world, name, network=None, role=Role.ADMIN)
    world.deps.admins = (*world.deps.admins, someone.id)
    return someone


async def take_theme(organiser: Person, theme: str) -> None:
    screen = await organiser.ask("/contactpersonen")
    assert "Vaste contactpersonen" in screen.content
    taken = press(organiser, screen, theme)
    assert "contactpersoon voor" in (await taken.answer()).text
    assert f"✓ {theme}" in labels(await taken.edit())


async def ask_question(member: Person, theme: str, text: str):  # type: ignore[no-untyped-def]
    screen = await member.ask("/contact")
    subjects = await press(member, screen, "Vraag stellen").edit()
    prompt = await press(member, subjects, theme).edit()
    assert "Typ je vraag" in prompt.content
    return await member.ask(text)


async def the_question(world: World) -> Question:
    async with world.db.read() as session:
        question = await session.scalar(select(Question).order_by(Question.id.desc()))
    assert question is not None
    return question


async def test_a_question_goes_to_its_theme_contact_is_answered_replied_to_and_solved(
    world: World,
) -> None:
    olga = await person(world, "Olga", network=None, role=Role.ORGANISER)  # contact for Wonen
    piet = await person(world, "Piet", network=None, role=Role.ORGANISER)  # for Wyck
    anouk = await person(world, "Anouk")
    await admin(world)
    await take_theme(olga, "Wonen")
    networks = await press(piet, await piet.ask("/contactpersonen"), "Buurtnetwerken").edit()
    while "Wyck" not in labels(networks):  # a list in pages, by name
        networks = await press(piet, networks, "Later ▶").edit()
    assert "✓ Wyck" in labels(await press(piet, networks, "Wyck").edit())

    overview = await anouk.ask("/contact")
    assert "Voor je buurtnetwerk Wyck: Piet" in overview.content
    assert "Wonen: Olga" in overview.content
    sent = await ask_question(anouk, "Wonen", "Wanneer komt de nieuwe woonvisie uit?")
    assert "verstuurd naar de contactpersoon voor Wonen" in sent.content

    assert (await dispatcher(world).dispatch_due()).sent == 1  # Olga only; not Piet, not Ada
    notice = olga.messages[-1]
    assert "Nieuwe vraag" in notice.content and "Anouk (Wyck) over Wonen" in notice.content
    assert "woonvisie" in notice.content
    assert not any("woonvisie" in m.content for m in piet.messages)

    prompt = await press(olga, notice, "Beantwoorden").reply()
    assert "Typ je antwoord" in prompt.content
    answered = await olga.ask("In juni, we sturen hem dan ook naar de netwerken.")
    assert "Je antwoord is verstuurd" in answered.content
    assert (await dispatcher(world).dispatch_due()).sent == 1
    answer = anouk.messages[-1]
    assert "Antwoord" in answer.content and "In juni" in answer.content
    assert labels(answer) == ["↩️ Reageren", "✅ Opgelost"]

    mine = await anouk.ask("/mijn")
    assert "Mijn vragen" in mine.content and "beantwoord" in mine.content

    prompt = await press(anouk, answer, "Reageren").reply()
    assert "Typ je reactie" in prompt.content
    replied = await anouk.ask("Dank je! Komt er ook een avond over?")
    assert "Je reactie is verstuurd" in replied.content
    assert (await the_question(world)).status is QuestionStatus.OPEN
    assert (await dispatcher(world).dispatch_due()).sent == 1
    reply = olga.messages[-1]
    assert "Reactie" in reply.content and "avond" in reply.content
    thread = await press(olga, reply, "Bekijken").edit()
    assert "woonvisie" in thread.content and "In juni" in thread.content

    solved = press(anouk, answer, "Opgelost")
    assert "opgelost" in (await solved.answer()).text
    assert "✅ opgelost" in (await solved.edit()).content
    question = await the_question(world)
    assert question.status is QuestionStatus.SOLVED and question.first_answered_at is not None
    # Solved: no more answers.
    late = await press(olga, reply, "Beantwoorden").answer()
    assert "al opgelost" in late.text


async def test_without_contact_persons_a_question_goes_to_the_admins(world: World) -> None:
    ada = await admin(world)
    anouk = await person(world, "Anouk")
    sent = await ask_question(anouk, "Zonder thema", "Hoe vraag ik een subsidie aan?")
    assert "de beheerders" in sent.content
    await dispatcher(world).dispatch_due()
    assert "subsidie" in ada.messages[-1].content


async def test_two_working_days_remind_and_four_reach_the_admins_over_a_weekend(
    world: World,
) -> None:
    world.clock.set(FRIDAY_15H)
    olga = await person(world, "Olga", network=None, role=Role.ORGANISER)
    ada = await admin(world)
    anouk = await person(world, "Anouk")
    await take_theme(olga, "Onderwijs")
    await ask_question(anouk, "Onderwijs", "Is er een brede school in Wyck gepland?")
    await dispatcher(world).dispatch_due()
    policy = world.deps.policy

    async def sweep_at(moment: datetime) -> int:
        world.clock.set(moment)
        written = await sweep_questions(world.db, world.clock, policy)
        await dispatcher(world).dispatch_due()
        return written

    # Monday 15:00: three calendar days, but only one working day.
    assert await sweep_at(FRIDAY_15H + timedelta(days=3)) == 0
    # Tuesday 14:59 not yet; 15:00 two working days: Olga is reminded, once.
    assert await sweep_at(FRIDAY_15H + timedelta(days=4, minutes=-1)) == 0
    assert await sweep_at(FRIDAY_15H + timedelta(days=4)) == 1
    assert "twee werkdagen" in olga.messages[-1].content
    assert labels(olga.messages[-1])[0] == "✍️ Beantwoorden"
    assert await sweep_at(FRIDAY_15H + timedelta(days=4, hours=1)) == 0
    assert not any("werkdagen" in m.content for m in ada.messages)
    # Thursday 15:00: four working days: the admins hear of it.
    assert await sweep_at(FRIDAY_15H + timedelta(days=6)) == 1
    escalation = ada.messages[-1]
    assert "vier werkdagen" in escalation.content and "brede school" in escalation.content
    assert await sweep_at(FRIDAY_15H + timedelta(days=7)) == 0  # once
    # The admin may answer it, though not the contact person of it.
    prompt = await press(ada, escalation, "Beantwoorden").reply()
    assert "Typ je antwoord" in prompt.content
    await ada.ask("Ja, in 2028. Olga vertelt je er meer over.")
    await dispatcher(world).dispatch_due()
    assert "in 2028" in anouk.messages[-1].content
    async with world.db.read() as session:
        kinds = (await session.scalars(select(OutboxMessage.kind))).all()
    assert kinds.count(NotificationKind.QUESTION_REMINDER) == 1
    assert kinds.count(NotificationKind.QUESTION_ESCALATED) == 1


async def test_nobody_reads_or_answers_another_members_question(world: World) -> None:
    olga = await person(world, "Olga", network=None, role=Role.ORGANISER)
    otto = await person(world, "Otto", network=None, role=Role.ORGANISER)  # not its contact
    anouk = await person(world, "Anouk")
    bram = await person(world, "Bram")
    await take_theme(olga, "Wonen")
    await ask_question(anouk, "Wonen", "Mag ik een moestuin op het plein beginnen?")
    await dispatcher(world).dispatch_due()
    notice = olga.messages[-1]
    question = await the_question(world)

    # Olga's own button, replayed by Bram: the signature is Olga's, so it does nothing.
    replayed = notice.reply_markup["inline_keyboard"][0][0]["callback_data"]  # type: ignore[index]
    bram_screen = await bram.ask("/contact")
    refused = await bram.forge_press(bram_screen, replayed).answer()
    assert "moestuin" not in (refused.text or "")
    # Buttons signed for Bram and Otto themselves: the domain refuses them.
    for someone, screen in ((bram, bram_screen), (otto, await otto.ask("/vragenlijst"))):
        for action in ("Qv", "Qa", "Qr", "Qs"):
            data = world.deps.signer.encode(someone.id, action, question.id)
            answer = await someone.forge_press(screen, data).answer()
            assert NOT_ALLOWED in answer.text, (someone, action, answer.text)
        assert not any("moestuin" in m.content for m in someone.messages)
    assert "Er wachten geen vragen" in (await otto.ask("/vragenlijst")).content
    # Anouk can't answer her own question either; Olga can't close or reply to it.
    own = world.deps.signer.encode(anouk.id, "Qa", question.id)
    assert NOT_ALLOWED in (await anouk.forge_press(anouk.messages[-1], own).answer()).text
    for action in ("Qr", "Qs"):
        data = world.deps.signer.encode(olga.id, action, question.id)
        assert NOT_ALLOWED in (await olga.forge_press(notice, data).answer()).text
    after = await the_question(world)
    assert after.status is QuestionStatus.OPEN and after.first_answered_at is None
    async with world.db.read() as session:
        members = (await session.scalars(select(Member.display_name))).all()
    assert "Bram" in members


async def test_response_times_in_the_participation_report(world: World) -> None:
    from models.questions import operations as questions

    olga = await person(world, "Olga", network=None, role=Role.ORGANISER)
    anouk = await person(world, "Anouk")
    start = world.clock()
    async with world.db.transaction() as session:
        wonen = await session.scalar(select(Theme).where(Theme.slug == "wonen"))
        olga_id = await session.scalar(select(Member.id).where(Member.telegram_id == olga.id))
        anouk_id = await session.scalar(select(Member.id).where(Member.telegram_id == anouk.id))
        assert wonen is not None and olga_id is not None and anouk_id is not None
        await questions.take_contact(session, actor_id=olga_id, theme_id=wonen.id, now=start)
    for hours in (1, 3):
        async with world.db.transaction() as session:
            asked = await questions.ask(
                session,
                member_id=anouk_id,
                text="Een vraag over wonen",
                now=start,
                theme_id=wonen.id,
            )
            await questions.answer(
                session,
                actor_id=olga_id,
                question_id=asked.id,
                text="Antwoord",
                now=start + timedelta(hours=hours),
            )
    report = await olga.ask("/deelname")
    shown = await press(olga, report, "Dit jaar").edit()
    assert "Tijd tot een eerste antwoord" in shown.content
    assert "Wonen: 2 vragen, mediaan 2 u, p90 3 u" in shown.content


async def test_privacy_describes_questions_exports_and_forgets_them(world: World) -> None:
    await admin(world)
    anouk = await person(world, "Anouk")
    await ask_question(anouk, "Zonder thema", "Wie beheert het buurthuis?")
    assert "Vragen aan de contactpersonen" in (await anouk.ask("/privacy")).content
    document = await anouk.send("/mijngegevens").reply(lambda m: m.document is not None)
    assert document.document is not None
    assert "Wie beheert het buurthuis?" in document.document.data.decode()
    confirm = await anouk.ask("/vergeetmij")
    await press(anouk, confirm, "Ja, wis").edit()
    async with world.db.read() as session:
        assert (await session.scalars(select(Question))).all() == []  # not answered: gone
