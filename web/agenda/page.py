"""The agenda page and the posters as HTML: plain Python string templates, every value through
``html.escape``.

Mobile-first, for anyone who can read a phone: one column, large touch targets, semantic
landmarks and headings, a definition list per event, visible focus, text contrast of at least
7:1. Everything works without JavaScript; a few lines of it only add a copy button for the feed
link, a print button on a poster, and take the network choice straight to its page (what a
static web host needs: there the form cannot ask the server). "Zet de agenda in je telefoon"
comes first, folded; each event links to its own poster page with the QR code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import urlencode

from calendars.ical import FeedSettings
from calendars.links import agenda_feed_url, feed_links, network_feed_url
from i18n.plain import LANGUAGE_NAMES, _, _n, kind_label, span
from models.events.entities import Event
from models.feeds.queries import Agenda, AgendaItem


@dataclass(frozen=True)
class NetworkChoice:
    slug: str
    name: str


@dataclass(frozen=True)
class PageLinks:
    """Where the page's own links go: the live service (``/?netwerk=…``, ``/poster/<code>``) or
    the files of the static export (``netwerk-<slug>.html``, ``poster-<code>.html``). Both use
    relative links, so a path prefix works; ``up`` is the way back to the root from a page in a
    folder (the live poster page)."""

    static: bool = False
    up: str = ""

    def page(self, lang: str, slug: str | None) -> str:
        if self.static:
            name = f"netwerk-{slug}" if slug else "index"
            return self.up + (f"{name}.en.html" if lang == "en" else f"{name}.html")
        params = {}
        if slug:
            params["netwerk"] = slug
        if lang != "nl":
            params["lang"] = lang
        if not params:
            return self.up or "./"
        return f"{self.up}?{urlencode(params)}"

    def event_document(self, event_id: int) -> str:
        return f"{self.up}event/{event_id}.ics"

    def qr(self, public_code: str) -> str:
        return f"{self.up}qr/{public_code}.svg"

    def poster(self, lang: str, public_code: str) -> str:
        if self.static:
            suffix = ".en" if lang == "en" else ""
            return f"{self.up}poster-{public_code}{suffix}.html"
        query = "?" + urlencode({"lang": lang}) if lang != "nl" else ""
        return f"{self.up}poster/{public_code}{query}"


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
    events = "\n".join(_event(item, lang, settings, links, agenda.now) for item in agenda.items)
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
{_demo_notice(lang) if settings.sandbox else ""}
</header>
<main>
{_subscribe(feed_url, lang)}
{_filter(networks, current, lang, links)}
<section id="agenda" aria-labelledby="komend">
<h2 id="komend">{fixed["coming"]}</h2>
{events}
</section>
</main>
<footer><p>{fixed["footer"]}</p>\
</footer>
<script>{SCRIPT}</script>
</body>
</html>
"""


def _demo_notice(lang: str) -> str:
    text = _(
        lang,
        "Dit is een demo: de bijeenkomsten zijn verzonnen. Aanmelden probeer je op de "
        "demopagina, zonder Telegram.",
    )
    return f'<p class="demo"><a href="sandbox">{_e(text)}</a></p>'


def _subscribe(feed_url: str, lang: str) -> str:
    """Folded, near the top: one tap opens it; the link can be copied with a button."""
    fixed = _fixed_texts(lang)
    subscribe = feed_links(feed_url)
    once = _(
        lang, "Abonneer je één keer; nieuwe en gewijzigde bijeenkomsten verschijnen dan vanzelf."
    )
    return f"""<details class="subscribe" id="abonneren">
<summary>{fixed["subscribe"]}</summary>
<p>{_e(once)}</p>
<p class="actions">
<a class="button" href="{_e(subscribe.webcal)}">{fixed["webcal"]}</a>
<a class="button" href="{_e(subscribe.google)}">{fixed["google"]}</a>
</p>
<label for="feed-url">{fixed["copy_link"]}</label>
<div class="copy"><input id="feed-url" type="url" readonly value="{_e(subscribe.https)}">
<button type="button" class="button" id="copy-feed" data-done="{fixed["copied"]}" hidden>\
{fixed["copy"]}</button></div>
<p id="copy-status" class="status" role="status"></p>
</details>"""


