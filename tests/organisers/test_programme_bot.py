"""Organisers make and keep the programme by conversation, end to end through the emulator:
/nieuw, /programma and the admin card, /reeks, and board members' /voorstel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import build_application
from bot.callbacks import CallbackSigner
from bot.context import BotDeps
from bot.flood import FloodGuard
from bot.ratelimit import SendRates
from emulator import Limits, Message, Person, TelegramEmulator, serve
from emulator.testing import polling
from models.clock import FrozenClock
from models.db import Database
from models.events.entities import Event, EventKind, EventStatus
from models.members.entities import Affiliation, Language, Role
from models.members.operations import ensure_member, set_affiliation
from models.organisers.entities import AuditEntry
from models.outbox.entities import NotificationKind, OutboxMessage
from models.registrations import operations as registrations
from models.registrations.policy import RegistrationPolicy
from tests.bot.conftest import World, buttons, labels, press
from tests.factories import make_event, make_member, network_id

AMS = ZoneInfo("Europe/Amsterdam")
START_QUESTION = "Wanneer begint het?"


@pytest.fixture
async def world(sqlite_db: Database, clock: FrozenClock) -> AsyncIterator[World]:
    """As tests/bot's world, with sending paced ten times faster (as the emulator's limits) and
    no flood guard: a whole conversation is more than 20 messages in 10 seconds."""
    emulator = TelegramEmulator(limits=Limits().scaled(10))
    async with serve(emulator) as url:
        deps = BotDeps(
            database=sqlite_db,
            clock=clock,
            policy=RegistrationPolicy(),
            signer=CallbackSigner(emulator.token),
            flood=FloodGuard(limit=10_000),
        )
        application = build_application(
            deps, token=emulator.token, base_url=url, rates=SendRates().scaled(10)
        )
        async with polling(application, poll_timeout=1):
            yield World(emulator, deps, sqlite_db, clock, application)


async def person_with_role(
    world: World,
    name: str,
    *,
    role: Role = Role.ORGANISER,
    network: str | None = None,
    onboarded: bool = True,
) -> Person:
    person = world.person(name)
    async with world.db.transaction() as session:
        member, _ = await ensure_member(
            session, telegram_id=person.id, display_name=name, language=Language.NL
        )
        member.role = role
        if onboarded:
            net = await network_id(world.db, network) if network else None
            await set_affiliation(
                session,
                member_id=member.id,
                affiliation=Affiliation.BUURTNETWERK if net else Affiliation.TRAJEKT,
                network_id=net,
            )
    return person


async def events(world: World) -> list[Event]:
    async with world.db.read() as session:
        return list((await session.scalars(select(Event).order_by(Event.id))).all())


async def count(world: World, model: Any, *conditions: Any) -> int:
    async with world.db.read() as session:
        return int(
            await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
        )


async def tap(person: Person, message: Message, label: str) -> Message:
    """Press a button whose answer edits the message in place."""
    return await press(person, message, label).edit()


async def start_new_event(world: World, person: Person) -> Message:
    """/nieuw, a masterclass, a title: the moment question."""
    kinds = await person.ask("/nieuw")
    assert "Wat voor bijeenkomst" in kinds.content
    title_question = await tap(person, kinds, "Masterclass")
    assert "Wat is de titel?" in title_question.content
    moment = await person.ask("Omgevingswet in de buurt")
    assert START_QUESTION in moment.content
    return moment


async def test_a_new_event_from_typed_dutch_answers_to_published(world: World) -> None:
    olga = await person_with_role(world, "Olga")
    kinds = await olga.ask("/nieuw")
    assert len([label for label in labels(kinds) if label not in ("◀ Terug", "✖ Stop")]) == 4
    assert labels(kinds)[-2:] == ["◀ Terug", "✖ Stop"]
    title_question = await tap(olga, kinds, "Masterclass")
    moment = await olga.ask("Omgevingswet in de buurt")
    assert "stap 3 van 11" in moment.content
    end = await olga.ask("12 maart 19:30")
    assert "Hoe lang duurt het?" in end.content
    place = await olga.ask("tot 21:30")
    assert "Waar is het?" in place.content
    capacity = await olga.ask("Buurtcentrum Wyck, Rechtstraat 12")
    assert labels(capacity)[:5] == ["20", "30", "40", "60", "Geen maximum"]
    deadline = await tap(olga, capacity, "40")
    assert "Tot wanneer" in deadline.content
    fair = await tap(olga, deadline, "2 dagen vooraf")
    assert "Eerlijke verdeling" in fair.content
    release = await tap(olga, fair, "3")
    assert "1 week vooraf" in labels(release)
    speakers = await tap(olga, release, "1 week vooraf")
    assert "Wie spreken" in speakers.content
    description = await olga.ask("Sanne Peters (gemeente)")
    themes = await olga.ask("Wat verandert er voor buurtnetwerken?")
    assert "Over welke thema's gaat het?" in themes.content
    preview = await tap(olga, themes, "Overslaan")
    assert "Klopt alles?" in preview.content
    for expected in (
        "Omgevingswet in de buurt",
        "vr 12 maart, 19:30–21:30",
        "Buurtcentrum Wyck, Rechtstraat 12",
        "Sanne Peters (gemeente)",
        "Nog 40 plaatsen vrij van de 40.",
        "Aanmelden kan tot woensdag 10 maart, 19:30.",
        "Hoogstens 3 plaatsen per netwerk tot vrijdag 5 maart, 19:30",
    ):
        assert expected in preview.content, expected
    assert await count(world, Event) == 0  # nothing is stored before the organiser says so
    assert {"📣 Publiceren", "💾 Bewaren als concept", "✏️ Wijzigen"} <= set(labels(preview))

    card = await tap(olga, preview, "Publiceren")
    assert "Gepubliceerd!" in card.content and "✅ Gepubliceerd" in card.content
    assert "Verplaatsen" in " ".join(labels(card)) and "👥 Deelnemers" in labels(card)
    [event] = await events(world)
    assert event.status is EventStatus.PUBLISHED and event.kind is EventKind.MASTERCLASS
    assert event.title == "Omgevingswet in de buurt"
    assert event.starts_at == datetime(2027, 3, 12, 19, 30, tzinfo=AMS)
    assert event.ends_at == datetime(2027, 3, 12, 21, 30, tzinfo=AMS)
    assert event.location == "Buurtcentrum Wyck, Rechtstraat 12" and event.online_url is None
    assert event.capacity == 40 and event.fair_share_per_network == 3
    assert event.registration_deadline == datetime(2027, 3, 10, 19, 30, tzinfo=AMS)
    assert event.fair_share_until == datetime(2027, 3, 5, 19, 30, tzinfo=AMS)
    assert event.speakers == "Sanne Peters (gemeente)"
    assert event.description == "Wat verandert er voor buurtnetwerken?"
    assert await count(world, AuditEntry, AuditEntry.action == "event.create") == 1
    del title_question, description

    # Volunteers see it in /agenda.
    anouk = await person_with_role(world, "Anouk", role=Role.MEMBER, network="wyck")
    agenda = await anouk.ask("/agenda")
    assert "Omgevingswet in de buurt" in agenda.content


async def test_online_without_limits_kept_as_a_draft_then_published_from_its_card(
    world: World,
) -> None:
    olga = await person_with_role(world, "Olga")
    moment = await start_new_event(world, olga)
    await olga.ask("volgende week donderdag 20:00")
    place = await olga.ask("90 min")
    link = await tap(olga, place, "Online")
    assert "link" in link.content
    refused = await olga.ask("niet bekend")
    assert "Een online link begint met https://" in refused.content
    capacity = await olga.ask("meet.jit.si/buurtnetwerken")
    deadline = await tap(olga, capacity, "Geen maximum")
    fair = await tap(olga, deadline, "Geen")
    speakers = await tap(olga, fair, "Geen")
    description = await tap(olga, speakers, "Overslaan")
    themes = await tap(olga, description, "Overslaan")
    preview = await tap(olga, themes, "Overslaan")  # no themes
    assert "do 11 maart, 20:00–21:30" in preview.content
    assert "Online meedoen" in preview.content
    assert "Iedereen is welkom; er is geen maximum." in preview.content
    card = await tap(olga, preview, "Bewaren als concept")
    assert "Bewaard als concept" in card.content and "📝 Concept" in card.content
    [event] = await events(world)
    assert event.status is EventStatus.DRAFT
    assert event.online_url == "https://meet.jit.si/buurtnetwerken" and event.location is None
    assert event.capacity is None and event.registration_deadline is None

    published = await tap(olga, card, "Publiceren")
    assert "Gepubliceerd!" in published.content
    [event] = await events(world)
    assert event.status is EventStatus.PUBLISHED
    del moment


async def test_bad_moments_are_explained_and_asked_again(world: World) -> None:
    olga = await person_with_role(world, "Olga")
    await start_new_event(world, olga)
    for typed, reason in (
        ("31-2-2027 19:30", "Die datum bestaat niet: 31-2-2027"),
        ("12-3-2026 19:30", "Dat moment is al voorbij"),
        ("vandaag 08:00", "Dat moment is al voorbij"),
        ("blabla", "Dat begrijp ik niet als datum en tijd"),
        ("12 maart", "Hoe laat?"),
        ("do 12 maart 19:30", "De dag klopt niet bij de datum"),
        ("28-3-2027 02:30", "gaat de klok een uur vooruit"),
    ):
        answer = await olga.ask(typed)
        assert reason in answer.content, (typed, answer.content)
        assert START_QUESTION in answer.content  # the same step again
        assert answer.content.startswith("⚠️")
    end = await olga.ask("12 maart 19:30")
    assert "Hoe lang duurt het?" in end.content
    again = await olga.ask("tot 19:00")
    assert "Het einde ligt vóór het begin" in again.content and "Hoe lang" in again.content
    place = await olga.ask("2 uur")
    assert "Waar is het?" in place.content
    capacity = await olga.ask("Stadhuis")
    refused = await olga.ask("0")
    assert "Dat aantal kan niet" in refused.content
    assert await count(world, Event) == 0
    del capacity


async def test_back_at_several_steps_and_typed_back(world: World) -> None:
    olga = await person_with_role(world, "Olga")
    moment = await start_new_event(world, olga)
    title_again = await tap(olga, moment, "◀ Terug")  # a button: the message is edited
    assert "Wat is de titel?" in title_again.content
    moment = await olga.ask("Omgevingswet in de buurt")
    old = press(olga, title_again, "✖ Stop")  # a button of an earlier question does nothing
    assert "eerdere vraag" in (await old.answer()).text
    title_again = await tap(olga, moment, "◀ Terug")
    kinds = await olga.ask("terug")  # typed works too
    assert "Wat voor bijeenkomst" in kinds.content
    title_question = await tap(olga, kinds, "Dialoog")
    moment = await olga.ask("Dialoog over de wijkbudgetten")
    assert "Wat is de titel?" in (await olga.ask("/terug")).content  # and as a command
    moment = await olga.ask("Dialoog over de wijkbudgetten")
    end = await olga.ask("overmorgen 19u30")
    place = await olga.ask("2 uur")
    capacity = await olga.ask("Stadhuis, Markt 78")
    back_to_place = await tap(olga, capacity, "◀ Terug")
    assert "Waar is het?" in back_to_place.content
    capacity = await olga.ask("Mosae Forum")
    deadline = await tap(olga, capacity, "30")
    fair = await tap(olga, deadline, "Geen")
    speakers = await tap(olga, fair, "Geen")
    description = await tap(olga, speakers, "Overslaan")
    themes = await tap(olga, description, "Overslaan")
    preview = await tap(olga, themes, "Overslaan")  # no themes
    back = await tap(olga, preview, "◀ Terug")
    assert "Over welke thema's gaat het?" in back.content
    back = await tap(olga, back, "◀ Terug")
    assert "Waar gaat het over?" in back.content
    themes = await tap(olga, back, "Overslaan")
    preview = await tap(olga, themes, "Overslaan")
    assert "Mosae Forum" in preview.content and "Dialoog over de wijkbudgetten" in preview.content
    assert "wo 3 maart, 19:30–21:30" in preview.content
    del title_question, moment, end, place


async def test_changing_a_field_from_the_preview_returns_to_the_preview(world: World) -> None:
    olga = await person_with_role(world, "Olga")
    await start_new_event(world, olga)
    await olga.ask("12 maart 19:30")
    place = await olga.ask("2 uur")
    capacity = await olga.ask("Stadhuis")
    deadline = await tap(olga, capacity, "20")
    fair = await tap(olga, deadline, "1 dag vooraf")
    speakers = await tap(olga, fair, "Geen")
    description = await tap(olga, speakers, "Overslaan")
    themes = await tap(olga, description, "Overslaan")
    preview = await tap(olga, themes, "Overslaan")  # no themes
    fields = await tap(olga, preview, "Wijzigen")
    assert "Wat wil je wijzigen?" in fields.content
    moment = await tap(olga, fields, "Wijzig moment")
    assert "Nu: vr 12 maart, 19:30" in moment.content
    preview = await olga.ask("volgende week donderdag 20:00")
    assert "Klopt alles?" in preview.content
    assert "do 11 maart, 20:00–22:00" in preview.content  # the end moved along
    assert "Aanmelden kan tot woensdag 10 maart, 20:00." in preview.content  # and the deadline
    fields = await tap(olga, preview, "Wijzigen")
    capacity = await tap(olga, fields, "Wijzig aantal plaatsen")
    preview = await olga.ask("25 plaatsen")
    assert "Nog 25 plaatsen vrij van de 25." in preview.content
    del place


async def test_stop_saves_nothing_and_what_comes_next_is_ordinary_text(world: World) -> None:
    olga = await person_with_role(world, "Olga")
    title_question = await tap(olga, await olga.ask("/nieuw"), "Masterclass")
    moment = await olga.ask("Omgevingswet in de buurt")
    stopped = await tap(olga, moment, "✖ Stop")
    assert "Gestopt. Er is niets opgeslagen." in stopped.content
    assert "Ik begrijp niet goed" in (await olga.ask("12 maart 19:30")).content
    # The buttons of an earlier step say the conversation is over.
    old = press(olga, title_question, "◀ Terug")
    assert "afgelopen" in (await old.edit()).content

    await start_new_event(world, olga)
    assert "Gestopt" in (await olga.ask("stop")).content
    assert await count(world, Event) == 0

    # Another command leaves the conversation: what is typed next is not taken as an answer.
    await start_new_event(world, olga)
    await olga.send("/agenda").replies(2)  # the word that /nieuw ended, and the agenda
    assert "Ik begrijp niet goed" in (await olga.ask("12 maart 19:30")).content
    assert "Er loopt nu niets om te stoppen." in (await olga.ask("/stop")).content


async def test_half_an_hour_of_silence_ends_the_conversation(world: World) -> None:
    olga = await person_with_role(world, "Olga")
    await start_new_event(world, olga)
    world.clock.advance(timedelta(minutes=29))  # still going
    end = await olga.ask("12 maart 19:30")
    assert "Hoe lang duurt het?" in end.content
    world.clock.advance(timedelta(minutes=31))
    ended = await olga.ask("tot 21:30")
    assert "half uur stil" in ended.content and "niets opgeslagen" in ended.content
    # The conversation is over: text is ordinary text again, and nothing was stored.
    assert "Ik begrijp niet goed" in (await olga.ask("Stadhuis")).content
    assert await count(world, Event) == 0
    # A button of the timed-out conversation says so too.
    gone = press(olga, end, "2 uur")
    assert "afgelopen" in (await gone.edit()).content


async def test_typed_answers_are_not_a_network_search(world: World) -> None:
    """An organiser who never chose a network: their typed title is a title, not a search."""
    olga = await person_with_role(world, "Olga", onboarded=False)
    kinds = await olga.ask("/nieuw")
    title_question = await tap(olga, kinds, "Workshop")
    reply = await olga.ask("Daalhof")
    assert START_QUESTION in reply.content
    assert "Bedoel je" not in reply.content and "Ik begrijp niet" not in reply.content
    del title_question


async def test_members_are_refused_and_forged_buttons_change_nothing(world: World) -> None:
    draft = await make_event(world.db, world.clock(), publish=False, title="Concept")
    anouk = await person_with_role(world, "Anouk", role=Role.MEMBER, network="wyck")
    for command in ("/nieuw", "/programma", "/reeks"):
        refusal = await anouk.ask(command)
        assert f"Met {command} " in refusal.content and "organisatoren" in refusal.content
    assert "Ik begrijp niet goed" in (await anouk.ask("Omgevingswet")).content

    agenda = await anouk.ask("/agenda")
    code = draft.public_code
    sign = world.deps.signer.encode
    for data in (
        sign(anouk.id, "EU", code),  # publish
        sign(anouk.id, "EA", code),  # approve
        sign(anouk.id, "EO", code),  # the admin card
        sign(anouk.id, "EF", code),  # the field menu
        sign(anouk.id, "EP", 0),  # the programme
        sign(anouk.id, "EW", code, "title"),  # conversations: refused before they begin
        sign(anouk.id, "EX", code),
        sign(anouk.id, "ER", code),
        sign(anouk.id, "EN"),
        sign(anouk.id, "EZ"),
    ):
        pressed = anouk.forge_press(agenda, data)
        assert (await pressed.answer()).text == "Dit is voor organisatoren.", data
        assert "organisatoren" in (await pressed.reply()).content
    assert "Ik begrijp niet goed" in (await anouk.ask("Nieuwe titel")).content
    # Garbage, and another organiser's signature.
    olga = await person_with_role(world, "Olga")
    for data in ("EU|" + code + "|AAAAAAAAAAA", sign(olga.id, "EU", code), "EV|kind|x"):
        assert "werkt niet" in (await anouk.forge_press(agenda, data).answer()).text
    [event] = await events(world)
    assert event.status is EventStatus.DRAFT and event.title == "Concept"
    assert event.revision == 1
    assert await count(world, AuditEntry, AuditEntry.action != "event.create") == 0


async def programme_card(person: Person, title: str) -> Message:
    listing = await person.ask("/programma")
    return await tap(person, listing, title)


async def test_moving_an_event_tells_who_registered(world: World) -> None:
    event = await make_event(world.db, world.clock(), capacity=20, title="Buurtbudget")
    bram = await make_member(world.db, name="Bram")
    async with world.db.transaction() as session:
        await registrations.register(
            session,
            event_id=event.id,
            member_id=bram.id,
            now=world.clock(),
            policy=world.deps.policy,
        )
    olga = await person_with_role(world, "Olga")
    card = await programme_card(olga, "Buurtbudget")
    assert "✅ Gepubliceerd" in card.content
    question = await tap(olga, card, "Verplaatsen")
    assert "Naar welk moment" in question.content and "Nu: ma 15 maart, 10:00" in question.content
    refused = await olga.ask("30-2 20:00")
    assert "Die datum bestaat niet" in refused.content
    moved = await olga.ask("volgende week donderdag 20:00")
    assert "Aangepast." in moved.content
    assert "1 persoon die zich heeft aangemeld krijgt hiervan bericht." in moved.content
    assert "do 11 maart, 20:00–22:00" in moved.content
    async with world.db.read() as session:
        changed = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == NotificationKind.EVENT_CHANGED)
            )
        ).all()
        stored = await session.get(Event, event.id)
    assert [row.member_id for row in changed] == [bram.id]
    assert stored is not None and stored.starts_at == datetime(2027, 3, 11, 20, tzinfo=AMS)
    assert stored.ends_at - stored.starts_at == timedelta(hours=2) and stored.revision == 2
    assert await count(world, AuditEntry, AuditEntry.action == "event.update") == 1


async def test_changing_fields_from_the_card(world: World) -> None:
    await make_event(world.db, world.clock(), capacity=20, title="Buurtbudget")
    olga = await person_with_role(world, "Olga")
    card = await programme_card(olga, "Buurtbudget")
    menu = await tap(olga, card, "Wijzigen")
    assert "Wijzig plaats of link" in labels(menu) and "Wijzig beschrijving" in labels(menu)
    question = await tap(olga, menu, "Wijzig titel")
    assert "Nu: Buurtbudget" in question.content
    unchanged = await tap(olga, question, "◀ Terug")  # back at the first step: the card again
    assert "Niets gewijzigd." in unchanged.content
    menu = await tap(olga, unchanged, "Wijzigen")
    question = await tap(olga, menu, "Wijzig titel")
    changed = await olga.ask("Buurtbudget: wie beslist?")
    assert "Aangepast." in changed.content and "Buurtbudget: wie beslist?" in changed.content
    menu = await tap(olga, changed, "Wijzigen")
    capacity = await tap(olga, menu, "Wijzig aantal plaatsen")
    changed = await tap(olga, capacity, "60")
    assert "Nog 60 plaatsen vrij van de 60." in changed.content
    menu = await tap(olga, changed, "Wijzigen")
    await tap(olga, menu, "Wijzig einde")
    changed = await olga.ask("tot 13:00")
    assert "ma 15 maart, 10:00–13:00" in changed.content
    menu = await tap(olga, changed, "Wijzigen")
    deadline = await tap(olga, menu, "Wijzig aanmelddeadline")
    changed = await tap(olga, deadline, "1 dag vooraf")
    assert "Aanmelden kan tot zondag 14 maart, 10:00." in changed.content
    menu = await tap(olga, changed, "Wijzigen")
    share = await tap(olga, menu, "Wijzig plaatsen per netwerk")
    too_many = await olga.ask("80")
    assert "meer plaatsen per netwerk dan plaatsen in totaal" in too_many.content
    release = await tap(olga, too_many, "5 per netwerk")
    changed = await tap(olga, release, "1 week vooraf")
    assert "Hoogstens 5 plaatsen per netwerk tot maandag 8 maart, 10:00" in changed.content
    menu = await tap(olga, changed, "Wijzigen")
    place = await tap(olga, menu, "Wijzig plaats of link")
    link = await tap(olga, place, "Online")
    changed = await olga.ask("https://meet.jit.si/buurtbudget")  # not a series: no question
    assert "Online meedoen" in changed.content
    menu = await tap(olga, changed, "Wijzigen")
    speakers = await tap(olga, menu, "Wijzig sprekers")
    changed = await olga.ask("Jos Hermans")
    assert "🎤 Jos Hermans" in changed.content
    [event] = await events(world)
    assert event.title == "Buurtbudget: wie beslist?" and event.capacity == 60
    assert event.registration_deadline == datetime(2027, 3, 14, 10, tzinfo=AMS)
    assert event.fair_share_per_network == 5
    assert event.fair_share_until == datetime(2027, 3, 8, 10, tzinfo=AMS)
    assert event.online_url == "https://meet.jit.si/buurtbudget" and event.location is None
    # Nobody registered: nobody to tell. Every change is in the audit log.
    assert (
        await count(world, OutboxMessage, OutboxMessage.kind == NotificationKind.EVENT_CHANGED) == 0
    )
    assert await count(world, AuditEntry, AuditEntry.action == "event.update") == 7
    del share, link, speakers


async def test_cancelling_with_a_reason(world: World) -> None:
    event = await make_event(world.db, world.clock(), capacity=20, title="Buurtbudget")
    bram = await make_member(world.db, name="Bram")
    async with world.db.transaction() as session:
        await registrations.register(
            session,
            event_id=event.id,
            member_id=bram.id,
            now=world.clock(),
            policy=world.deps.policy,
        )
    olga = await person_with_role(world, "Olga")
    card = await programme_card(olga, "Buurtbudget")
    reason = await tap(olga, card, "Annuleren")
    assert "Waarom gaat het niet door?" in reason.content
    confirm = await olga.ask("De spreker is ziek.")
    assert "Weet je zeker" in confirm.content and "De spreker is ziek." in confirm.content
    reason_again = await tap(olga, confirm, "◀ Terug")
    assert "Waarom gaat het niet door?" in reason_again.content
    confirm = await olga.ask("De spreker is helaas ziek.")
    assert await count(world, Event, Event.status == EventStatus.CANCELLED) == 0  # not yet
    done = await tap(olga, confirm, "Ja, annuleren")
    assert "Geannuleerd." in done.content and "krijgt hiervan bericht" in done.content
    assert "Gaat niet door." in done.content and "Verplaatsen" not in " ".join(labels(done))
    async with world.db.read() as session:
        stored = await session.get(Event, event.id)
        told = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == NotificationKind.EVENT_CANCELLED)
            )
        ).all()
    assert stored is not None and stored.status is EventStatus.CANCELLED
    assert stored.cancel_reason == "De spreker is helaas ziek."
    assert [row.member_id for row in told] == [bram.id]
    assert [row.payload["reason"] for row in told] == ["De spreker is helaas ziek."]


async def test_a_board_member_proposes_and_an_organiser_decides(world: World) -> None:
    bea = await person_with_role(world, "Bea", role=Role.MEMBER, network="wyck")
    title_question = await bea.ask("/voorstel")
    assert "Wat is de titel?" in title_question.content
    moment = await bea.ask("Zo pakten wij de speeltuin aan")
    place = await bea.ask("volgende week donderdag 19:30")
    description = await bea.ask("Buurthuis Wyck")
    send = await bea.ask("Hoe we met de gemeente een speeltuin opknapten.")
    assert "Klopt alles?" in send.content and "do 11 maart, 19:30–21:30" in send.content
    sent = await tap(bea, send, "Voorstel versturen")
    assert "Je voorstel is doorgestuurd naar de organisatoren." in sent.content
    [proposal] = await events(world)
    assert proposal.status is EventStatus.PROPOSED and proposal.kind is EventKind.UITWISSELING
    assert proposal.network_id == await network_id(world.db, "wyck")
    del moment, place, description

    olga = await person_with_role(world, "Olga")
    listing = await olga.ask("/programma")
    assert "Voorstel, wacht op goedkeuring" in listing.content
    card = await tap(olga, listing, "Zo pakten wij")
    assert "Voorgesteld door Bea (Wyck)" in card.content
    assert {"✅ Goedkeuren", "❌ Afwijzen"} <= set(labels(card))
    approved = await tap(olga, card, "Goedkeuren")
    assert "Goedgekeurd" in approved.content
    [proposal] = await events(world)
    assert proposal.status is EventStatus.PUBLISHED

    second = await bea.ask("/voorstel")
    await bea.ask("Samen de straat vergroenen")
    place = await bea.ask("volgende week vrijdag 19:30")
    description = await bea.ask("Buurthuis Wyck")
    send = await tap(bea, description, "Overslaan")
    await tap(bea, send, "Voorstel versturen")
    card = await programme_card(olga, "Samen de straat")
    reason = await tap(olga, card, "Afwijzen")
    assert "Waarom wijs je het voorstel af?" in reason.content
    rejected = await olga.ask("Dat past beter in de dialoog van april.")
    assert "Het voorstel is afgewezen." in rejected.content
    async with world.db.read() as session:
        stored = await session.scalar(
            select(Event).where(Event.title == "Samen de straat vergroenen")
        )
    assert stored is not None and stored.status is EventStatus.CANCELLED
    assert stored.cancel_reason == "Dat past beter in de dialoog van april."
    del second, place


async def test_proposing_needs_a_network(world: World) -> None:
    raadslid = await person_with_role(world, "Ruud", role=Role.MEMBER)  # Trajekt, no network
    refusal = await raadslid.ask("/voorstel")
    assert "Alleen leden van een buurtnetwerk" in refusal.content
    assert "Ik begrijp niet goed" in (await raadslid.ask("Een titel")).content


async def test_a_series_of_masterclasses_and_changing_all_coming_ones(world: World) -> None:
    olga = await person_with_role(world, "Olga")
    kinds = await olga.ask("/reeks")
    assert {"🎓 Masterclass per kwartaal", "🗣 Dialoog per halfjaar"} <= set(labels(kinds))
    years = await tap(olga, kinds, "Masterclass per kwartaal")
    assert labels(years)[:2] == ["2027", "2028"]
    times = await tap(olga, years, "2027")
    place = await olga.ask("19u")
    confirm = await olga.ask("Stadhuis, Markt 78")
    # The second Thursday of February is past (today is 1 March): May, August, November.
    for day in ("do 13 mei, 19:00", "do 12 aug", "do 11 nov"):
        assert day in confirm.content, day
    assert "feb" not in confirm.content
    done = await tap(olga, confirm, "Aanmaken")
    assert "staat klaar" in done.content
    made = await events(world)
    assert [e.status for e in made] == [EventStatus.DRAFT] * 3
    assert all(e.series_id is not None and e.location == "Stadhuis, Markt 78" for e in made)
    assert made[0].starts_at == datetime(2027, 5, 13, 19, tzinfo=AMS)
    del times, place

    # Another place for all coming ones; then another time for only one.
    card = await tap(olga, done, "Masterclass 2")
    menu = await tap(olga, card, "Wijzigen")
    await tap(olga, menu, "Wijzig plaats of link")
    scope = await olga.ask("Mosae Forum 10")
    assert "hoort bij een reeks" in scope.content
    changed = await tap(olga, scope, "Alle komende")
    assert "Aangepast voor 3 bijeenkomsten van de reeks." in changed.content
    assert {e.location for e in await events(world)} == {"Mosae Forum 10"}

    moved = await tap(olga, changed, "Verplaatsen")
    scope = await olga.ask("12 augustus 2027 20:00")
    assert "alleen de tijd: 20:00" in scope.content
    changed = await tap(olga, scope, "Alleen deze")
    assert "do 12 aug, 20:00" in changed.content or "do 12 augustus, 20:00" in changed.content
    # Masterclass 2 (in May) moved to 12 August, 20:00; the others keep their day and time.
    starts = [e.starts_at for e in await events(world)]
    assert starts == [
        datetime(2027, 8, 12, 20, tzinfo=AMS),
        datetime(2027, 8, 12, 19, tzinfo=AMS),
        datetime(2027, 11, 11, 19, tzinfo=AMS),
    ]
    del moved


async def test_the_programme_lists_drafts_and_pages(world: World) -> None:
    for n in range(8):
        await make_event(
            world.db,
            world.clock(),
            starts_in=timedelta(days=10 + n),
            publish=n % 2 == 0,
            title=f"Bijeenkomst {n}",
        )
    olga = await person_with_role(world, "Olga")
    listing = await olga.ask("/programma")
    assert "📝 Concept" in listing.content and "✅ Gepubliceerd" in listing.content
    assert "Pagina 1 van 2" in listing.content
    assert "➕ Nieuwe bijeenkomst" in labels(listing)
    later = await tap(olga, listing, "Later ▶")
    assert "Bijeenkomst 7" in later.content
    kinds = await tap(olga, later, "Nieuwe bijeenkomst")
    assert "Wat voor bijeenkomst" in kinds.content
    assert all(len(data.encode()) <= 64 for _, data in buttons(kinds))


def test_the_menus_have_the_new_commands() -> None:
    from bot.menus import MEMBER_COMMANDS, ORGANISER_COMMANDS

    organiser = [name for name, _ in ORGANISER_COMMANDS]
    assert {"nieuw", "programma", "reeks"} <= set(organiser)
    assert "voorstel" in [name for name, _ in MEMBER_COMMANDS["nl"]]
    assert "propose" in [name for name, _ in MEMBER_COMMANDS["en"]]
