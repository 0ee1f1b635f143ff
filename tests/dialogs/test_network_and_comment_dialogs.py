"""Onboarding's network question and the comment after a rating are dialogs: typed text is a
network search or a comment only while that question is open (also after a restart), and a
command in between ends the comment question with a word."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from emulator import Limits, TelegramEmulator, serve
from models.clock import FrozenClock
from models.db import Database
from models.dialogs.operations import stored_dialog
from models.feedback.entities import Feedback
from models.members.entities import Member
from tests.bot.conftest import World, buttons, labels, press
from tests.bot.test_journey import onboard
from tests.bot.test_notifications import dispatcher, register_via_bot
from tests.dialogs.test_dialogs_bot import answering, service
from tests.factories import make_event


async def test_a_network_typed_after_a_restart_is_searched_and_leads_back_to_the_event(
    sqlite_db: Database, clock: FrozenClock
) -> None:
    event = await make_event(sqlite_db, clock(), title="Omgevingswet", starts_in=timedelta(days=3))
    emulator = TelegramEmulator(limits=Limits().scaled(10))
    anouk = emulator.user("Anouk")
    async with serve(emulator) as api_url:
        async with service(sqlite_db.url, emulator, api_url, clock) as before, answering(before):
            card = await anouk.start(f"e_{event.public_code}").reply()  # a poster's QR code
            question = await press(anouk, card, "✅ Aanmelden").edit()
            assert "Van welk buurtnetwerk ben je?" in question.content
        # The service stops and starts again: nothing of the first one's memory is left.
        clock.advance(timedelta(minutes=5))
        async with service(sqlite_db.url, emulator, api_url, clock) as after, answering(after):
            found = await anouk.ask("daal")
            assert "Bedoel je een van deze?" in found.content
            assert labels(found)[0] == "Belfort-Daalhof"
            # Chosen from the search: on to the event the question was asked for.
            shown = await press(anouk, found, "Belfort-Daalhof").edit()
            assert "Omgevingswet" in shown.content and "✅ Aanmelden" in labels(shown)
            # The question is closed: typed text is an ordinary message again.
            assert "Ik begrijp niet goed" in (await anouk.ask("daal")).content
    async with sqlite_db.read() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == anouk.id))
        assert member is not None and member.network is not None
        assert member.network.slug == "belfort-daalhof"
        assert await stored_dialog(session, member_id=member.id) is None


async def test_typed_text_is_a_network_search_only_while_the_question_is_open(
    world: World,
) -> None:
    anouk = await onboard(world, "Anouk")
    reply = await anouk.ask("daal")
    assert "Ik begrijp niet goed" in reply.content and "Bedoel je" not in reply.content
    # "Ander buurtnetwerk of rol kiezen" in the settings opens the question: typing searches.
    settings = await anouk.ask("/instellingen")
    question = await press(anouk, settings, "Ander buurtnetwerk").edit()
    assert "typ een deel van de naam" in question.content
    found = await anouk.ask("daal")
    assert labels(found)[0] == "Belfort-Daalhof"
    await press(anouk, found, "Belfort-Daalhof").edit()
    assert "Ik begrijp niet goed" in (await anouk.ask("daal")).content

    # A newcomer whose question lapsed: what they type is not searched, the question comes again.
    dirk = world.person("Dirk")
    await dirk.start().replies(2)
    world.clock.advance(timedelta(minutes=31))
    again = await dirk.ask("daal")
    assert "Bedoel je" not in again.content
    assert "stond niet meer open" in again.content
    assert "Van welk buurtnetwerk ben je?" in again.content
    assert labels(await dirk.ask("daal"))[0] == "Belfort-Daalhof"


async def test_a_command_between_rating_and_comment_ends_the_comment_question(
    world: World,
) -> None:
    event = await make_event(
        world.db, world.clock(), capacity=5, title="ABCD-methodiek", starts_in=timedelta(days=1)
    )
    anouk = await onboard(world, "Anouk")
    await register_via_bot(world, anouk, "ABCD-methodiek")
    world.clock.set(event.ends_at + timedelta(hours=1))
    await dispatcher(world).dispatch_due()
    asked = await press(anouk, anouk.messages[-1], "4").edit()
    assert "Wil je er nog iets over kwijt?" in asked.content

    ended, _agenda = await anouk.send("/agenda").replies(2)
    assert "Je cijfer is opgeslagen, zonder opmerking." in ended.content
    after = await anouk.ask("Heel nuttig, graag meer over de burgerbegroting!")
    assert "Genoteerd" not in after.content and "Ik begrijp niet goed" in after.content
    async with world.db.read() as session:
        feedback = await session.scalar(select(Feedback))
    assert feedback is not None and feedback.rating == 4 and feedback.comment is None


async def test_the_question_without_a_continuation_ends_at_home_and_older_buttons_still_work(
    world: World,
) -> None:
    """From the settings the network question has no event to go on to: it ends with the home
    screen (``onboarding.HOME``). Buttons made before the continuation moved into the dialog
    (the network's with the event, the settings' language with "settings") keep working."""
    anouk = await onboard(world, "Anouk")
    settings = await anouk.ask("/instellingen")
    question = await press(anouk, settings, "Ander buurtnetwerk").edit()
    done = await press(anouk, question, "Amby").edit()
    assert "Je hoort bij Amby" in done.content
    assert "Bekijk het programma" in done.content and "⚙️ Instellingen" in labels(done)

    signer = world.deps.signer
    english = signer.encode(anouk.id, "lg", "en", "settings")  # an older settings screen
    shown = await anouk.forge_press(settings, english).edit()
    assert "Language: English" in shown.content and "🇳🇱 Nederlands" in labels(shown)
    question = await press(anouk, await anouk.ask("/instellingen"), "network").edit()
    daalhof = dict(buttons(question))["Belfort-Daalhof"].split("|")[1]
    older = signer.encode(anouk.id, "ns", daalhof, "")  # a network button that carried the event
    done = await anouk.forge_press(question, older).edit()
    assert "You belong to Belfort-Daalhof" in done.content and "⚙️ Settings" in labels(done)