def _filter(
    networks: Sequence[NetworkChoice], current: NetworkChoice | None, lang: str, links: PageLinks
) -> str:
    """One choice: a list box and a button. The form asks the live service (no JavaScript
    needed); the script goes to the option's own page, which is what the static export needs
    (there a plain list of links stands in when JavaScript is off)."""
    fixed = _fixed_texts(lang)
    chosen = current.slug if current else None

    def option(slug: str | None, name: str) -> str:
        selected = " selected" if chosen == slug else ""
        return (
            f'<option value="{_e(slug or "")}" data-href="{_e(links.page(lang, slug))}"'
            f"{selected}>{_e(name)}</option>"
        )

    everything = _(lang, "Alle bijeenkomsten")
    options = [option(None, everything)]
    options += [option(network.slug, network.name) for network in networks]
    language = f'<input type="hidden" name="lang" value="{_e(lang)}">' if lang != "nl" else ""
    fallback = ""
    if links.static:
        items = [(None, everything), *((n.slug, n.name) for n in networks)]
        listed = "".join(
            f'<li><a href="{_e(links.page(lang, slug))}">{_e(name)}</a></li>'
            for slug, name in items
        )
        fallback = f'<noscript><ul class="networks">{listed}</ul></noscript>'
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
<form class="choose" id="choose-network" method="get" action="{_e(links.page(lang, None))}">
<label for="netwerk">{fixed["choose_network"]}</label>
<div class="choice"><select id="netwerk" name="netwerk">{"".join(options)}</select>{language}
<button type="submit" class="button">{fixed["show"]}</button></div>
</form>{fallback}
</section>"""


def _event(
    item: AgendaItem, lang: str, settings: FeedSettings, links: PageLinks, now: datetime
) -> str:
    event = item.event
    code = event.public_code
    title = event.title
    if event.topic_tbd:
        title = _(lang, "{title} (onderwerp volgt)", title=title)
    cancelled = event.is_cancelled
    facts = [
        (_(lang, "Wanneer"), _time(event.starts_at, event.ends_at, lang, settings, now)),
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
        if settings.sandbox and full:  # the link opens the sandbox page, not Telegram
            text = _(lang, "Op de wachtlijst in de demo")
        elif settings.sandbox:
            text = _(lang, "Aanmelden in de demo")
        elif full:
            text = _(lang, "Op de wachtlijst via Telegram")
        else:
            text = _(lang, "Aanmelden via Telegram")
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
        label = _(lang, "Poster om op te hangen: {title}", title=title)
        html += (
            f'\n<p class="poster-link"><a href="{_e(links.poster(lang, event.public_code))}" '
            f'aria-label="{_e(label)}">{fixed["poster"]}</a></p>'
        )
    return html


def render_poster(event: Event, *, lang: str, settings: FeedSettings, links: PageLinks) -> str:
    """A poster for one event, to print and hang up: what, when, where, and a large QR code of
    its deep link (Telegram; the sandbox page in the sandbox)."""
    fixed = _fixed_texts(lang)
    title = event.title
    if event.topic_tbd:
        title = _(lang, "{title} (onderwerp volgt)", title=title)
    where = event.location or (_(lang, "Online") if event.online_url else "")
    link = settings.deep_link(event.public_code) or ""
    if settings.sandbox:
        scan = _(lang, "Scan de code met je telefoon om je aan te melden in de demo.")
    else:
        scan = _(lang, "Scan de code met je telefoon om je aan te melden via Telegram.")
    alt = _(lang, "QR-code: aanmelden voor {title}", title=title)
    heading = _(lang, "Poster: {title}", title=title)
    about = (
        f'<p class="about">{_e(event.description.strip())}</p>' if event.description.strip() else ""
    )
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(heading)}</title>
<meta name="robots" content="noindex">
<style>{STYLE}{POSTER_STYLE}</style>
</head>
<body>
<nav class="no-print" aria-label="{fixed["poster_menu"]}">
<a href="{_e(links.page(lang, None))}">{fixed["back"]}</a>
<button type="button" class="button" id="print-poster" hidden>{fixed["print"]}</button>
</nav>
<main class="poster">
<p class="kind">{_e(kind_label(lang, event.kind))}</p>
<h1>{_e(title)}</h1>
<p class="when">{_time(event.starts_at, event.ends_at, lang, settings, None)}</p>
<p class="where">{_e(where)}</p>
{about}
<img src="{_e(links.qr(event.public_code))}" alt="{_e(alt)}" width="320" height="320">
<p class="scan">{_e(scan)}</p>
<p class="link">{_e(link)}</p>
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""


def _time(
    start: datetime, end: datetime, lang: str, settings: FeedSettings, now: datetime | None
) -> str:
    """``now`` None: always with the year (a poster is read long after it was printed)."""
    local = start.astimezone(settings.tz).isoformat(timespec="minutes")
    return f'<time datetime="{_e(local)}">{_e(span(lang, start, end, settings.tz, now=now))}</time>'


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
a:focus-visible,summary:focus-visible,input:focus-visible,select:focus-visible,
button:focus-visible{outline:3px solid var(--ink);outline-offset:2px}
.skip{position:absolute;left:-999px}
.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem}
.button{display:inline-flex;align-items:center;min-height:44px;padding:.5rem 1rem;margin:.25rem 0;
border:2px solid var(--accent);border-radius:.5rem;text-decoration:none;font-weight:600}
.button.primary{background:var(--accent);color:#fff}
button.button{font:inherit;font-weight:600;background:var(--bg);color:var(--accent);cursor:pointer}
.subscribe{margin:1rem 0;padding:0 1rem;border:2px solid var(--accent);border-radius:.5rem}
.subscribe>summary{font-size:1.15rem;color:var(--accent)}
.copy,.choice{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.copy input{flex:1 1 12rem;min-width:0}
.status{min-height:1.5em;margin:.25rem 0 .75rem;font-weight:600}
select{font:inherit;min-height:44px;flex:1 1 12rem;min-width:0;max-width:100%;padding:.4rem;
border:1px solid var(--soft);border-radius:.25rem;background:var(--bg);color:var(--ink)}
.demo{padding:.5rem .75rem;border-left:4px solid var(--warn);background:#fdf3f1}
.demo a{color:var(--warn);font-weight:600}
.poster-link{margin:.25rem 0 0}
.poster-link a{display:inline-block;min-height:44px;padding:.6rem 0}
.actions{display:flex;flex-wrap:wrap;gap:.5rem}
input[type=url]{font:inherit;padding:.5rem;border:1px solid var(--soft);
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
footer{color:var(--soft);font-size:.95rem;padding-bottom:2rem}
"""


