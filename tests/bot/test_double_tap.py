"""A double tap changes one thing: the second tap lands on what the edited card has in the same
place, and that is never a second change (issue #12).

Through the emulator with the real Application. The clock is frozen, so a tap without
``deliberately()`` before it comes 0 ms after the card appeared: as fast as a double tap.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.doubletap import action_of, changes_registration
from emulator import Message, Person
from models.members.entities import Member
from models.registrations import operations as registrations
from models.registrations.entities import Registration, RegistrationStatus
from tests.bot.conftest import World, buttons, labels, press
from tests.factories import make_event, make_member

S = RegistrationStatus
Keyboard = list[list[dict[str, Any]]]


async def onboard(world: World, name: str) -> Person:
    person = world.person(name)
    await person.start().replies(2)
    search = await person.ask("Wyck")
    await press(person, search, "Wyck").edit()
    return person


def deliberately(world: World) -> None:
    """Time to read the card: the next tap is not the second half of a double tap."""
    world.clock.advance(timedelta(seconds=2))


def keyboard(message: Message) -> Keyboard:
    return copy.deepcopy((message.reply_markup or {}).get("inline_keyboard", []))


def place_of(board: Keyboard, label: str) -> tuple[int, int]:
    for row, buttons_in_row in enumerate(board):
        for column, button in enumerate(buttons_in_row):
            if button["text"] == label:
                return row, column
    raise AssertionError(f"{label!r} not on {board}")


def same_place(before: Keyboard, tapped: tuple[int, int], after: Keyboard, anchor: str) -> Any:
    """The button of ``after`` under the finger that tapped ``before`` at ``tapped``: the same
    row from the top (a Bot API client), or from the bottom (Telegram's apps keep the newest
    message at the bottom, so its last row stays put), at the middle of the tapped button."""
    row, column = tapped
    if anchor == "bottom":
        row = len(after) - (len(before) - row)
    if not 0 <= row < len(after):
        return None
    finger = (column + 0.5) / len(before[tapped[0]])
    return after[row][int(finger * len(after[row]))]


async def member_id(world: World, name: str) -> int:
    async with world.db.read() as session:
        found = await session.scalar(select(Member.id).where(Member.display_name == name))
    assert found is not None
    return found


async def state(world: World, event_id: int, name: str) -> tuple[S, int] | None:
    async with world.db.read() as session:
        registration = await session.scalar(
            select(Registration)
            .join(Member, Member.id == Registration.member_id)
            .where(Registration.event_id == event_id, Member.display_name == name)
        )
    return None if registration is None else (registration.status, registration.party_size)


async def act(world: World, name: str, operation: Any, event_id: int, **arguments: Any) -> None:
    async with world.db.transaction() as session:
        await operation(
            session,
            event_id=event_id,
            member_id=await member_id(world, name),
            now=world.clock(),
            policy=world.deps.policy,
            **arguments,
        )


# What the member has before the first tap (set up in the domain), the button tapped on the
# card (after "Afmelden" or "Van de wachtlijst af" where given), and what that tap leads to.
SCENARIOS = {
    "register": (None, None, "✅ Aanmelden", (S.CONFIRMED, 1)),
    "register with someone": (None, None, "✅ Aanmelden met iemand erbij", (S.CONFIRMED, 2)),
    "bring someone": (1, None, "➕ Ik neem iemand mee", (S.CONFIRMED, 2)),
    "one fewer": (2, None, "➖ Ik kom met één persoon minder", (S.CONFIRMED, 1)),
    "cancel": (1, "Afmelden", "Ja, afmelden", (S.CANCELLED, 1)),
    "waitlist": ("full", None, "⏳ Zet me op de wachtlijst", (S.WAITLISTED, 1)),
    "leave the waitlist": ("waiting", "Van de wachtlijst af", "Ja, afmelden", (S.CANCELLED, 1)),
    "claim": ("offered", None, "🎟 Plek claimen", (S.CONFIRMED, 1)),
    "let it go": ("offered", None, "Laat maar", (S.CANCELLED, 1)),
}


@pytest.mark.parametrize("anchor", ["top", "bottom"])
@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_the_second_tap_of_a_double_tap_changes_nothing(
    world: World, scenario: str, anchor: str
):
    before, ask_first, label, after = SCENARIOS[scenario]
    capacity = 1 if before in ("full", "waiting", "offered") else 10
    event = await make_event(world.db, world.clock(), capacity=capacity, title="Omgevingswet")
    anouk = await onboard(world, "Anouk")
    if isinstance(before, int):
        await act(world, "Anouk", registrations.register, event.id, party_size=before)
    elif before is not None:
        await make_member(world.db, name="Bram")
        await act(world, "Bram", registrations.register, event.id)
        if before in ("waiting", "offered"):
            await act(world, "Anouk", registrations.register, event.id)
        if before == "offered":
            await act(world, "Bram", registrations.cancel, event.id)

    card = await press(anouk, await anouk.ask("/agenda"), "Omgevingswet").edit()
    if ask_first is not None:
        deliberately(world)
        card = await press(anouk, card, ask_first).edit()
    deliberately(world)
    board = keyboard(card)
    tapped = place_of(board, label)
    first = press(anouk, card, label)
    await first.answer()
    edited = await first.edit()
    assert await state(world, event.id, "Anouk") == after

    second = same_place(board, tapped, keyboard(edited), anchor)
    # The layout alone already puts no registration-changing button there; the one exception:
    # letting an offered seat go, counted from the bottom, when the card then offers
    # "Aanmelden" again (the offer card has a row fewer). There the guard asks.
    if (scenario, anchor) != ("let it go", "bottom"):
        assert second is None or not changes_registration(action_of(second["callback_data"]))
    if second is not None:  # no tap at all, if the card has no button there now
        await anouk.press(edited, data=second["callback_data"]).answer()
    assert await state(world, event.id, "Anouk") == after, second and second["text"]


async def two_events_and_the_second_card(world: World) -> tuple[Any, Person, Message]:
    """Anouk taps the second event in the list: its card has "✅ Aanmelden" in that row."""
    await make_event(world.db, world.clock(), capacity=10, title="Masterclass Wonen")
    later = await make_event(
        world.db,
        world.clock(),
        capacity=10,
        title="Masterclass Zorg",
        starts_in=timedelta(days=20),
    )
    anouk = await onboard(world, "Anouk")
    agenda = await anouk.ask("/agenda")
    assert place_of(keyboard(agenda), "Masterclass Zorg") == (1, 0)
    card = await press(anouk, agenda, "Masterclass Zorg").edit()
    assert place_of(keyboard(card), "✅ Aanmelden") == (1, 0)
    return later, anouk, card


async def test_a_change_tapped_too_soon_asks_first_and_yes_does_it(world: World):
    event, anouk, card = await two_events_and_the_second_card(world)
    too_soon = press(anouk, card, "✅ Aanmelden")
    assert "Twee keer getikt" in (await too_soon.answer()).text
    question = await too_soon.edit()
    assert "Wil je je aanmelden voor Masterclass Zorg?" in question.content
    assert labels(question) == ["Ja, aanmelden", "Nee"]
    assert await state(world, event.id, "Anouk") is None

    yes = press(anouk, question, "Ja, aanmelden")  # not where the finger was: no need to wait
    assert "Gelukt" in (await yes.answer()).text
    assert "✅ Je bent aangemeld." in (await yes.edit()).content
    assert await state(world, event.id, "Anouk") == (S.CONFIRMED, 1)


async def test_no_leaves_everything_as_it_was(world: World):
    event, anouk, card = await two_events_and_the_second_card(world)
    question = await press(anouk, card, "✅ Aanmelden").edit()
    back = await press(anouk, question, "Nee").edit()
    assert "Masterclass Zorg" in back.content and "✅ Aanmelden" in labels(back)
    assert await state(world, event.id, "Anouk") is None


async def test_a_deliberate_tap_after_the_guard_time_just_works(world: World):
    event, anouk, card = await two_events_and_the_second_card(world)
    world.clock.advance(timedelta(seconds=1.6))
    registered = press(anouk, card, "✅ Aanmelden")
    assert "Gelukt" in (await registered.answer()).text
    assert await state(world, event.id, "Anouk") == (S.CONFIRMED, 1)


async def test_the_moment_a_button_appeared_is_signed(world: World):
    event, anouk, card = await two_events_and_the_second_card(world)
    data = dict(buttons(card))["✅ Aanmelden"]
    head, *rest = data.split("|")
    assert head.startswith("rg.")  # it carries the moment it appeared under the finger
    for forged in ("|".join(["rg", *rest]), "|".join(["rg.0", *rest])):
        answer = await anouk.forge_press(card, forged).answer()
        assert "werkt niet" in (answer.text or "")
    assert await state(world, event.id, "Anouk") is None


# Each registration-changing action, tapped too soon: the question, and "Ja" does it.
CONFIRMATIONS = [
    ("rg", (2,), None, "je samen met 1 persoon aanmelden", "Ja, aanmelden", (S.CONFIRMED, 2)),
    ("wl", (), None, "Wil je op de wachtlijst", "Ja, op de wachtlijst", (S.CONFIRMED, 1)),
    ("ps", (2,), 1, "Kom je samen met 1 persoon naar", "Ja, aanpassen", (S.CONFIRMED, 2)),
    ("ps", (1,), 2, "Kom je alleen naar", "Ja, aanpassen", (S.CONFIRMED, 1)),
    ("cx", (), 1, "Weet je zeker dat je je wilt afmelden", "Ja, afmelden", (S.CANCELLED, 1)),
    ("cl", (), "offered", "Wil je de plek voor", "Ja, claimen", (S.CONFIRMED, 1)),
    ("dc", (), "offered", "laten gaan?", "Ja, laat maar", (S.CANCELLED, 1)),
]


@pytest.mark.parametrize(
    ("action", "args", "before", "question", "yes", "after"),
    CONFIRMATIONS,
    ids=[f"{c[0]}{c[1]}" for c in CONFIRMATIONS],
)
async def test_every_change_tapped_too_soon_is_asked_first(
    world: World,
    action: str,
    args: tuple[int, ...],
    before: Any,
    question: str,
    yes: str,
    after: tuple[S, int],
):
    event = await make_event(
        world.db, world.clock(), capacity=1 if before == "offered" else 10, title="Omgevingswet"
    )
    anouk = await onboard(world, "Anouk")
    if isinstance(before, int):
        await act(world, "Anouk", registrations.register, event.id, party_size=before)
    elif before == "offered":
        await make_member(world.db, name="Bram")
        await act(world, "Bram", registrations.register, event.id)
        await act(world, "Anouk", registrations.register, event.id)
        await act(world, "Bram", registrations.cancel, event.id)
    unchanged = await state(world, event.id, "Anouk")
    card = await press(anouk, await anouk.ask("/agenda"), "Omgevingswet").edit()
    # The button as the guard marks it: it appeared under the finger just now.
    data = world.deps.signer.encode(
        anouk.id, action, event.public_code, *args, shown_at=world.clock()
    )
    asked = anouk.forge_press(card, data)
    await asked.answer()
    shown = await asked.edit()
    assert question in shown.content
    assert await state(world, event.id, "Anouk") == unchanged
    deliberately(world)  # "Ja" may be where the finger was: a third tap would be asked again
    answer = await press(anouk, shown, yes).answer()
    assert await state(world, event.id, "Anouk") == after, answer.text
