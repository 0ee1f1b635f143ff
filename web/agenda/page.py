"""The agenda page as HTML: plain Python string templates, every value through ``html.escape``.

Mobile-first and without JavaScript: one column, large touch targets, semantic landmarks and
headings, a definition list per event, visible focus, text contrast of at least 7:1. The network
filter is a list of links (in a ``<details>``), so it works on a static web host too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import urlencode

from models.feeds.queries import Agenda, AgendaItem
from web.agenda.texts import LANGUAGE_NAMES, _, _n, kind_label, span
from web.feeds.ical import FeedSettings
from web.feeds.routes import agenda_feed_url, feed_links, network_feed_url


@dataclass(frozen=True)
class NetworkChoice:
    slug: str
    name: str


@dataclass(frozen=True)
class PageLinks:
    """Where the page's own links go: the live service (``/?netwerk=…``) or the files of the
    static export (``netwerk-<slug>.html``). Both use relative links, so a path prefix works."""

    static: bool = False

    def page(self, lang: str, slug: str | None) -> str:
        if self.static:
            name = f"netwerk-{slug}" if slug else "index"
            return f"{name}.en.html" if lang == "en" else f"{name}.html"
        params = {}
        if slug:
            params["netwerk"] = slug
        if lang != "nl":
            params["lang"] = lang
        return "?" + urlencode(params) if params else "./"

    def event_document(self, event_id: int) -> str:
        return f"event/{event_id}.ics"

    def qr(self, public_code: str) -> str:
        return f"qr/{public_code}.svg"


def render_page(
    agenda: Agenda,
    *,
    networks: Sequence[NetworkChoice],
    current: NetworkChoice | None,
    lang: str,
    settings: FeedSettings,
    links: PageLinks,
) -> str:
    fixed = _fixed_texts(lang)
    feed_url = (
        network_feed_url(settings.public_url, current.slug)
        if current
        else agenda_feed_url(settings.public_url)
    )
    other = "en" if lang == "nl" else "nl"
    intro = _(
        lang,
        "Bijeenkomsten van en voor de buurtnetwerken in Maastricht: masterclasses, dialogen met "
        "raads- en burgerleden en uitwisselingen tussen netwerken.",
    )
    slug = current.slug if current else None
    events = "\n".join(_event(item, lang, settings, links) for item in agenda.items)
    if not agenda.items:
        events = f'<p class="empty">{fixed["empty"]}</p>'
    else:
        events = f'<ol class="events">\n{events}\n</ol>'
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{fixed["title"]}</title>
<link rel="icon" href="favicon.ico">
<meta name="description" content="{_e(intro)}">
<link rel="alternate" type="text/calendar" title="{fixed["title"]}" \
href="{_e(feed_url)}">
<style>{STYLE}</style>
</head>
<body>
<a class="skip" href="#agenda">{fixed["skip"]}</a>
<header>
<nav aria-label="{fixed["language"]}"><a href="{_e(links.page(other, slug))}" hreflang="{other}" \
lang="{other}">{_e(LANGUAGE_NAMES[other])}</a></nav>
<h1>{fixed["heading"]}</h1>
<p>{_e(intro)}</p>
</header>
<main>
{_filter(networks, current, lang, links)}
<section id="agenda" aria-labelledby="komend">
<h2 id="komend">{fixed["coming"]}</h2>
{events}
</section>
{_subscribe(feed_url, lang)}
</main>
<footer><p>{fixed["footer"]}</p>\
</footer>
</body>
</html>
"""


def _subscribe(feed_url: str, lang: str) -> str:
    fixed = _fixed_texts(lang)
    subscribe = feed_links(feed_url)
    once = _(
        lang, "Abonneer je één keer; nieuwe en gewijzigde bijeenkomsten verschijnen dan vanzelf."
    )
    return f"""<section aria-labelledby="abonneren" class="subscribe">
<h2 id="abonneren">{fixed["subscribe"]}</h2>
<p>{_e(once)}</p>
<p class="actions">
<a class="button" href="{_e(subscribe.webcal)}">{fixed["webcal"]}</a>
<a class="button" href="{_e(subscribe.google)}">{fixed["google"]}</a>
</p>
<p><label for="feed-url">{fixed["copy_link"]}</label>
<input id="feed-url" type="url" readonly value="{_e(subscribe.https)}"></p>
</section>"""


