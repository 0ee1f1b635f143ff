"""Calendar feed throughput: /agenda.ics with 1,000 events, next to Radicale serving the same.

    .venv/bin/python bench/feeds.py

Both servers run as their own process on loopback, one process each as in production (ours:
uvicorn with the service's app in one event loop; Radicale: its own server, ``[auth] type =
none``), filled with the same 1,000 events (Radicale: one calendar collection, one item per
event, rendered by our renderer; the check below counts 1,000 VEVENTs in both answers).

One load generator measures both the same way: ``WORKERS`` processes, each sending a bounded
number of GETs in a row over one keep-alive connection, with ``Accept-Encoding: gzip`` (both
servers compress). It is built on httpcore, the HTTP engine under httpx: httpx's own request and
response objects cost about a millisecond per request on this 2-core machine, which would cap
any server at ~700 requests/s and measure the client instead. httpx itself checks the answers.

Measured: ours full GET and 304 (If-None-Match with the current ETag), Radicale full GET.
Goals: full GET >= 100x Radicale's; 304 >= 2,000 requests/s. The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.pool import Pool
from pathlib import Path

import httpcore
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EVENTS = 1_000
# Load processes, each with one keep-alive connection.
WORKERS = 2
PUBLIC_URL = "https://agenda.example.nl"
BOT = "BuurtagendaBot"


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def prepare(db_url: str) -> list[bytes]:
    """1,000 published events in a fresh database; returns each as an .ics item for Radicale."""
    from calendars.ical import event_ics
    from models import migrations
    from models.db import Database
    from models.events.entities import EventKind
    from models.events.operations import EventDraft, create_event
    from models.networks.reference import load_reference_data

    database = Database(db_url)
    await migrations.upgrade(database)
    now = datetime.now(UTC).replace(microsecond=0)
    kinds = list(EventKind)
    items = []
    async with database.transaction() as session:
        await load_reference_data(session)
        for number in range(EVENTS):
            start = now + timedelta(days=1 + number // 3, hours=number % 3 * 3)
            draft = EventDraft(
                kind=kinds[number % len(kinds)],
                title=f"Bijeenkomst {number + 1}: wat betekent de Omgevingswet voor jouw buurt?",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                description="Met koffie en vlaai; iedereen is welkom.\nNeem een collega mee.",
                location="Stadhuis Maastricht, Markt 78",
                capacity=40,
            )
            event = await create_event(session, draft=draft, actor_id=None, now=now, publish=True)
            items.append(event)
        await session.flush()
        documents = [event_ics(e, public_url=PUBLIC_URL, bot_username=BOT) for e in items]
    await database.dispose()
    return documents


def serve(db_url: str, port: int) -> None:
    """Our server as the service runs it: uvicorn in one event loop (the bench's child)."""
    import uvicorn

    from models.db import Database
    from web.app import create_app

    async def run() -> None:
        database = Database(db_url)
        app = create_app(database, lambda: True, public_url=PUBLIC_URL, bot_username=BOT)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
        )
        await uvicorn.Server(config).serve()

    asyncio.run(run())


def radicale_storage(folder: Path, documents: list[bytes]) -> None:
    collection = folder / "collection-root" / "bench" / "agenda"
    collection.mkdir(parents=True)
    (collection / ".Radicale.props").write_text(
        json.dumps({"tag": "VCALENDAR", "D:displayname": "Buurtagenda"})
    )
    for number, document in enumerate(documents):
        (collection / f"evt-{number}.ics").write_bytes(document)


def start_radicale(folder: Path, port: int) -> subprocess.Popen[bytes]:
    config = folder / "radicale.conf"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        "[auth]\ntype = none\n"
        "[rights]\ntype = authenticated\n"
        f"[storage]\nfilesystem_folder = {folder}\n"
        "[logging]\nlevel = warning\nmask_passwords = True\n"
    )
    return subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                await client.get(url, timeout=30)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise SystemExit(f"no answer from {url} within {seconds} s")


def _worker(job: tuple[str, list[tuple[str, str]], int, float, float, int]) -> list[float]:
    """One load process: ``count`` GETs in a row on one keep-alive connection."""
    url, headers, count, start_at, stop_at, expect = job
    latencies: list[float] = []
    with httpcore.ConnectionPool(max_connections=1) as pool:
        while time.time() < start_at:  # all workers begin together
            time.sleep(0.001)
        for _ in range(count):
            if time.time() > stop_at:
                break
            begin = time.perf_counter()
            response = pool.request("GET", url, headers=headers)
            if response.status != expect:
                raise RuntimeError(f"{url}: {response.status}, expected {expect}")
            latencies.append(time.perf_counter() - begin)
    return latencies


