"""The domain of Buurtagenda: entities and the operations on them. No Telegram, no HTTP here.

Where things are decided:
- ``registrations/``: registering, the waitlist, offers, fair share (``operations.py``), and
  organisers' overrides and attendance (``organiser.py``), each carried out by ``changes.py``;
- ``events/``: the programme (create, publish, change, cancel; series; proposals; text limits);
- ``organisers/``: who may organise (``authorisation.require_organiser``), invitations, audit;
- ``attendance/``: check-in (its window: ``window.py``), no-shows, participation;
- ``members/operations.py``: members, their network, privacy (export, forget);
- ``networks/``: the buurten and buurtnetwerken of Maastricht (reference data);
- ``outbox/``: notifications as data, written in the same transaction as their cause;
- ``dialogs/``: where a member is in a flow that waits for typed input (one row each);
- ``alerts/``: who a newly published event fits, and the alert that tells them;
- ``questions/``: the contact point: questions, their threads, the contact persons, reminders;
- ``themes/``: themes (the organisers' list), the ones a member chose, the ones an event carries;
- ``inbox/``: Telegram updates received by webhook, stored before they are acknowledged.
"""

from models.alerts.entities import member_followed_kinds
from models.alerts.policy import AlertPreference
from models.base import Base
from models.broadcasts.entities import Broadcast, BroadcastStatus
from models.dialogs.entities import Dialog
from models.events.entities import Cadence, Event, EventKind, EventStatus, Series
from models.feedback.entities import Feedback
from models.feeds.entities import FeedToken
from models.ideas.entities import DialogueQuestion, Idea, IdeaStatus, IdeaVote
from models.inbox.entities import InboundUpdate
from models.instance.entities import Instance
from models.members.entities import Affiliation, Language, Member, Role
from models.networks.entities import Buurt, Network, NetworkKind
from models.organisers.entities import AuditEntry, OrganiserInvitation
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.questions.entities import ContactPerson, Question, QuestionMessage
from models.registrations.entities import Registration, RegistrationChange, RegistrationStatus
from models.send_budget import send_budget
from models.themes.entities import Theme

__all__ = [
    "Affiliation",
    "AlertPreference",
    "AuditEntry",
    "Base",
    "Broadcast",
    "BroadcastStatus",
    "Buurt",
    "Cadence",
    "ContactPerson",
    "DeliveryStatus",
    "Dialog",
    "DialogueQuestion",
    "Event",
    "EventKind",
    "EventStatus",
    "FeedToken",
    "Feedback",
    "Idea",
    "IdeaStatus",
    "IdeaVote",
    "InboundUpdate",
    "Instance",
    "Language",
    "Member",
    "Network",
    "NetworkKind",
    "NotificationKind",
    "OrganiserInvitation",
    "OutboxMessage",
    "Question",
    "QuestionMessage",
    "Registration",
    "RegistrationChange",
    "RegistrationStatus",
    "Role",
    "Series",
    "Theme",
    "member_followed_kinds",
    "send_budget",
]
