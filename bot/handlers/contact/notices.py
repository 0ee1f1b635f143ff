"""The contact point's notices (outbox rows written by ``models/questions``), rendered in the
recipient's language when they go out. A question erased meanwhile (its member was forgotten)
is not sent. ``RENDERERS``: what ``bot/notifications.py`` adds to its table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton

from bot.context import escape
from bot.handlers.contact.thread import on_answer, on_reply, on_solved, show_thread
from bot.render import short
from models.members.entities import Member
from models.networks.entities import Network
from models.outbox.delivery import Permanent
from models.outbox.entities import NotificationKind
from models.questions.entities import Question, QuestionMessage
from models.themes.entities import Theme

if TYPE_CHECKING:  # bot.notifications renders these (it imports this module, not back)
    from bot.notifications import NoticeContext, Rendered

K = NotificationKind
QUESTION_SHOWN = 1500  # characters of a question or an answer in a notice


async def _question(c: NoticeContext) -> Question:
    question = await c.session.get(Question, int(c.payload.get("question_id", 0)))
    if question is None or question.member_id is None:
        raise Permanent("question gone")
    return question


async def _about(c: NoticeContext, question: Question) -> str:
    """ "Anouk (Wyck) over Wonen": who asked, and about what."""
    asker = await c.session.get(Member, question.member_id)
    who = escape(asker.display_name if asker else c.t("anoniem"))
    if question.network_id:
        network = await c.session.get(Network, question.network_id)
        if network is not None:
            who += f" ({escape(network.name)})"
    if question.theme_id:
        theme = await c.session.get(Theme, question.theme_id)
        if theme is not None:
            return c.t("{who} over {theme}", who=who, theme=escape(theme.label(c.t.language)))
    return who


def _for_contact(c: NoticeContext, question: Question) -> list[list[InlineKeyboardButton]]:
    return [
        [
            c.button(c.t("✍️ Beantwoorden"), on_answer, question.id),
            c.button(c.t("Bekijken"), show_thread, question.id),
        ]
    ]


async def _message_text(c: NoticeContext) -> str:
    message = await c.session.get(QuestionMessage, int(c.payload.get("message_id", 0)))
    if message is None:
        raise Permanent("message gone")
    return message.text


async def _asked(c: NoticeContext) -> Rendered:
    question = await _question(c)
    text = c.t(
        "❓ <b>Nieuwe vraag</b> van {about}:\n{question}",
        about=await _about(c, question),
        question=f"<i>{escape(short(question.text, QUESTION_SHOWN))}</i>",
    )
    return text, _for_contact(c, question)


async def _reply(c: NoticeContext) -> Rendered:
    question = await _question(c)
    text = c.t(
        "↩️ <b>Reactie</b> van {about}:\n{reply}",
        about=await _about(c, question),
        reply=f"<i>{escape(short(await _message_text(c), QUESTION_SHOWN))}</i>",
    )
    return text, _for_contact(c, question)


async def _reminder(c: NoticeContext) -> Rendered:
    question = await _question(c)
    text = c.t(
        "⏰ Deze vraag van {about} wacht al twee werkdagen op een antwoord:\n{question}",
        about=await _about(c, question),
        question=f"<i>{escape(short(question.text, QUESTION_SHOWN))}</i>",
    )
    return text, _for_contact(c, question)


async def _escalated(c: NoticeContext) -> Rendered:
    question = await _question(c)
    text = c.t(
        "⚠️ Een vraag van {about} wacht al vier werkdagen op een antwoord. Wil jij hem "
        "oppakken, of de contactpersoon even aanspreken?\n{question}",
        about=await _about(c, question),
        question=f"<i>{escape(short(question.text, QUESTION_SHOWN))}</i>",
    )
    return text, _for_contact(c, question)


async def _answered(c: NoticeContext) -> Rendered:
    question = await _question(c)
    message = await c.session.get(QuestionMessage, int(c.payload.get("message_id", 0)))
    if message is None:
        raise Permanent("message gone")
    author = await c.session.get(Member, message.author_id) if message.author_id else None
    text = c.t(
        "💬 <b>Antwoord</b> van {who} op je vraag „{question}”:\n{answer}",
        who=escape(author.display_name if author else c.t("de organisatie")),
        question=escape(short(question.text, 80)),
        answer=escape(short(message.text, QUESTION_SHOWN * 2)),
    )
    return text, [
        [
            c.button(c.t("↩️ Reageren"), on_reply, question.id),
            c.button(c.t("✅ Opgelost"), on_solved, question.id),
        ]
    ]


RENDERERS: dict[NotificationKind, Callable[[NoticeContext], Awaitable[Rendered]]] = {
    K.QUESTION_ASKED: _asked,
    K.QUESTION_REPLY: _reply,
    K.QUESTION_REMINDER: _reminder,
    K.QUESTION_ESCALATED: _escalated,
    K.QUESTION_ANSWERED: _answered,
}
