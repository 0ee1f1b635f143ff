"""``/nieuw``: a new event, step by step (kind, title, moment, end, place or link, seats,
deadline, fair share, speakers, description, themes), a preview, then publish or keep as a
draft.

Nothing is written before the organiser says so at the preview: the answers so far are the
dialog's (``bot/dialogs.py``, in the database), not a half-made event in everyone's /programma.
"Bewaren als concept" is the way to keep a draft. "✏️ Wijzigen" at the preview changes one
answer and returns to the preview.
"""

from __future__ import annotations

from bot import dialogs
from bot.actions import code_of
from bot.context import Turn
from bot.handlers.programme import admin_card, themes_step
from bot.handlers.programme.fields import FIELD_LABELS, FIELD_STEP, FIELDS
from bot.handlers.programme.steps import (
    BRANCH_OF,
    NEW_EVENT,
    Answer,
    Next,
    Question,
    Rules,
    Screen,
    choice,
    command,
    draft,
    event_draft,
    next_step,
    programme_flow,
    screen,
    stored,
    summary,
)
from i18n.translate import N_
from models.dialogs.entities import DialogState
from models.errors import DomainError
from models.events.operations import create_event

ORDER = [
    "kind",
    "title",
    "start",
    "end",
    "place",
    "capacity",
    "deadline",
    "fairshare",
    "speakers",
    "description",
    "themes",
    "preview",
]


def _header(turn: Turn, dialog: DialogState) -> str:
    heading = turn.t("<b>Nieuwe bijeenkomst</b>")
    if dialog.answer("review") or dialog.step in ("preview", "pick_field"):
        return heading
    position = ORDER.index(BRANCH_OF.get(dialog.step, dialog.step)) + 1
    return heading + " · " + turn.t("stap {n} van {total}", n=position, total=len(ORDER) - 1)


async def _after(turn: Turn, dialog: DialogState, following: Next) -> None:
    if following.branch:
        step = following.branch
    elif dialog.answer("review"):
        step = "preview"  # a change from the preview returns to it
    else:
        step = next_step(ORDER, dialog.step)
    changes = stored(following.changes)
    if step == themes_step.STEP and dialog.step != themes_step.STEP:
        changes.update(await themes_step.offer(turn))
    # A tick is not a step back: "◀ Terug" leaves the themes, not the last tick.
    remember = not (step == dialog.step == themes_step.STEP)
    await dialogs.go(turn, dialog, step, changes, remember=remember)


def _ask_preview(turn: Turn, dialog: DialogState) -> Screen:
    t = turn.t
    rows = [
        [choice(turn, dialog, t("📣 Publiceren"), "publish")],
        [choice(turn, dialog, t("💾 Bewaren als concept"), "draft")],
        [choice(turn, dialog, t("✏️ Wijzigen"), "change")],
    ]
    preview = admin_card.preview_text(turn, event_draft(draft(dialog)))
    return summary(turn, dialog, t("Zo komt het eruit te zien. Klopt alles?"), preview, rows)


async def _take_preview(turn: Turn, dialog: DialogState, answer: Answer) -> Next | None:
    if answer.choice == "change":
        return Next(branch="pick_field")
    if answer.choice not in ("publish", "draft"):
        raise DomainError(N_("Kies een van de knoppen."))
    publish = answer.choice == "publish"
    async with dialogs.finishing(turn, dialog) as session:
        event = await create_event(
            session,
            draft=event_draft(draft(dialog)),
            actor_id=turn.member.id,
            now=turn.deps.clock(),
            publish=publish,
            theme_ids=list(dialog.answer("theme_ids") or []),
            quiet_hours=turn.deps.policy.reminders,
        )
        code = event.public_code
    if publish:
        notice = turn.t("📣 Gepubliceerd! Iedereen ziet de bijeenkomst nu in /agenda.")
        username = turn.context.bot.username if turn.context.bot else None
        link = turn.deps.start_link(username, f"e_{code}")
        if link:
            notice += "\n" + turn.t("Link voor een poster of mail: {link}", link=link)
    else:
        notice = turn.t("💾 Bewaard als concept. Publiceer het vanaf deze kaart als het klaar is.")
    await admin_card.show_admin_card(turn, code, notice=notice)
    return None


def _ask_pick_field(turn: Turn, dialog: DialogState) -> Screen:
    t = turn.t
    labels = {"kind": t("Wijzig soort"), **{name: t(label) for name, label in FIELD_LABELS.items()}}
    buttons = [choice(turn, dialog, label, name) for name, label in labels.items()]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return screen(turn, dialog, t("Wat wil je wijzigen?"), rows)


async def _take_pick_field(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    name = answer.choice or ""
    if name not in FIELD_STEP:
        raise DomainError(N_("Kies een van de knoppen."))
    return Next({"review": True}, branch=FIELD_STEP[name])


NEW_EVENT_FLOW = programme_flow(
    NEW_EVENT,
    Rules(_header, _after, shows_now=lambda dialog: bool(dialog.answer("review"))),
    {
        **FIELDS,
        themes_step.STEP: themes_step.THEMES_QUESTION,
        "preview": Question(_ask_preview, _take_preview),
        "pick_field": Question(_ask_pick_field, _take_pick_field),
    },
    ended=N_("Je nieuwe bijeenkomst is gestopt; er is niets opgeslagen."),
    actions=[code_of(admin_card.on_new)],
    commands=["nieuw", "new"],
)
new_event_command = command(admin_card.on_new)
