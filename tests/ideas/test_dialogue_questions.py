"""Questions for the dialogues with raads- en burgerleden: sending them in, the overview, the
export without names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.handlers.ideas.export import questions_document
from i18n.translate import Translator
from models.errors import EventCancelled, EventStarted, MemberUnknown, NotAllowed, NotFound
from models.events.entities import EventKind
from models.events.operations import cancel_event
from models.ideas import operations as ideas
from models.ideas.entities import DialogueQuestion
from models.members.entities import Affiliation, Role
from models.members.operations import forget_member
from models.registrations import operations as registrations
from tests.factories import make_event, make_member, network_id

DIALOOG = EventKind.DIALOOG


async def dialogue(db, clock, **fields):  # type: ignore[no-untyped-def]
    fields.setdefault("title", "Buurtnetwerken in dialoog")
    return await make_event(db, clock(), kind=DIALOOG, **fields)


async def register(db, clock, policy, event, member):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await registrations.register(
            session, event_id=event.id, member_id=member.id, now=clock(), policy=policy
        )


async def ask(db, clock, member, event, text="Hoe betrekt de raad de buurt?", **kwargs):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await ideas.ask_question(
            session,
            member_id=member.id,
            event_id=event.id,
            text=text,
            theme=kwargs.pop("theme", None),
            now=kwargs.pop("now", clock()),
        )


async def stored(db) -> int:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(DialogueQuestion)) or 0)


async def test_registrants_confirmed_or_waitlisted_send_questions(db, clock, policy):
    event = await dialogue(db, clock, capacity=1)
    anna = await make_member(db, name="Anna")
    bram = await make_member(db, name="Bram", network="belfort-daalhof")
    await register(db, clock, policy, event, anna)
    assert (await register(db, clock, policy, event, bram)).waitlist_position == 1
    first = await ask(db, clock, anna, event, theme="  Zorg en   welzijn ")
    second = await ask(db, clock, bram, event, text="  Wat doet de gemeente aan eenzaamheid?\n")
    assert first.theme == "Zorg en welzijn" and first.network_id == await network_id(db, "wyck")
    assert second.text == "Wat doet de gemeente aan eenzaamheid?" and second.theme is None
    assert second.network_id == await network_id(db, "belfort-daalhof")
    async with db.read() as session:
        mine = await ideas.my_dialogues(session, member_id=anna.id, now=clock())
    assert [(c.event.id, c.asked) for c in mine] == [(event.id, 1)]


async def test_only_registrants_may_ask(db, clock, policy):
    event = await dialogue(db, clock)
    anna, bram = await make_member(db, name="Anna"), await make_member(db, name="Bram")
    with pytest.raises(ideas.QuestionNeedsRegistration):
        await ask(db, clock, anna, event)
    await register(db, clock, policy, event, bram)
    async with db.transaction() as session:
        await registrations.cancel(
            session, event_id=event.id, member_id=bram.id, now=clock(), policy=policy
        )
    with pytest.raises(ideas.QuestionNeedsRegistration):  # cancelled: no longer in
        await ask(db, clock, bram, event)
    async with db.read() as session:
        assert await ideas.my_dialogues(session, member_id=bram.id, now=clock()) == []
    assert await stored(db) == 0


async def test_only_for_a_dialogue_that_has_not_started(db, clock, policy):
    anna = await make_member(db)
    masterclass = await make_event(db, clock(), title="Omgevingswet")
    await register(db, clock, policy, masterclass, anna)
    with pytest.raises(ideas.NotADialogue):
        await ask(db, clock, anna, masterclass)
    soon = await dialogue(db, clock, starts_in=timedelta(hours=2))
    await register(db, clock, policy, soon, anna)
    with pytest.raises(EventStarted):
        await ask(db, clock, anna, soon, now=clock() + timedelta(hours=3))
    cancelled = await dialogue(db, clock, title="Gaat niet door")
    await register(db, clock, policy, cancelled, anna)
    async with db.transaction() as session:
        await cancel_event(
            session, event_id=cancelled.id, actor_id=None, reason="Ziek", now=clock()
        )
    with pytest.raises(EventCancelled):
        await ask(db, clock, anna, cancelled)
    async with db.transaction() as session:
        with pytest.raises(NotFound):
            await ideas.ask_question(
                session, member_id=anna.id, event_id=soon.id + 100, text="Hallo daar", now=clock()
            )
        with pytest.raises(MemberUnknown):
            await ideas.ask_question(
                session, member_id=999, event_id=soon.id, text="Hallo daar", now=clock()
            )
    assert await stored(db) == 0


async def test_another_networks_session_is_as_if_it_did_not_exist(db, clock):
    event = await dialogue(db, clock, network_id=await network_id(db, "belfort-daalhof"))
    anna = await make_member(db)
    with pytest.raises(NotFound):
        await ask(db, clock, anna, event)


async def test_impossible_questions_are_refused(db, clock, policy):
    event = await dialogue(db, clock)
    anna = await make_member(db)
    await register(db, clock, policy, event, anna)
    for text, theme in [
        ("Hoi", None),
        ("   ab     ", None),
        ("x" * 1001, None),
        ("Een goede vraag", "t" * 81),
    ]:
        with pytest.raises(ideas.InvalidQuestion):
            await ask(db, clock, anna, event, text=text, theme=theme)
    assert await stored(db) == 0


async def test_at_most_three_questions_and_the_same_one_twice_changes_nothing(db, clock, policy):
    event = await dialogue(db, clock)
    anna = await make_member(db)
    await register(db, clock, policy, event, anna)
    first = await ask(db, clock, anna, event, text="x" * 1000)  # the limit itself is fine
    again = await ask(db, clock, anna, event, text="X" * 1000 + "  ")
    assert again.id == first.id
    await ask(db, clock, anna, event, text="Vraag twee")
    await ask(db, clock, anna, event, text="Vraag drie")
    with pytest.raises(ideas.TooManyQuestions) as refused:
        await ask(db, clock, anna, event, text="Vraag vier")
    assert refused.value.params == {"maximum": 3}
    assert await stored(db) == 3
    async with db.read() as session:
        mine = await ideas.my_dialogues(session, member_id=anna.id, now=clock())
    assert [c.asked for c in mine] == [3]


async def seeded_dialogue(db, clock, policy):  # type: ignore[no-untyped-def]
    event = await dialogue(db, clock, location="Stadhuis Maastricht, Markt 78")
    anna = await make_member(db, name="Anna Jansen")
    bram = await make_member(db, name="Bram Peters", network="belfort-daalhof")
    raad = await make_member(
        db, name="Ria Raadslid", network=None, affiliation=Affiliation.RAADSLID
    )
    for member in (anna, bram, raad):
        await register(db, clock, policy, event, member)
    await ask(db, clock, anna, event, text="Komen er meer betaalbare woningen?", theme="Wonen")
    await ask(db, clock, bram, event, text="Wie onderhoudt het speelveld?", theme="Wonen")
    await ask(db, clock, bram, event, text="Kan de 30 km-zone naar de Daalhof?", theme="Verkeer")
    await ask(db, clock, raad, event, text="Wat leeft er in de buurten?\nEn wat niet?")
    await ask(db, clock, anna, event, text="Blijft de subsidie voor buurtnetwerken?")
    return event, (anna, bram, raad)


async def test_organisers_see_questions_grouped_by_theme_and_network(db, clock, policy):
    event, (anna, _bram, _raad) = await seeded_dialogue(db, clock, policy)
    organiser = await make_member(db, name="Olga", role=Role.ORGANISER, network=None)
    async with db.read() as session:
        with pytest.raises(NotAllowed):
            await ideas.questions_for(session, actor_id=anna.id, event_id=event.id)
        overview = await ideas.questions_for(session, actor_id=organiser.id, event_id=event.id)
    assert overview.total == 5 and overview.networks == 2
    assert [(theme, [e.text for e in entries]) for theme, entries in overview.by_theme] == [
        ("Wonen", ["Wie onderhoudt het speelveld?", "Komen er meer betaalbare woningen?"]),
        ("Verkeer", ["Kan de 30 km-zone naar de Daalhof?"]),
        (
            None,
            [
                "Blijft de subsidie voor buurtnetwerken?",
                "Wat leeft er in de buurten?\nEn wat niet?",
            ],
        ),
    ]
    assert overview.by_network == [("Belfort-Daalhof", 2), ("Wyck", 2), (None, 1)]
    async with db.read() as session:
        choices = await ideas.dialogues_for_organisers(session, actor_id=organiser.id, now=clock())
        with pytest.raises(NotAllowed):
            await ideas.dialogues_for_organisers(session, actor_id=anna.id, now=clock())
    assert [(c.event.id, c.asked) for c in choices] == [(event.id, 5)]
    masterclass = await make_event(db, clock(), title="Omgevingswet")
    async with db.read() as session:
        with pytest.raises(ideas.NotADialogue):
            await ideas.questions_for(session, actor_id=organiser.id, event_id=masterclass.id)
        with pytest.raises(NotFound):
            await ideas.questions_for(session, actor_id=organiser.id, event_id=event.id + 100)


async def test_the_export_has_no_names_and_says_so(db, clock, policy):
    event, people = await seeded_dialogue(db, clock, policy)
    organiser = await make_member(db, name="Olga", role=Role.ORGANISER, network=None)
    async with db.read() as session:
        with pytest.raises(NotAllowed):
            await ideas.questions_for(session, actor_id=people[0].id, event_id=event.id)
        overview = await ideas.questions_for(session, actor_id=organiser.id, event_id=event.id)
    text = questions_document(overview, Translator("nl")).decode()
    assert text.startswith("# Vragen voor de dialoog met raads- en burgerleden\n")
    assert "Namen staan er bewust niet in (privacy)" in text
    assert "Stadhuis Maastricht, Markt 78" in text and "2027" in text
    assert "5 vragen, uit 2 buurtnetwerken." in text
    assert "## Wonen (2)" in text and "## Verkeer (1)" in text and "## Zonder thema (2)" in text
    assert "1. Wie onderhoudt het speelveld?\n   — Belfort-Daalhof" in text
    assert "Wat leeft er in de buurten?\n   En wat niet?\n   — zonder buurtnetwerk" in text
    assert "- Wyck: 2" in text
    for person in (*people, organiser):
        for part in person.display_name.split():
            assert part not in text
    assert text.index("## Wonen") < text.index("## Verkeer") < text.index("## Zonder thema")


async def test_questions_stay_but_anonymous_when_the_asker_is_forgotten(db, clock, policy):
    event, (anna, _bram, _raad) = await seeded_dialogue(db, clock, policy)
    organiser = await make_member(db, name="Olga", role=Role.ORGANISER, network=None)
    async with db.transaction() as session:
        await forget_member(session, member_id=anna.id, now=clock(), policy=policy)
    async with db.read() as session:
        overview = await ideas.questions_for(session, actor_id=organiser.id, event_id=event.id)
        orphans = await session.scalar(
            select(func.count()).where(DialogueQuestion.member_id.is_(None))
        )
    assert overview.total == 5 and orphans == 2
    assert ("Wyck", 2) in overview.by_network  # still counted for their network
