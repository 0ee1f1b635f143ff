"""The event card offers what the domain allows (``EventOverview.actions``) and nothing else; its
buttons are declared next to their handlers. Through the emulator with the real Application."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from bot import actions, buttons
from emulator import Person
from models.events.entities import Event
from models.members.entities import Member
from models.registrations import operations as registrations
from models.registrations.entities import Registration, RegistrationStatus
from tests.bot.conftest import World, labels, press
from tests.factories import make_event, make_member

S = RegistrationStatus


async def onboard(world: World, name: str) -> Person:
    person = world.person(name)
    await person.start().replies(2)
    search = await person.ask("Wyck")
    await press(person, search, "Wyck").edit()
    return person


async def register(world: World, name: str, event: Event) -> None:
    async with world.db.transaction() as session:
        member_id = await session.scalar(select(Member.id).where(Member.display_name == name))
        assert member_id is not None
        await registrations.register(
            session,
            event_id=event.id,
            member_id=member_id,
            now=world.clock(),
            policy=world.deps.policy,
        )


async def test_past_the_deadline_a_registered_member_can_cancel_but_not_bring_anyone(
    world: World,
):
    event = await make_event(
        world.db,
        world.clock(),
        capacity=10,
        title="Omgevingswet",
        registration_deadline=world.clock() + timedelta(days=1),
    )
    anouk = await onboard(world, "Anouk")
    await register(world, "Anouk", event)
    world.clock.advance(timedelta(days=2))
    card = await press(anouk, await anouk.ask("/agenda"), "Omgevingswet").edit()
    assert "De aanmelding is gesloten." not in card.content  # she is in
    assert labels(card) == ["📅 In mijn agenda", "◀ Agenda", "Afmelden"]


async def test_an_offer_past_its_deadline_can_only_be_let_go(world: World):
    event = await make_event(world.db, world.clock(), capacity=1, title="Omgevingswet")
    anouk = await onboard(world, "Anouk")
    await make_member(world.db, name="Bram")
    await register(world, "Bram", event)
    await register(world, "Anouk", event)  # the waitlist
    async with world.db.transaction() as session:
        bram = await session.scalar(select(Member.id).where(Member.display_name == "Bram"))
        assert bram is not None
        await registrations.cancel(
            session, event_id=event.id, member_id=bram, now=world.clock(), policy=world.deps.policy
        )
    card = await press(anouk, await anouk.ask("/agenda"), "Omgevingswet").edit()
    assert labels(card)[:2] == ["🎟 Plek claimen", "Laat maar"]

    async with world.db.read() as session:
        offered = await session.scalar(select(Registration).where(Registration.status == S.OFFERED))
    assert offered is not None and offered.offer_expires_at is not None
    world.clock.set(offered.offer_expires_at + timedelta(seconds=1))
    card = await press(anouk, await anouk.ask("/agenda"), "Omgevingswet").edit()
    assert labels(card) == ["Laat maar", "📅 In mijn agenda", "◀ Agenda"]


async def test_a_refused_tap_on_an_event_that_is_gone_leaves_the_reason_on_the_card(
    world: World,
):
    event = await make_event(world.db, world.clock(), capacity=10, title="Omgevingswet")
    anouk = await onboard(world, "Anouk")
    card = await press(anouk, await anouk.ask("/agenda"), "Omgevingswet").edit()
    async with world.db.transaction() as session:
        await session.execute(delete(Event).where(Event.id == event.id))
    world.clock.advance(timedelta(seconds=2))
    tapped = press(anouk, card, "✅ Aanmelden")
    assert "kon ik niet vinden" in (await tapped.answer()).text
    gone = await tapped.edit()
    assert "kon ik niet vinden" in gone.content and labels(gone) == []


def test_the_card_buttons_are_declared_next_to_their_handlers() -> None:
    from bot.handlers import agenda, calendar, mine, privacy, settings

    declared = {
        "ag": agenda.show_agenda,
        "ev": agenda.on_open,
        "rg": agenda.on_register,
        "wl": agenda.on_waitlist,
        "cq": agenda.on_cancel_asked,
        "cx": agenda.on_cancel,
        "ps": agenda.on_party_size,
        "cl": agenda.on_claim,
        "dc": agenda.on_decline,
        "ic": calendar.on_calendar_file,
        "zf": calendar.show_feed,
        "zn": calendar.on_new_feed_link,
        "my": mine.show_mine,
        "st": settings.show_settings,
        "rq": settings.ask_reminders,
        "rp": settings.on_reminder_preference,
        "dg": settings.on_digest,
        "pv": privacy.show_privacy,
        "dx": privacy.send_my_data,
        "fq": privacy.ask_forget,
        "fy": privacy.on_forget_confirmed,
        "fn": privacy.on_forget_declined,
    }
    for code, handler in declared.items():
        assert actions.REGISTRY[code].handler is handler, code
    assert not hasattr(buttons, "ACTIONS")  # no second table: every button is declared
    changing = {code for code, a in actions.REGISTRY.items() if a.changes_registration}
    assert changing == {"rg", "wl", "ps", "cx", "cl", "dc"}
    # Each of them asks before it changes anything when tapped too soon.
    assert {actions.code_of(handler) for handler in agenda.QUESTIONS} == changing
