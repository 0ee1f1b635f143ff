"""The volunteer's journey, end to end through the emulator."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models.members.entities import Affiliation, Member
from models.outbox.entities import NotificationKind, OutboxMessage
from models.registrations.entities import Registration, RegistrationStatus
from tests.bot.conftest import World, buttons, labels, press
from tests.factories import make_event, make_member


async def onboard(world: World, name: str, network_part: str = "Wyck"):  # type: ignore[no-untyped-def]
    person = world.person(name)
    await person.start().replies(2)  # the welcome and the network question
    search = await person.ask(network_part)
    chosen = press(person, search, network_part)
    await chosen.answer()
    return person


async def test_onboarding_in_dutch_with_paging_and_search(world: World):
    anouk = world.person("Anouk", "nl")
    welcome, question = await anouk.start().replies(2)
    assert "Welkom bij" in welcome.content
    assert "Van welk buurtnetwerk ben je?" in question.content
    assert "Amby" in labels(question)  # first page, sorted by name
    assert "Pagina 1 van 4" in question.content
    page_two = await press(anouk, question, "Volgende ▶").edit()
    assert "Pagina 2 van 4" in page_two.content
    # No dead buttons: where we are is text, every button of the pager goes somewhere.
    assert not any(label.endswith("/4") for label in labels(page_two))
    back = await press(anouk, page_two, "◀ Vorige").edit()
    assert "Pagina 1 van 4" in back.content and "◀ Vorige" not in labels(back)
    page_two = await press(anouk, back, "Volgende ▶").edit()
    search = await anouk.ask("daal")
    assert labels(search)[0] == "Belfort-Daalhof"
    chosen = press(anouk, search, "Belfort-Daalhof")
    assert "Belfort-Daalhof" in (await chosen.answer()).text
    done = await chosen.edit()
    assert "Je hoort bij Belfort-Daalhof" in done.content
    # One last, skippable screen: which themes to hear about (tests/alerts).
    assert "Waar wil je over horen?" in done.content and "Overslaan" in labels(done)
    menu = await press(anouk, done, "Overslaan").edit()
    assert "📅 Agenda" in labels(menu)
    async with world.db.read() as session:
        member = await session.scalar(select(Member).where(Member.display_name == "Anouk"))
    assert member is not None and member.network is not None
    assert member.network.slug == "belfort-daalhof"


async def test_onboarding_in_english_and_another_affiliation(world: World):
    fatima = world.person("Fatima", "en")
    welcome, question = await fatima.start().replies(2)
    assert "Welcome to" in welcome.content
    other = await press(fatima, question, "network").edit()
    councillor = press(fatima, other, "Council member")
    await councillor.answer()
    async with world.db.read() as session:
        member = await session.scalar(select(Member).where(Member.display_name == "Fatima"))
    assert member is not None and member.affiliation is Affiliation.RAADSLID


async def test_register_until_full_then_waitlist_cancel_offer_claim(world: World):
    event = await make_event(world.db, world.clock(), capacity=2, title="Omgevingswet")
    anouk, bram, cor = [await onboard(world, name) for name in ("Anouk", "Bram", "Cor")]

    async def open_card(person):  # type: ignore[no-untyped-def]
        agenda = await person.ask("/agenda")
        assert "Omgevingswet" in agenda.content
        return await press(person, agenda, "Omgevingswet").edit()

    card = await open_card(anouk)
    assert "Nog 2 plaatsen vrij van de 2." in card.content
    registered = press(anouk, card, "✅ Aanmelden")
    assert "Gelukt" in (await registered.answer()).text
    card = await registered.edit()
    assert "✅ Je bent aangemeld." in card.content
    assert "Afmelden" in labels(card)

    card = await open_card(bram)
    assert "Nog 1 plaats vrij van de 2." in card.content
    await press(bram, card, "✅ Aanmelden").edit()

    card = await open_card(cor)
    assert "Vol" in card.content
    waitlisted = press(cor, card, "wachtlijst")
    assert "plek 1" in (await waitlisted.answer()).text
    assert "⏳ Je staat op de wachtlijst, plek 1." in (await waitlisted.edit()).content

    card = await open_card(anouk)
    confirm = await press(anouk, card, "Afmelden").edit()
    assert "Weet je zeker" in confirm.content
    cancelled = press(anouk, confirm, "Ja, afmelden")
    await cancelled.answer()
    async with world.db.read() as session:
        offer = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == NotificationKind.SEAT_OFFERED)
        )
    assert offer is not None  # the dispatcher (scheduler/) delivers it

    card = await open_card(cor)
    assert "Er staat een plek voor je klaar" in card.content
    # "Plek claimen" is where Cor tapped the event in the list (as in the offer's own message):
    # a tap within 1.5 s would be taken for a double tap and asked about.
    world.clock.advance(timedelta(seconds=2))
    claimed = press(cor, card, "Plek claimen")
    assert "van jou" in (await claimed.answer()).text
    assert "✅ Je bent aangemeld." in (await claimed.edit()).content
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
    assert statuses == {
        "Anouk": RegistrationStatus.CANCELLED,
        "Bram": RegistrationStatus.CONFIRMED,
        "Cor": RegistrationStatus.CONFIRMED,
    }


async def test_deep_link_opens_the_event_ready_to_register(world: World):
    event = await make_event(world.db, world.clock(), capacity=10, title="ABCD-methodiek")
    newcomer = world.person("Dirk")
    card = await newcomer.start(f"e_{event.public_code}").reply()
    assert "ABCD-methodiek" in card.content
    ask = await press(newcomer, card, "✅ Aanmelden").edit()  # first: where are you from?
    assert "Van welk buurtnetwerk" in ask.content
    chosen = press(newcomer, ask, "Amby")
    card = await chosen.edit()
    assert "ABCD-methodiek" in card.content  # back on the event, now ready
    registered = press(newcomer, card, "✅ Aanmelden")
    assert "✅ Je bent aangemeld." in (await registered.edit()).content


async def test_forged_and_stale_buttons_change_nothing(world: World):
    event = await make_event(world.db, world.clock(), capacity=10, title="Dialoog")
    anouk = await onboard(world, "Anouk")
    bram = await onboard(world, "Bram")
    card = press(anouk, await anouk.ask("/agenda"), "Dialoog")
    card_message = await card.edit()
    register_data = dict(buttons(card_message))["✅ Aanmelden"]
    # Bram replays Anouk's button data: the signature is Anouk's, not his.
    bram_agenda = await bram.ask("/agenda")
    forged = bram.forge_press(bram_agenda, register_data)
    answer = await forged.answer()
    assert "werkt niet" in answer.text
    # A made-up action, and garbage.
    for data in ("rg|zzzzzzzz|1|AAAAAAAAAAA", "x" * 64, "|||"):
        assert "werkt niet" in (await bram.forge_press(bram_agenda, data).answer()).text
    # A properly signed button for an event that does not exist (or was removed).
    stale = world.deps.signer.encode(bram.id, "rg", "gone0000", 1)
    refusal = await bram.forge_press(bram_agenda, stale).answer()
    assert "kon ik niet vinden" in refusal.text
    # A properly signed button asking for an impossible party size.
    too_many = world.deps.signer.encode(bram.id, "rg", event.public_code, 9)
    assert "maximaal 2" in (await bram.forge_press(bram_agenda, too_many).answer()).text
    async with world.db.read() as session:
        assert (await session.scalars(select(Registration))).all() == []


async def test_exchange_session_of_another_network_stays_hidden(world: World):
    from tests.factories import network_id

    amby = await network_id(world.db, "amby")
    event = await make_event(
        world.db, world.clock(), capacity=10, title="Uitwisseling Amby", network_id=amby
    )
    anouk = await onboard(world, "Anouk")  # Wyck
    agenda = await anouk.ask("/agenda")
    assert "Uitwisseling Amby" not in agenda.content
    card = await anouk.start(f"e_{event.public_code}").reply()
    assert "kon ik niet vinden" in card.content


async def test_forget_me_after_confirmation(world: World):
    event = await make_event(
        world.db, world.clock() - timedelta(days=0), capacity=10, starts_in=timedelta(days=3)
    )
    anouk = await onboard(world, "Anouk")
    other = await make_member(world.db, name="Ander")
    async with world.db.transaction() as session:
        member = await session.scalar(select(Member).where(Member.display_name == "Anouk"))
        assert member is not None
        from models.registrations import operations as ops

        await ops.register(
            session,
            event_id=event.id,
            member_id=member.id,
            now=world.clock(),
            policy=world.deps.policy,
        )
    question = await anouk.ask("/vergeetmij")
    assert "Weet je het zeker?" in question.content
    kept = press(anouk, question, "Nee")
    assert "niets gewist" in (await kept.edit()).content
    question = await anouk.ask("/vergeetmij")
    done = await press(anouk, question, "Ja, wis").edit()
    assert "gewist" in done.content
    async with world.db.read() as session:
        names = set((await session.scalars(select(Member.display_name))).all())
        assert names == {other.display_name}
        registration = await session.scalar(select(Registration))
        assert registration is not None and registration.member_id is None
        assert registration.status is RegistrationStatus.CANCELLED


async def test_my_data_is_a_json_document(world: World):
    anouk = await onboard(world, "Anouk")
    document = await anouk.send("/mijngegevens").reply(lambda m: m.document is not None)
    assert document.document is not None
    assert b'"display_name": "Anouk"' in document.document.data


async def test_put_it_in_my_calendar(world: World):
    """The .ics document, then the personal feed link (its HTTP side: tests/feeds)."""
    event = await make_event(world.db, world.clock(), capacity=5, title="Omgevingswet")
    anouk = await onboard(world, "Anouk")
    card = await press(anouk, await anouk.ask("/agenda"), "Omgevingswet").edit()
    document = await press(anouk, card, "In mijn agenda").reply(lambda m: m.document is not None)
    assert document.document is not None
    ics = document.document.data.decode()
    assert "BEGIN:VEVENT" in ics and f"UID:{event.feed_uid}" in ics and "Omgevingswet" in ics
    links = await press(anouk, document, "Al mijn aanmeldingen").reply()
    assert "Je eigen agenda-link" in links.content
    assert "webcal://" in links.content and "/feed/" in links.content
    assert "Google Agenda" in labels(links)
    # Asking again does not show the secret again; a new link replaces the old one.
    settings = await anouk.ask("/instellingen")
    again = await press(anouk, settings, "Zet de agenda in je telefoon").edit()
    assert "Je hebt al een eigen agenda-link" in again.content
    fresh = await press(anouk, again, "Nieuwe agenda-link").reply()

    def feed_url(text: str) -> str:
        return next(w for w in text.split() if w.startswith("http") and "/feed/" in w)

    assert feed_url(links.content) != feed_url(fresh.content)