def load(
    workers: Pool,
    url: str,
    *,
    requests: int,
    expect: int,
    headers: dict[str, str] | None = None,
    max_seconds: float = 30,
) -> Result:
    """``requests`` GETs spread over the worker processes (fewer if ``max_seconds`` runs out)."""
    header_list = [("Accept-Encoding", "gzip"), *(headers or {}).items()]
    start_at = time.time() + 0.3
    share = -(-requests // WORKERS)
    jobs = [(url, header_list, share, start_at, start_at + max_seconds, expect)] * WORKERS
    results = workers.map(_worker, jobs)
    seconds = time.time() - start_at
    latencies = [latency for result in results for latency in result]
    return Result(len(latencies), seconds, latencies)


async def check(ours: str, radicale: str) -> None:
    """Both serve the same 1,000 events (checked with httpx, which decodes the gzip)."""
    await wait_for(ours)
    await wait_for(radicale)
    async with httpx.AsyncClient(timeout=120) as client:
        first = await client.get(ours)
        events = first.text.count("BEGIN:VEVENT")
        check = await client.get(radicale)
        radicale_events = check.text.count("BEGIN:VEVENT")
    if events != EVENTS or radicale_events != EVENTS:
        raise SystemExit(f"expected {EVENTS} events; ours {events}, Radicale {radicale_events}")
    print(
        f"body: {len(first.content):,} bytes, sent as {first.headers.get('content-encoding')}; "
        f"Radicale {len(check.content):,} bytes, sent as {check.headers.get('content-encoding')}"
    )


def measure(workers: Pool, ours: str, radicale: str) -> dict[str, float]:
    etag = httpx.get(ours, timeout=60).headers["etag"]
    # Warm-up (connections, caches), then the measurements.
    load(workers, ours, requests=400, expect=200)
    load(workers, radicale, requests=4, expect=200, max_seconds=20)
    full = load(workers, ours, requests=10_000, expect=200)
    not_modified = load(workers, ours, requests=30_000, expect=304, headers={"If-None-Match": etag})
    reference = load(workers, radicale, requests=60, expect=200, max_seconds=30)
    for name, result in (
        ("ours, full GET", full),
        ("ours, 304", not_modified),
        ("Radicale, full GET", reference),
    ):
        print(
            f"{name:20} {result.per_second:9.1f} req/s  p50 {result.percentile(50):7.2f} ms  "
            f"p99 {result.percentile(99):7.2f} ms  ({result.requests} requests)"
        )
    return {
        "full_get_per_s": round(full.per_second, 1),
        "radicale_full_get_per_s": round(reference.per_second, 2),
        "ratio": round(full.per_second / reference.per_second, 1),
        "not_modified_per_s": round(not_modified.per_second, 1),
        "p50_ms": round(full.percentile(50), 2),
        "p99_ms": round(full.percentile(99), 2),
        "not_modified_p50_ms": round(not_modified.percentile(50), 2),
        "not_modified_p99_ms": round(not_modified.percentile(99), 2),
        "events": EVENTS,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", nargs=2, metavar=("DB_URL", "PORT"))
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    with tempfile.TemporaryDirectory(prefix="bench-feeds-") as scratch:
        folder = Path(scratch)
        db_url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        documents = asyncio.run(prepare(db_url))
        radicale_storage(folder / "radicale", documents)
        ours_port, radicale_port = free_port(), free_port()
        ours = subprocess.Popen(
            [sys.executable, __file__, "--serve", db_url, str(ours_port)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        radicale = start_radicale(folder / "radicale", radicale_port)
        ours_url = f"http://127.0.0.1:{ours_port}/agenda.ics"
        radicale_url = f"http://127.0.0.1:{radicale_port}/bench/agenda/"
        try:
            asyncio.run(check(ours_url, radicale_url))
            with multiprocessing.get_context("spawn").Pool(WORKERS) as workers:
                result = measure(workers, ours_url, radicale_url)
        finally:
            for process in (ours, radicale):
                process.terminate()
                process.wait(timeout=15)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
