"""Privacy (AVG): what we store and why, a copy of it, and forgetting a member on request."""

from __future__ import annotations

import json

from telegram import Update
from telegram.ext import ContextTypes

from bot.actions import action
from bot.context import Turn, begin_turn
from bot.menus import reset_command_menu
from models.members.entities import Role
from models.members.operations import export_member_data, forget_member


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_privacy(await begin_turn(update, context))


@action("pv")
async def show_privacy(turn: Turn) -> None:
    t = turn.t
    await turn.toast()
    await turn.show(
        t(
            "<b>Privacy</b>\n"
            "Buurtagenda bewaart alleen wat nodig is om je aan te melden en te herinneren:\n"
            "• je Telegram-nummer en naam, om je berichten te sturen;\n"
            "• je taal en je buurtnetwerk of rol, zodat je de juiste agenda ziet en organisatoren "
            "weten uit welke buurten mensen komen;\n"
            "• je aanmeldingen met hun geschiedenis (wanneer aangemeld, afgemeld, "
            "op de wachtlijst);\n"
            "• de berichten die we je sturen, zodat niemand iets dubbel krijgt;\n"
            "• als je ze instuurt: je beoordelingen, ideeën, stemmen en vragen voor de dialogen, "
            "en of je een agenda-link hebt.\n\n"
            "Je gegevens worden niet gedeeld buiten de organisatoren van het programma van de "
            "gemeente Maastricht en Trajekt.\n\n"
            "/mijngegevens stuurt je alles wat we over je bewaren.\n"
            "/vergeetmij wist je gegevens; je aanmeldingen tellen dan anoniem mee."
        )
        + "\n\n"
        + t(
            "Kies je thema's of soorten bijeenkomsten, dan bewaren we die keuze en hoe je over "
            "nieuwe bijeenkomsten wilt horen (meteen, in het weekoverzicht of niet), zodat je "
            "alleen hoort wat bij je past. Ook die staan in /mijngegevens en gaan weg met "
            "/vergeetmij."
        )
        + "\n\n"
        + t(
            "<b>Vragen aan de contactpersonen</b> (/contact): je vraag, de antwoorden en je "
            "reacties bewaren we, zodat jij en de contactpersoon het gesprek kunnen teruglezen. "
            "Alleen jij, de contactpersonen voor het thema of je buurtnetwerk en de beheerders "
            "kunnen ze lezen. Ze staan in /mijngegevens; /vergeetmij wist ze. Van een "
            "beantwoorde vraag houden we dan alleen het thema en hoe lang het antwoord duurde, "
            "zonder jou en zonder de tekst, voor de cijfers over hoe snel we antwoorden."
        ),
        [
            [turn.button(t("📄 Stuur mijn gegevens"), send_my_data)],
            [turn.button(t("🗑 Vergeet mij"), ask_forget)],
        ],
    )


async def my_data(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await send_my_data(await begin_turn(update, context))


@action("dx")
async def send_my_data(turn: Turn) -> None:
    async with turn.deps.database.read() as session:
        data = await export_member_data(session, member_id=turn.member.id)
    await turn.toast()
    body = json.dumps(data, ensure_ascii=False, indent=2).encode()
    await turn.context.bot.send_document(
        turn.chat_id,
        document=body,
        filename="buurtagenda-mijn-gegevens.json",
        caption=turn.t("Dit is alles wat Buurtagenda over je bewaart."),
    )


async def forget_me(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await ask_forget(await begin_turn(update, context))


@action("fq")
async def ask_forget(turn: Turn) -> None:
    t = turn.t
    await turn.toast()
    await turn.show(
        t(
            "Weet je het zeker? We wissen je naam, taal, netwerk en berichten. Aanmeldingen voor "
            "komende bijeenkomsten vervallen; eerdere tellen anoniem mee. Dit kan niet ongedaan "
            "worden gemaakt."
        ),
        [
            [
                turn.button(t("Ja, wis mijn gegevens"), on_forget_confirmed),
                turn.button(t("Nee, toch niet"), on_forget_declined),
            ]
        ],
    )


@action("fy")
async def on_forget_confirmed(turn: Turn) -> None:
    async with turn.deps.database.transaction() as session:
        await forget_member(
            session, member_id=turn.member.id, now=turn.deps.clock(), policy=turn.deps.policy
        )
    if turn.member.role is not Role.MEMBER:  # no organiser's menu for someone we forgot
        await reset_command_menu(turn.context.application, turn.user_id)
    await turn.toast()
    await turn.show(
        turn.t(
            "Je gegevens zijn gewist. Dank je wel voor je tijd, en tot ziens! "
            "Met /start kun je altijd opnieuw beginnen."
        )
    )


@action("fn")
async def on_forget_declined(turn: Turn) -> None:
    await turn.toast()
    await turn.show(turn.t("Goed, er is niets gewist."))
