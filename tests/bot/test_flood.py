"""The flood guard turns a burst of taps away, and still answers every one of them, saying how
long to wait (issue #12, point 7)."""

from __future__ import annotations

from bot.flood import FloodGuard
from emulator import Person
from tests.bot.conftest import World, press
from tests.factories import make_event


async def onboard(world: World, name: str) -> Person:
    person = world.person(name)
    await person.start().replies(2)
    search = await person.ask("Wyck")
    await press(person, search, "Wyck").edit()
    return person


async def test_every_tap_of_a_burst_is_answered_and_told_how_long_to_wait(world: World):
    await make_event(world.db, world.clock(), capacity=10, title="Omgevingswet")
    anouk = await onboard(world, "Anouk")
    agenda = await anouk.ask("/agenda")
    # Five updates per ten seconds, all of them at the same moment: the sixth on waits 10 s.
    world.deps.flood = FloodGuard(limit=5, window=10.0, clock=lambda: 1_000.0)
    before = len(anouk.messages)

    taps = [anouk.press(agenda, "Omgevingswet") for _ in range(12)]
    answers = [await tap.answer() for tap in taps]  # none left spinning

    turned_away = [a.text for a in answers if a.text and "rustig aan" in a.text]
    assert len(turned_away) == 12 - 5, [a.text for a in answers]
    assert set(turned_away) == {"Even rustig aan, probeer het over 10 seconden."}
    warnings = [m.content for m in anouk.messages[before:] if "Rustig aan" in m.content]
    assert warnings == [
        "Rustig aan even 🙂 Je stuurt heel veel tegelijk. Over 10 seconden kun je weer verder."
    ]


async def test_the_wait_counts_down_as_the_window_moves_on(world: World):
    now = [1_000.0]
    guard = FloodGuard(limit=3, window=10.0, clock=lambda: now[0])
    for moment in (1_000.0, 1_002.0, 1_004.0, 1_004.5):
        now[0] = moment
        guard.check(7)
    assert guard.wait_s(7) == 8  # the tap at 1002 leaves the window at 1012
    now[0] = 1_009.2
    assert guard.wait_s(7) == 3
    now[0] = 1_012.5
    assert guard.check(7) == "ok"
