"""What the contact point's screens and notices share: how a question, its state and its thread
look."""

from __future__ import annotations

from datetime import datetime

from bot.context import escape
from bot.render import short
from i18n.translate import N_, Translator
from models.questions.entities import Question, QuestionStatus, Route
from models.questions.operations import Thread
from models.themes.entities import Theme

STATES = {
    QuestionStatus.OPEN: N_("⏳ wacht op antwoord"),
    QuestionStatus.ANSWERED: N_("💬 beantwoord"),
    QuestionStatus.SOLVED: N_("✅ opgelost"),
}
THREAD_MAX = 3500  # characters of a thread shown in the chat (Telegram allows 4096)


def theme_name(t: Translator, theme: Theme | None) -> str:
    return theme.label(t.language) if theme is not None else t("geen thema")


def state(t: Translator, question: Question) -> str:
    return t(STATES[question.status])


def route_words(t: Translator, route: Route, theme: Theme | None) -> str:
    """Who a question went to, as part of a sentence."""
    if route is Route.THEME and theme is not None:
        return t("de contactpersoon voor {theme}", theme=escape(theme.label(t.language)))
    if route is Route.NETWORK:
        return t("de contactpersoon van je buurtnetwerk")
    return t("de organisatie (de beheerders)")


def waited(t: Translator, since: datetime, now: datetime) -> str:
    """How long something waits, roughly: "3 uur", "2 dagen"."""
    hours = int((now - since).total_seconds() // 3600)
    if hours < 24:
        return t.plural("{n} uur", "{n} uur", max(hours, 0))
    return t.plural("{n} dag", "{n} dagen", hours // 24)


def thread_text(t: Translator, thread: Thread) -> str:
    """The question, who asked it and where it stands, and its messages (the latest ones when
    they do not all fit)."""
    question = thread.question
    about = [escape(theme_name(t, thread.theme))]
    if thread.event is not None:
        about.append(escape(short(thread.event.title, 40)))
    if thread.is_asker:
        head = t("❓ <b>Je vraag</b> ({about})", about=" · ".join(about))
    else:
        who = escape(thread.asker or t("anoniem"))
        if thread.network:
            who += f" ({escape(thread.network)})"
        head = t("❓ <b>Vraag van {who}</b> ({about})", who=who, about=" · ".join(about))
    lines = [head, t("Status: {state}", state=state(t, question)), ""]
    body: list[str] = []
    for message in thread.messages:
        if not message.from_contact:
            author = t("Jij") if thread.is_asker else escape(thread.asker or t("anoniem"))
        else:
            author = escape(message.author or t("contactpersoon"))
        body.append(f"<b>{author}</b> · {t.moment(message.at)}\n{escape(message.text)}")
    shown: list[str] = []
    for entry in reversed(body):
        if sum(len(s) for s in shown) + len(entry) > THREAD_MAX and shown:
            shown.append("…")
            break
        shown.append(entry)
    return "\n".join(lines) + "\n" + "\n\n".join(reversed(shown))
