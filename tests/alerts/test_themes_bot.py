"""Organisers keep the themes from the bot (/themas), and give an event its themes from the
admin card; a member can't, also not with a forwarded button."""

from __future__ import annotations

from sqlalchemy import select

from models.members.entities import Role
from models.organisers.entities import AuditEntry
from models.themes import operations as themes
from models.themes.entities import Theme
from tests.bot.conftest import World, labels
from tests.factories import make_event
from tests.organisers.test_programme_bot import person_with_role, tap


async def test_organisers_add_rename_and_retire_themes(world: World):
    olga = await person_with_role(world, "Olga")
    screen = await olga.ask("/themas")
    assert "Thema's" in screen.content and "Omgevingswet" in screen.content
    asked = await tap(olga, screen, "➕ Nieuw thema")
    assert "Typ de Nederlandse naam" in asked.content
    english = await olga.ask("Groen in de wijk")
    assert "Engelse naam" in english.content
    listed = await olga.ask("Green neighbourhood")
    assert "Opgeslagen: Groen in de wijk" in listed.content
    again = await tap(olga, await olga.ask("/themas"), "➕ Nieuw thema")
    refused = await olga.ask("wonen")
    refused = await tap(olga, refused, "Overslaan")
    assert "Er is al een thema" in refused.content  # asked again, nothing saved
    theme = await tap(olga, await olga.ask("/themas"), "Groen in de wijk")
    asked = await tap(olga, theme, "✏️ Naam wijzigen")
    await olga.ask("Groen en klimaat")
    listed = await tap(olga, olga.messages[-1], "Overslaan")
    assert "Groen en klimaat" in listed.content
    theme = await tap(olga, listed, "Groen en klimaat")
    retired = await tap(olga, theme, "Niet meer aanbieden")
    assert "Niet meer aangeboden" in retired.content
    async with world.db.read() as session:
        stored = await session.scalar(select(Theme).where(Theme.slug == "groen-in-de-wijk"))
        actions = (await session.scalars(select(AuditEntry.action))).all()
        offered = [t.slug for t in await themes.active_themes(session)]
    assert stored is not None and stored.name == "Groen en klimaat" and stored.name_en is None
    assert "groen-in-de-wijk" not in offered
    assert actions == ["theme.add", "theme.rename", "theme.retire"]
    # A member who gets the organiser's screen forwarded changes nothing.
    anouk = await person_with_role(world, "Anouk", role=Role.MEMBER)
    told = await anouk.ask("/themas")
    assert "organisatoren" in told.content
    theme_id = stored.id
    signed = world.deps.signer.encode(anouk.id, "TR", theme_id, 0)  # signed for her, even
    refusal = await anouk.forge_press(told, signed).answer()
    assert "mag je helaas niet" in refusal.text
    async with world.db.read() as session:
        stored = await session.scalar(select(Theme).where(Theme.slug == "groen-in-de-wijk"))
    assert stored is not None and stored.retired_at is not None
    del again, asked


async def test_an_events_themes_from_the_admin_card(world: World):
    olga = await person_with_role(world, "Olga")
    event = await make_event(world.db, world.clock(), title="Wijkbudget", publish=False)
    programme = await olga.ask("/programma")
    card = await tap(olga, programme, "Wijkbudget")
    chooser = await tap(olga, card, "🏷 Thema's")
    chooser = await tap(olga, chooser, "▫️ Burgerbegroting")
    assert "✅ Burgerbegroting" in labels(chooser)
    card = await tap(olga, chooser, "◀ Terug")
    assert "🏷 Burgerbegroting" in card.content
    async with world.db.read() as session:
        assert [t.slug for t in await themes.event_themes_of(session, event.id)] == [
            "burgerbegroting"
        ]
