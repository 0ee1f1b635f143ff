"""Organiser roles and programme files in the chat, end to end through the emulator: inviting,
accepting, revoking, importing (dry run, then confirm), exporting; and that members reach none
of it (commands, forged buttons, bad deep links)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from emulator import Person
from models.events.entities import Event, EventStatus
from models.events.operations import update_event
from models.members.entities import Affiliation, Member, Role
from models.members.operations import ensure_member, set_affiliation
from models.organisers.entities import AuditEntry, OrganiserInvitation
from models.programme import apply_import, plan_import
from models.programme.toml_schema import parse_toml
from tests.bot import conftest as bot_conftest
from tests.bot.conftest import World, buttons, labels, press
from tests.factories import network_id

world = bot_conftest.world  # the fixture of tests/bot (a conftest reaches only its own folder)

EXAMPLE = (Path(__file__).resolve().parents[2] / "examples" / "programma.toml").read_bytes()
LINK = re.compile(r"https://t\.me/[^?\s]+\?start=(o_[A-Za-z0-9_-]+)")


async def member_for(world: World, person: Person, role: Role = Role.MEMBER) -> Member:
    """The member behind ``person``, onboarded (Wyck), with ``role``."""
    wyck = await network_id(world.db, "wyck")
    async with world.db.transaction() as session:
        member, _ = await ensure_member(
            session, telegram_id=person.id, display_name=person.user.first_name
        )
        member.role = role
        await set_affiliation(
            session, member_id=member.id, affiliation=Affiliation.BUURTNETWERK, network_id=wyck
        )
    return member


async def admin(world: World, name: str = "Els") -> Person:
    person = world.person(name)
    world.deps.admins = (person.id,)
    await member_for(world, person)  # the configuration makes them admin at the first contact
    return person


async def role_of(world: World, person: Person) -> Role:
    async with world.db.read() as session:
        role = await session.scalar(select(Member.role).where(Member.telegram_id == person.id))
    assert role is not None
    return role


async def audit_actions(world: World) -> list[str]:
    async with world.db.read() as session:
        return list(
            (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
        )


async def invite(world: World, els: Person) -> str:
    """Els makes an invitation; returns the deep-link payload ("o_<secret>")."""
    overview = await els.ask("/organisatoren")
    made = press(els, overview, "Nodig een organisator uit")
    explained = await made.edit()
    assert "werkt één keer" in explained.content
    forward = await made.reply()
    found = LINK.search(forward.content)
    assert found is not None, forward.content
    return found.group(1)


async def test_an_admin_invites_and_the_guest_becomes_organiser(world: World):
    els = await admin(world)
    payload = await invite(world, els)
    ruud = world.person("Ruud")
    welcome = await ruud.start(payload).reply()
    assert "Je bent nu organisator" in welcome.content
    assert await role_of(world, ruud) is Role.ORGANISER
    menu = [command["command"] for command in world.emulator.commands_for(ruud, "nl")]
    assert "importeer" in menu and "aanmeldingen" in menu
    # New here: after the welcome, where they come from.
    question = await ruud.wait_for_message(lambda m: "Van welk buurtnetwerk" in m.content)
    assert "Ik hoor niet bij een buurtnetwerk" in labels(question)

    overview = await els.ask("/organisatoren")
    assert "Ruud · organisator" in overview.content and "Els · beheerder" in overview.content
    assert "Intrekken: Ruud" in labels(overview)
    assert await audit_actions(world) == ["organiser.invite", "organiser.accept"]

    # The link works once.
    sanne = world.person("Sanne")
    refused = await sanne.start(payload).reply()
    assert "al gebruikt" in refused.content
    assert await role_of(world, sanne) is Role.MEMBER


def menu(world: World, person: Person, language: str = "nl") -> list[str]:
    """The commands the person's Telegram app shows (Telegram's scope and language fallback)."""
    return [command["command"] for command in world.emulator.commands_for(person, language)]


async def test_an_admin_from_the_configuration_gets_the_organiser_menu_at_once(world: World):
    els = world.person("Els")
    world.deps.admins = (els.id,)
    assert "organisatoren" not in menu(world, els)  # the members' menu, as for everyone
    await els.start().replies(2)  # the welcome and the network question: her first contact
    assert await role_of(world, els) is Role.ADMIN
    assert {"organisatoren", "programma", "importeer"} <= set(menu(world, els))
    assert menu(world, els, "en")[:2] == ["agenda", "mijn"]  # her chat's, whatever her app says
    # Another member's chat keeps the members' menu.
    bram = world.person("Bram")
    await bram.start().replies(2)
    assert "organisatoren" not in menu(world, bram)


async def test_an_organiser_gets_and_loses_the_menu_at_once(world: World):
    els = await admin(world)
    ruud = world.person("Ruud")
    await ruud.start(await invite(world, els)).reply()
    assert {"programma", "aanmeldingen"} <= set(menu(world, ruud))
    # Switching to English: the organiser's menu follows at once.
    await ruud.wait_for_message(lambda m: "Van welk buurtnetwerk" in m.content)
    await press(ruud, await ruud.ask("/instellingen"), "English").edit()
    assert menu(world, ruud)[:3] == ["agenda", "mine", "idea"]
    assert "programma" in menu(world, ruud)
    assert world.emulator.commands_for(ruud)[0]["description"] == "The coming events"
    # Revoked: the members' menu again, in the language of the app.
    overview = await els.ask("/organisatoren")
    asked = await press(els, overview, "Intrekken: Ruud").edit()
    await press(els, asked, "Ja, intrekken").edit()
    assert await role_of(world, ruud) is Role.MEMBER
    assert "programma" not in menu(world, ruud)
    assert menu(world, ruud, "en")[:3] == ["agenda", "mine", "idea"]


async def test_an_organiser_who_is_forgotten_keeps_no_organiser_menu(world: World):
    ruud = world.person("Ruud")
    await member_for(world, ruud, Role.ORGANISER)
    await press(ruud, await ruud.ask("/instellingen"), "English").edit()
    assert "programma" in menu(world, ruud)
    asked = await ruud.ask("/forgetme")
    await press(ruud, asked, "Yes, erase my data").edit()
    assert "programma" not in menu(world, ruud)
    assert menu(world, ruud, "en")[:2] == ["agenda", "mine"]


async def test_bad_and_expired_links_are_refused(world: World):
    els = await admin(world)
    payload = await invite(world, els)
    mallory = world.person("Mallory")
    await member_for(world, mallory)
    refused = await mallory.start("o_" + "A" * 22).reply()
    assert "Deze uitnodiging ken ik niet" in refused.content
    world.clock.advance(timedelta(hours=48))
    refused = await mallory.start(payload).reply()
    assert "verlopen" in refused.content and "48 uur" in refused.content
    assert await role_of(world, mallory) is Role.MEMBER
    assert await audit_actions(world) == ["organiser.invite"]


async def test_an_admin_withdraws_a_link_and_revokes_an_organiser(world: World):
    els = await admin(world)
    payload = await invite(world, els)
    overview = await els.ask("/organisatoren")
    assert "1 uitnodiging is nog niet gebruikt." in overview.content
    withdrawn = await press(els, overview, "Link intrekken").edit()
    assert "ingetrokken" in withdrawn.content
    too_late = await world.person("Sanne").start(payload).reply()
    assert "ingetrokken" in too_late.content

    ruud = world.person("Ruud")
    await member_for(world, ruud, Role.ORGANISER)
    overview = await els.ask("/organisatoren")
    asked = await press(els, overview, "Intrekken: Ruud").edit()
    assert "Weet je zeker dat Ruud geen organisator meer is?" in asked.content
    kept = await press(els, asked, "Nee, toch niet").edit()
    assert "Intrekken: Ruud" in labels(kept)
    assert await role_of(world, ruud) is Role.ORGANISER
    asked = await press(els, kept, "Intrekken: Ruud").edit()
    done = await press(els, asked, "Ja, intrekken").edit()
    assert "Ruud is geen organisator meer" in done.content
    assert "Intrekken: Ruud" not in labels(done)
    assert await role_of(world, ruud) is Role.MEMBER
    assert (await audit_actions(world))[-1] == "organiser.revoke"


async def test_members_and_organisers_cannot_manage_organisers(world: World):
    els = await admin(world)
    ruud = world.person("Ruud")
    ruud_member = await member_for(world, ruud, Role.ORGANISER)
    bram = world.person("Bram")
    await member_for(world, bram)
    for person in (bram, ruud):
        refusal = await person.ask("/organisatoren")
        # A member hears what it is for; an organiser, that it is the admins' command.
        assert ("Alleen beheerders" if person is ruud else "nodigen beheerders") in refusal.content
        # Buttons signed for them, pressed anyway.
        for action, *args in (("Ai",), ("Ay", ruud_member.id), ("Ar", ruud_member.id), ("Al",)):
            data = world.deps.signer.encode(person.id, action, *args)
            answer = await person.forge_press(refusal, data).answer()
            assert "Alleen beheerders" in answer.text, (action, answer.text)
    async with world.db.read() as session:
        invitation = await session.scalar(select(OrganiserInvitation.id))
    assert invitation is None
    await invite(world, els)  # to have one to withdraw
    async with world.db.read() as session:
        invitation_id = await session.scalar(select(OrganiserInvitation.id))
    refusal = await bram.ask("/organisatoren")
    data = world.deps.signer.encode(bram.id, "Ax", invitation_id)
    assert "Alleen beheerders" in (await bram.forge_press(refusal, data).answer()).text
    async with world.db.read() as session:
        still_open = await session.scalar(
            select(OrganiserInvitation.revoked_at).where(OrganiserInvitation.id == invitation_id)
        )
    assert still_open is None
    assert await role_of(world, ruud) is Role.ORGANISER
    assert await audit_actions(world) == ["organiser.invite"]


# --- programme files ----------------------------------------------------------------------------


async def events_in(world: World) -> list[Event]:
    async with world.db.read() as session:
        return list((await session.scalars(select(Event).order_by(Event.starts_at))).all())


async def test_an_organiser_imports_a_file_after_seeing_what_changes(world: World):
    olga = world.person("Olga")
    await member_for(world, olga, Role.ORGANISER)
    help_text = await olga.ask("/importeer")
    assert ".toml" in help_text.content and ".ics" in help_text.content
    plan = await olga.send_document(EXAMPLE, "programma.toml").reply()
    # 1 March 2027: the February masterclass is over and left alone.
    assert "Dit verandert er als je importeert" in plan.content
    assert "➕ Nieuw: 8" in plan.content and "Overgeslagen: 1" in plan.content
    assert "Omgevingswet" in plan.content and "al voorbij" in plan.content
    assert labels(plan) == ["✅ Importeren", "Annuleren"]
    assert plan.reply_to is not None and plan.reply_to.document is not None
    assert await events_in(world) == []  # a dry run changes nothing

    confirm_data = dict(buttons(plan))["✅ Importeren"]
    done = await press(olga, plan, "Importeren").edit()
    assert "✅ Ingelezen: 8 nieuw, 0 gewijzigd, 0 geannuleerd." in done.content
    events = await events_in(world)
    assert len(events) == 8 and {e.source_uid for e in events} >= {"masterclass-2027-2"}
    assert "programme.import" in await audit_actions(world)

    # The same confirmation again (a double tap, a replay): nothing more happens.
    again = await olga.forge_press(done, confirm_data).edit()
    assert "niets te veranderen" in again.content
    assert len(await events_in(world)) == 8
    # The same file again: nothing to do, and no button to press.
    same = await olga.send_document(EXAMPLE, "programma.toml").reply()
    assert "Dit bestand verandert niets" in same.content and labels(same) == []


async def test_declining_or_a_changed_programme_imports_nothing_unseen(world: World):
    olga = world.person("Olga")
    organiser = await member_for(world, olga, Role.ORGANISER)
    plan = await olga.send_document(EXAMPLE, "programma.toml").reply()
    declined = await press(olga, plan, "Annuleren").edit()
    assert "niets ingelezen" in declined.content
    assert await events_in(world) == []

    # The programme is imported meanwhile, and one event changed in the bot afterwards.
    now = world.clock()
    async with world.db.transaction() as session:
        first = await plan_import(session, EXAMPLE, now)
        await apply_import(session, first, actor_id=None, now=now, policy=world.deps.policy)
    changed = EXAMPLE.replace(b"plaatsen = 60", b"plaatsen = 80")
    plan = await olga.send_document(changed, "programma.toml").reply()
    assert "plaatsen: 60 → 80" in plan.content
    dialogue = next(e for e in await events_in(world) if e.source_uid == "dialoog-2027-voorjaar")
    async with world.db.transaction() as session:
        await update_event(
            session,
            event_id=dialogue.id,
            actor_id=organiser.id,
            changes={"location": "Mosae Forum"},
            now=now,
            policy=world.deps.policy,
        )
    shown = await press(olga, plan, "Importeren").edit()
    assert "Het programma is intussen veranderd" in shown.content
    assert "Mosae Forum" in shown.content  # the place would go back to what the file says
    async with world.db.read() as session:
        capacity = await session.scalar(
            select(Event.capacity).where(Event.source_uid == "dialoog-2027-voorjaar")
        )
    assert capacity == 60  # not applied: the organiser did not see this plan yet
    done = await press(olga, shown, "Importeren").edit()
    assert "2 gewijzigd" in done.content


async def test_a_bad_file_is_explained_and_changes_nothing(world: World):
    olga = world.person("Olga")
    await member_for(world, olga, Role.ORGANISER)
    broken = EXAMPLE.replace(b'soort = "dialoog"', b'soort = "borrel"', 1)
    answer = await olga.send_document(broken, "programma.toml").reply()
    assert "kan ik niet inlezen" in answer.content
    assert "Bijeenkomst 5 (regel 113): onbekende soort „borrel”" in answer.content
    assert labels(answer) == []
    garbage = await olga.send_document(b"titel = \n", "leeg.toml").reply()
    assert "Regel 1, kolom" in garbage.content
    ics = await olga.send_document(b"BEGIN:VCALENDAR\nnonsense\n", "agenda.ics").reply()
    assert "agendabestand (ICS)" in ics.content
    assert await events_in(world) == []


async def test_a_confirmation_without_its_file_asks_for_the_file_again(world: World):
    olga = world.person("Olga")
    await member_for(world, olga, Role.ORGANISER)
    plan = await olga.send_document(EXAMPLE, "programma.toml").reply()
    data = dict(buttons(plan))["✅ Importeren"]
    elsewhere = await olga.ask("/importeer")  # a message that is no reply to the file
    asked = await olga.forge_press(elsewhere, data).edit()
    assert "Stuur het nog eens" in asked.content
    assert await events_in(world) == []


async def test_members_cannot_import_or_export(world: World):
    bram = world.person("Bram")
    await member_for(world, bram)
    assert "Met /importeer lezen organisatoren" in (await bram.ask("/importeer")).content
    assert "Met /exporteer halen organisatoren" in (await bram.ask("/exporteer")).content
    refusal = await bram.send_document(EXAMPLE, "programma.toml").reply()
    assert "alleen een organisator" in refusal.content and labels(refusal) == []
    # A confirmation button signed for Bram, and the export button.
    for action, *args in (("Am", "0" * 12, "0" * 10), ("Ae",)):
        data = world.deps.signer.encode(bram.id, action, *args)
        answer = await bram.forge_press(refusal, data).answer()
        assert "Dat mag je helaas niet doen" in answer.text
    # Even on the plan an organiser got (replayed into Bram's own chat, on his own refusal).
    assert await events_in(world) == []
    documents = [m for m in bram.messages if m.document is not None]
    assert documents == []


async def test_an_organiser_exports_the_programme(world: World):
    olga = world.person("Olga")
    await member_for(world, olga, Role.ORGANISER)
    now = world.clock()
    async with world.db.transaction() as session:
        plan = await plan_import(session, EXAMPLE, now)
        await apply_import(session, plan, actor_id=None, now=now, policy=world.deps.policy)
    document = await olga.send("/exporteer").reply(lambda m: m.document is not None)
    assert document.document is not None and document.document.file_name.endswith(".toml")
    exported = document.document.data.decode()
    programme = parse_toml(exported)
    assert len(programme.entries) == 8
    # Sent back, it changes nothing.
    answer = await olga.send_document(document.document.data, "terug.toml").reply()
    assert "Dit bestand verandert niets" in answer.content
    async with world.db.read() as session:
        drafts = await session.scalar(select(func.count()).where(Event.status == EventStatus.DRAFT))
    assert drafts == 1
