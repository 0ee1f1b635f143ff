"""The dialog engine through the real bot and the emulator: a dialog survives a restart, two
instances on one database take turns at one member's dialog, and a command or another feature's
button ends a dialog with a word that it did."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.app import build_application
from bot.callbacks import CallbackSigner
from bot.context import BotDeps
from bot.flood import FloodGuard
from bot.ratelimit import SendRates
from emulator import Limits, Person, TelegramEmulator, serve
from models.attendance import operations as attendance
from models.clock import FrozenClock
from models.db import Database
from models.dialogs.operations import stored_dialog
from models.ideas.entities import Idea
from models.members.entities import Affiliation, Member, Role
from models.members.operations import ensure_member, set_affiliation
from models.registrations import operations as registrations
from models.registrations.entities import Registration, RegistrationStatus
from models.registrations.policy import RegistrationPolicy
from tests.bot.conftest import World, buttons, labels, press
from tests.factories import make_event, make_member, network_id


async def onboard(db: Database, person: Person) -> Member:
    async with db.transaction() as session:
        member, _ = await ensure_member(session, telegram_id=person.id, display_name="Anouk")
        await set_affiliation(
            session,
            member_id=member.id,
            affiliation=Affiliation.BUURTNETWERK,
            network_id=await network_id(db, "wyck"),
        )
    return member


@dataclass
class Service:
    """One instance of the bot: its own Application, its own connections to the database file
    (and so its own kept members), as a second process or a restarted one would have."""

    application: Any
    deps: BotDeps


@asynccontextmanager
async def service(
    url: str, emulator: TelegramEmulator, api_url: str, clock: FrozenClock
) -> AsyncIterator[Service]:
    database = Database(url)
    deps = BotDeps(
        database=database,
        clock=clock,
        policy=RegistrationPolicy(),
        signer=CallbackSigner(emulator.token),
        flood=FloodGuard(limit=10_000),
    )
    application = build_application(
        deps, token=emulator.token, base_url=api_url, rates=SendRates().scaled(10)
    )
    async with application:
        await application.start()
        try:
            yield Service(application, deps)
        finally:
            await application.stop()
            await database.dispose()


@asynccontextmanager
async def answering(instance: Service) -> AsyncIterator[None]:
    """This instance fetches the updates for a while (only one may poll at a time)."""
    updater = instance.application.updater
    await updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield
    finally:
        await updater.stop()


async def test_a_check_in_code_asked_before_a_restart_is_taken_after_it(
    sqlite_db: Database, clock: FrozenClock
) -> None:
    event = await make_event(sqlite_db, clock(), title="Dialoog", starts_in=timedelta(days=1))
    olga = await make_member(sqlite_db, name="Olga", role=Role.ORGANISER)
    emulator = TelegramEmulator(limits=Limits().scaled(10))
    anouk = emulator.user("Anouk")
    member = await onboard(sqlite_db, anouk)
    async with sqlite_db.transaction() as session:
        await registrations.register(
            session,
            event_id=event.id,
            member_id=member.id,
            now=clock(),
            policy=RegistrationPolicy(),
        )
    clock.set(event.starts_at)
    async with sqlite_db.transaction() as session:
        code = await attendance.check_in_code(
            session, actor_id=olga.id, event_id=event.id, now=clock()
        )
    async with serve(emulator) as api_url:
        async with (
            service(sqlite_db.url, emulator, api_url, clock) as before,
            answering(before),
        ):
            question = await anouk.ask("/ikbenerbij")
            assert "Typ de code" in question.content
        # The service stops and starts again: nothing of the first one's memory is left.
        clock.advance(timedelta(minutes=5))
        async with service(sqlite_db.url, emulator, api_url, clock) as after, answering(after):
            welcome = await anouk.ask(code.lower())
            assert "Welkom! Je bent ingecheckt." in welcome.content
            assert "Ik begrijp niet goed" in (await anouk.ask("hallo")).content
    async with sqlite_db.read() as session:
        status = await session.scalar(
            select(Registration.status).where(Registration.member_id == member.id)
        )
        assert await stored_dialog(session, member_id=member.id) is None
    assert status is RegistrationStatus.ATTENDED


async def test_two_instances_take_turns_at_one_members_idea(
    sqlite_db: Database, clock: FrozenClock
) -> None:
    emulator = TelegramEmulator(limits=Limits().scaled(10))
    anouk = emulator.user("Anouk")
    await onboard(sqlite_db, anouk)
    async with (
        serve(emulator) as api_url,
        service(sqlite_db.url, emulator, api_url, clock) as first,
        service(sqlite_db.url, emulator, api_url, clock) as second,
    ):
        async with answering(first):
            kinds = await press(anouk, await anouk.ask("/idee"), "Nieuw idee").edit()
            old_choice = dict(buttons(kinds))["🎓 Onderwerp voor een masterclass"]
            prompt = await press(anouk, kinds, "masterclass").edit()  # the same message, edited
            assert "Typ de titel" in prompt.content
        async with answering(second):  # the load balancer sends the answer elsewhere
            ask_more = await anouk.ask("Wonen voor ouderen")
            assert "Mooi: Wonen voor ouderen" in ask_more.content
        async with answering(first):  # which still keeps Anouk, read a moment ago
            stale = press(anouk, prompt, "◀ Terug")  # a button of the step before
            assert "eerdere vraag" in (await stale.answer()).text
            # The kind's button as it was (on an older copy of the question, say): no effect.
            stale = anouk.forge_press(prompt, old_choice)
            assert "eerdere vraag" in (await stale.answer()).text
            prompt = await press(anouk, ask_more, "◀ Terug").edit()
            assert "Typ de titel" in prompt.content
        async with answering(second):
            ask_more = await anouk.ask("Wonen voor jong en oud")
            assert "Mooi: Wonen voor jong en oud" in ask_more.content
        async with answering(first):
            done = await anouk.ask("Samen wonen in de buurt")
            assert "Je idee „Wonen voor jong en oud” staat erbij" in done.content
        assert first.deps.members.get(anouk.id) is not None  # kept, and still right
    async with sqlite_db.read() as session:
        ideas = (await session.execute(select(Idea.title, Idea.description))).all()
    assert ideas == [("Wonen voor jong en oud", "Samen wonen in de buurt")]


async def test_a_command_or_another_features_button_ends_the_dialog_with_a_word(
    world: World,
) -> None:
    world.deps.flood = FloodGuard(limit=10_000)
    await make_event(world.db, world.clock(), title="Omgevingswet")
    anouk = world.person("Anouk")
    await onboard(world.db, anouk)

    async def at_the_title() -> None:
        kinds = await press(anouk, await anouk.ask("/idee"), "Nieuw idee").edit()
        assert "Typ de titel" in (await press(anouk, kinds, "masterclass").edit()).content

    # A command in between: the idea ends, with a word, and the next text is just text.
    await at_the_title()
    ended, agenda = await anouk.send("/agenda").replies(2)
    assert ended.content == "Je nieuwe idee is gestopt; er is niets opgeslagen."
    assert "Omgevingswet" in " ".join(labels(agenda))
    assert "Ik begrijp niet goed" in (await anouk.ask("Burgerbegroting")).content

    # A button of another feature: the same.
    await at_the_title()
    card = press(anouk, agenda, "Omgevingswet")
    word = await card.reply()
    assert word.content == "Je nieuwe idee is gestopt; er is niets opgeslagen."
    assert "Omgevingswet" in (await card.edit()).content
    assert "Ik begrijp niet goed" in (await anouk.ask("Burgerbegroting")).content

    # Its own command starts afresh, without a word.
    await at_the_title()
    assert "Ideeën" in (await anouk.ask("/idee")).content
    # /stop and typed "stop" work as the button does.
    await at_the_title()
    assert "Gestopt; er is niets opgeslagen." in (await anouk.ask("/stop")).content
    assert "Er loopt nu niets om te stoppen." in (await anouk.ask("/stop")).content
    await at_the_title()
    assert "Gestopt; er is niets opgeslagen." in (await anouk.ask("stop")).content

    # Half an hour of silence: a friendly word, and the text is an ordinary message.
    await at_the_title()
    world.clock.advance(timedelta(minutes=30))
    lapsed = await anouk.ask("Burgerbegroting")
    assert "omdat het een half uur stil was" in lapsed.content
    assert "Ik begrijp niet goed" in lapsed.content
    async with world.db.read() as session:
        assert (await session.scalars(select(Idea))).all() == []
        member = await session.scalar(select(Member).where(Member.telegram_id == anouk.id))
        assert member is not None
        assert await stored_dialog(session, member_id=member.id) is None
