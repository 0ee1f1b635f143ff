"""The reference data from the municipality's overview (August 2019)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from models.networks.entities import Buurt, Network, NetworkKind
from models.networks.reference import find_networks, load_reference_data


async def test_buurten_and_networks_of_maastricht(db):
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Buurt)) == 44
        kinds = dict(
            (await session.execute(select(Network.kind, func.count()).group_by(Network.kind))).all()
        )
        assert kinds == {NetworkKind.NETWORK: 26, NetworkKind.INITIATIVE: 2}
        networks = {
            n.slug: n
            for n in (
                await session.scalars(select(Network).options(selectinload(Network.buurten)))
            ).all()
        }
        assert [b.name for b in networks["belfort-daalhof"].buurten] == ["Belfort", "Daalhof"]
        assert [b.name for b in networks["boschpoort-bosscherveld"].buurten] == [
            "Boschpoort",
            "Bosscherveld",
        ]
        assert [b.name for b in networks["jekerdal-sint-pieter-villapark"].buurten] == [
            "Sint Pieter",
            "Jekerdal",
            "Villapark",
        ]
        assert networks["ceramique"].name == "Céramique"
        names = set((await session.scalars(select(Buurt.name))).all())
        assert "Belvédère" in names and not any("?" in n or "\ufffd" in n for n in names)
        covered = await session.scalar(
            select(func.count(func.distinct(Buurt.id))).join(Buurt.networks)
        )
        assert (
            covered == 31
        )  # "26 buurtnetwerken in ontwikkeling en 2 initiatiefgroepen in 31 buurten"
        without = (await session.scalars(select(Buurt.name).where(~Buurt.networks.any()))).all()
        assert {"Caberg", "Heugem", "Randwyck", "Beatrixhaven"} <= set(without)


async def test_seeding_again_changes_nothing_and_keeps_edits(db):
    async with db.transaction() as session:
        network = await session.scalar(select(Network).where(Network.slug == "wyck"))
        assert network is not None
        original, network.name = network.name, "Buurtnetwerk Wyck"
    try:
        async with db.transaction() as session:
            report = await load_reference_data(session)
        assert not report.changed
        async with db.read() as session:
            assert (
                await session.scalar(select(Network.name).where(Network.slug == "wyck"))
                == "Buurtnetwerk Wyck"
            )
    finally:
        # PostgreSQL keeps the reference data from test to test (only the rest is emptied).
        async with db.transaction() as session:
            network = await session.scalar(select(Network).where(Network.slug == "wyck"))
            assert network is not None
            network.name = original


async def test_find_networks_by_part_of_a_name_or_buurt(db):
    async with db.read() as session:
        # Céramique by name first, then Wyck, which serves the buurt Wyck-Céramique
        assert [n.slug for n in await find_networks(session, "ceram")] == ["ceramique", "wyck"]
        assert [n.slug for n in await find_networks(session, "Daalhof")] == ["belfort-daalhof"]
        assert [n.slug for n in await find_networks(session, "villa")] == [
            "jekerdal-sint-pieter-villapark"
        ]
        assert await find_networks(session, "!!") == []
