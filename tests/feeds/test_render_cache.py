"""The render cache: rendered once per change of the data, checked at most once per interval,
never served past the moment time alone changes it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from models.clock import FrozenClock
from web.feeds.cache import EPOCH, RenderCache, Rendered


class Source:
    """Fake data: a version, and a render that counts itself."""

    def __init__(self) -> None:
        self.data = "v1"
        self.valid_until: datetime | None = None
        self.version_checks = 0
        self.renders = 0
        self.last_modified: datetime | None = datetime(2027, 3, 1, tzinfo=UTC)

    async def version(self) -> str:
        self.version_checks += 1
        return self.data

    async def render(self) -> tuple[Rendered | None, datetime | None]:
        self.renders += 1
        await asyncio.sleep(0)  # let other requests pile up
        body = f"BEGIN:VCALENDAR {self.data}".encode()
        return Rendered.of(body, "text/calendar", self.last_modified), self.valid_until


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def setup() -> tuple[RenderCache, Source, Ticks, FrozenClock]:
    ticks, clock = Ticks(), FrozenClock(datetime(2027, 3, 1, 12, tzinfo=UTC))
    return RenderCache(clock=clock, check_interval=1.0, monotonic=ticks), Source(), ticks, clock


async def get(cache: RenderCache, source: Source) -> Rendered | None:
    return await cache.get("k", version=source.version, render=source.render)


async def test_within_the_interval_nothing_is_asked():
    cache, source, ticks, _ = setup()
    first = await get(cache, source)
    for _ in range(100):
        assert await get(cache, source) is first
    assert (source.version_checks, source.renders) == (1, 1)
    source.data = "v2"
    ticks.now += 0.999
    assert await get(cache, source) is first  # stale by less than the interval: the bound
    ticks.now += 0.001
    second = await get(cache, source)
    assert second is not None and second.body.endswith(b"v2")
    assert (source.version_checks, source.renders) == (2, 2)


async def test_the_same_version_is_not_rendered_again():
    cache, source, ticks, _ = setup()
    first = await get(cache, source)
    for _ in range(5):
        ticks.now += 2
        assert await get(cache, source) is first
    assert (source.version_checks, source.renders) == (6, 1)


async def test_time_alone_ends_an_entry_exactly():
    cache, source, _, clock = setup()
    source.valid_until = clock() + timedelta(days=30)
    await get(cache, source)
    clock.advance(timedelta(days=30) - timedelta(seconds=1))
    await get(cache, source)
    assert source.renders == 1
    clock.advance(timedelta(seconds=1))
    await get(cache, source)  # same version, same interval tick: rendered anyway
    assert source.renders == 2


async def test_many_requests_at_a_change_render_once():
    cache, source, ticks, _ = setup()
    await get(cache, source)
    source.data = "v2"
    ticks.now += 5
    results = await asyncio.gather(*(get(cache, source) for _ in range(50)))
    assert len({id(result) for result in results}) == 1
    assert source.renders == 2


async def test_last_modified_rises_when_bytes_change_without_a_data_change():
    cache, source, ticks, clock = setup()
    first = await get(cache, source)
    source.data = "v2"  # e.g. the bot's name became known: other bytes, same data stamps
    clock.advance(timedelta(minutes=5))
    ticks.now += 5
    second = await get(cache, source)
    assert second.etag != first.etag
    assert second.last_modified == clock()


async def test_not_found_is_cached_too_and_empty_documents_get_a_fixed_date():
    cache, source, _, _ = setup()

    async def nothing() -> tuple[Rendered | None, datetime | None]:
        source.renders += 1
        return None, None

    assert await cache.get("missing", version=source.version, render=nothing) is None
    assert await cache.get("missing", version=source.version, render=nothing) is None
    assert source.renders == 1
    assert Rendered.of(b"x", "text/plain", None).last_modified == EPOCH


def test_gzip_is_deterministic():
    body = b"BEGIN:VCALENDAR\r\n" * 500
    assert Rendered.of(body, "t", None).gzip_body == Rendered.of(body, "t", None).gzip_body
    assert Rendered.of(b"small", "t", None).gzip_body is None
