"""/bericht to members who chose a theme, alone or AND with chosen networks: the count in the
preview, and who gets it."""

from __future__ import annotations

from sqlalchemy import select

from models.members.entities import Member
from models.themes import operations as themes
from tests.bot.conftest import labels, press
from tests.broadcasts.conftest import BroadcastWorld
from tests.broadcasts.test_broadcasts_bot import start_with_text
from tests.factories import network_id


async def test_a_broadcast_to_a_theme_and_networks_with_the_count(bw: BroadcastWorld):
    wyck = await network_id(bw.db, "wyck")
    people = await bw.members(4)
    async with bw.db.transaction() as session:
        wonen = (await themes.themes_by_slug(session, ["wonen"]))[0]
        for n, person in enumerate(people):
            member = await session.scalar(select(Member).where(Member.telegram_id == person.id))
            assert member is not None
            if n < 2:
                member.network_id = wyck  # Lid 0 and Lid 1 in Wyck
            if n in (1, 2):  # Lid 1 (Wyck) and Lid 2 (elsewhere) chose Wonen
                await themes.set_member_themes(session, member_id=member.id, theme_ids=[wonen.id])
    olga, _ = await bw.organiser()
    menu = await start_with_text(bw, olga)
    chooser = await press(olga, menu, "Wie koos voor een thema").edit()
    assert "Welke thema's?" in chooser.content
    chooser = await press(olga, chooser, "▫️ Wonen").edit()
    assert "✅ Wonen" in labels(chooser)
    await press(olga, chooser, "Klaar").edit()
    control = await olga.wait_for_message(lambda m: "Naar" in m.content)
    assert "Naar 2 mensen: iedereen, wie koos voor een van de thema's Wonen." in control.content
    # AND the network Wyck: only Lid 1.
    back = await press(olga, control, "Terug").edit()
    networks = await press(olga, back, "Buurtnetwerken").edit()
    while "Wyck" not in labels(networks):
        networks = await press(olga, networks, "▶").edit()
    networks = await press(olga, networks, "Wyck").edit()
    await press(olga, networks, "Klaar: 1 netwerk").edit()
    control = await olga.wait_for_message(lambda m: "Naar" in m.content and "Wyck" in m.content)
    assert "Naar 1 persoon: 1 buurtnetwerk (Wyck), wie koos voor" in control.content
    await press(olga, control, "Nu versturen").edit()
    await bw.dispatcher().dispatch_due()
    got = [p.user.first_name for p in people if p.messages]
    assert got == ["Lid 1"]
