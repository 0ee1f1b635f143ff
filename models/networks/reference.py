"""Loading the reference data (buurten and networks) into the database, idempotently."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.networks.entities import Buurt, Network, NetworkKind


@dataclass(frozen=True)
class SeedReport:
    buurten_added: int
    networks_added: int

    @property
    def changed(self) -> bool:
        return bool(self.buurten_added or self.networks_added)


def slugify(text: str) -> str:
    """'Wyck-Céramique' -> 'wyck-ceramique'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def maastricht_reference() -> dict[str, Any]:
    # The file is small and read once at seeding time, by the CLI, before any event loop work.
    text = resources.files("models.networks").joinpath("maastricht.toml").read_text("utf-8")
    return tomllib.loads(text)


async def load_reference_data(
    session: AsyncSession, data: dict[str, Any] | None = None
) -> SeedReport:
    """Add the buurten and networks that are missing; leave existing (maybe edited) rows alone."""
    data = data or maastricht_reference()
    buurten = {b.number: b for b in (await session.scalars(select(Buurt))).all()}
    added_buurten = 0
    for row in data["buurten"]:
        if row["number"] not in buurten:
            buurt = Buurt(number=row["number"], name=row["name"], slug=slugify(row["name"]))
            session.add(buurt)
            buurten[row["number"]] = buurt
            added_buurten += 1
    existing = set((await session.scalars(select(Network.slug))).all())
    added_networks = 0
    for row in data["networks"]:
        if row["slug"] in existing:
            continue
        network = Network(
            slug=row["slug"],
            name=row["name"],
            legal_name=row["legal_name"],
            kind=NetworkKind(row["kind"]),
            buurten=[buurten[number] for number in row["buurten"]],
        )
        session.add(network)
        added_networks += 1
    await session.flush()
    return SeedReport(added_buurten, added_networks)


async def all_networks(session: AsyncSession, *, active_only: bool = True) -> list[Network]:
    query = select(Network).options(selectinload(Network.buurten)).order_by(Network.name)
    if active_only:
        query = query.where(Network.active.is_(True))
    return list((await session.scalars(query)).all())


async def find_networks(session: AsyncSession, text: str, *, limit: int = 8) -> list[Network]:
    """Networks whose name or buurten match what someone typed ('ceram', 'daal')."""
    needle = slugify(text)
    if not needle:
        return []
    matches = [
        network
        for network in await all_networks(session)
        if needle in slugify(network.name)
        or needle in network.slug
        or any(needle in buurt.slug for buurt in network.buurten)
    ]
    return matches[:limit]
