"""The static export: public feeds and the page as files, written when they change."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from models.events.operations import update_event
from scheduler.jobs import schedule_export
from tests.factories import make_event
from tests.feeds.helpers import BOT, PUBLIC_URL
from web.export import EXPORT_SECONDS, configured_exporter, create_exporter


async def test_the_export_writes_what_changed(sqlite_db, clock, policy, tmp_path):
    tmp_path = tmp_path / "public"  # the database lives in tmp_path itself
    event = await make_event(sqlite_db, clock(), title="Masterclass Omgevingswet")
    later = await make_event(sqlite_db, clock(), starts_in=timedelta(days=30))
    exporter = create_exporter(
        sqlite_db, directory=tmp_path, clock=clock, public_url=PUBLIC_URL, bot_username=BOT
    )
    written = await exporter.export_if_changed()
    names = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert {
        "agenda.ics",
        "index.html",
        "index.en.html",
        "favicon.ico",  # the pages link it
        "netwerk/wyck.ics",
        "netwerk-wyck.html",
        "netwerk-wyck.en.html",
        f"event/{event.id}.ics",
        f"qr/{event.public_code}.svg",
        f"poster-{event.public_code}.html",
        f"poster-{event.public_code}.en.html",
    } <= names
    assert written == len(names)
    assert not [name for name in names if name.endswith(".tmp")]
    page = (tmp_path / "index.html").read_text("utf-8")
    assert "Masterclass Omgevingswet" in page
    assert 'href="netwerk-wyck.html"' in page and 'href="index.en.html"' in page
    assert f'href="event/{event.id}.ics"' in page
    assert f'href="poster-{event.public_code}.html"' in page
    assert 'data-href="netwerk-wyck.html"' in page  # the network choice, without a server
    assert '<noscript><ul class="networks">' in page  # and without JavaScript
    poster = (tmp_path / f"poster-{event.public_code}.html").read_text("utf-8")
    assert f'src="qr/{event.public_code}.svg"' in poster and 'href="index.html"' in poster
    assert 'href="favicon.ico"' in page
    assert "webcal://agenda.example.nl/agenda.ics" in page
    assert (tmp_path / "agenda.ics").read_bytes().count(b"BEGIN:VEVENT") == 2

    assert (
        await exporter.export_if_changed() == 0
    )  # nothing changed: nothing asked, nothing written

    async with sqlite_db.transaction() as session:
        await update_event(
            session,
            event_id=later.id,
            actor_id=None,
            changes={"title": "Dialoog met de raad"},
            now=clock(),
            policy=policy,
        )
    rewritten = await exporter.export_if_changed()
    assert 0 < rewritten < written
    assert b"Dialoog met de raad" in (tmp_path / "agenda.ics").read_bytes()

    clock.set(event.ends_at + timedelta(minutes=1))
    await exporter.export()
    assert not (tmp_path / f"event/{event.id}.ics").exists()  # it left the agenda
    assert (tmp_path / f"event/{later.id}.ics").exists()


async def test_the_job_is_scheduled_only_with_a_directory(sqlite_db, clock, tmp_path):
    scheduler = AsyncIOScheduler()
    assert configured_exporter(sqlite_db, directory="", clock=clock, public_url=PUBLIC_URL) is None
    assert scheduler.get_jobs() == []
    exporter = configured_exporter(
        sqlite_db, directory=tmp_path, clock=clock, public_url=PUBLIC_URL
    )
    assert exporter is not None
    schedule_export(scheduler, exporter.export_if_changed, seconds=EXPORT_SECONDS)
    (job,) = scheduler.get_jobs()
    assert job.id == "export_public_files"
