"""The programme's flows are dialogs in the database (bot/dialogs.py), through the real bot and
the emulator: /nieuw survives a restart of the service, two instances on one database take turns
at one organiser's /nieuw, and a command or another feature's button ends it with a word."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from emulator import Limits, Message, Person, TelegramEmulator, serve
from models.clock import FrozenClock
from models.db import Database
from models.dialogs.operations import stored_dialog
from models.events.entities import Event, EventKind, EventStatus
from models.events.operations import EventDraft, cancel_event
from models.events.proposals import approve_proposal, propose_exchange_session
from models.members.entities import Affiliation, Member, Role
from models.members.operations import ensure_member, set_affiliation
from models.themes.operations import event_themes_of
from tests.bot.conftest import World, labels, press
from tests.dialogs.test_dialogs_bot import answering, service
from tests.factories import make_event, make_member
from tests.organisers.test_programme_bot import (
    events,
    person_with_role,
    programme_card,
    start_new_event,
    world,
)

__all__ = ["world"]  # the fixture, with sending paced for a whole conversation

AMS = ZoneInfo("Europe/Amsterdam")
ENDED = "Je nieuwe bijeenkomst is gestopt; er is niets opgeslagen."


async def organiser(db: Database, person: Person) -> Member:
    async with db.transaction() as session:
        member, _ = await ensure_member(session, telegram_id=person.id, display_name="Olga")
        member.role = Role.ORGANISER
        await set_affiliation(session, member_id=member.id, affiliation=Affiliation.TRAJEKT)
    return member


async def tap(person: Person, message: Message, label: str) -> Message:
    return await press(person, message, label).edit()


async def the_event(db: Database) -> Event:
    async with db.read() as session:
        [event] = (await session.scalars(select(Event))).all()
    return event


async def test_a_new_event_half_typed_before_a_restart_is_published_after_it(
    db: Database, clock: FrozenClock
) -> None:
    emulator = TelegramEmulator(limits=Limits().scaled(10))
    olga = emulator.user("Olga")
    member = await organiser(db, olga)
    async with serve(emulator) as api_url:
        async with service(db.url, emulator, api_url, clock) as before, answering(before):
            kinds = await olga.ask("/nieuw")
            await tap(olga, kinds, "Dialoog")
            await olga.ask("Dialoog over de wijkbudgetten")
            end = await olga.ask("12 maart 19:30")
            assert "Hoe lang duurt het?" in end.content
        async with db.read() as session:
            kept = await stored_dialog(session, member_id=member.id)
        assert kept is not None and (kept.flow, kept.step) == ("new_event", "end")
        # The service stops and starts again: nothing of the first one's memory is left.
        async with service(db.url, emulator, api_url, clock) as after, answering(after):
            place = await tap(olga, end, "2 uur")  # a button the first instance sent
            assert "Waar is het?" in place.content
            capacity = await olga.ask("Stadhuis, Markt 78")
            deadline = await tap(olga, capacity, "40")
            fair = await tap(olga, deadline, "2 dagen vooraf")
            release = await tap(olga, fair, "3")
            speakers = await tap(olga, release, "1 week vooraf")
            await olga.ask("Sanne Peters (gemeente)")
            themes = await olga.ask("Wat de buurten met hun budget doen.")
            themes = await tap(olga, themes, "▫️ Burgerbegroting")
            preview = await tap(olga, themes, "Verder")
            assert "Dialoog over de wijkbudgetten" in preview.content
            card = await tap(olga, preview, "Publiceren")
            assert "Gepubliceerd!" in card.content
            del speakers
    event = await the_event(db)
    assert event.status is EventStatus.PUBLISHED and event.kind is EventKind.DIALOOG
    assert event.title == "Dialoog over de wijkbudgetten"
    async with db.read() as session:  # the theme ticked after the restart went with it
        assert [t.slug for t in await event_themes_of(session, event.id)] == ["burgerbegroting"]
    assert event.starts_at == datetime(2027, 3, 12, 19, 30, tzinfo=AMS)
    assert event.ends_at == datetime(2027, 3, 12, 21, 30, tzinfo=AMS)
    assert event.location == "Stadhuis, Markt 78" and event.capacity == 40
    assert event.registration_deadline == datetime(2027, 3, 10, 19, 30, tzinfo=AMS)
    assert event.fair_share_per_network == 3
    assert event.fair_share_until == datetime(2027, 3, 5, 19, 30, tzinfo=AMS)
    assert event.speakers == "Sanne Peters (gemeente)"
    assert event.description == "Wat de buurten met hun budget doen."
    async with db.read() as session:
        assert await stored_dialog(session, member_id=member.id) is None


async def test_two_instances_take_turns_at_one_organisers_new_event(
    db: Database, clock: FrozenClock
) -> None:
    emulator = TelegramEmulator(limits=Limits().scaled(10))
    olga = emulator.user("Olga")
    await organiser(db, olga)
    async with (
        serve(emulator) as api_url,
        service(db.url, emulator, api_url, clock) as first,
        service(db.url, emulator, api_url, clock) as second,
    ):
        async with answering(first):
            kinds = await olga.ask("/nieuw")
            title = await tap(olga, kinds, "Masterclass")
        async with answering(second):  # the load balancer sends the answer elsewhere
            moment = await olga.ask("Omgevingswet in de buurt")
            assert "stap 3 van 11" in moment.content
        async with answering(first):  # which still keeps Olga, read a moment ago
            stale = press(olga, title, "✖ Stop")  # a button of the step before
            assert "eerdere vraag" in (await stale.answer()).text
            end = await olga.ask("volgende week donderdag 20:00")
        async with answering(second):
            place = await tap(olga, end, "1,5 uur")
            link = await tap(olga, place, "Online")
        async with answering(first):
            capacity = await olga.ask("meet.jit.si/buurtnetwerken")
            deadline = await tap(olga, capacity, "Geen maximum")
        async with answering(second):
            fair = await tap(olga, deadline, "Geen")
            speakers = await tap(olga, fair, "Geen")
        async with answering(first):
            description = await tap(olga, speakers, "Overslaan")
            themes = await tap(olga, description, "Overslaan")
            preview = await tap(olga, themes, "Overslaan")  # no themes
        async with answering(second):
            card = await tap(olga, preview, "Bewaren als concept")
            assert "Bewaard als concept" in card.content
        del link
    event = await the_event(db)
    assert event.status is EventStatus.DRAFT and event.kind is EventKind.MASTERCLASS
    assert event.title == "Omgevingswet in de buurt"
    assert event.starts_at == datetime(2027, 3, 11, 20, tzinfo=AMS)
    assert event.ends_at == datetime(2027, 3, 11, 21, 30, tzinfo=AMS)
    assert event.online_url == "https://meet.jit.si/buurtnetwerken" and event.location is None
    assert event.capacity is None and event.registration_deadline is None


async def test_a_command_or_another_features_button_ends_a_new_event_with_a_word(
    world: World,
) -> None:
    await make_event(world.db, world.clock(), title="Buurtbudget")
    olga = await person_with_role(world, "Olga")

    # A command in between: /nieuw ends, with a word, and the next text is just text.
    await start_new_event(world, olga)
    ended, agenda = await olga.send("/agenda").replies(2)
    assert ended.content == ENDED
    assert "Buurtbudget" in " ".join(labels(agenda))
    assert "Ik begrijp niet goed" in (await olga.ask("12 maart 19:30")).content

    # A button of another feature (an event's card in the agenda): the same.
    await start_new_event(world, olga)
    card = press(olga, agenda, "Buurtbudget")
    assert (await card.reply()).content == ENDED
    assert "Buurtbudget" in (await card.edit()).content
    assert "Ik begrijp niet goed" in (await olga.ask("12 maart 19:30")).content

    # /nieuw itself starts afresh, without a word.
    moment = await start_new_event(world, olga)
    kinds = await olga.ask("/nieuw")
    assert "Wat voor bijeenkomst" in kinds.content
    assert [event.title for event in await events(world)] == ["Buurtbudget"]
    del moment


async def test_a_stale_card_refuses_with_a_toast_and_begins_nothing(world: World) -> None:
    """Buttons of a card that is out of date: the refusal as a toast (bot/errors.py), and no
    question is asked, so what is typed next is ordinary text."""
    event = await make_event(world.db, world.clock(), title="Buurtbudget")
    bea = await make_member(world.db, name="Bea", network="wyck")
    async with world.db.transaction() as session:
        proposal = await propose_exchange_session(
            session,
            member_id=bea.id,
            draft=EventDraft(
                kind=EventKind.UITWISSELING,
                title="Samen de straat vergroenen",
                starts_at=event.starts_at,
                ends_at=event.ends_at,
            ),
            now=world.clock(),
        )
    olga = await person_with_role(world, "Olga")
    card = await programme_card(olga, "Buurtbudget")
    proposal_card = await programme_card(olga, "Samen de straat")
    async with world.db.transaction() as session:
        organiser_id = await session.scalar(select(Member.id).where(Member.telegram_id == olga.id))
        assert organiser_id is not None
        await cancel_event(
            session, event_id=event.id, actor_id=organiser_id, reason="Ziek", now=world.clock()
        )
        await approve_proposal(
            session, actor_id=organiser_id, event_id=proposal.id, now=world.clock()
        )
    for message, label, refusal in (
        (card, "Verplaatsen", "Deze bijeenkomst is geannuleerd; er valt niets meer te wijzigen."),
        (card, "Annuleren", "Deze bijeenkomst is geannuleerd; er valt niets meer te wijzigen."),
        (proposal_card, "Afwijzen", "Over dit voorstel is al besloten."),
    ):
        assert (await press(olga, message, label).answer()).text == refusal, label
        assert "Ik begrijp niet goed" in (await olga.ask("Nieuwe titel")).content
