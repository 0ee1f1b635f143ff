"""The members behind recent updates (``bot.context.RecentMembers``): kept between taps, and
read again as soon as their row changed, whoever changed it."""

from __future__ import annotations

from bot.context import RecentMembers
from emulator import Person
from models.events.entities import EventKind
from models.members.entities import Language, Member, Role
from models.members.operations import member_by_telegram_id, set_language
from tests.bot.conftest import World, press
from tests.factories import make_event


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def member(telegram_id: int) -> Member:
    return Member(id=telegram_id, telegram_id=telegram_id, display_name="Anna")


def test_kept_until_forgotten_or_too_old() -> None:
    clock = Clock()
    recent = RecentMembers(ttl_s=10, clock=clock)
    anna, bram = member(1), member(2)
    recent.keep(anna, recent.generation)
    recent.keep(bram, recent.generation)
    assert recent.get(1) is anna and recent.get(3) is None
    recent.forget({1})
    assert recent.get(1) is None and recent.get(2) is bram
    clock.now += 10.5
    assert recent.get(2) is None  # read again after the time to live
    recent.keep(anna, recent.generation)
    recent.forget({None})  # some members changed, not known which: everyone
    assert recent.get(1) is None


def test_a_read_that_a_commit_overtook_is_not_kept() -> None:
    recent = RecentMembers()
    before = recent.generation
    recent.forget({7})  # a commit while the member was being read
    recent.keep(member(1), before)
    assert recent.get(1) is None


def test_full_means_everyone_is_read_again() -> None:
    recent = RecentMembers(size=2)
    for telegram_id in (1, 2, 3):
        recent.keep(member(telegram_id), recent.generation)
    assert recent.get(1) is None and recent.get(3) is not None


async def onboarded(world: World, name: str) -> tuple[Person, Member]:
    person = world.person(name)
    sent = person.start()
    await sent.replies(2)
    chosen = press(person, await person.ask("Wyck"), "Wyck")
    await chosen.edit()
    assert world.deps.members.get(person.id) is None  # choosing a network changed her row
    async with world.db.read() as session:
        found = await member_by_telegram_id(session, person.id)
    assert found is not None
    return person, found


async def test_a_change_made_elsewhere_is_seen_at_the_next_tap(world: World) -> None:
    """The member's language and role change outside this chat (another handler, an organiser):
    the next message is already in English, and the draft only organisers see is there."""
    draft = await make_event(
        world.db, world.clock(), publish=False, kind=EventKind.MASTERCLASS, title="Concept"
    )
    await make_event(world.db, world.clock(), title="Omgevingswet")
    person, kept = await onboarded(world, "Anna")
    assert (await person.ask("/agenda")).content.startswith("Agenda · kies")
    assert "Concept" not in (await person.ask(f"/start e_{draft.public_code}")).content
    assert world.deps.members.get(person.id) is not None  # kept between her messages
    async with world.db.transaction() as session:
        await set_language(session, member_id=kept.id, language=Language.EN)
        changed = await session.get(Member, kept.id)
        assert changed is not None
        changed.role = Role.ORGANISER
    assert world.deps.members.get(person.id) is None  # forgotten at the commit
    assert (await person.ask("/agenda")).content.startswith("Agenda · choose")
    assert "Concept" in (await person.ask(f"/start e_{draft.public_code}")).content
    kept_again = world.deps.members.get(person.id)
    assert kept_again is not None and kept_again.role is Role.ORGANISER
