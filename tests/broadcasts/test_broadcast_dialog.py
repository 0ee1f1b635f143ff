"""Composing a /bericht is a dialog in the database (bot/dialogs.py): another command ends it, so
the next text belongs to whatever came after; a restart in the middle of a draft continues where
the organiser was, photo and all; a document sent during a draft is its attachment, not a
programme to import, and without a draft it is imported as before."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from bot.flood import FloodGuard
from emulator import Entity, Limits, Person, TelegramEmulator, serve
from emulator.testing import tiny_png
from models.broadcasts.entities import Broadcast, BroadcastStatus
from models.clock import FrozenClock
from models.db import Database
from models.ideas.entities import Idea
from models.members.entities import Affiliation, Member, Role
from models.members.operations import ensure_member, set_affiliation
from tests.bot.conftest import labels, press
from tests.broadcasts.conftest import BroadcastWorld
from tests.dialogs.test_dialogs_bot import answering, service

EXAMPLE = (Path(__file__).resolve().parents[2] / "examples" / "programma.toml").read_bytes()


async def broadcasts(db: Database) -> list[Broadcast]:
    async with db.read() as session:
        return list((await session.scalars(select(Broadcast).order_by(Broadcast.id))).all())


async def test_bericht_then_agenda_then_idee_the_text_goes_to_the_idea(bw: BroadcastWorld):
    bw.deps.flood = FloodGuard(limit=10_000)
    olga, _ = await bw.organiser()
    prompt = await olga.ask("/bericht")
    assert "Bericht aan leden" in prompt.content
    ended, _agenda = await olga.send("/agenda").replies(2)
    assert ended.content.startswith("Je bericht is onderbroken.")
    kinds = await press(olga, await olga.ask("/idee"), "Nieuw idee").edit()
    assert "Typ de titel" in (await press(olga, kinds, "masterclass").edit()).content
    asked = await olga.ask("Wonen voor ouderen")
    assert "Mooi: Wonen voor ouderen" in asked.content
    async with bw.db.read() as session:
        assert (await session.scalars(select(Idea))).all() == []  # not yet: a description next
    done = await olga.ask("Samen wonen in de buurt")
    assert "Je idee „Wonen voor ouderen” staat erbij" in done.content
    assert await broadcasts(bw.db) == []  # no draft: the text was the idea's
    async with bw.db.read() as session:
        assert (await session.scalars(select(Idea.title))).all() == ["Wonen voor ouderen"]


async def organiser(db: Database, person: Person) -> None:
    async with db.transaction() as session:
        member, _ = await ensure_member(session, telegram_id=person.id, display_name="Olga")
        await set_affiliation(session, member_id=member.id, affiliation=Affiliation.BEWONER)
        await session.execute(
            update(Member).where(Member.id == member.id).values(role=Role.ORGANISER)
        )


async def test_a_draft_half_way_survives_a_restart_photo_and_all(
    sqlite_db: Database, clock: FrozenClock
):
    emulator = TelegramEmulator(limits=Limits().scaled(10))
    olga = emulator.user("Olga")
    await organiser(sqlite_db, olga)
    poster = tiny_png(8, 6)
    async with serve(emulator) as api_url:
        async with service(sqlite_db.url, emulator, api_url, clock) as before, answering(before):
            assert "Bericht aan leden" in (await olga.ask("/bericht")).content
            menu = await olga.send_photo(poster).reply()
            assert "Bijlage bewaard" in menu.content and "📷" in menu.content
        # The service stops and starts again: nothing of the first one's memory is left.
        async with service(sqlite_db.url, emulator, api_url, clock) as after, answering(after):
            olga._post(olga.user, text="Zie de poster!", entities=[Entity("bold", 0, 3)])
            menu = await olga.wait_for_message(lambda m: "Voor wie" in m.content)
            assert "📷 Zie de poster!" in menu.content  # the same draft, its photo kept
            press(olga, menu, "Iedereen")
            shown = await olga.wait_for_message(lambda m: bool(m.photo))
            assert shown.caption == "Zie de poster!"
            control = await olga.wait_for_message(lambda m: "Naar" in m.content)
            assert "📨 Nu versturen" in labels(control)
    [draft] = await broadcasts(sqlite_db)
    assert draft.status is BroadcastStatus.DRAFT and draft.attachment == poster
    assert draft.attachment_kind == "photo" and draft.html == "<b>Zie</b> de poster!"


async def test_a_document_in_a_draft_is_its_attachment_not_a_programme(bw: BroadcastWorld):
    bw.deps.flood = FloodGuard(limit=10_000)
    olga, _ = await bw.organiser()
    await olga.ask("/bericht")
    menu = await olga.send_document(EXAMPLE, "programma.toml").reply()
    assert "Bijlage bewaard" in menu.content and "📎" in menu.content
    [draft] = await broadcasts(bw.db)
    assert draft.attachment_kind == "document" and draft.attachment_name == "programma.toml"
    # At the moment to send it, a document is no answer: it is a programme file again.
    press(olga, menu, "Iedereen")
    control = await olga.wait_for_message(lambda m: "Naar" in m.content)
    when = await press(olga, control, "Later versturen").edit()
    assert "Wanneer moet het bericht weg?" in when.content
    plan = await olga.send_document(EXAMPLE, "programma.toml").reply()
    assert "Dit verandert er als je importeert" in plan.content
    # And a photo there is just a photo (the fallback), the draft unchanged.
    other = await olga.send_photo(tiny_png()).reply()
    assert "Bijlage bewaard" not in other.content
    [draft] = await broadcasts(bw.db)
    assert draft.attachment_name == "programma.toml"


async def test_a_moment_is_read_as_everywhere_else(bw: BroadcastWorld):
    """The one moment parser (when/parsing.py): "morgen 19:30" too, and why not."""
    bw.deps.flood = FloodGuard(limit=10_000)
    await bw.members(1)
    olga, _ = await bw.organiser()
    await olga.ask("/bericht")
    menu = await olga.send("Beste allemaal").reply()
    press(olga, menu, "Iedereen")
    control = await olga.wait_for_message(lambda m: "Naar" in m.content)
    await press(olga, control, "Later versturen").edit()
    why = await olga.ask("morgen")
    assert "Dat moment begrijp ik niet. Hoe laat?" in why.content
    assert "Wanneer moet het bericht weg?" in why.content  # the question again
    scheduled = await olga.ask("morgen 19:30")
    assert "Ingepland" in scheduled.content and "dinsdag 2 maart, 19:30" in scheduled.content
