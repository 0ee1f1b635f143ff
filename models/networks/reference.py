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
from models.themes.seed import load_start_themes


@dataclass(frozen=True)
class SeedReport:
    buurten_added: int
    networks_added: int
    themes_added: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.buurten_added or self.networks_added or self.themes_added)


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
    """Add the buurten, networks and start themes that are missing; leave existing (maybe
    edited) rows alone."""
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
    themes_added = await load_start_themes(session)
    return SeedReport(added_buurten, added_networks, themes_added)


async def all_networks(session: AsyncSession, *, active_only: bool = True) -> list[Network]:
    query = select(Network).options(selectinload(Network.buurten))
    if active_only:
        query = query.where(Network.active.is_(True))
    # Sorted here, not by the database: collations differ between SQLite and PostgreSQL.
    return sorted((await session.scalars(query)).all(), key=lambda n: slugify(n.name))


async def find_networks(session: AsyncSession, text: str, *, limit: int = 8) -> list[Network]:
    """Networks whose name or buurten match what someone typed ('ceram', 'daal')."""
    needle = slugify(text)
    if not needle:
        return []

    def rank(network: Network) -> int | None:
        name = slugify(network.name)
        if name.startswith(needle):
            return 0
        if needle in name or needle in network.slug:
            return 1
        if any(needle in buurt.slug for buurt in network.buurten):
            return 2
        return None

    ranked = [(rank(n), slugify(n.name), n) for n in await all_networks(session)]
    matches = sorted((r, name, n.id, n) for r, name, n in ranked if r is not None)
    return [network for *_, network in matches[:limit]]
