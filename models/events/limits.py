"""How long an event's texts may be: one number per field, used by the columns, by the domain's
checks (``check_length``, from every operation that stores them: create, update, propose,
cancel, reject, series, import) and by the bot when it asks for them."""

from __future__ import annotations

from models.errors import N_, InvalidEvent

TITLE_MAX = 200
LOCATION_MAX = 300
SPEAKERS_MAX = 400
ONLINE_URL_MAX = 500
DESCRIPTION_MAX = 4000
REASON_MAX = 1000  # why an event is cancelled or a proposal rejected: everyone in reads it

# Per field: its maximum, and the refusal naming the field (an import names the entry too).
_LIMITS = {
    "title": (TITLE_MAX, N_("De titel is te lang (hoogstens {maximum} tekens).")),
    "location": (LOCATION_MAX, N_("De plek is te lang (hoogstens {maximum} tekens).")),
    "speakers": (
        SPEAKERS_MAX,
        N_("De tekst over de sprekers is te lang (hoogstens {maximum} tekens)."),
    ),
    "online_url": (ONLINE_URL_MAX, N_("De online link is te lang (hoogstens {maximum} tekens).")),
    "description": (
        DESCRIPTION_MAX,
        N_("De beschrijving is te lang (hoogstens {maximum} tekens)."),
    ),
    "reason": (REASON_MAX, N_("De reden is te lang (hoogstens {maximum} tekens).")),
}


def check_length(field: str, text: str | None) -> None:
    """Refuse ``text`` for ``field`` (an ``EventDraft`` field, or "reason") when it is too long."""
    maximum, message = _LIMITS[field]
    if text is not None and len(text) > maximum:
        raise InvalidEvent(message, maximum=maximum)


TEXT_FIELDS = ("title", "location", "speakers", "online_url", "description")
