"""A member who types an organiser's command hears what it is for and what they can do instead,
never a bare "Dat mag je helaas niet doen."; /feedback lets them rate the events they came to.
End to end through the emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.flood import FloodGuard
from bot.handlers.for_organisers import FOR_ORGANISERS
from bot.menus import ORGANISER_COMMANDS
from i18n.translate import Translator
from models.feedback.entities import Feedback
from models.members.entities import Language, Role
from models.members.operations import set_language
from models.registrations import operations as registrations
from tests.bot import conftest as bot_conftest
from tests.bot.conftest import World, labels, press
from tests.factories import make_event
from tests.organisers.test_roles_bot import member_for

world = bot_conftest.world  # the fixture of tests/bot (a conftest reaches only its own folder)

BARE_REFUSAL = "Dat mag je helaas niet doen."
ENGLISH_ALIASES = {
    "programme": "programma",
    "new": "nieuw",
    "series": "reeks",
    "announce": "bericht",
    "import": "importeer",
    "export": "exporteer",
    "organisers": "organisatoren",
}


@pytest.fixture
def quiet(world: World) -> World:
    world.deps.flood = FloodGuard(limit=10_000)  # a member trying every command in a row
    return world


def test_every_organiser_command_has_an_explanation():
    commands = {name for name, _ in ORGANISER_COMMANDS}
    assert commands - set(FOR_ORGANISERS) == {"feedback"}  # which means rating, for a member
    assert set(ENGLISH_ALIASES.values()) <= set(FOR_ORGANISERS)


async def test_a_member_hears_what_each_organiser_command_is_for(quiet: World):
    bram = quiet.person("Bram")
    await member_for(quiet, bram)
    nl = Translator("nl")
    for command, entry in FOR_ORGANISERS.items():
        reply = await bram.ask(f"/{command}")
        assert BARE_REFUSAL not in reply.content, command
        assert f"/{command}" in reply.content, (command, reply.content)
        assert nl(entry.purpose) in reply.content and nl(entry.instead) in reply.content
        assert labels(reply) == [nl(way.label) for way in entry.ways], command
        assert labels(reply), f"/{command}: a button to what they can do instead"


async def test_in_english_too_with_the_english_commands(quiet: World):
    bella = quiet.person("Bella", language="en")
    member = await member_for(quiet, bella)
    async with quiet.db.transaction() as session:
        await set_language(session, member_id=member.id, language=Language.EN)
    en = Translator("en")
    for alias, command in ENGLISH_ALIASES.items():
        reply = await bella.ask(f"/{alias}")
        assert BARE_REFUSAL not in reply.content and "That is not" not in reply.content
        assert en(FOR_ORGANISERS[command].purpose) in reply.content, alias
    reply = await bella.ask("/programme")
    assert "With /programme organisers manage the programme" in reply.content
    assert labels(reply) == ["📅 Agenda"]


async def test_the_buttons_lead_where_they_say(quiet: World):
    await make_event(quiet.db, quiet.clock(), title="Buurtbudget")
    bram = quiet.person("Bram")
    await member_for(quiet, bram)
    explained = await bram.ask("/programma")
    agenda = await press(bram, explained, "Agenda").edit()
    assert "Buurtbudget" in agenda.content
    explained = await bram.ask("/aanmeldingen")
    mine = await press(bram, explained, "Mijn aanmeldingen").edit()
    assert BARE_REFUSAL not in mine.content


async def test_organisers_still_get_the_command(quiet: World):
    olga = quiet.person("Olga")
    await member_for(quiet, olga, Role.ORGANISER)
    reply = await olga.ask("/programma")
    assert "<b>Programma</b>" in reply.content or "Programma ·" in reply.content
    assert "ℹ️" not in reply.content
    # An organiser who is no admin: the admins' own command says so itself.
    assert "Alleen beheerders" in (await olga.ask("/organisatoren")).content


async def test_feedback_from_a_member_rates_an_event_they_came_to(quiet: World):
    bram = quiet.person("Bram")
    member = await member_for(quiet, bram)
    nothing = await bram.ask("/feedback")
    assert BARE_REFUSAL not in nothing.content
    assert "nog niets te beoordelen" in nothing.content and labels(nothing) == ["📅 Agenda"]

    came = await make_event(
        quiet.db, quiet.clock(), title="Omgevingswet", starts_in=timedelta(days=2)
    )
    missed = await make_event(
        quiet.db, quiet.clock(), title="Buurtbudget", starts_in=timedelta(days=3)
    )
    coming = await make_event(quiet.db, quiet.clock(), title="Later", starts_in=timedelta(days=30))
    for event in (came, coming):
        async with quiet.db.transaction() as session:
            await registrations.register(
                session,
                event_id=event.id,
                member_id=member.id,
                now=quiet.clock(),
                policy=quiet.deps.policy,
            )
    del missed  # not registered: not his to rate
    quiet.clock.advance(timedelta(days=5))
    listing = await bram.ask("/feedback")
    assert "Hoe was het?" in listing.content
    assert [label.split(" · ")[0] for label in labels(listing)] == ["🎓 Omgevingswet"]
    question = await press(bram, listing, "Omgevingswet").edit()
    assert "Hoe was" in question.content and labels(question) == ["1", "2", "3", "4", "5"]
    thanks = await press(bram, question, "4").edit()
    assert "Dank je wel voor je cijfer (4)" in thanks.content
    async with quiet.db.read() as session:
        rating = await session.scalar(
            select(Feedback.rating).where(
                Feedback.member_id == member.id, Feedback.event_id == came.id
            )
        )
    assert rating == 4
    again = await bram.ask("/feedback")
    assert labels(again)[0].endswith("⭐⭐⭐⭐")  # rated: shown, and can be changed
