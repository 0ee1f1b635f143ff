"""/bericht end to end through the emulator: compose with Telegram's own formatting, choose the
audience, preview, send now or later, follow the progress, stop; and the refusals."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from emulator import Entity, Message, Person
from emulator.testing import tiny_png
from models.broadcasts.entities import Broadcast, BroadcastStatus
from models.members.entities import Member
from models.organisers.entities import AuditEntry
from models.registrations import operations as registrations
from scheduler.dispatcher import RoundReport
from tests.bot.conftest import labels, press
from tests.broadcasts.conftest import BroadcastWorld
from tests.factories import make_event, network_id

B = BroadcastStatus


def formatted(person: Person, text: str, *bold: tuple[int, int]) -> object:
    """A message with Telegram's own bold (what a phone app sends after "Bold")."""
    return person._post(
        person.user, text=text, entities=[Entity("bold", offset, n) for offset, n in bold]
    )


async def broadcasts(bw: BroadcastWorld) -> list[Broadcast]:
    async with bw.db.read() as session:
        return list((await session.scalars(select(Broadcast).order_by(Broadcast.id))).all())


async def start_with_text(bw: BroadcastWorld, olga: Person) -> Message:
    """/bericht, then the text: returns the audience menu."""
    prompt = await olga.ask("/bericht")
    assert "Bericht aan leden" in prompt.content and labels(prompt) == ["✖ Stop"]
    sent = formatted(olga, "Beste allemaal, kom donderdag naar de masterclass!", (6, 8))
    menu = await sent.reply()  # type: ignore[attr-defined]
    assert "Tekst bewaard" in menu.content and "Voor wie is dit bericht?" in menu.content
    return menu


async def test_compose_preview_send_and_follow_the_progress(bw: BroadcastWorld):
    people = await bw.members(3)
    olga, _ = await bw.organiser()
    menu = await start_with_text(bw, olga)
    [draft] = await broadcasts(bw)  # kept as soon as the text was given
    assert draft.status is B.DRAFT and draft.html.startswith("Beste <b>allemaal</b>,")

    everyone = press(olga, menu, "Iedereen")
    assert "Voor: iedereen" in (await everyone.edit()).content
    preview = await everyone.reply()
    assert preview.text == "Beste allemaal, kom donderdag naar de masterclass!"
    assert [(e.type, e.offset, e.length) for e in preview.entities] == [("bold", 6, 8)]
    control = await olga.wait_for_message(lambda m: "Naar" in m.content)
    assert "Naar 4 mensen: iedereen." in control.content
    assert labels(control) == ["📨 Nu versturen", "🕒 Later versturen", "◀ Terug", "✖ Annuleren"]

    send = press(olga, control, "Nu versturen")
    assert "Verzenden" in (await send.answer()).text
    progress = await send.edit()
    assert "Bericht wordt verstuurd" in progress.content and "0 / 4 verzonden" in progress.content
    assert labels(progress) == ["⛔ Stoppen"]

    await bw.dispatcher().dispatch_due()
    assert all(p.messages[-1].text == preview.text for p in people)
    await bw.progress.tick()
    assert "✅ Bericht verstuurd" in progress.content and "4 / 4 verzonden" in progress.content
    assert "Bezorgd: 4" in progress.content and labels(progress) == []
    report = await olga.wait_for_message(lambda m: "Je bericht is verstuurd" in m.content)
    assert "✅ Bezorgd: 4" in report.content
    [done] = await broadcasts(bw)
    assert done.status is B.DONE and done.progress_message_id == progress.message_id
    async with bw.db.read() as session:
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert actions == ["broadcast.create", "broadcast.update", "broadcast.confirm"]


async def test_live_progress_counts_while_sending(bw: BroadcastWorld):
    await bw.members(6)
    olga, _ = await bw.organiser()
    menu = await start_with_text(bw, olga)
    everyone = press(olga, menu, "Iedereen")
    control = await olga.wait_for_message(lambda m: "Naar" in m.content)
    await everyone.edit()
    progress = await press(olga, control, "Nu versturen").edit()
    # Half of it goes out, then the progress job looks at the database.
    dispatcher = bw.dispatcher(batch_size=3)
    claimed = await dispatcher._claim(bw.clock(), RoundReport())
    await dispatcher._send_all(claimed, RoundReport())
    await bw.progress.tick()
    assert "3 / 7 verzonden" in progress.content and labels(progress) == ["⛔ Stoppen"]
    edits = progress.edit_count
    await bw.progress.tick()  # nothing changed: no edit
    assert progress.edit_count == edits


