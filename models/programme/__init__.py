"""Programme files: importing a whole programme at once (TOML or ICS), and exporting it.

The TOML schema (version 1; ``examples/programma.toml`` is a full example)::

    versie = 1                        # optional; the schema version
    tijdzone = "Europe/Amsterdam"     # optional; the zone of times written without an offset

    [[bijeenkomst]]                   # one table per event, as often as needed
    uid = "masterclass-2027-1"        # required, unique and stable: the same uid is the same event
    soort = "masterclass"             # required: masterclass | dialoog | uitwisseling | workshop
    titel = "Omgevingswet: ..."       # required (at most 200 characters)
    onderwerp_nog_open = false        # true: the title is a placeholder, topic still to decide
    sprekers = "Anhilde de Jong (procesmanager, Gemeente Maastricht)"  # at most 400 characters
    beschrijving = "..."              # text (4000); several lines between triple quotes
    begin = 2027-02-11T19:30:00       # required; local time in `tijdzone` (or with an offset)
    einde = 2027-02-11T21:30:00       # required, or instead:
    duur = 120                        #   the length in minutes
    locatie = "Stadhuis Maastricht, Markt 78"   # at most 300 characters
    online = "https://..."            # an online meeting link (500)
    plaatsen = 40                     # capacity; left out: no maximum (for a new event)
    aanmelden_tot = 2027-02-09T19:30:00   # registration deadline
    per_netwerk = 3                   # fair share: at most this many seats per network ...
    per_netwerk_tot = 2027-02-04T19:30:00 # ... until this moment
    netwerk = "wyck"                  # an exchange session of one network (its slug)
    status = "gepubliceerd"           # concept | gepubliceerd (default) | geannuleerd
    reden = "..."                     # with geannuleerd: what registered people are told (1000)

Rules when importing (matched by ``uid``):

- a new uid creates the event (published, unless ``status = "concept"``);
- a known uid changes the fields that differ; a key that is left out leaves the field as it is,
  and ``""`` clears an optional field (``plaatsen = ""``: no maximum). People who are registered
  hear of a new time or place, as with any change. A draft becomes published with
  ``status = "gepubliceerd"``; a published event is never turned back into a draft;
- ``status = "geannuleerd"`` cancels the event of that uid (only the uid is needed then); events
  that are not in the file are left alone;
- events already over, and events cancelled in Buurtagenda, are not changed;
- importing the same file twice changes nothing; a dry run (``plan_import``) changes nothing;
- every entry is checked by the events' own rules (``models/events``: times, seats, the length
  of each text) while the plan is made, so a dry run refuses what importing would refuse,
  naming the entry and its line.

ICS files (VEVENTs) are read the same way: UID, SUMMARY, DTSTART/DTEND (or DURATION) with their
TZID (VTIMEZONE or Olson names), LOCATION, DESCRIPTION, URL (online link), STATUS (CANCELLED
cancels, TENTATIVE makes a new event a draft), the kind from X-BUURTAGENDA-KIND or CATEGORIES.

``export_programme`` writes the TOML schema; importing an export changes nothing.
"""

from models.programme.exporter import event_uid, export_programme
from models.programme.importer import (
    FieldChange,
    ImportPlan,
    ImportResult,
    PlannedEvent,
    apply_import,
    describe_plan,
    plan_import,
    read_programme,
)
from models.programme.toml_schema import SCHEMA_VERSION, ProgrammeError

__all__ = [
    "SCHEMA_VERSION",
    "FieldChange",
    "ImportPlan",
    "ImportResult",
    "PlannedEvent",
    "ProgrammeError",
    "apply_import",
    "describe_plan",
    "event_uid",
    "export_programme",
    "plan_import",
    "read_programme",
]