POSTER_STYLE = """
.no-print{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;justify-content:space-between;
max-width:40rem;margin:0 auto;padding:.5rem 1rem}
.poster{text-align:center}
.poster h1{font-size:2rem}
.poster .when,.poster .where{font-size:1.3rem;font-weight:600;margin:.25rem 0}
.poster img{display:block;margin:1rem auto;width:min(320px,100%);height:auto}
.poster .scan{font-size:1.2rem}
.poster .link{font-size:.95rem;color:var(--soft);overflow-wrap:anywhere}
@media print{.no-print{display:none}.poster h1{font-size:2.6rem}}
"""

# The only script: the copy and print buttons appear with it, and the network choice goes to its
# page straight away (a static web host cannot answer the form).
SCRIPT = """(() => {
  const copy = document.getElementById("copy-feed");
  const field = document.getElementById("feed-url");
  if (copy && field) {
    copy.hidden = false;
    copy.addEventListener("click", async () => {
      try { await navigator.clipboard.writeText(field.value); }
      catch { field.select(); document.execCommand("copy"); }
      document.getElementById("copy-status").textContent = copy.dataset.done;
    });
  }
  const print = document.getElementById("print-poster");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", () => window.print());
  }
  const form = document.getElementById("choose-network");
  if (form) {
    form.addEventListener("submit", (event) => {
      const option = form.elements.netwerk.selectedOptions[0];
      if (option && option.dataset.href) {
        event.preventDefault();
        window.location.href = option.dataset.href;
      }
    });
  }
})();"""


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
        "copy_link": _e(_(lang, "Of kopieer deze link naar je agenda-app")),
        "copy": _e(_(lang, "Kopieer")),
        "copied": _e(_(lang, "Gekopieerd. Plak de link in je agenda-app.")),
        "filter": _e(_(lang, "Filter op buurtnetwerk")),
        "choose_network": _e(_(lang, "Kies je buurtnetwerk")),
        "show": _e(_(lang, "Toon")),
        "closed": _e(_(lang, "Aanmelding gesloten")),
        "ics": _e(_(lang, "In je agenda zetten")),
        "poster": _e(_(lang, "Poster om op te hangen")),
        "poster_menu": _e(_(lang, "Poster")),
        "back": _e(_(lang, "← Terug naar de agenda")),
        "print": _e(_(lang, "Afdrukken")),
    }
