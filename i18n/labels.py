"""Names of things that every front end shows (chat, page, feeds), as gettext message ids."""

from __future__ import annotations

from i18n.translate import N_
from models.events.entities import EventKind
from models.members.entities import Affiliation

KIND_LABELS = {
    EventKind.MASTERCLASS: N_("Masterclass"),
    EventKind.DIALOOG: N_("Dialoog met raads- en burgerleden"),
    EventKind.UITWISSELING: N_("Uitwisseling tussen buurtnetwerken"),
    EventKind.WORKSHOP: N_("Workshop"),
}
KIND_ICONS = {
    EventKind.MASTERCLASS: "🎓",
    EventKind.DIALOOG: "🗣",
    EventKind.UITWISSELING: "🤝",
    EventKind.WORKSHOP: "🛠",
}
AFFILIATION_LABELS = {
    Affiliation.BUURTNETWERK: N_("Buurtnetwerk"),
    Affiliation.RAADSLID: N_("Raadslid"),
    Affiliation.BURGERLID: N_("Burgerlid"),
    Affiliation.GEMEENTE: N_("Gemeente"),
    Affiliation.TRAJEKT: N_("Trajekt"),
    Affiliation.BEWONER: N_("Bewoner, zonder netwerk"),
}
