"""The start list of themes, loaded with the reference data (idempotent, by slug).

The fields a buurtnetwerk watches, from the seed text ("de verzorgings-, woon-, onderwijs- en
werksituatie, het sociale klimaat en de bestuurlijke omgeving"), then the programme's own topics.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.themes.entities import Theme

# (slug, Dutch name, English name), in the order they are shown.
START_THEMES: tuple[tuple[str, str, str], ...] = (
    ("verzorging", "Verzorging", "Care"),
    ("wonen", "Wonen", "Housing"),
    ("onderwijs", "Onderwijs", "Education"),
    ("werk", "Werk", "Work"),
    ("sociaal-klimaat", "Sociaal klimaat", "Social climate"),
    ("bestuurlijke-omgeving", "Bestuurlijke omgeving", "Local government"),
    ("omgevingswet", "Omgevingswet", "Environment and Planning Act"),
    ("burgerbegroting", "Burgerbegroting", "Citizens' budget"),
    ("subsidies", "Subsidies", "Grants"),
)


async def load_start_themes(session: AsyncSession) -> int:
    """Add the start themes that are missing (by slug); renamed or retired ones stay as they are.
    Returns how many were added."""
    existing = set((await session.scalars(select(Theme.slug))).all())
    position = (await session.scalar(select(func.max(Theme.position)))) or 0
    added = 0
    for slug, name, name_en in START_THEMES:
        if slug in existing:
            continue
        position += 1
        session.add(Theme(slug=slug, name=name, name_en=name_en, position=position))
        added += 1
    if added:
        await session.flush()
    return added
