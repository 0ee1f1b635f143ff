"""Rendered documents (feeds, the agenda page), kept until their data changes.

A document is rendered once per change of its data, not per request. Each cached document
remembers the *data version* it was rendered from (one small aggregate query, see
``models.feeds.queries.data_version``) and the moment time alone changes it (an event dropping out
of a window). A request is answered from memory, without touching the database, while the entry
was checked less than ``check_interval`` seconds ago; after that the next request runs the
version query once, and renders again only if the version differs.

Staleness bound: a change committed at time t is served from t + ``check_interval`` (1 s by
default) plus the time of one render at the latest. Changes by time alone (the 30-day and 14-day
windows, a registration deadline passing) are exact: an entry is never served after its
``valid_until``.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

# Used when a document never had anything in it: fixed, so the same data gives the same headers.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# Smaller documents are not worth compressing.
GZIP_MIN_BYTES = 1024


@dataclass(frozen=True)
class Rendered:
    """One document ready to send: the body (also gzipped), its strong ETag and Last-Modified."""

    body: bytes
    media_type: str
    etag: str  # '"<hash>"': strong, from the body
    last_modified: datetime  # UTC, whole seconds
    gzip_body: bytes | None = None

    @classmethod
    def of(cls, body: bytes, media_type: str, last_modified: datetime | None) -> Rendered:
        moment = (last_modified or EPOCH).astimezone(UTC).replace(microsecond=0)
        # mtime=0: gzip writes no timestamp, so the same body compresses to the same bytes.
        packed = gzip.compress(body, 6, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
        return cls(body, media_type, _etag(body), moment, packed)

    @functools.cached_property
    def gzip_etag(self) -> str:
        """The gzipped representation is another one, so it has its own strong ETag."""
        return self.etag[:-1] + '-gz"'

    @functools.cached_property
    def last_modified_http(self) -> str:
        return format_datetime(self.last_modified, usegmt=True)

    def headers(self, compressed: bool, private: bool) -> list[tuple[bytes, bytes]]:
        """What a 200 and a 304 both carry: validators, caching, Vary (prepared once)."""
        return self._validators[(compressed, private)]

    def content_headers(self, compressed: bool) -> list[tuple[bytes, bytes]]:
        """What only a 200 carries: type, length, encoding."""
        body = self.gzip_body if compressed and self.gzip_body is not None else self.body
        headers = [
            (b"content-type", self.media_type.encode("latin-1")),
            (b"content-length", str(len(body)).encode("latin-1")),
        ]
        if compressed:
            headers.append((b"content-encoding", b"gzip"))
        return headers

    @functools.cached_property
    def _validators(self) -> dict[tuple[bool, bool], list[tuple[bytes, bytes]]]:
        prepared = {}
        for compressed in (False, True):
            for private in (False, True):
                headers = {
                    "etag": self.gzip_etag if compressed else self.etag,
                    "last-modified": self.last_modified_http,
                    # Store, but ask every time: the 304 is cheap, and a moved event shows at once.
                    "cache-control": "private, no-cache" if private else "public, no-cache",
                }
                if self.gzip_body is not None:
                    headers["vary"] = "Accept-Encoding"
                prepared[(compressed, private)] = [
                    (name.encode("latin-1"), value.encode("latin-1"))
                    for name, value in headers.items()
                ]
        return prepared


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


Version = Hashable
RenderResult = tuple[Rendered | None, datetime | None]  # (None: not found), valid until


@dataclass
class _Entry:
    version: Version
    rendered: Rendered | None
    valid_until: datetime | None
    checked_at: float


class RenderCache:
    """Rendered documents by key; see the module docstring for when they are rendered again."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        check_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        max_entries: int = 4096,
    ) -> None:
        self.clock = clock
        self.check_interval = check_interval
        self._monotonic = monotonic
        self._max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        # One render at a time: a change makes many requests find a stale entry at once, and
        # each document should still be rendered once. Renders are short; version checks tiny.
        self._lock = asyncio.Lock()
        self.renders = 0  # for tests and the benchmark

    async def get(
        self,
        key: Hashable,
        *,
        version: Callable[[], Awaitable[Version]],
        render: Callable[[], Awaitable[RenderResult]],
    ) -> Rendered | None:
        """The document for ``key``: from memory when fresh, else checked, else rendered."""
        entry = self._entries.get(key)
        if entry is not None and self._fresh(entry):
            return entry.rendered
        async with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._fresh(entry):
                return entry.rendered  # another request refreshed it while we waited
            current = await version()
            if entry is not None and entry.version == current and self._in_time(entry):
                entry.checked_at = self._monotonic()
                return entry.rendered
            rendered, valid_until = await render()
            self.renders += 1
            if rendered is not None and entry is not None and entry.rendered is not None:
                rendered = self._keep_last_modified_rising(entry.rendered, rendered)
            self._store(key, _Entry(current, rendered, valid_until, self._monotonic()))
            return rendered

    def clear(self) -> None:
        self._entries.clear()

    def _fresh(self, entry: _Entry) -> bool:
        recent = self._monotonic() - entry.checked_at < self.check_interval
        return recent and self._in_time(entry)

    def _in_time(self, entry: _Entry) -> bool:
        return entry.valid_until is None or self.clock() < entry.valid_until

    def _keep_last_modified_rising(self, before: Rendered, after: Rendered) -> Rendered:
        # Last-Modified comes from the data, but bytes can change without a data change (the
        # bot's name becomes known, a network is renamed): then a client that only sends
        # If-Modified-Since must still get the new body, so Last-Modified moves on.
        if after.etag == before.etag or after.last_modified > before.last_modified:
            return after
        moment = max(self.clock(), before.last_modified + timedelta(seconds=1))
        return replace(after, last_modified=moment.astimezone(UTC).replace(microsecond=0))

    def _store(self, key: Hashable, entry: _Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
