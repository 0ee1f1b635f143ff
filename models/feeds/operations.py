"""Personal feed links: made, rotated, resolved, and how often calendar apps fetch them.

The plain token exists only in the member's chat and calendar app; we keep its SHA-256. So the
bot can show a link only right after making one: ``feed_token_for`` returns the plain token when
it created the token, ``None`` when one existed (the bot then offers "Nieuwe agenda-link").
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import NotFound
from models.feeds.entities import FeedToken
from models.members.entities import Member

# 24 random bytes: 192 bits, 32 URL-safe characters.
TOKEN_BYTES = 24
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")
# A fetch is written at most this often per token: calendar apps poll, and a write per poll
# would make the cheapest request of the service its most expensive one.
FETCH_GRANULARITY = timedelta(minutes=15)
# Someone "subscribes" while their app fetched this recently (Apple can poll only weekly).
SUBSCRIBER_WINDOW = timedelta(days=8)


@dataclass(frozen=True)
class IssuedFeedToken:
    feed_token: FeedToken
    # The secret for the link: only when just made. None: the member already had a link.
    plain: str | None


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("ascii", "replace")).hexdigest()


def _new_plain_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


async def feed_token_for(
    session: AsyncSession, *, member_id: int, now: datetime
) -> IssuedFeedToken:
    """The member's feed token, made on first use (then ``plain`` carries the secret, once)."""
    await _lock_member(session, member_id)
    existing = await session.scalar(select(FeedToken).where(FeedToken.member_id == member_id))
    if existing is not None:
        return IssuedFeedToken(existing, None)
    plain = _new_plain_token()
    token = FeedToken(member_id=member_id, token_hash=hash_token(plain), created_at=now)
    session.add(token)
    await session.flush()
    return IssuedFeedToken(token, plain)


async def rotate_feed_token(session: AsyncSession, *, member_id: int, now: datetime) -> str:
    """ "Nieuwe agenda-link": a new secret; the old link answers 404 from the next request on."""
    await _lock_member(session, member_id)
    token = await session.scalar(select(FeedToken).where(FeedToken.member_id == member_id))
    plain = _new_plain_token()
    if token is None:
        session.add(FeedToken(member_id=member_id, token_hash=hash_token(plain), created_at=now))
    else:
        token.token_hash = hash_token(plain)
        token.rotated_at = now
        token.last_fetched_at = None  # nobody has fetched the new link yet
    await session.flush()
    return plain


async def revoke_feed_token(session: AsyncSession, *, member_id: int) -> bool:
    """Stop the personal feed altogether; True when there was one."""
    result = await session.execute(delete(FeedToken).where(FeedToken.member_id == member_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def resolve_feed_token(session: AsyncSession, plain: str) -> FeedToken | None:
    """The token behind a link, or None (unknown, rotated, malformed: all look the same)."""
    if not _TOKEN_SHAPE.match(plain):
        return None
    wanted = hash_token(plain)
    token = await session.scalar(select(FeedToken).where(FeedToken.token_hash == wanted))
    # The lookup is by hash already; compare_digest keeps the final check constant-time.
    if token is None or not hmac.compare_digest(token.token_hash, wanted):
        return None
    return token


async def record_fetch(session: AsyncSession, *, token_id: int, now: datetime) -> bool:
    """Note that a calendar app fetched the feed; written at most once per FETCH_GRANULARITY."""
    result = await session.execute(
        update(FeedToken)
        .where(
            FeedToken.id == token_id,
            or_(
                FeedToken.last_fetched_at.is_(None),
                FeedToken.last_fetched_at <= now - FETCH_GRANULARITY,
            ),
        )
        .values(last_fetched_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def fetch_is_due(token: FeedToken, now: datetime) -> bool:
    """Whether ``record_fetch`` would write: lets the web layer skip a write transaction."""
    return token.last_fetched_at is None or token.last_fetched_at <= now - FETCH_GRANULARITY


async def feed_token_of(session: AsyncSession, *, member_id: int) -> FeedToken | None:
    """For "laatst opgehaald": the member's token row (without its secret), if any."""
    return await session.scalar(select(FeedToken).where(FeedToken.member_id == member_id))


async def subscriber_count(
    session: AsyncSession, *, now: datetime, within: timedelta = SUBSCRIBER_WINDOW
) -> int:
    """How many members' calendar apps fetched their personal feed recently."""
    count = await session.scalar(
        select(func.count()).where(FeedToken.last_fetched_at > now - within)
    )
    return int(count or 0)


async def _lock_member(session: AsyncSession, member_id: int) -> None:
    # Serialises two taps on "Zet in je agenda" (PostgreSQL); SQLite writers are serial anyway.
    found = await session.scalar(select(Member.id).where(Member.id == member_id).with_for_update())
    if found is None:
        raise NotFound()
