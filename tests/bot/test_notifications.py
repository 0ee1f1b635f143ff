"""Notifications end to end: the dispatcher sends through the real bot, people press the buttons."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.notifications import TelegramDelivery
from models.feedback.entities import Feedback
from models.members.entities import Member
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.registrations.entities import Registration, RegistrationStatus
from models.registrations.operations import cancel
from models.reminders.policy import ReminderPreference
from scheduler.dispatcher import Dispatcher, DispatcherSettings
from tests.bot.conftest import World, labels, press
from tests.bot.test_journey import onboard
from tests.factories import make_event


def dispatcher(world: World) -> Dispatcher:
    delivery = TelegramDelivery(world.application.bot, world.deps.signer)
    return Dispatcher(
        world.db, delivery, world.clock, settings=DispatcherSettings(rate_per_s=0, max_in_flight=1)
    )


async def register_via_bot(world: World, person, title: str):  # type: ignore[no-untyped-def]
    agenda = await person.ask("/agenda")
    card = await press(person, agenda, title).edit()
    await press(person, card, "✅ Aanmelden").edit()


async def test_reminder_with_i_am_coming_and_i_cannot_make_it(world: World):
    event = await make_event(
        world.db, world.clock(), capacity=1, title="Omgevingswet", starts_in=timedelta(days=10)
    )
    anouk, bram = await onboard(world, "Anouk"), await onboard(world, "Bram")
    await register_via_bot(world, anouk, "Omgevingswet")
    card = await press(bram, await bram.ask("/agenda"), "Omgevingswet").edit()
    await press(bram, card, "wachtlijst").edit()

    world.clock.advance(timedelta(days=3, hours=1))  # the 7-day reminder is due
    assert (await dispatcher(world).dispatch_due()).sent == 1
    reminder = anouk.messages[-1]
    assert "⏰ Herinnering" in reminder.content and "Omgevingswet" in reminder.content
    assert "openstreetmap.org" in str(reminder.entities)  # the place, with a map link
    assert "Fijn, tot dan" in (await press(anouk, reminder, "Ik kom").answer()).text

    cannot = press(anouk, reminder, "Ik kan toch niet")
    assert "afgemeld" in (await cannot.answer()).text
    await dispatcher(world).dispatch_due()  # the freed seat is offered to Bram
    offer = bram.messages[-1]
    assert "Er is een plek vrijgekomen" in offer.content
    claimed = press(bram, offer, "Plek claimen")
    assert "van jou" in (await claimed.answer()).text
    async with world.db.read() as session:
        statuses = dict(
            (
                await session.execute(
                    select(Member.display_name, Registration.status)
                    .join(Member, Member.id == Registration.member_id)
                    .where(Registration.event_id == event.id)
                )
            ).all()
        )
    assert statuses == {"Anouk": RegistrationStatus.CANCELLED, "Bram": RegistrationStatus.CONFIRMED}


async def test_feedback_rating_and_comment(world: World):
    event = await make_event(
        world.db, world.clock(), capacity=5, title="ABCD-methodiek", starts_in=timedelta(days=1)
    )
    anouk = await onboard(world, "Anouk")
    await register_via_bot(world, anouk, "ABCD-methodiek")
    world.clock.set(event.ends_at + timedelta(hours=1))
    await dispatcher(world).dispatch_due()
    question = anouk.messages[-1]
    assert "Hoe was" in question.content and labels(question) == ["1", "2", "3", "4", "5"]
    rated = press(anouk, question, "4")
    assert "Dank je wel" in (await rated.answer()).text
    assert "Wil je er nog iets over kwijt?" in (await rated.edit()).content
    thanks = await anouk.ask("Heel nuttig, graag meer over de burgerbegroting!")
    assert "Genoteerd" in thanks.content
    async with world.db.read() as session:
        feedback = await session.scalar(select(Feedback))
    assert feedback is not None and feedback.rating == 4
    assert feedback.comment == "Heel nuttig, graag meer over de burgerbegroting!"
    after = await anouk.ask("hallo")  # later text is not taken as a comment any more
    assert "Genoteerd" not in after.content


async def test_reminder_preference_in_settings_changes_what_is_pending(world: World):
    await make_event(
        world.db, world.clock(), capacity=5, title="Dialoog", starts_in=timedelta(days=10)
    )
    anouk = await onboard(world, "Anouk")
    await register_via_bot(world, anouk, "Dialoog")
    settings = await anouk.ask("/instellingen")
    assert "Herinneringen: Standaard" in settings.content
    choices = await press(anouk, settings, "Herinneringen kiezen").edit()
    saved = press(anouk, choices, "Geen herinneringen")
    assert "Herinneringen: Geen herinneringen" in (await saved.edit()).content
    async with world.db.read() as session:
        member = await session.scalar(select(Member).where(Member.display_name == "Anouk"))
        pending = (
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.kind == NotificationKind.REMINDER,
                    OutboxMessage.status == DeliveryStatus.PENDING,
                )
            )
        ).all()
    assert member is not None and member.reminder_preference is ReminderPreference.NONE
    assert pending == []


async def test_digest_opt_in_and_delivery(world: World):
    from models.reminders.digest import enqueue_digests

    await make_event(
        world.db, world.clock(), capacity=5, title="Opstartsessie", starts_in=timedelta(days=5)
    )
    anouk = await onboard(world, "Anouk")
    settings = await anouk.ask("/instellingen")
    turned_on = await press(anouk, settings, "Weekoverzicht aanzetten").edit()
    assert "Weekoverzicht op maandag: aan" in turned_on.content
    async with world.db.transaction() as session:
        assert (
            await enqueue_digests(session, now=world.clock(), tz=world.deps.policy.reminders.tz)
            == 1
        )
    async with world.db.transaction() as session:  # the same week again: nothing more
        assert (
            await enqueue_digests(session, now=world.clock(), tz=world.deps.policy.reminders.tz)
            == 0
        )
    await dispatcher(world).dispatch_due()
    digest = anouk.messages[-1]
    assert "Deze en volgende week" in digest.content and "Opstartsessie" in digest.content
    assert "nog 5 plaatsen" in digest.content


async def test_an_offer_names_the_weekday_in_full(world: World):
    # The issue: "Hij is voor jou tot zo 6 december" was read as "tot zo" (see you soon).
    event = await make_event(
        world.db, world.clock(), capacity=1, title="Omgevingswet", starts_in=timedelta(days=3)
    )  # Thursday 4 March 2027, 10:00 in Maastricht
    anouk, bram = await onboard(world, "Anouk"), await onboard(world, "Bram")
    await register_via_bot(world, anouk, "Omgevingswet")
    card = await press(bram, await bram.ask("/agenda"), "Omgevingswet").edit()
    await press(bram, card, "wachtlijst").edit()
    world.clock.advance(timedelta(hours=1))  # Monday 1 March, 11:00
    async with world.db.transaction() as session:
        anouk_id = await session.scalar(select(Member.id).where(Member.display_name == "Anouk"))
        assert anouk_id is not None
        await cancel(
            session,
            event_id=event.id,
            member_id=anouk_id,
            now=world.clock(),
            policy=world.deps.policy,
        )
    await dispatcher(world).dispatch_due()
    offer = bram.messages[-1]
    assert "Er is een plek vrijgekomen" in offer.content
    assert "(donderdag 4 maart, 10:00)" in offer.content
    assert "Hij is voor jou tot dinsdag 2 maart, 11:00." in offer.content  # held for 24 hours
    # The card is a list of facts: there the short form is the clearer one.
    bram_card = await press(bram, await bram.ask("/agenda"), "Omgevingswet").edit()
    assert "🗓 do 4 maart, 10:00–12:00" in bram_card.content
    assert "Er staat een plek voor je klaar tot dinsdag 2 maart, 11:00." in bram_card.content
