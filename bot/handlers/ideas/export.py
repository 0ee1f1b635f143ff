"""The questions for a dialogue as a document for the council members: plain text that reads as
Markdown too (headings, a numbered list per theme), without any names. The domain gives the
overview (``models.ideas.operations.questions_for``); how it looks is decided here."""

from __future__ import annotations

from i18n.translate import Translator
from models.ideas.operations import QuestionOverview


def questions_document(overview: QuestionOverview, t: Translator) -> bytes:
    """Grouped by theme, each question with the network it comes from; UTF-8."""
    event = overview.event
    lines = [
        "# " + t("Vragen voor de dialoog met raads- en burgerleden"),
        "",
        f"**{event.title}**",
        t.moment_with_year(event.starts_at) + (f" · {event.location}" if event.location else ""),
        "",
        "> "
        + t(
            "Deze vragen en thema's zijn vooraf ingestuurd door deelnemers uit de buurtnetwerken. "
            "Namen staan er bewust niet in (privacy): bij elke vraag staat alleen uit welk "
            "buurtnetwerk hij komt."
        ),
        "",
        t.plural("{n} vraag", "{n} vragen", overview.total)
        + ", "
        + t.plural("uit {n} buurtnetwerk.", "uit {n} buurtnetwerken.", overview.networks),
    ]
    no_network = t("zonder buurtnetwerk")
    if not overview.total:
        lines += ["", t("Er zijn (nog) geen vragen ingestuurd.")]
    for theme, entries in overview.by_theme:
        heading = t(theme) if theme else t("Zonder thema")
        lines += ["", f"## {heading} ({len(entries)})", ""]
        for number, entry in enumerate(entries, start=1):
            text = "\n   ".join(line.rstrip() for line in entry.text.splitlines() if line.strip())
            lines.append(f"{number}. {text}")
            lines.append("   — " + (entry.network or no_network))
    if overview.by_network:
        lines += ["", "## " + t("Per buurtnetwerk"), ""]
        lines += [f"- {name or no_network}: {count}" for name, count in overview.by_network]
    return ("\n".join(lines) + "\n").encode()
