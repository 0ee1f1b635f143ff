"""/idee, /vraag and /vragen end to end through the emulator: proposing, voting, the ranking,
planning an idea (and the notices the dispatcher delivers), questions for a dialogue and their
export, and organiser functions that members cannot reach."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.flood import FloodGuard
from bot.notifications import TelegramDelivery
from models.events.entities import Event, EventKind
from models.ideas import operations as ideas
from models.ideas.entities import DialogueQuestion, Idea, IdeaStatus
from models.members.entities import Affiliation, Member, Role
from models.members.operations import ensure_member, set_affiliation
from models.outbox.entities import NotificationKind, OutboxMessage
from scheduler.dispatcher import Dispatcher, DispatcherSettings
from tests.bot.conftest import World, buttons, labels, press
from tests.factories import make_event, network_id

NOT_ALLOWED = "Dat mag je helaas niet doen."


@pytest.fixture(autouse=True)
def unhurried(world: World) -> None:
    """These journeys send more than a person would in ten seconds: no "rustig aan" here."""
    world.deps.flood = FloodGuard(limit=10_000)


def dispatcher(world: World) -> Dispatcher:
    delivery = TelegramDelivery(world.application.bot, world.deps.signer)
    return Dispatcher(
        world.db, delivery, world.clock, settings=DispatcherSettings(rate_per_s=0, max_in_flight=1)
    )


async def onboard(world: World, name: str, network: str = "wyck"):  # type: ignore[no-untyped-def]
    """A member who chose their network earlier (tests/bot/test_journey.py does it by chat)."""
    person = world.person(name)
    async with world.db.transaction() as session:
        member, _ = await ensure_member(session, telegram_id=person.id, display_name=name)
        await set_affiliation(
            session,
            member_id=member.id,
            affiliation=Affiliation.BUURTNETWERK,
            network_id=await network_id(world.db, network),
        )
    return person


async def organiser(world: World, name: str = "Olga"):  # type: ignore[no-untyped-def]
    person = world.person(name)
    async with world.db.transaction() as session:
        member, _ = await ensure_member(session, telegram_id=person.id, display_name=name)
        member.role = Role.ORGANISER
        await set_affiliation(session, member_id=member.id, affiliation=Affiliation.GEMEENTE)
    return person


async def propose(  # type: ignore[no-untyped-def]
    person, title: str, description: str | None = None, kind: str = "masterclass", start=None
):
    """Through the buttons; ``start``: a message with "Nieuw idee" (else /idee is sent)."""
    start = start or await person.ask("/idee")
    kinds = await press(person, start, "Nieuw idee").edit()
    prompt = await press(person, kinds, kind).edit()
    assert "Typ de titel" in prompt.content
    ask_more = await person.ask(title)
    assert "Wil je er nog iets bij vertellen" in ask_more.content
    if description is None:
        return await press(person, ask_more, "Overslaan").edit()
    return await person.ask(description)


async def ranking(person, start=None):  # type: ignore[no-untyped-def]
    """The ranking; ``start``: a message with "Ideeën bekijken" (else /idee is sent)."""
    return await press(person, start or await person.ask("/idee"), "Ideeën bekijken").edit()


async def register_via_bot(world: World, person, title: str) -> None:  # type: ignore[no-untyped-def]
    agenda = await person.ask("/agenda")
    card = await press(person, agenda, title).edit()
    # A deliberate tap: "Aanmelden" may be where the event was in the list (the double-tap guard).
    world.clock.advance(timedelta(seconds=2))
    await press(person, card, "✅ Aanmelden").edit()


async def test_propose_vote_rank_and_plan_an_idea(world: World):
    event = await make_event(
        world.db,
        world.clock(),
        title="Masterclass 3",
        topic_tbd=True,
        starts_in=timedelta(days=30),
    )
    anouk, bram, cor = [await onboard(world, name) for name in ("Anouk", "Bram", "Cor")]

    menu = await anouk.ask("/idee")
    assert "onderwerp nog niet bepaald" in menu.content
    kinds = await press(anouk, menu, "Nieuw idee").edit()
    assert labels(kinds)[:2] == [
        "🎓 Onderwerp voor een masterclass",
        "🤝 Uitwisseling tussen netwerken",
    ]
    prompt = await press(anouk, kinds, "masterclass").edit()
    too_short = await anouk.ask("ab")
    assert "minstens 3 tekens" in too_short.content and "Typ de titel" in too_short.content
    ask_more = await anouk.ask("Burgerbegroting in de praktijk")
    assert "Mooi: Burgerbegroting in de praktijk" in ask_more.content
    assert {"Overslaan", "◀ Terug", "✖ Stop"} <= set(labels(ask_more))
    done = await anouk.ask("Hoe beslissen bewoners mee over het geld voor hun buurt?")
    assert "Je idee „Burgerbegroting in de praktijk” staat erbij" in done.content
    assert prompt.message_id != done.message_id
    after = await anouk.ask("Nog een bericht")  # the step is over: an ordinary message again
    assert "Ik begrijp niet goed" in after.content

    done = await propose(cor, "Groen in de wijk", kind="Uitwisseling")
    assert "Je idee „Groen in de wijk” staat erbij" in done.content

    listing = await ranking(bram)
    assert "1. Burgerbegroting in de praktijk" in listing.content
    assert "2. Groen in de wijk" in listing.content  # a tie: the oldest first
    assert "Hoe beslissen bewoners mee" in listing.content
    assert not [label for label in labels(listing) if "Inplannen" in label]
    voted = press(bram, listing, "Stem: Groen in de wijk")
    assert "Je stem is geteld" in (await voted.answer()).text
    listing = await voted.edit()
    assert listing.content.index("Groen in de wijk") < listing.content.index("Burgerbegroting")
    assert "👍 2 · je hebt gestemd" in listing.content
    again = press(bram, listing, "Stem intrekken: Groen in de wijk")
    assert "ingetrokken" in (await again.answer()).text
    listing = await again.edit()
    assert listing.content.index("Burgerbegroting") < listing.content.index("Groen in de wijk")
    listing = await press(bram, listing, "Stem: Burgerbegroting").edit()
    listing = await press(cor, await ranking(cor), "Stem: Burgerbegroting").edit()
    assert "👍 3 · je hebt gestemd" in listing.content and "jouw idee" in listing.content
    own = await ranking(anouk)
    assert [label for label in labels(own) if "Burgerbegroting" in label] == [
        "Intrekken: Burgerbegroting in de p…"  # no vote button on your own idea
    ]

    olga = await organiser(world)
    listing = await ranking(olga)
    choose = await press(olga, listing, "Inplannen: Burgerbegroting").edit()
    assert "Kies de bijeenkomst" in choose.content
    assert labels(choose)[0].startswith("🎓 Masterclass 3 (onderwerp open) · ")
    confirm = await press(olga, choose, "Masterclass 3").edit()
    assert "De bijeenkomst krijgt de titel van het idee." in confirm.content
    assert "3 mensen krijgen hiervan bericht" in confirm.content
    planned = press(olga, confirm, "✅ Inplannen")
    assert "Ingepland" in (await planned.answer()).text
    assert "is ingepland bij Burgerbegroting in de praktijk" in (await planned.edit()).content

    async with world.db.read() as session:
        stored = await session.get(Event, event.id)
        idea = await session.scalar(select(Idea).where(Idea.title.startswith("Burger")))
        rows = (
            await session.execute(
                select(Member.display_name, OutboxMessage.idempotency_key)
                .join(Member, Member.id == OutboxMessage.member_id)
                .where(OutboxMessage.kind == NotificationKind.IDEA_PLANNED)
            )
        ).all()
    assert stored is not None and stored.title == "Burgerbegroting in de praktijk"
    assert not stored.topic_tbd
    assert idea is not None and idea.status is IdeaStatus.PLANNED and idea.event_id == event.id
    assert sorted(name for name, _ in rows) == ["Anouk", "Bram", "Cor"]
    assert all(key.startswith(f"idea-planned:{idea.id}:") for _, key in rows)

    assert (await dispatcher(world).dispatch_due()).sent == 3
    for person in (anouk, bram, cor):
        notice = person.messages[-1]
        assert "Het idee „Burgerbegroting in de praktijk” wordt werkelijkheid" in notice.content
        assert labels(notice) == ["Bekijk de bijeenkomst"]
    card = await press(bram, bram.messages[-1], "Bekijk de bijeenkomst").edit()
    assert "Burgerbegroting in de praktijk" in card.content
    listing = await ranking(bram)
    assert "Burgerbegroting" not in listing.content and "Groen in de wijk" in listing.content


async def test_back_stop_expiry_and_typing_during_a_step(world: World):
    anouk = await onboard(world, "Anouk")
    menu = await anouk.ask("/idee")
    kinds = await press(anouk, menu, "Nieuw idee").edit()
    prompt = await press(anouk, kinds, "masterclass").edit()
    kinds = await press(anouk, prompt, "◀ Terug").edit()
    assert "Waar gaat je idee over?" in kinds.content
    menu = await press(anouk, kinds, "◀ Terug").edit()
    assert "➕ Nieuw idee" in labels(menu)
    kinds = await press(anouk, menu, "Nieuw idee").edit()
    prompt = await press(anouk, kinds, "Uitwisseling").edit()
    stopped = await press(anouk, prompt, "✖ Stop").edit()
    assert "Gestopt; er is niets opgeslagen." in stopped.content
    assert "Ik begrijp niet goed" in (await anouk.ask("Burgerbegroting")).content

    kinds = await press(anouk, await anouk.ask("/idee"), "Nieuw idee").edit()
    await press(anouk, kinds, "masterclass").edit()
    ask_more = await anouk.ask("Wonen voor ouderen")
    prompt = await press(anouk, ask_more, "◀ Terug").edit()  # retype the title
    assert "Typ de titel" in prompt.content
    world.clock.advance(timedelta(minutes=31))  # walked away: the step lapses
    assert "Ik begrijp niet goed" in (await anouk.ask("Wonen voor ouderen")).content

    # Someone who has not chosen a network yet: typed text in a step is not a network search.
    newcomer = world.person("Dirk")
    await newcomer.start().replies(2)
    kinds = await press(newcomer, await newcomer.ask("/idee"), "Nieuw idee").edit()
    await press(newcomer, kinds, "masterclass").edit()
    ask_more = await newcomer.ask("Wyck")
    assert "Mooi: Wyck" in ask_more.content
    assert "Overslaan" in labels(ask_more)
    too_long = await newcomer.ask("x" * 1001)
    assert "te lang" in too_long.content and "Overslaan" in labels(too_long)
    await press(newcomer, too_long, "✖ Stop").edit()
    async with world.db.read() as session:
        assert (await session.scalars(select(Idea))).all() == []


async def test_withdraw_your_own_idea_and_the_limit_of_five(world: World):
    anouk = await onboard(world, "Anouk")
    async with world.db.transaction() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == anouk.id))
        assert member is not None
        for n in range(4):
            await ideas.propose_idea(
                session,
                member_id=member.id,
                kind=EventKind.MASTERCLASS,
                title=f"Idee nummer {n + 1}",
                now=world.clock(),
            )
    done = await propose(anouk, "Idee nummer 5")
    refused = await propose(anouk, "Idee nummer 6", start=await ranking(anouk, done))
    assert "Je hebt al 5 ideeën open staan" in refused.content
    listing = await ranking(anouk, refused)
    duplicate = await propose(anouk, "idee  NUMMER 1", start=listing)
    assert "Dit idee had je al voorgesteld: „Idee nummer 1”" in duplicate.content
    listing = await ranking(anouk, duplicate)
    confirm = await press(anouk, listing, "Intrekken: Idee nummer 1").edit()
    assert "De stemmen erop vervallen" in confirm.content
    kept = await press(anouk, confirm, "Nee, laat staan").edit()
    confirm = await press(anouk, kept, "Intrekken: Idee nummer 1").edit()
    withdrawn = press(anouk, confirm, "Ja, intrekken")
    assert "Het idee is ingetrokken." in (await withdrawn.answer()).text
    listing = await withdrawn.edit()
    assert "Idee nummer 1" not in listing.content and "4. Idee nummer 5" in listing.content
    again = await propose(anouk, "Idee nummer 6", start=listing)
    assert "Je idee „Idee nummer 6” staat erbij" in again.content


async def test_questions_for_a_dialogue_and_the_export(world: World):
    await make_event(
        world.db,
        world.clock(),
        title="Buurtnetwerken in dialoog",
        kind=EventKind.DIALOOG,
        starts_in=timedelta(days=20),
    )
    await make_event(
        world.db,
        world.clock(),
        title="Dialoog najaar",
        kind=EventKind.DIALOOG,
        starts_in=timedelta(days=60),
    )
    anouk = await onboard(world, "Anouk")
    bram = await onboard(world, "Bram", "belfort-daalhof")

    first = await anouk.ask("/vraag")
    assert "als je je daarvoor hebt aangemeld" in first.content
    await register_via_bot(world, anouk, "Buurtnetwerken in dialoog")
    themes = await anouk.ask("/vraag")  # one dialogue: straight to the themes
    assert "Vraag voor Buurtnetwerken in dialoog" in themes.content
    assert "Je kunt nog 3 vragen insturen." in themes.content
    assert labels(themes)[:7] == [
        "Wonen",
        "Verkeer",
        "Zorg en welzijn",
        "Groen en openbare ruimte",
        "Veiligheid",
        "Subsidies",
        "Anders",
    ]
    prompt = await press(anouk, themes, "Wonen").edit()
    assert "Typ je vraag over Wonen" in prompt.content and "Je naam gaat niet mee" in prompt.content
    too_short = await anouk.ask("Hoi")
    assert "minstens 5 tekens" in too_short.content
    thanks = await anouk.ask("Komen er meer betaalbare woningen in Wyck?")
    assert thanks.content == "Dank je! Je vraag gaat mee naar het gesprek."
    themes = await press(anouk, thanks, "Nog een vraag").edit()
    assert "Je kunt nog 2 vragen insturen." in themes.content
    await press(anouk, themes, "Zonder thema verder").edit()
    thanks = await anouk.ask("Blijft de subsidie voor de buurtnetwerken bestaan?")
    assert "Je vraag gaat mee" in thanks.content

    await register_via_bot(world, bram, "Buurtnetwerken in dialoog")
    themes = await bram.ask("/vraag")
    await press(bram, themes, "Verkeer").edit()
    assert "Je vraag gaat mee" in (await bram.ask("Kan er een 30 km-zone komen?")).content

    await register_via_bot(world, anouk, "Dialoog najaar")
    choice = await anouk.ask("/vraag")
    assert "Voor welke dialoog is je vraag?" in choice.content and len(labels(choice)) == 3
    themes = await press(anouk, choice, "Dialoog najaar").edit()
    assert "Je kunt nog 3 vragen insturen." in themes.content
    back = await press(anouk, themes, "◀ Terug").edit()
    assert "Voor welke dialoog" in back.content

    assert "Met /vragen zien organisatoren" in (await anouk.ask("/vragen")).content
    olga = await organiser(world)
    dialogues = await olga.ask("/vragen")
    assert any("3 vragen" in label for label in labels(dialogues))
    assert any("0 vragen" in label for label in labels(dialogues))
    overview = await press(olga, dialogues, "Buurtnetwerken").edit()
    text = overview.content
    assert "3 vragen, uit 2 buurtnetwerken." in text
    assert "Wonen (1)" in text and "Verkeer (1)" in text and "Zonder thema (1)" in text
    assert "Komen er meer betaalbare woningen in Wyck? — Wyck" in text
    assert "Kan er een 30 km-zone komen? — Belfort-Daalhof" in text
    assert "Anouk" not in text and "Bram" not in text
    exported = press(olga, overview, "Exporteren")
    document = await exported.reply(lambda m: m.document is not None)
    assert document.document is not None
    body = document.document.data.decode()
    assert "Namen staan er bewust niet in (privacy)" in body
    assert "## Wonen (1)" in body and "— Belfort-Daalhof" in body
    assert "Anouk" not in body and "Bram" not in body
    back = await press(olga, overview, "◀ Terug").edit()
    assert "Kies een dialoog" in back.content


async def test_members_cannot_reach_organiser_functions(world: World):
    event = await make_event(world.db, world.clock(), title="Masterclass 3", topic_tbd=True)
    dialogue = await make_event(world.db, world.clock(), title="In dialoog", kind=EventKind.DIALOOG)
    anouk, bram = await onboard(world, "Anouk"), await onboard(world, "Bram")
    await propose(bram, "Burgerbegroting in de praktijk")
    async with world.db.read() as session:
        idea = await session.scalar(select(Idea))
    assert idea is not None
    listing = await ranking(anouk)
    assert not [label for label in labels(listing) if "Inplannen" in label]
    assert "Met /vragen zien organisatoren" in (await anouk.ask("/vragen")).content

    sign = world.deps.signer.encode
    forged = [
        sign(anouk.id, "IP", idea.id),
        sign(anouk.id, "IE", idea.id, event.public_code),
        sign(anouk.id, "IC", idea.id, event.public_code),
        sign(anouk.id, "IY", idea.id, 0),  # withdraw someone else's idea
        sign(anouk.id, "IA"),
        sign(anouk.id, "IO", dialogue.public_code),
        sign(anouk.id, "ID", dialogue.public_code),
    ]
    for data in forged:
        answer = await anouk.forge_press(listing, data).answer()
        assert NOT_ALLOWED in (answer.text or ""), data
    # Bad arguments in a properly signed button, and an organiser's button replayed by a member.
    for data in (sign(anouk.id, "IK", "x"), sign(anouk.id, "IT", dialogue.public_code, "99")):
        assert "werkt niet" in ((await anouk.forge_press(listing, data).answer()).text or "")
    olga = await organiser(world)
    olga_listing = await ranking(olga)
    [plan_data] = [data for label, data in buttons(olga_listing) if "Inplannen" in label]
    assert "werkt niet" in ((await anouk.forge_press(listing, plan_data).answer()).text or "")

    async with world.db.read() as session:
        stored = await session.get(Event, event.id)
        kept = await session.get(Idea, idea.id)
        notices = (await session.scalars(select(OutboxMessage))).all()
        questions = (await session.scalars(select(DialogueQuestion))).all()
    assert stored is not None and stored.title == "Masterclass 3" and stored.topic_tbd
    assert kept is not None and kept.status is IdeaStatus.OPEN
    assert notices == [] and questions == []