async def test_stopping_while_sending(bw: BroadcastWorld):
    people = await bw.members(5)
    olga, _ = await bw.organiser()
    menu = await start_with_text(bw, olga)
    press(olga, menu, "Iedereen")
    control = await olga.wait_for_message(lambda m: "Naar" in m.content)
    send = press(olga, control, "Nu versturen")
    progress = await send.edit()
    stop = press(olga, progress, "Stoppen")
    assert "Gestopt" in (await stop.answer()).text
    stopped = await stop.edit()
    assert "⛔ Bericht gestopt" in stopped.content
    assert "Niet verstuurd (gestopt): 6" in stopped.content
    assert (await bw.dispatcher().dispatch_due()).sent == 0
    assert all("masterclass" not in m.content for p in people for m in p.messages)
    [broadcast] = await broadcasts(bw)
    assert broadcast.status is B.CANCELLED


async def test_chosen_networks_with_ticks(bw: BroadcastWorld):
    wyck = await network_id(bw.db, "wyck")
    people = await bw.members(3)
    async with bw.db.transaction() as session:
        for person in people[:2]:
            member = await session.scalar(select(Member).where(Member.telegram_id == person.id))
            assert member is not None
            member.network_id = wyck
    olga, _ = await bw.organiser()
    menu = await start_with_text(bw, olga)
    networks = await press(olga, menu, "Buurtnetwerken").edit()
    assert "Welke buurtnetwerken?" in networks.content
    done = [label for label in labels(networks) if label.startswith("Klaar")]
    refused = press(olga, networks, done[0])
    assert "Kies minstens één buurtnetwerk" in (await refused.answer()).text
    while "Wyck" not in labels(networks):
        networks = await press(olga, networks, "▶").edit()
    networks = await press(olga, networks, "Wyck").edit()
    assert "✅ Wyck" in labels(networks)
    assert "Klaar: 1 netwerk ▶" in labels(networks)
    ready = press(olga, networks, "Klaar: 1 netwerk")
    await ready.edit()
    control = await olga.wait_for_message(lambda m: "Naar" in m.content)
    assert "Naar 2 mensen: 1 buurtnetwerk (Wyck)." in control.content
    # Unticking the last one clears the choice.
    back = await press(olga, control, "Terug").edit()
    networks = await press(olga, back, "Buurtnetwerken").edit()
    while "✅ Wyck" not in labels(networks):
        networks = await press(olga, networks, "▶").edit()
    networks = await press(olga, networks, "✅ Wyck").edit()
    assert "Klaar: 0 netwerken ▶" in labels(networks)
    [draft] = await broadcasts(bw)
    assert draft.audience == {}


async def test_the_waitlist_of_an_event(bw: BroadcastWorld):
    people = await bw.members(3)
    event = await make_event(bw.db, bw.clock(), capacity=1, title="Omgevingswet")
    async with bw.db.transaction() as session:
        for person in people:
            member = await session.scalar(select(Member).where(Member.telegram_id == person.id))
            assert member is not None
            await registrations.register(
                session,
                event_id=event.id,
                member_id=member.id,
                now=bw.clock(),
                policy=bw.deps.policy,
            )
    olga, _ = await bw.organiser()
    menu = await start_with_text(bw, olga)
    events = await press(olga, menu, "wachtlijst").edit()
    assert "wachtlijst" in events.content
    chosen = press(olga, events, "Omgevingswet")
    await chosen.edit()
    control = await olga.wait_for_message(lambda m: "Naar" in m.content)
    assert "Naar 2 mensen: wie op de wachtlijst staat voor Omgevingswet" in control.content
    attendees = await press(olga, await press(olga, control, "Terug").edit(), "was bij").edit()
    assert "Er zijn geen bijeenkomsten om uit te kiezen." in attendees.content


async def test_later_by_button_or_typed(bw: BroadcastWorld):
    people = await bw.members(2)
    olga, _ = await bw.organiser()
    menu = await start_with_text(bw, olga)
    press(olga, menu, "Iedereen")
    control = await olga.wait_for_message(lambda m: "Naar" in m.content)
    when = await press(olga, control, "Later versturen").edit()
    assert "Wanneer moet het bericht weg?" in when.content
    # 1 March 2027, 10:00 in Maastricht: this evening is still to come.
    assert labels(when)[:2] == ["Vanavond 19:00", "Morgen 09:00"]
    for typed, answer in (
        ("morgenavond", "Dat moment begrijp ik niet"),
        ("31-02-2027 19:00", "Dat moment begrijp ik niet"),
        ("01-03-2027 08:00", "Dat moment is al voorbij"),
    ):
        reply = await olga.ask(typed)
        assert answer in reply.content, typed
    scheduled = await olga.ask("02-03-2027 19:30")
    assert "Ingepland" in scheduled.content and "voor dinsdag 2 maart, 19:30" in scheduled.content
    assert labels(scheduled) == ["⛔ Niet versturen"]
    [broadcast] = await broadcasts(bw)
    assert broadcast.status is B.SCHEDULED
    assert (await bw.dispatcher().dispatch_due()).sent == 0
    await bw.progress.tick()
    assert "Ingepland" in scheduled.content  # nothing moves before its moment

    bw.clock.set(broadcast.send_at)  # type: ignore[arg-type]
    await bw.dispatcher().dispatch_due()
    assert all(p.messages[-1].content.startswith("Beste allemaal") for p in people)
    await bw.progress.tick()
    assert "✅ Bericht verstuurd" in scheduled.content and "3 / 3" in scheduled.content


