"""Domain errors: every refusal is one of these, with a message that can be translated.

The domain does not translate: it raises an error carrying a gettext message id (marked with
``N_`` so Babel extracts it) and the values to fill in. The bot and the web layer translate it
into the member's language. ``str(error)`` gives the untranslated (Dutch) text for logs.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark a string for translation without translating it here."""
    return message


class DomainError(Exception):
    """A rule refused an operation. Nothing was changed."""

    message = N_("Dat kan helaas niet.")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        self.msgid = message or self.message
        self.params = params
        super().__init__(self.msgid.format(**params) if params else self.msgid)


class NotFound(DomainError):
    message = N_("Dat kon ik niet vinden. Misschien is het al verwijderd?")


class NotAllowed(DomainError):
    message = N_("Dat mag je helaas niet doen.")


class EventNotOpen(DomainError):
    message = N_("Je kunt je voor deze bijeenkomst (nog) niet aanmelden.")


class EventCancelled(DomainError):
    message = N_("Deze bijeenkomst gaat niet door.")


class EventStarted(DomainError):
    message = N_("Deze bijeenkomst is al begonnen of voorbij.")


class RegistrationClosed(DomainError):
    message = N_("De aanmelding voor deze bijeenkomst is gesloten.")


class PartySizeInvalid(DomainError):
    message = N_("Je kunt met maximaal {maximum} personen komen (jijzelf meegeteld).")


class NotEnoughSeats(DomainError):
    message = N_("Er zijn niet genoeg plaatsen vrij voor {party_size} personen.")


class NotRegistered(DomainError):
    message = N_("Je bent niet aangemeld voor deze bijeenkomst.")


class NoOpenOffer(DomainError):
    message = N_("Er staat geen plek voor je klaar. Misschien is het aanbod verlopen?")


class OfferExpired(DomainError):
    message = N_("Het aanbod is verlopen; de plek is doorgegeven aan de volgende.")


class SeatTaken(DomainError):
    message = N_("Iemand anders was je net voor: de plek is al bezet.")


class InvalidEvent(DomainError):
    message = N_("Deze bijeenkomst klopt niet: {reason}")


class MemberUnknown(DomainError):
    message = N_("Ik ken je nog niet. Stuur /start om te beginnen.")