def _filter(
    networks: Sequence[NetworkChoice], current: NetworkChoice | None, lang: str, links: PageLinks
) -> str:
    fixed = _fixed_texts(lang)

    def item(slug: str | None, name: str) -> str:
        selected = (current.slug if current else None) == slug
        mark = ' aria-current="page"' if selected else ""
        return f'<li><a href="{_e(links.page(lang, slug))}"{mark}>{_e(name)}</a></li>'

    choices = [item(None, _(lang, "Alle bijeenkomsten"))]
    choices += [item(network.slug, network.name) for network in networks]
    showing = (
        _(
            lang,
            "Je ziet het gezamenlijke programma en de bijeenkomsten van {network}.",
            network=current.name,
        )
        if current
        else _(lang, "Je ziet alle bijeenkomsten.")
    )
    return f"""<section aria-labelledby="filter">
<h2 id="filter">{fixed["filter"]}</h2>
<p>{_e(showing)}</p>
<details>
<summary>{fixed["choose_network"]}</summary>
<ul class="networks">
{"".join(choices)}
</ul>
</details>
</section>"""


def _event(item: AgendaItem, lang: str, settings: FeedSettings, links: PageLinks) -> str:
    event = item.event
    code = event.public_code
    title = event.title
    if event.topic_tbd:
        title = _(lang, "{title} (onderwerp volgt)", title=title)
    cancelled = event.is_cancelled
    facts = [
        (_(lang, "Wanneer"), _time(event.starts_at, event.ends_at, lang, settings)),
        (_(lang, "Waar"), _e(event.location or (_(lang, "Online") if event.online_url else "–"))),
    ]
    if not cancelled:
        facts.append((_(lang, "Plaatsen"), _e(_seats(item, lang))))
    rows = "".join(f"<div><dt>{_e(term)}</dt><dd>{value}</dd></div>" for term, value in facts)
    notes: list[str] = []
    if event.network is not None:
        only = _(lang, "Alleen voor buurtnetwerk {network}", network=event.network.name)
        notes.append(f'<p class="note">{_e(only)}</p>')
    if cancelled:
        reason = (event.cancel_reason or "").strip()
        text = (
            _(lang, "Gaat niet door: {reason}", reason=reason)
            if reason
            else _(lang, "Gaat niet door")
        )
        notes.append(f'<p class="cancelled">{_e(text)}</p>')
    if event.description.strip():
        notes.append(f'<p class="about">{_e(event.description.strip())}</p>')
    if event.speakers.strip():
        speakers = _(lang, "Sprekers: {speakers}", speakers=event.speakers.strip())
        notes.append(f"<p>{_e(speakers)}</p>")
    return f"""<li><article id="e-{_e(code)}" aria-labelledby="t-{_e(code)}"\
{' class="is-cancelled"' if cancelled else ""}>
<p class="kind">{_e(kind_label(lang, event.kind))}</p>
<h3 id="t-{_e(code)}">{_e(title)}</h3>
<dl>{rows}</dl>
{"".join(notes)}
{_actions(item, title, lang, settings, links)}
</article></li>"""


def _actions(
    item: AgendaItem, title: str, lang: str, settings: FeedSettings, links: PageLinks
) -> str:
    fixed = _fixed_texts(lang)
    event = item.event
    deep_link = settings.deep_link(event.public_code)
    parts: list[str] = []
    if event.is_cancelled:
        pass
    elif not item.registration_open:
        parts.append(f'<span class="closed">{fixed["closed"]}</span>')
    elif deep_link is not None:
        full = item.seats_left is not None and item.seats_left <= 0
        text = (
            _(lang, "Op de wachtlijst via Telegram") if full else _(lang, "Aanmelden via Telegram")
        )
        label = f"{text}: {title}"
        parts.append(
            f'<a class="button primary" href="{_e(deep_link)}" aria-label="{_e(label)}">'
            f"{_e(text)}</a>"
        )
    label = _(lang, "In je agenda: {title}", title=title)
    parts.append(
        f'<a class="button" href="{_e(links.event_document(event.id))}" aria-label="{_e(label)}">'
        f"{fixed['ics']}</a>"
    )
    html = f'<p class="actions">{" ".join(parts)}</p>'
    if deep_link is not None and not event.is_cancelled:
        alt = _(lang, "QR-code: aanmelden via Telegram voor {title}", title=title)
        html += f"""
<details class="qr"><summary>{fixed["qr"]}</summary>
<p>{fixed["qr_help"]}</p>
<img src="{_e(links.qr(event.public_code))}" alt="{_e(alt)}" width="200" height="200" \
loading="lazy"></details>"""
    return html


def _time(start: datetime, end: datetime, lang: str, settings: FeedSettings) -> str:
    local = start.astimezone(settings.tz).isoformat(timespec="minutes")
    return f'<time datetime="{_e(local)}">{_e(span(lang, start, end, settings.tz))}</time>'