async def test_tomorrow_morning_by_button(bw: BroadcastWorld):
    await bw.members(1)
    olga, _ = await bw.organiser()
    menu = await start_with_text(bw, olga)
    press(olga, menu, "Iedereen")
    control = await olga.wait_for_message(lambda m: "Naar" in m.content)
    when = await press(olga, control, "Later versturen").edit()
    back = await press(olga, when, "Terug").edit()  # changed my mind: the preview's buttons
    assert "Naar 2 mensen" in back.content and "📨 Nu versturen" in labels(back)
    when = await press(olga, back, "Later versturen").edit()
    scheduled = await press(olga, when, "Morgen 09:00").edit()
    assert "Ingepland" in scheduled.content and "voor dinsdag 2 maart, 09:00" in scheduled.content
    [broadcast] = await broadcasts(bw)
    assert broadcast.send_at == bw.clock() + timedelta(hours=23)  # T0 is 10:00 in Maastricht


async def test_a_photo_first_then_the_text(bw: BroadcastWorld):
    people = await bw.members(1)
    olga, _ = await bw.organiser()
    await olga.ask("/bericht")
    menu = await olga.send_photo(tiny_png(8, 6)).reply()
    assert "Bijlage bewaard" in menu.content and "📷" in menu.content
    formatted(olga, "Zie de poster!", (0, 3))
    control = await olga.wait_for_message(lambda m: "Voor wie" in m.content)
    assert "Zie de poster!" in control.content
    press(olga, control, "Iedereen")
    preview = await olga.wait_for_message(lambda m: bool(m.photo))
    assert preview.caption == "Zie de poster!"
    control = await olga.wait_for_message(lambda m: "Naar" in m.content)
    await press(olga, control, "Nu versturen").edit()
    await bw.dispatcher().dispatch_due()
    got = people[0].messages[-1]
    assert got.photo and got.caption == "Zie de poster!"


async def test_too_long_for_a_caption_is_refused_kindly(bw: BroadcastWorld):
    olga, _ = await bw.organiser()
    await olga.ask("/bericht")
    await olga.send("Lange tekst " * 100).reply()
    refusal = await olga.send_photo(tiny_png()).reply()
    assert "hoogstens 1024 tekens" in refusal.content
    [draft] = await broadcasts(bw)
    assert draft.attachment is None  # nothing changed


async def test_back_and_stop(bw: BroadcastWorld):
    await bw.members(1)
    olga, _ = await bw.organiser()
    menu = await start_with_text(bw, olga)
    back = await press(olga, menu, "Terug").edit()
    assert "Typ een nieuwe tekst" in back.content and "Tekst houden ▶" in labels(back)
    forward = await press(olga, back, "Tekst houden").edit()
    assert "Voor wie is dit bericht?" in forward.content
    stopped = await press(olga, forward, "Stop").edit()
    assert "Gestopt. Er is niets verstuurd." in stopped.content
    [draft] = await broadcasts(bw)
    assert draft.status is B.CANCELLED
    # Typing now is just typing: the conversation is over.
    reply = await olga.ask("hallo")
    assert "Ik begrijp niet goed" in reply.content


async def test_the_draft_survives_a_restart(bw: BroadcastWorld):
    await bw.members(1)
    olga, _ = await bw.organiser()
    await start_with_text(bw, olga)
    offer = await olga.ask("/bericht")
    assert "Je was nog met een bericht bezig" in offer.content and "masterclass" in offer.content
    menu = await press(olga, offer, "Verder met dit bericht").edit()
    assert "Voor wie is dit bericht?" in menu.content
    fresh = await press(olga, await olga.ask("/bericht"), "Nieuw bericht").edit()
    assert "Typ hieronder het bericht" in fresh.content
    assert [b.status for b in await broadcasts(bw)] == [B.CANCELLED]


async def test_only_organisers(bw: BroadcastWorld):
    [anna] = await bw.members(1)
    reply = await anna.ask("/bericht")
    assert "Met /bericht sturen organisatoren" in reply.content
    reply = await anna.ask("Beste allemaal")
    assert "Ik begrijp niet goed" in reply.content
    assert await broadcasts(bw) == []


async def test_quick_messages_from_one_member_never_meet_telegrams_chat_limit(
    bw: BroadcastWorld,
):
    """Ten quick messages from one member: ten replies to one chat, paced per chat."""
    [bea] = await bw.members(1)
    for n in range(10):
        bea.send(f"vraag {n}")
    await bw.emulator.wait_until(
        lambda: sum(m.by_bot for m in bea.messages) >= 10 or None, timeout=15
    )
    assert bw.emulator.stats.too_many_requests == 0
