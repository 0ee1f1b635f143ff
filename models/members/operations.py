"""Members: joining, choosing a language and a network, and being forgotten (AVG)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.alerts.operations import followed_kinds
from models.dialogs.entities import Dialog, DialogState
from models.dialogs.operations import COLUMNS as DIALOG_COLUMNS
from models.dialogs.operations import state_from_row, stored_dialog
from models.errors import N_, DomainError, NotFound
from models.events.entities import Event
from models.feedback.entities import Feedback
from models.feeds.entities import FeedToken
from models.ideas.entities import DialogueQuestion, Idea, IdeaVote
from models.members.entities import Affiliation, Language, Member, Role
from models.networks.entities import Network
from models.outbox.entities import OutboxMessage
from models.questions.privacy import export_questions, forget_questions
from models.registrations import operations as registrations
from models.registrations.entities import ACTIVE, Registration, RegistrationChange
from models.registrations.policy import RegistrationPolicy
from models.themes.operations import member_themes_of

DISPLAY_NAME_MAX = 128


class AffiliationInvalid(DomainError):
    message = N_("Kies een buurtnetwerk, of een andere rol zonder netwerk.")


# Built once: every update starts with this lookup, and building a select (coercing its clauses,
# computing its cache key) costs more than SQLite takes to run it.
_BY_TELEGRAM_ID = select(Member).where(Member.telegram_id == bindparam("telegram_id"))


async def member_by_telegram_id(session: AsyncSession, telegram_id: int) -> Member | None:
    """The member behind a Telegram account, if they have been here before."""
    member: Member | None = await session.scalar(_BY_TELEGRAM_ID, {"telegram_id": telegram_id})
    return member


# The member behind an update together with their dialog, in one statement (the bot reads both
# for every update it handles: whether typed text is an answer depends on the dialog).
_WITH_DIALOG = (
    select(Member, *DIALOG_COLUMNS)
    .outerjoin(Dialog, Dialog.member_id == Member.id)
    .where(Member.telegram_id == bindparam("telegram_id"))
)


async def member_with_dialog(
    session: AsyncSession, telegram_id: int
) -> tuple[Member, DialogState | None] | None:
    """The member behind a Telegram account and their dialog as stored (lapsed or not)."""
    row = (await session.execute(_WITH_DIALOG, {"telegram_id": telegram_id})).first()
    if row is None:
        return None
    member: Member = row[0]
    return member, state_from_row(row._mapping)


async def ensure_member(
    session: AsyncSession,
    *,
    telegram_id: int,
    display_name: str,
    language: Language | None = None,
    admin_ids: tuple[int, ...] = (),
) -> tuple[Member, bool]:
    """The member behind a Telegram account, created on first contact. Returns (member, created).

    Admins are whoever the configuration names: their role is (re)applied on every contact, so a
    configuration change takes effect without a database edit.
    """
    member = await member_by_telegram_id(session, telegram_id)
    created = member is None
    if member is None:
        member = Member(
            telegram_id=telegram_id,
            display_name=_clean_name(display_name),
            language=language or Language.NL,
            role=Role.MEMBER,
        )
        session.add(member)
    if telegram_id in admin_ids and member.role is not Role.ADMIN:
        member.role = Role.ADMIN
    elif telegram_id not in admin_ids and member.role is Role.ADMIN:
        member.role = Role.ORGANISER  # removed from the config: keeps organising, no admin
    await session.flush()
    return member, created


async def set_language(session: AsyncSession, *, member_id: int, language: Language) -> Member:
    member = await _get(session, member_id)
    member.language = language
    await session.flush()
    return member


async def set_affiliation(
    session: AsyncSession,
    *,
    member_id: int,
    affiliation: Affiliation,
    network_id: int | None = None,
) -> Member:
    """A volunteer belongs to a buurtnetwerk; everyone else names their role instead."""
    member = await _get(session, member_id)
    if (affiliation is Affiliation.BUURTNETWERK) != (network_id is not None):
        raise AffiliationInvalid()
    if network_id is not None:
        network = await session.get(Network, network_id)
        if network is None or not network.active:
            raise NotFound()
    member.affiliation = affiliation
    member.network_id = network_id
    await session.flush()
    await session.refresh(member, ["network"])
    return member


async def mark_unreachable(session: AsyncSession, *, member_id: int) -> None:
    """Telegram said the member blocked the bot: stop sending on our own until they return."""
    await session.execute(update(Member).where(Member.id == member_id).values(reachable=False))


async def export_member_data(session: AsyncSession, *, member_id: int) -> dict[str, Any]:
    """Everything stored about a member, for ``/mijngegevens`` (AVG: right of access)."""
    member = await _get(session, member_id)
    registrations = (
        await session.scalars(
            select(Registration)
            .where(Registration.member_id == member_id)
            .order_by(Registration.id)
        )
    ).all()
    history = (
        await session.scalars(
            select(RegistrationChange)
            .where(RegistrationChange.registration_id.in_([r.id for r in registrations]))
            .order_by(RegistrationChange.id)
        )
    ).all()
    notifications = (
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.member_id == member_id)
            .order_by(OutboxMessage.id)
        )
    ).all()
    feedback = (
        await session.scalars(
            select(Feedback).where(Feedback.member_id == member_id).order_by(Feedback.id)
        )
    ).all()
    ideas = (
        await session.scalars(select(Idea).where(Idea.proposer_id == member_id).order_by(Idea.id))
    ).all()
    votes = (
        await session.execute(
            select(Idea.title, IdeaVote.created_at)
            .join(IdeaVote, IdeaVote.idea_id == Idea.id)
            .where(IdeaVote.member_id == member_id)
            .order_by(IdeaVote.created_at)
        )
    ).all()
    questions = (
        await session.scalars(
            select(DialogueQuestion)
            .where(DialogueQuestion.member_id == member_id)
            .order_by(DialogueQuestion.id)
        )
    ).all()
    proposals = (
        await session.scalars(
            select(Event).where(Event.proposed_by_id == member_id).order_by(Event.id)
        )
    ).all()
    feed = await session.scalar(select(FeedToken).where(FeedToken.member_id == member_id))
    themes = await member_themes_of(session, member_id)
    kinds = await followed_kinds(session, member_id)
    dialog = await stored_dialog(session, member_id=member_id)
    contact_point = await export_questions(session, member_id=member_id)
    return {
        "member": {
            "telegram_id": member.telegram_id,
            "display_name": member.display_name,
            "language": member.language.value,
            "affiliation": member.affiliation.value if member.affiliation else None,
            "network": member.network.name if member.network else None,
            "role": member.role.value,
            "reachable": member.reachable,
            "created_at": member.created_at.isoformat(),
            # What they want to hear about, and how (``/instellingen``).
            "themes": [theme.name for theme in themes],
            "followed_kinds": [kind.value for kind in kinds],
            "new_event_alerts": member.alert_preference.value,
            "weekly_digest": member.digest,
        },
        "registrations": [
            {
                "event": r.event.title,
                "event_starts_at": r.event.starts_at.isoformat(),
                "status": r.status.value,
                "party_size": r.party_size,
                "created_at": r.created_at.isoformat(),
                "history": [
                    {
                        "at": h.at.isoformat(),
                        "from": h.from_status,
                        "to": h.to_status.value,
                        "reason": h.reason,
                    }
                    for h in history
                    if h.registration_id == r.id
                ],
            }
            for r in registrations
        ],
        "notifications": [
            {"kind": n.kind.value, "due_at": n.due_at.isoformat(), "status": n.status.value}
            for n in notifications
        ],
        "feedback": [
            {"event_id": f.event_id, "rating": f.rating, "comment": f.comment} for f in feedback
        ],
        "ideas": [
            {
                "title": i.title,
                "description": i.description,
                "status": i.status.value,
                "created_at": i.created_at.isoformat(),
            }
            for i in ideas
        ],
        "votes": [{"idea": title, "at": at.isoformat()} for title, at in votes],
        "dialogue_questions": [
            {
                "event_id": q.event_id,
                "theme": q.theme,
                "text": q.text,
                "created_at": q.created_at.isoformat(),
            }
            for q in questions
        ],
        # Questions to the contact point with their threads; what they are contact person for.
        **contact_point,
        "proposals": [
            {"title": e.title, "status": e.status.value, "starts_at": e.starts_at.isoformat()}
            for e in proposals
        ],
        # What was typed so far in an unfinished dialog (a new idea, an event being made).
        "dialog": None
        if dialog is None
        else {
            "flow": dialog.flow,
            "step": dialog.step,
            "answers": dict(dialog.answers),
            "started_at": dialog.started_at.isoformat(),
            "expires_at": dialog.expires_at.isoformat(),
        },
        # Only whether a calendar link exists and when it was fetched: the link itself is not
        # stored in readable form.
        "calendar_link": None
        if feed is None
        else {
            "created_at": feed.created_at.isoformat(),
            "last_fetched_at": feed.last_fetched_at.isoformat() if feed.last_fetched_at else None,
        },
    }


async def forget_member(
    session: AsyncSession, *, member_id: int, now: datetime, policy: RegistrationPolicy
) -> int:
    """Delete a member (AVG: right to erasure). Returns how many registrations were kept anonymous.

    Registrations for past events stay, without the member, so attendance counts and the totals
    per network stay right. Active registrations for coming events are cancelled first, through
    the normal rules, so the freed seats go to the waitlist.
    Pending notifications go with the member, and so does an unfinished dialog (the database
    deletes it with the member row: ``ON DELETE CASCADE``).
    """
    member = await _get(session, member_id)
    coming = (
        await session.scalars(
            select(Registration)
            .join(Event, Event.id == Registration.event_id)
            .where(
                Registration.member_id == member_id,
                Registration.status.in_(ACTIVE),
                Event.starts_at > now,
            )
        )
    ).all()
    for registration in coming:
        await registrations.cancel(
            session,
            event_id=registration.event_id,
            member_id=member_id,
            now=now,
            policy=policy,
            reason="forgotten",
        )
    await session.execute(delete(OutboxMessage).where(OutboxMessage.member_id == member_id))
    await forget_questions(session, member_id=member_id)  # answered ones stay as timings
    result = await session.execute(
        update(Registration).where(Registration.member_id == member_id).values(member_id=None)
    )
    await session.execute(
        update(RegistrationChange)
        .where(RegistrationChange.actor_id == member_id)
        .values(actor_id=None)
    )
    await session.delete(member)
    await session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _get(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFound()
    return member


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    return name[:DISPLAY_NAME_MAX] or "?"
