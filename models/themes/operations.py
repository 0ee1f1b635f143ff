"""The list of themes (organisers keep it), and the themes of a member and of an event.

Organisers add, rename and retire themes; each change is checked by ``require_organiser`` and
written to the audit log in the same transaction. A member chooses among the active themes; an
event carries themes an organiser chose. Unknown or retired themes are refused, and a refusal
changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import N_, DomainError, NotFound
from models.events.entities import Event
from models.members.entities import Member
from models.networks.reference import slugify
from models.organisers import audit
from models.organisers.authorisation import require_organiser
from models.themes.entities import THEME_NAME_MAX, Theme, event_themes, member_themes

THEME_FIELDS = ("slug", "name", "name_en", "position", "retired_at")


class ThemeNameInvalid(DomainError):
    message = N_("Een thema heeft een naam van 2 tot {maximum} tekens.")


class ThemeExists(DomainError):
    message = N_("Er is al een thema “{name}”.")


class ThemeUnknown(DomainError):
    message = N_("Dit thema ken ik niet (meer). Kies een thema uit de lijst.")


def _clean_name(name: str | None, *, optional: bool = False) -> str | None:
    text = " ".join((name or "").split())
    if optional and not text:
        return None
    if not 2 <= len(text) <= THEME_NAME_MAX:
        raise ThemeNameInvalid(maximum=THEME_NAME_MAX)
    return text


def _ordered(query: Select[Theme]) -> Select[Theme]:
    return query.order_by(Theme.position, Theme.id)


async def active_themes(session: AsyncSession) -> list[Theme]:
    """The themes offered to members and organisers, in their order."""
    query = select(Theme).where(Theme.retired_at.is_(None))
    return list((await session.scalars(_ordered(query))).all())


async def all_themes(session: AsyncSession) -> list[Theme]:
    """Every theme, retired ones too (the organisers' list)."""
    return list((await session.scalars(_ordered(select(Theme)))).all())


async def themes_by_slug(session: AsyncSession, slugs: Iterable[str]) -> list[Theme]:
    """The active themes named by ``slugs`` (an import's ``themas``); ``ThemeUnknown`` for any
    slug or name that is not one."""
    wanted = [slugify(s) for s in slugs]
    found = {t.slug: t for t in await active_themes(session)}
    by_name = {slugify(t.name): t for t in found.values()}
    themes = []
    for slug in wanted:
        theme = found.get(slug) or by_name.get(slug)
        if theme is None:
            raise ThemeUnknown()
        if theme not in themes:
            themes.append(theme)
    return themes


async def add_theme(
    session: AsyncSession, *, actor_id: int, name: str, name_en: str | None = None, now: datetime
) -> Theme:
    """A new theme at the end of the list. Its slug comes from the Dutch name and never changes."""
    await require_organiser(session, actor_id)
    clean = _clean_name(name)
    assert clean is not None
    slug = slugify(clean)
    if not slug:
        raise ThemeNameInvalid(maximum=THEME_NAME_MAX)
    if await session.scalar(select(Theme.id).where(Theme.slug == slug)) is not None:
        raise ThemeExists(name=clean)
    position = (await session.scalar(select(func.max(Theme.position)))) or 0
    theme = Theme(
        slug=slug, name=clean, name_en=_clean_name(name_en, optional=True), position=position + 1
    )
    session.add(theme)
    await session.flush()
    await audit.record(
        session,
        actor_id=actor_id,
        action="theme.add",
        object_type="theme",
        object_id=theme.id,
        now=now,
        after=audit.snapshot(theme, THEME_FIELDS),
    )
    return theme


async def _theme_for_update(session: AsyncSession, theme_id: int) -> Theme:
    theme = await session.scalar(select(Theme).where(Theme.id == theme_id).with_for_update())
    if theme is None:
        raise ThemeUnknown()
    return theme


async def rename_theme(
    session: AsyncSession,
    *,
    actor_id: int,
    theme_id: int,
    name: str,
    name_en: str | None = None,
    now: datetime,
) -> Theme:
    """New names for a theme (``name_en`` None or empty: no English name); the slug stays."""
    await require_organiser(session, actor_id)
    theme = await _theme_for_update(session, theme_id)
    before = audit.snapshot(theme, THEME_FIELDS)
    theme.name = _clean_name(name) or theme.name
    theme.name_en = _clean_name(name_en, optional=True)
    await session.flush()
    await audit.record(
        session,
        actor_id=actor_id,
        action="theme.rename",
        object_type="theme",
        object_id=theme.id,
        now=now,
        before=before,
        after=audit.snapshot(theme, THEME_FIELDS),
    )
    return theme


async def retire_theme(
    session: AsyncSession, *, actor_id: int, theme_id: int, now: datetime, retired: bool = True
) -> Theme:
    """Take a theme off the list (``retired=False``: put it back). Members and events keep it,
    but it is no longer offered, and nobody is alerted for it."""
    await require_organiser(session, actor_id)
    theme = await _theme_for_update(session, theme_id)
    if (theme.retired_at is not None) == retired:
        return theme
    before = audit.snapshot(theme, THEME_FIELDS)
    theme.retired_at = now if retired else None
    await session.flush()
    await audit.record(
        session,
        actor_id=actor_id,
        action="theme.retire" if retired else "theme.restore",
        object_type="theme",
        object_id=theme.id,
        now=now,
        before=before,
        after=audit.snapshot(theme, THEME_FIELDS),
    )
    return theme


async def _active_ids(session: AsyncSession, theme_ids: Iterable[int]) -> list[int]:
    wanted = list(dict.fromkeys(theme_ids))
    if not wanted:
        return []
    found = set(
        (
            await session.scalars(
                select(Theme.id).where(Theme.id.in_(wanted), Theme.retired_at.is_(None))
            )
        ).all()
    )
    if len(found) != len(wanted):
        raise ThemeUnknown()
    return wanted


async def member_themes_of(session: AsyncSession, member_id: int) -> list[Theme]:
    """The themes a member chose (retired ones included: they are still theirs to see)."""
    query = select(Theme).join(member_themes, member_themes.c.theme_id == Theme.id)
    query = query.where(member_themes.c.member_id == member_id)
    return list((await session.scalars(_ordered(query))).all())


async def set_member_themes(
    session: AsyncSession, *, member_id: int, theme_ids: Iterable[int]
) -> list[Theme]:
    """Replace the member's choice with ``theme_ids`` (active themes only)."""
    if await session.get(Member, member_id) is None:
        raise NotFound()
    ids = await _active_ids(session, theme_ids)
    await session.execute(delete(member_themes).where(member_themes.c.member_id == member_id))
    if ids:
        await session.execute(
            insert(member_themes), [{"member_id": member_id, "theme_id": i} for i in ids]
        )
    return await member_themes_of(session, member_id)


async def toggle_member_theme(session: AsyncSession, *, member_id: int, theme_id: int) -> bool:
    """Choose the theme if the member had not, drop it if they had; True when now chosen."""
    chosen = {t.id for t in await member_themes_of(session, member_id)}
    if theme_id in chosen:
        chosen.discard(theme_id)
        await session.execute(
            delete(member_themes).where(
                member_themes.c.member_id == member_id, member_themes.c.theme_id == theme_id
            )
        )
        return False
    await _active_ids(session, [theme_id])
    if await session.get(Member, member_id) is None:
        raise NotFound()
    await session.execute(insert(member_themes).values(member_id=member_id, theme_id=theme_id))
    return True


async def attach_event_themes(
    session: AsyncSession, *, event_id: int, theme_ids: Iterable[int]
) -> None:
    """Give a new event its themes (active ones), in the transaction that creates it (whose
    operation checked the organiser and writes the audit entry)."""
    ids = await _active_ids(session, theme_ids)
    if ids:
        await session.execute(
            insert(event_themes), [{"event_id": event_id, "theme_id": i} for i in ids]
        )


async def event_themes_of(session: AsyncSession, event_id: int) -> list[Theme]:
    query = select(Theme).join(event_themes, event_themes.c.theme_id == Theme.id)
    query = query.where(event_themes.c.event_id == event_id)
    return list((await session.scalars(_ordered(query))).all())


async def set_event_themes(
    session: AsyncSession,
    *,
    actor_id: int,
    event_id: int,
    theme_ids: Iterable[int],
    now: datetime,
) -> list[Theme]:
    """Replace the themes an event carries (organisers only, audited). Retired themes the event
    already carries may stay; new ones must be active."""
    await require_organiser(session, actor_id)
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound()
    before = [t.slug for t in await event_themes_of(session, event_id)]
    current = {t.id for t in await event_themes_of(session, event_id)}
    wanted = list(dict.fromkeys(theme_ids))
    await _active_ids(session, [i for i in wanted if i not in current])
    await session.execute(delete(event_themes).where(event_themes.c.event_id == event_id))
    if wanted:
        await session.execute(
            insert(event_themes), [{"event_id": event_id, "theme_id": i} for i in wanted]
        )
    themes = await event_themes_of(session, event_id)
    after = [t.slug for t in themes]
    if after != before:
        await audit.record(
            session,
            actor_id=actor_id,
            action="event.themes",
            object_type="event",
            object_id=event_id,
            now=now,
            before={"themes": before},
            after={"themes": after},
        )
    return themes
