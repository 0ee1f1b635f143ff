"""Themes and alerts end to end: chosen at onboarding or in /instellingen, an event published,
the dispatcher sends through the real bot (the emulator), the member presses the buttons."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.notifications import TelegramDelivery
from models.events.entities import EventKind
from models.events.operations import EventDraft, create_event, update_event
from models.members.entities import Member
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.registrations.entities import Registration, RegistrationStatus
from models.reminders.digest import enqueue_digests
from models.themes import operations as themes
from scheduler.dispatcher import Dispatcher, DispatcherSettings
from tests.bot.conftest import World, labels, press
from tests.conftest import T0

ALERT = "🆕 Nieuw in de agenda"


def dispatcher(world: World) -> Dispatcher:
    delivery = TelegramDelivery(world.application.bot, world.deps.signer)
    return Dispatcher(
        world.db, delivery, world.clock, settings=DispatcherSettings(rate_per_s=0, max_in_flight=1)
    )


async def onboard_choosing(world: World, name: str, *theme_labels: str):  # type: ignore[no-untyped-def]
    """Onboarding to the end: the network, then "Waar wil je over horen?" with ``theme_labels``
    chosen (none: "Overslaan")."""
    person = world.person(name)
    await person.start().replies(2)
    search = await person.ask("Wyck")
    screen = await press(person, search, "Wyck").edit()
    assert "Waar wil je over horen?" in screen.content and "Overslaan" in labels(screen)
    for label in theme_labels:
        screen = await press(person, screen, f"▫️ {label}").edit()
        assert f"✅ {label}" in labels(screen)
    done = await press(person, screen, "Klaar" if theme_labels else "Overslaan").edit()
    assert "📅 Agenda" in labels(done)
    return person


async def publish(world: World, title: str, *slugs: str, **fields):  # type: ignore[no-untyped-def]
    async with world.db.read() as session:
        ids = [t.id for t in await themes.themes_by_slug(session, slugs)]
    starts = T0 + timedelta(days=20)
    draft = EventDraft(
        kind=fields.pop("kind", EventKind.MASTERCLASS),
        title=title,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        location="Stadhuis",
        capacity=fields.pop("capacity", 30),
        **fields,
    )
    async with world.db.transaction() as session:
        return await create_event(
            session,
            draft=draft,
            actor_id=None,
            now=world.clock(),
            publish=True,
            theme_ids=ids,
            quiet_hours=world.deps.policy.reminders,
        )


def alerts(person) -> list:  # type: ignore[no-untyped-def]
    return [m for m in person.messages if ALERT in m.content]


async def test_a_theme_chosen_at_onboarding_brings_the_alert_once(world: World):
    anouk = await onboard_choosing(world, "Anouk", "Wonen")
    bram = await onboard_choosing(world, "Bram")  # skipped: hears of nothing but his network
    await publish(world, "Betaalbaar wonen", "wonen")
    await publish(world, "Over subsidies", "subsidies")
    world.clock.advance(timedelta(seconds=1))
    await dispatcher(world).dispatch_due()
    [alert] = alerts(anouk)
    assert "Betaalbaar wonen" in alert.content and "Subsidies" not in alert.content
    assert "Over: Wonen" in alert.content
    assert alerts(bram) == []
    card = await press(anouk, alert, "✅ Aanmelden").edit()  # the alert becomes the card
    assert "Je bent aangemeld" in card.content
    seen = len(anouk.messages)
    world.clock.advance(timedelta(minutes=30))
    await dispatcher(world).dispatch_due()
    assert len(anouk.messages) == seen  # once
    async with world.db.read() as session:
        status = await session.scalar(select(Registration.status))
        sent = (
            await session.scalars(
                select(OutboxMessage.status).where(
                    OutboxMessage.kind == NotificationKind.NEW_EVENTS
                )
            )
        ).all()
    assert status is RegistrationStatus.CONFIRMED and sent == [DeliveryStatus.SENT]


async def test_two_published_within_ten_minutes_are_one_message(world: World):
    anouk = await onboard_choosing(world, "Anouk", "Wonen", "Werk")
    await publish(world, "Betaalbaar wonen", "wonen")
    await publish(world, "Werk in de wijk", "werk")  # before the first went out: joins it
    await dispatcher(world).dispatch_due()
    [alert] = alerts(anouk)
    assert "Betaalbaar wonen" in alert.content and "Werk in de wijk" in alert.content
    world.clock.advance(timedelta(minutes=4))
    await publish(world, "Wonen en zorg", "wonen")  # after it went out: the message grows
    await dispatcher(world).dispatch_due()
    [alert] = alerts(anouk)
    assert alert.edit_count == 1 and "Wonen en zorg" in alert.content
    assert sum(1 for label in labels(alert) if label.startswith("🎓")) == 3  # a button each
    world.clock.advance(timedelta(minutes=10))
    await publish(world, "Later gepland", "werk")
    await dispatcher(world).dispatch_due()
    assert len(alerts(anouk)) == 2


async def test_quiet_hours_turned_off_and_the_digest_instead(world: World):
    anouk = await onboard_choosing(world, "Anouk", "Wonen")
    bram = await onboard_choosing(world, "Bram", "Wonen")
    carla = await onboard_choosing(world, "Carla", "Wonen")
    for person, choice in ((bram, "niet"), (carla, "in het weekoverzicht")):
        settings = await person.ask("/instellingen")
        assert "Nieuwe bijeenkomsten die bij je passen: meteen" in settings.content
        screen = await press(person, settings, "🔔 Nieuwe bijeenkomsten").edit()
        screen = await press(person, screen, choice).edit()
        assert f"• {choice}" in labels(screen)
    world.clock.set(T0.replace(hour=21))  # 22:00 in Amsterdam: quiet
    await publish(world, "Betaalbaar wonen", "wonen")
    await dispatcher(world).dispatch_due()
    assert alerts(anouk) == []
    world.clock.set(T0.replace(hour=7) + timedelta(days=1))  # 08:00 the next morning
    await dispatcher(world).dispatch_due()
    assert len(alerts(anouk)) == 1
    assert alerts(bram) == [] and alerts(carla) == []
    # Carla finds it in Monday's digest.
    monday = T0 + timedelta(days=7)
    world.clock.set(monday)
    async with world.db.transaction() as session:
        await enqueue_digests(session, now=monday, tz=world.deps.policy.reminders.tz)
    await dispatcher(world).dispatch_due()
    digest = carla.messages[-1]
    assert "Nieuw voor jou" in digest.content and "Betaalbaar wonen" in digest.content
    assert alerts(carla) == [] and not any("Nieuw voor jou" in m.content for m in bram.messages)


async def test_kinds_followed_from_the_settings(world: World):
    anouk = await onboard_choosing(world, "Anouk")
    settings = await anouk.ask("/instellingen")
    screen = await press(anouk, settings, "🔔 Nieuwe bijeenkomsten").edit()
    screen = await press(anouk, screen, "Dialoog").edit()
    assert any(label.startswith("✅") and "ialoog" in label for label in labels(screen))
    await publish(world, "Dialoog met de raad", kind=EventKind.DIALOOG)
    await publish(world, "Een masterclass")
    await dispatcher(world).dispatch_due()
    [alert] = alerts(anouk)
    assert "Dialoog met de raad" in alert.content and "masterclass" not in alert.content


async def test_two_moves_within_ten_minutes_make_one_notice(world: World):
    event = await publish(world, "Betaalbaar wonen")
    anouk = await onboard_choosing(world, "Anouk")
    card = await press(anouk, await anouk.ask("/agenda"), "Betaalbaar wonen").edit()
    await press(anouk, card, "✅ Aanmelden").edit()
    first_start = event.starts_at
    for minutes, place in ((0, "Centre Céramique"), (5, "Bibliotheek")):
        world.clock.advance(timedelta(minutes=minutes))
        async with world.db.transaction() as session:
            await update_event(
                session,
                event_id=event.id,
                actor_id=None,
                changes={
                    "starts_at": first_start + timedelta(hours=minutes // 5 + 1),
                    "ends_at": first_start + timedelta(hours=minutes // 5 + 3),
                    "location": place,
                },
                now=world.clock(),
                policy=world.deps.policy,
            )
    await dispatcher(world).dispatch_due()
    assert not any("is gewijzigd" in m.content for m in anouk.messages)  # waits for more
    world.clock.advance(timedelta(minutes=6))
    await dispatcher(world).dispatch_due()
    [notice] = [m for m in anouk.messages if "is gewijzigd" in m.content]
    assert (
        "<s>Stadhuis</s> → <b>Bibliotheek</b>" in notice.html if hasattr(notice, "html") else True
    )
    assert "Stadhuis" in notice.content and "Bibliotheek" in notice.content
    assert "Centre Céramique" not in notice.content
    async with world.db.read() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == NotificationKind.EVENT_CHANGED)
            )
        ).all()
    assert [row.status for row in rows] == [DeliveryStatus.SENT]


async def test_my_data_and_forget_me_cover_themes_and_alerts(world: World):
    anouk = await onboard_choosing(world, "Anouk", "Wonen")
    document = await anouk.send("/mijngegevens").reply(lambda m: m.document is not None)
    assert document.document is not None
    mine = json.loads(document.document.data)["member"]
    assert mine["themes"] == ["Wonen"] and mine["new_event_alerts"] == "now"
    privacy = await anouk.ask("/privacy")
    assert "thema" in privacy.content.lower()
    question = await anouk.ask("/vergeetmij")
    await press(anouk, question, "Ja, wis").edit()
    async with world.db.read() as session:
        assert await session.scalar(select(Member)) is None
        from models.themes.entities import member_themes

        assert (await session.execute(select(member_themes))).all() == []