def _seats(item: AgendaItem, lang: str) -> str:
    if item.seats_left is None:
        return _(lang, "Geen maximum")
    if item.seats_left > 0:
        return _n(lang, "Nog {n} plaats vrij", "Nog {n} plaatsen vrij", item.seats_left)
    text = _(lang, "Vol")
    if item.waitlist_length:
        waiting = _n(lang, "{n} op de wachtlijst", "{n} op de wachtlijst", item.waitlist_length)
        text += f" · {waiting}"
    return text


def _e(value: str) -> str:
    return escape(value, quote=True)


# Contrast: #1a1a1a on #fff is 17:1, white on #0b4f8a is 8.6:1, #4a4a4a on #fff is 8.9:1.
STYLE = """
:root{--ink:#1a1a1a;--soft:#4a4a4a;--line:#c8c8c8;--accent:#0b4f8a;--bg:#fff;--warn:#8a1c0b}
*{box-sizing:border-box}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--ink);background:var(--bg)}
header,main,footer{max-width:40rem;margin:0 auto;padding:0 1rem}
header{padding-top:1rem}
header nav{text-align:right}
h1{font-size:1.75rem;margin:.25rem 0}
h2{font-size:1.3rem;margin:1.75rem 0 .5rem}
h3{font-size:1.15rem;margin:.1rem 0 .5rem}
a{color:var(--accent)}
a:focus-visible,summary:focus-visible,input:focus-visible{outline:3px solid var(--ink);
outline-offset:2px}
.skip{position:absolute;left:-999px}
.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem}
.button{display:inline-flex;align-items:center;min-height:44px;padding:.5rem 1rem;margin:.25rem 0;
border:2px solid var(--accent);border-radius:.5rem;text-decoration:none;font-weight:600}
.button.primary{background:var(--accent);color:#fff}
.actions{display:flex;flex-wrap:wrap;gap:.5rem}
input[type=url]{width:100%;font:inherit;padding:.5rem;border:1px solid var(--soft);
border-radius:.25rem}
label{display:block;font-weight:600}
summary{cursor:pointer;min-height:44px;padding:.5rem 0;font-weight:600}
.networks{columns:2 12rem;padding-left:1.25rem}
.networks li{padding:.2rem 0}
.networks a[aria-current]{font-weight:700}
.events{list-style:none;padding:0;margin:0}
.events>li{border-top:1px solid var(--line);padding:1rem 0}
.kind{margin:0;color:var(--soft);font-size:.95rem;text-transform:uppercase;letter-spacing:.03em}
dl{margin:0 0 .5rem}
dl div{display:flex;gap:.5rem}
dt{font-weight:600;min-width:5.5rem}
dd{margin:0}
.about{white-space:pre-line}
.note{color:var(--soft)}
.cancelled{color:var(--warn);font-weight:700}
.is-cancelled h3{text-decoration:line-through}
.closed{color:var(--soft);font-weight:600;align-self:center}
.qr img{display:block;max-width:100%;height:auto}
footer{color:var(--soft);font-size:.95rem;padding-bottom:2rem}
"""


def _fixed_texts(lang: str) -> dict[str, str]:
    """The page's fixed texts in ``lang``, escaped. Gathered here, outside the templates: the
    catalog extractor cannot look inside f-strings."""
    return {
        "empty": _e(_(lang, "Er staan nog geen bijeenkomsten gepland.")),
        "title": _e(_(lang, "Buurtagenda Maastricht")),
        "skip": _e(_(lang, "Naar de bijeenkomsten")),
        "language": _e(_(lang, "Taal")),
        "heading": _e(_(lang, "Buurtagenda")),
        "coming": _e(_(lang, "Komende bijeenkomsten")),
        "footer": _e(_(lang, "Buurtagenda is een dienst voor de buurtnetwerken van Maastricht.")),
        "subscribe": _e(_(lang, "Zet de agenda in je telefoon")),
        "webcal": _e(_(lang, "Abonneren (iPhone, Outlook)")),
        "google": _e(_(lang, "Toevoegen aan Google Agenda")),
        "copy_link": _e(_(lang, "Link om te kopiëren")),
        "filter": _e(_(lang, "Filter op buurtnetwerk")),
        "choose_network": _e(_(lang, "Kies je buurtnetwerk")),
        "closed": _e(_(lang, "Aanmelding gesloten")),
        "ics": _e(_(lang, "In je agenda (.ics)")),
        "qr": _e(_(lang, "QR-code voor een poster")),
        "qr_help": _e(_(lang, "Voor posters: de QR-code opent de bijeenkomst in Telegram.")),
    }
