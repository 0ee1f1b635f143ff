"""Attendee lists, check-in and participation through the bot, end to end via the emulator."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select, update

from bot.flood import FloodGuard
from emulator import Message, Person
from models.events.entities import Event
from models.members.entities import Affiliation, Member, Role
from models.organisers.entities import AuditEntry
from models.registrations import operations as ops
from models.registrations.entities import Registration, RegistrationStatus
from tests.bot.conftest import World, labels, press
from tests.factories import make_event, make_member

S = RegistrationStatus
PNG = b"\x89PNG\r\n\x1a\n"


async def onboard(world: World, name: str, network_part: str = "Wyck") -> Person:
    person = world.person(name)
    await person.start().replies(2)  # the welcome and the network question
    search = await person.ask(network_part)
    await press(person, search, network_part).answer()
    return person


async def member_of(world: World, person: Person) -> Member:
    async with world.db.read() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == person.id))
    assert member is not None
    return member


async def organiser(world: World, name: str = "Olga") -> Person:
    person = await onboard(world, name, "Amby")
    async with world.db.transaction() as session:
        await session.execute(
            update(Member).where(Member.telegram_id == person.id).values(role=Role.ORGANISER)
        )
    return person


async def register(world: World, event: Event, member: Member, party_size: int = 1) -> int:
    async with world.db.transaction() as session:
        outcome = await ops.register(
            session,
            event_id=event.id,
            member_id=member.id,
            now=world.clock(),
            policy=world.deps.policy,
            party_size=party_size,
        )
    return outcome.registration.id


async def statuses(world: World, event: Event) -> dict[int, RegistrationStatus]:
    async with world.db.read() as session:
        rows = await session.execute(
            select(Registration.id, Registration.status).where(Registration.event_id == event.id)
        )
    return dict(rows.all())  # type: ignore[arg-type]


async def stored_code(world: World, event: Event) -> str | None:
    async with world.db.read() as session:
        return await session.scalar(select(Event.check_in_code).where(Event.id == event.id))


def has_pre(message: Message) -> bool:
    return any(entity.type == "pre" for entity in message.entities)


async def test_list_csv_check_in_and_closing(world: World):
    event = await make_event(
        world.db, world.clock(), capacity=4, title="Omgevingswet", starts_in=timedelta(days=2)
    )
    olga = await organiser(world)
    anouk = await onboard(world, "Anouk")
    bram = await make_member(world.db, name="Bram", network="amby")
    dirk = await make_member(world.db, name="Dirk", network="amby")
    cor = await make_member(world.db, name="Cor", network=None, affiliation=Affiliation.BEWONER)
    await register(world, event, await member_of(world, anouk), party_size=2)
    bram_id = await register(world, event, bram)
    await register(world, event, dirk)
    await register(world, event, cor)  # full: the waitlist

    picker = await olga.ask("/deelnemers")
    assert "Van welke bijeenkomst?" in picker.content
    listing = await press(olga, picker, "Omgevingswet").edit()
    text = listing.content
    assert "Deelnemers · Omgevingswet" in text
    assert "4 personen aangemeld · 3 aanmeldingen" in text
    assert "⏳ 1 op de wachtlijst" in text
    assert text.index("Amby · 2") < text.index("Wyck · 2")  # networks by name
    assert "• Bram" in text and "• Anouk +1" in text
    assert "1. Cor · Bewoner, zonder netwerk" in text
    assert labels(listing) == ["📄 CSV", "🔄 Vernieuwen", "◀ Terug"]  # too early to check in

    document = await press(olga, listing, "📄 CSV").reply(lambda m: m.document is not None)
    assert document.document is not None
    assert (
        document.document.file_name
        == f"deelnemers-{event.starts_at.date()}-{event.public_code}.csv"
    )
    rows = document.document.data.decode("utf-8-sig").split("\r\n")
    assert rows[0] == "Naam;Netwerk of rol;Status;Personen;Plek op wachtlijst"
    assert rows[1:] == [
        "Bram;Amby;aangemeld;1;",
        "Dirk;Amby;aangemeld;1;",
        "Anouk;Wyck;aangemeld;2;",
        "Cor;Bewoner, zonder netwerk;wachtlijst;1;1",
        "",
    ]

    # Half an hour before the start: check-in opens.
    world.clock.set(event.starts_at - timedelta(minutes=30))
    listing = await press(olga, listing, "Vernieuwen").edit()
    assert "✅ Inchecken" in labels(listing) and "🔢 Code voor de zaal" in labels(listing)
    code_card = await press(olga, listing, "Code voor de zaal").edit()
    code = await stored_code(world, event)
    assert code is not None and " ".join(code) in code_card.content
    picture = await press(olga, code_card, "Groot in beeld").reply(lambda m: bool(m.photo))
    assert picture.photo[-1].data.startswith(PNG)
    assert "/ikbenerbij" in picture.content

    # Anouk types the code shown at the venue: a wrong one first.
    question = await anouk.ask("/ikbenerbij")
    assert "Typ de code die in de zaal wordt getoond" in question.content
    assert "Stop" in labels(question)
    wrong = await anouk.ask("QQQQ")
    assert "Die code ken ik niet" in wrong.content
    welcome = await anouk.ask(f" {code.lower()} ")
    assert "Welkom! Je bent ingecheckt." in welcome.content and "Omgevingswet" in welcome.content
    afterwards = await anouk.ask("hallo")  # no longer waiting for a code
    assert "Ik begrijp niet goed" in afterwards.content

    # Olga taps names: Bram in, out (a mistake), in again; Dirk does not come.
    listing = await press(olga, code_card, "◀ Terug").edit()
    page = await press(olga, listing, "✅ Inchecken").edit()
    assert "2 van de 4 binnen." in page.content
    assert {"✅ Anouk +1", "⬜ Bram", "⬜ Dirk"} <= set(labels(page))
    tapped = press(olga, page, "⬜ Bram")
    assert "Ingecheckt" in (await tapped.answer()).text
    page = await tapped.edit()
    assert "✅ Bram" in labels(page)
    page = await press(olga, page, "✅ Bram").edit()
    assert "⬜ Bram" in labels(page)
    assert (await statuses(world, event))[bram_id] is S.NO_SHOW
    page = await press(olga, page, "⬜ Bram").edit()
    assert "✅ Bram" in labels(page)

    # After the end: "Afronden" records Dirk as not come.
    world.clock.set(event.ends_at + timedelta(minutes=10))
    listing = await press(olga, page, "◀ Terug").edit()
    assert "🔢 Code voor de zaal" not in labels(listing)
    confirm = await press(olga, listing, "Afronden").edit()
    assert "1 aanmelding is niet ingecheckt" in confirm.content
    closed = press(olga, confirm, "Ja, afronden")
    assert "Afgerond: 3 aanwezig, 1 niet gekomen." in (await closed.answer()).text
    listing = await closed.edit()
    assert "• Dirk ❌" in listing.content and "• Bram ✅" in listing.content
    assert "Afronden" not in labels(listing)
    assert sorted((await statuses(world, event)).values()) == sorted(
        [S.ATTENDED, S.ATTENDED, S.NO_SHOW, S.WAITLISTED]
    )


async def test_check_in_refusals(world: World):
    event = await make_event(
        world.db, world.clock(), capacity=1, title="Dialoog", starts_in=timedelta(days=1)
    )
    olga = await organiser(world)
    anouk = await onboard(world, "Anouk")
    bram = await onboard(world, "Bram")
    await register(world, event, await member_of(world, anouk))
    await register(world, event, await member_of(world, bram))  # waitlisted

    nothing = await anouk.ask("/ikbenerbij K7P2")  # no event has a code yet
    assert "Die code ken ik niet" in nothing.content

    world.clock.set(event.starts_at)
    listing = await press(olga, await olga.ask("/deelnemers"), "Dialoog").edit()
    await press(olga, listing, "Code voor de zaal").edit()
    code = await stored_code(world, event)
    assert code is not None
    refused = await bram.ask(f"/ikbenerbij {code}")
    assert "Je staat niet op de deelnemerslijst" in refused.content

    # Stop: the next message is an ordinary one again.
    question = await anouk.ask("/ikbenerbij")
    stopped = await press(anouk, question, "Stop").edit()
    assert "we laten het even" in stopped.content
    assert "Ik begrijp niet goed" in (await anouk.ask(code)).content
    # Asked too long ago: the same.
    await anouk.ask("/ikbenerbij")
    world.clock.advance(timedelta(minutes=20))
    assert "Ik begrijp niet goed" in (await anouk.ask(code)).content

    world.clock.set(event.ends_at)
    late = await anouk.ask(f"/ikbenerbij {code}")
    assert "al afgelopen" in late.content
    assert set((await statuses(world, event)).values()) == {S.CONFIRMED, S.WAITLISTED}


async def test_participation_table_csv_and_chart(world: World):
    olga = await organiser(world)
    event = await make_event(
        world.db, world.clock(), capacity=10, title="Masterclass", starts_in=timedelta(days=2)
    )
    anna = await make_member(world.db, name="Anna", network="wyck")
    bob = await make_member(world.db, name="Bob", network="wyck")
    eva = await make_member(world.db, name="Eva", network=None, affiliation=Affiliation.RAADSLID)
    anna_id = await register(world, event, anna, party_size=2)
    await register(world, event, bob)
    await register(world, event, eva)
    world.clock.set(event.starts_at)
    async with world.db.transaction() as session:
        await ops.record_attendance(
            session,
            registration_id=anna_id,
            actor_id=(await member_of(world, olga)).id,
            attended=True,
            now=world.clock(),
            policy=world.deps.policy,
        )

    question = await olga.ask("/deelname")
    assert labels(question) == ["Dit jaar", "Vorig jaar", "Laatste 12 maanden"]
    report = await press(olga, question, "Dit jaar").edit()
    assert has_pre(report)
    lines = report.content.split("\n")
    assert next(line for line in lines if line.startswith("Wyck")).split() == ["Wyck", "3", "2"]
    assert next(line for line in lines if line.startswith("Raadslid")).split()[1:] == ["1", "0"]
    assert next(line for line in lines if line.startswith("Totaal")).split() == ["Totaal", "4", "2"]
    assert "1 jan 2027 – 31 dec 2027" in report.content
    assert "Nog niet meegedaan:" in report.content and "Belfort-Daalhof" in report.content
    assert "Wyck," not in report.content.split("Nog niet meegedaan:")[1]

    document = await press(olga, report, "📄 CSV").reply(lambda m: m.document is not None)
    assert document.document is not None
    assert document.document.file_name == "deelname-2027-01-01-2027-12-31.csv"
    csv_rows = document.document.data.decode("utf-8-sig").split("\r\n")
    assert "Wyck;buurtnetwerk;3;2;0;0;0;0;0;0;3;2" in csv_rows

    chart = await press(olga, report, "📊 Grafiek").reply(lambda m: bool(m.photo))
    data = chart.photo[-1].data
    assert data.startswith(PNG)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.width <= 1000

    other = await press(olga, report, "Andere periode").edit()
    last_year = await press(olga, other, "Vorig jaar").edit()
    assert "In deze periode heeft niemand zich aangemeld." in last_year.content


async def test_members_reach_no_organiser_function(world: World):
    event = await make_event(
        world.db, world.clock(), capacity=10, title="Omgevingswet", starts_in=timedelta(days=1)
    )
    mia = await onboard(world, "Mia")
    anna = await make_member(world.db, name="Anna", network="wyck")
    registration_id = await register(world, event, anna)
    await register(world, event, await member_of(world, mia))
    world.clock.set(event.starts_at)  # check-in is open: a forged button could do harm now
    world.deps.flood = FloodGuard(limit=100)  # many presses in a row, on purpose

    for command in ("/deelnemers", "/deelname"):
        assert f"Met {command} " in (await mia.ask(command)).content
    message = mia.last
    assert message is not None
    code = event.public_code
    forged = [
        ("CE",),
        ("CE", 0),
        ("CL", code),
        ("CC", code),
        ("CI", code, 0),
        ("CT", code, registration_id, 0),
        ("CK", code),
        ("CB", code),
        ("CF", code),
        ("CY", code),
        ("CQ",),
        ("CP", "year"),
        ("CR", "12m"),
        ("CG", "last_year"),
        ("CL", "gone0000"),  # an event that does not exist: the same answer
    ]
    for action, *args in forged:
        data = world.deps.signer.encode(mia.id, action, *args)
        answer = await mia.forge_press(message, data).answer()
        assert "Dat mag je helaas niet doen." in answer.text, (action, answer.text)
    bad_period = world.deps.signer.encode(mia.id, "CP", "ooit")
    assert "werkt niet" in (await mia.forge_press(message, bad_period).answer()).text

    assert await stored_code(world, event) is None
    assert set((await statuses(world, event)).values()) == {S.CONFIRMED}
    async with world.db.read() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert set(actions) <= {"event.create"}  # the test's own event, nothing by Mia
    assert not any(m.document or m.photo for m in mia.messages)
    # The member's own check-in still works, with the code the organisers show.
    assert "Die code ken ik niet" in (await mia.ask("/ikbenerbij ABCD")).content
