
"use strict";
// The sandbox chat page. Talks only to the emulator's control API (see emulator/control.py):
// one long poll (GET _emulator/feed) brings every change in the volunteers' chats; sending and
// pressing are POSTs. All text from the bot becomes DOM text nodes, never HTML.
(() => {
  const config = JSON.parse(document.getElementById("sandbox-config").textContent);
  const BOT = config.bot.name;
  const API = new URL("_emulator/", document.baseURI); // relative: works behind a path prefix
  const POLL_TIMEOUT_S = 25;
  const TOAST_MS = 2600;
  const PRESS_TTL_MS = 15000; // Telegram stops waiting for an answer after about that long
  const TYPING_MS = 8000;
  const SHORTCUTS = ["start", "agenda", "mijn", "instellingen"];
  const SAFE_SCHEMES = new Set(["http:", "https:", "mailto:", "tel:"]);
  const STORE = "buurtagenda.sandbox.";
  const START_PAYLOAD = /^[A-Za-z0-9_-]{1,64}$/; // what Telegram allows after t.me/<bot>?start=

  const TEXT = {
    nl: {
      title: "Probeer Buurtagenda zonder Telegram",
      demo: "Demo",
      intro: "Dit is een demo: je praat met de echte Buurtagenda-bot, maar er gaat niets " +
        "naar Telegram.",
      who: (names) => `${names} zijn verzonnen vrijwilligers. Kies hieronder als wie je praat.`,
      botLanguage: (names) => `De bot praat nu Nederlands met ${names}.`,
      languageFailed: "De taal van de bot wijzigen lukte niet. Probeer het nog eens.",
      other: "en", otherName: "English", otherLabel: "Switch to English",
      skip: "Naar het berichtenvak",
      people: "Kies als wie je praat",
      languages: { nl: "Nederlands", en: "Engels" },
      note: (name, language) => `Je praat nu als ${name} (Telegram in het ${language})`,
      conversation: `Gesprek met ${BOT}`,
      you: "Jij",
      empty: (name) => `${name} heeft nog niet met ${BOT} gepraat. Tik op Start om te beginnen.`,
      start: "Start",
      shortcuts: "Veelgebruikte opdrachten",
      commands: {
        start: "opnieuw beginnen", agenda: "de komende bijeenkomsten",
        mijn: "waar ik voor ben aangemeld", instellingen: "taal en buurtnetwerk",
      },
      messageLabel: `Bericht aan ${BOT}`,
      placeholder: "Typ een bericht…",
      send: "Stuur",
      edited: "bewerkt",
      download: "Downloaden",
      photo: "Foto",
      buttons: "Knoppen bij dit bericht",
      replyKeyboard: "Antwoordknoppen",
      unavailable: "Deze knop werkt alleen in Telegram zelf",
      newWindow: "(opent in een nieuw venster)",
      offline: "Geen verbinding met de server. We proberen het opnieuw…",
      sendFailed: "Versturen lukte niet. Probeer het nog eens.",
      pressFailed: "Die knop werkt niet meer. Probeer een nieuwer bericht.",
      unread: (n) => (n === 1 ? "1 nieuw bericht" : `${n} nieuwe berichten`),
      ok: "OK",
      locale: "nl-NL",
    },
    en: {
      title: "Try Buurtagenda without Telegram",
      demo: "Demo",
      intro: "This is a demo: you chat with the real Buurtagenda bot, but nothing goes to " +
        "Telegram.",
      who: (names) => `${names} are made-up volunteers. Choose below who you are.`,
      botLanguage: (names) => `The bot now speaks English with ${names}.`,
      languageFailed: "Changing the bot's language failed. Please try again.",
      other: "nl", otherName: "Nederlands", otherLabel: "Schakel naar Nederlands",
      skip: "Skip to the message box",
      people: "Choose who you are",
      languages: { nl: "Dutch", en: "English" },
      note: (name, language) => `You are chatting as ${name} (Telegram set to ${language})`,
      conversation: `Conversation with ${BOT}`,
      you: "You",
      empty: (name) => `${name} hasn't talked to ${BOT} yet. Tap Start to begin.`,
      start: "Start",
      shortcuts: "Common commands",
      commands: {
        start: "start over", agenda: "upcoming meetings",
        mijn: "what I signed up for", instellingen: "language and neighbourhood network",
      },
      messageLabel: `Message to ${BOT}`,
      placeholder: "Type a message…",
      send: "Send",
      edited: "edited",
      download: "Download",
      photo: "Photo",
      buttons: "Buttons for this message",
      replyKeyboard: "Reply buttons",
      unavailable: "This button only works in Telegram itself",
      newWindow: "(opens in a new window)",
      offline: "No connection to the server. Trying again…",
      sendFailed: "Sending failed. Please try again.",
      pressFailed: "That button no longer works. Try a newer message.",
      unread: (n) => (n === 1 ? "1 new message" : `${n} new messages`),
      ok: "OK",
      locale: "en-GB",
    },
  };

  const $ = (id) => document.getElementById(id);
  const ui = {
    lang: $("lang"), tabs: $("tabs"), chat: $("chat"), conn: $("conn"), note: $("note"),
    log: $("log"), logLabel: $("log-label"), messages: $("messages"), empty: $("empty"),
    emptyText: $("empty-text"), emptyStart: $("empty-start"), typing: $("typing"),
    replyKeyboard: $("reply-keyboard"), chips: $("chips"), form: $("form"), input: $("message"),
    inputLabel: $("message-label"), toast: $("toast"), alert: $("alert"),
    alertText: $("alert-text"), alertOk: $("alert-ok"), who: $("who"),
  };

  // ------------------------------------------------------------------------------ state --
  const chats = new Map(); // chat id -> {person, messages: Map(id -> Message), keyboard, ...}
  config.people.forEach((person, index) => {
    chats.set(person.chat_id, {
      id: person.chat_id, person, index,
      messages: new Map(), keys: new Map(), // keys: JSON of each message, to skip no-op updates
      keyboard: null, keyboardHidden: false,
      pending: new Map(), // callback_query_id -> {messageId, timer}
      answers: new Map(), // callback_query_id -> answer (answers can beat the press's response)
      unread: 0, draft: "", typing: false, typingTimer: 0,
    });
  });
  let active = null;
  let lang = load("lang") === "en" ? "en" : "nl";
  let revision = 0;
  let history = true; // the first feed is what happened before the page opened
  const t = () => TEXT[lang];

  function load(key) {
    try { return localStorage.getItem(STORE + key); } catch { return null; }
  }
  function save(key, value) {
    try { localStorage.setItem(STORE + key, value); } catch { /* private mode: fine */ }
  }

  // ------------------------------------------------------------------------ DOM helpers --
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function srOnly(text) { return el("span", "sr-only", text); }
  function safeUrl(raw) {
    try {
      const url = new URL(raw, document.baseURI);
      return SAFE_SCHEMES.has(url.protocol) ? url.href : null;
    } catch { return null; }
  }
  function externalLink(href, text) {
    const a = el("a", "", text);
    a.href = href;
    if (/^https?:/.test(href)) {
      a.target = "_blank";
      a.rel = "noopener noreferrer";
    }
    return a;
  }

  // ------------------------------------------------------------------- message entities --
  // Offsets and lengths are in UTF-16 code units, which is exactly how JavaScript indexes
  // strings. Telegram nests entities without partial overlaps; a partial overlap is clipped.
  function renderText(text, entities, fromBot) {
    const root = el("div", "text");
    const sorted = (entities || [])
      .filter((e) => e.length > 0 && e.offset >= 0 && e.offset < text.length)
      .map((e) => ({ ...e, end: Math.min(e.offset + e.length, text.length) }))
      .sort((a, b) => a.offset - b.offset || b.end - a.end);
    build(root, text, 0, text.length, sorted, fromBot);
    return root;
  }

  function build(parent, text, start, end, entities, autolink) {
    let pos = start;
    let i = 0;
    while (i < entities.length) {
      const entity = entities[i];
      let j = i + 1;
      while (j < entities.length && entities[j].offset < entity.end) j++;
      const from = Math.max(entity.offset, pos);
      if (from < entity.end) {
        if (from > pos) plain(parent, text.slice(pos, from), autolink);
        const { outer, inner, linkFree } = entityNode(entity, text.slice(from, entity.end), autolink);
        const children = entities.slice(i + 1, j).map((c) => ({ ...c, end: Math.min(c.end, entity.end) }));
        build(inner, text, from, entity.end, children, autolink && !linkFree);
        parent.append(outer);
        pos = entity.end;
      }
      i = j;
    }
    if (pos < end) plain(parent, text.slice(pos, end), autolink);
  }

  function entityNode(entity, slice, fromBot) {
    const simple = {
      bold: "strong", italic: "em", underline: "u", strikethrough: "s", code: "code",
      blockquote: "blockquote", expandable_blockquote: "blockquote",
    };
    if (entity.type in simple) {
      const node = el(simple[entity.type]);
      return { outer: node, inner: node, linkFree: entity.type === "code" };
    }
    if (entity.type === "pre") {
      const pre = el("pre");
      const code = el("code");
      if (entity.language) code.dataset.language = entity.language;
      pre.append(code);
      return { outer: pre, inner: code, linkFree: true };
    }
    if (entity.type === "bot_command" && fromBot) {
      const button = el("button", "cmd");
      button.type = "button";
      button.addEventListener("click", () => send(slice.split("@")[0]));
      return { outer: button, inner: button, linkFree: true };
    }
    if (entity.type === "spoiler") {
      const node = el("span", "spoiler");
      node.tabIndex = 0;
      const reveal = () => node.classList.add("revealed");
      node.addEventListener("click", reveal);
      node.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); reveal(); }
      });
      return { outer: node, inner: node, linkFree: false };
    }
    const target = {
      text_link: entity.url,
      url: /^[a-z][a-z0-9+.-]*:/i.test(slice) ? slice : `https://${slice}`,
      email: `mailto:${slice}`,
      phone_number: `tel:${slice.replace(/[^\d+]/g, "")}`,
    }[entity.type];
    if (target !== undefined) {
      const href = safeUrl(target);
      if (href) {
        const a = externalLink(href);
        return { outer: a, inner: a, linkFree: true };
      }
    }
    const span = el("span", `entity-${String(entity.type).replace(/[^a-z_]/g, "")}`);
    return { outer: span, inner: span, linkFree: false };
  }

  // Telegram makes /commands and web addresses in a bot's text tappable; so do we.
  const AUTOLINK = /(https?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]'”])|(?<=^|[\s(„“"'])(\/[A-Za-z][A-Za-z0-9_]{0,31})(?![A-Za-z0-9_/@]|\.[A-Za-z0-9])/g;

  function plain(parent, text, autolink) {
    if (!autolink) { parent.append(text); return; }
    let last = 0;
    for (const match of text.matchAll(AUTOLINK)) {
      if (match.index > last) parent.append(text.slice(last, match.index));
      if (match[1]) {
        const href = safeUrl(match[1]);
        parent.append(href ? externalLink(href, match[1]) : match[1]);
      } else {
        const button = el("button", "cmd", match[2]);
        button.type = "button";
        button.addEventListener("click", () => send(match[2]));
        parent.append(button);
      }
      last = match.index + match[0].length;
    }
    if (last < text.length) parent.append(text.slice(last));
  }

  // ---------------------------------------------------------------------------- messages --
  function isBot(m) { return m.from ? Boolean(m.from.is_bot) : Boolean(m.sender_chat); }

  function formatSize(bytes) {
    if (!bytes) return "";
    const units = ["B", "kB", "MB"];
    let size = bytes;
    let unit = 0;
    while (size >= 1000 && unit < units.length - 1) { size /= 1000; unit++; }
    return `${new Intl.NumberFormat(t().locale, { maximumFractionDigits: 1 }).format(size)} ${units[unit]}`;
  }

  function fileUrl(fileId) { return new URL(`files/${encodeURIComponent(fileId)}`, API).href; }

  function renderMessage(chat, m) {
    const bot = isBot(m);
    const item = el("li", `msg ${bot ? "bot" : "me"}`);
    item.dataset.id = String(m.message_id);
    item.tabIndex = -1;
    const bubble = el("div", "bubble");
    bubble.append(srOnly(`${bot ? BOT : t().you}: `));
    if (m.reply_to_message) {
      const quoted = m.reply_to_message;
      bubble.append(el("p", "quote", quoted.text || quoted.caption || ""));
    }
    if (m.photo && m.photo.length) {
      const largest = m.photo[m.photo.length - 1];
      const img = el("img", "photo");
      img.src = fileUrl(largest.file_id);
      img.alt = m.caption || t().photo;
      img.loading = "lazy";
      bubble.append(img);
    }
    if (m.sticker) bubble.append(el("div", "sticker", m.sticker.emoji || "🖼️"));
    if (m.document) bubble.append(renderDocument(m.document));
    const text = m.text ?? m.caption;
    if (text) bubble.append(renderText(text, m.text != null ? m.entities : m.caption_entities, bot));
    const meta = el("div", "meta");
    if (m.edit_date) meta.append(el("span", "", t().edited));
    const time = el("time");
    const date = new Date(m.date * 1000);
    time.dateTime = date.toISOString();
    time.textContent = date.toLocaleTimeString(t().locale, { hour: "2-digit", minute: "2-digit" });
    meta.append(time);
    bubble.append(meta);
    item.append(bubble);
    const keyboard = m.reply_markup && m.reply_markup.inline_keyboard;
    if (keyboard && keyboard.length) item.append(renderInlineKeyboard(chat, m, keyboard));
    return item;
  }

  function renderDocument(doc) {
    const name = doc.file_name || "document";
    const a = el("a", "doc");
    a.href = fileUrl(doc.file_id);
    a.download = name;
    const icon = el("span", "doc-icon", "⬇");
    icon.setAttribute("aria-hidden", "true");
    const label = el("span");
    label.append(el("span", "doc-name", name));
    const size = formatSize(doc.file_size);
    label.append(el("span", "doc-info", size ? `${t().download} · ${size}` : t().download));
    a.append(icon, label);
    return a;
  }

  function renderInlineKeyboard(chat, m, rows) {
    const box = el("div", "ikb");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", t().buttons);
    for (const row of rows) {
      const line = el("div", "ikb-row");
      for (const b of row) {
        const href = b.url ? safeUrl(b.url) : null;
        if (href) {
          const a = externalLink(href, `${b.text} ↗`);
          a.className = "ikb-button";
          a.append(srOnly(` ${t().newWindow}`));
          line.append(a);
          continue;
        }
        const button = el("button", "ikb-button");
        button.append(...breakable(b.text));
        button.type = "button";
        if (typeof b.callback_data === "string") {
          button.addEventListener("click", () => press(chat, m.message_id, b.callback_data, button));
        } else {
          button.setAttribute("aria-disabled", "true");
          button.title = t().unavailable;
        }
        line.append(button);
      }
      box.append(line);
    }
    return box;
  }

  // Long names like "Jekerdal/Sint Pieter/Villapark" may wrap after a slash, not mid-word.
  function breakable(label) {
    const parts = [];
    String(label).split("/").forEach((part, index) => {
      if (index) parts.push("/", document.createElement("wbr"));
      parts.push(part);
    });
    return parts;
  }

  function nearBottom() {
    const c = ui.chat;
    return c.scrollHeight - c.scrollTop - c.clientHeight < 120;
  }
  function scrollToBottom() { ui.chat.scrollTop = ui.chat.scrollHeight; }

  function nodeFor(id) {
    for (const node of ui.messages.children) if (node.dataset.id === String(id)) return node;
    return null;
  }

  function showMessage(chat, m) {
    const stick = nearBottom() || !isBot(m);
    const node = renderMessage(chat, m);
    const old = nodeFor(m.message_id);
    if (old) {
      const focused = old.contains(document.activeElement) ? document.activeElement : null;
      old.replaceWith(node);
      if (focused) restoreFocus(node, focused.textContent);
    } else {
      const next = [...ui.messages.children].find((n) => Number(n.dataset.id) > m.message_id);
      ui.messages.insertBefore(node, next || null);
    }
    updateEmpty();
    if (stick) scrollToBottom();
  }

  function restoreFocus(node, label) {
    const buttons = [...node.querySelectorAll(".ikb-button")];
    const target = buttons.find((b) => b.textContent === label) || buttons[0] || node;
    target.focus({ preventScroll: true });
  }

  function removeMessage(id) {
    const node = nodeFor(id);
    if (node) {
      if (node.contains(document.activeElement)) ui.input.focus({ preventScroll: true });
      node.remove();
    }
    updateEmpty();
  }

  function updateEmpty() {
    const empty = active.messages.size === 0;
    ui.empty.hidden = !empty;
    ui.emptyText.textContent = t().empty(active.person.first_name);
  }

  // ------------------------------------------------------------------------- the feed --
  function applyFeed(feed) {
    const chat = chats.get(feed.chat_id);
    if (!chat) return;
    const isActive = chat === active;
    let fresh = 0;
    let botActivity = false;
    for (const entry of feed.messages) {
      const m = entry.message;
      const id = m.message_id;
      if (entry.deleted) {
        chat.messages.delete(id);
        chat.keys.delete(id);
        if (isActive) removeMessage(id);
        continue;
      }
      const key = JSON.stringify(m);
      if (chat.keys.get(id) === key) continue;
      const known = chat.messages.has(id);
      chat.messages.set(id, m);
      chat.keys.set(id, key);
      if (isBot(m)) {
        botActivity = true;
        if (!known) fresh++;
      }
      if (isActive) showMessage(chat, m);
    }
    for (const answer of feed.callback_answers) onAnswer(chat, answer);
    const keyboard = feed.keyboard && feed.keyboard.keyboard ? feed.keyboard : null;
    if (JSON.stringify(keyboard) !== JSON.stringify(chat.keyboard)) {
      chat.keyboard = keyboard;
      chat.keyboardHidden = false;
      if (isActive) renderReplyKeyboard();
    }
    if (botActivity) stopTyping(chat);
    if (!isActive && fresh && !history) {
      chat.unread += fresh;
      updateTab(chat);
    }
  }

  async function pollForever() {
    const ids = [...chats.keys()].join(",");
    let backoff = 0;
    for (;;) {
      const started = Date.now();
      try {
        const url = new URL("feed", API);
        url.search = new URLSearchParams({
          chats: ids, since: String(revision), timeout: history ? "0" : String(POLL_TIMEOUT_S),
        }).toString();
        const response = await fetch(url, { cache: "no-store" });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const feed = await response.json();
        setOnline(true);
        backoff = 0;
        if (feed.reset && revision) forgetEverything(); // the server restarted under us
        if (history) ui.log.setAttribute("aria-busy", "true"); // old messages: no announcements
        for (const chatFeed of feed.chats) applyFeed(chatFeed);
        revision = feed.revision;
        if (history) {
          history = false;
          ui.log.setAttribute("aria-busy", "false");
          scrollToBottom();
        } else if (!feed.chats.length && Date.now() - started < 1000) {
          await sleep(1000); // ended early without news (server stopping): do not spin
        }
      } catch {
        setOnline(false);
        backoff = Math.min(backoff ? backoff * 2 : 1000, 15000);
        await sleep(backoff);
      }
    }
  }

  function forgetEverything() {
    history = true;
    for (const chat of chats.values()) {
      for (const pending of chat.pending.values()) clearTimeout(pending.timer);
      chat.pending.clear();
      chat.answers.clear();
      chat.messages.clear();
      chat.keys.clear();
      chat.keyboard = null;
      chat.unread = 0;
      stopTyping(chat);
      updateTab(chat);
    }
    renderChat();
  }

  function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

  let online = true;
  function setOnline(value) {
    if (value === online) return;
    online = value;
    ui.conn.hidden = value;
    ui.conn.textContent = value ? "" : t().offline;
  }

  // ----------------------------------------------------------------------- acting --
  async function api(path, body) {
    const response = await fetch(new URL(path, API), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  async function send(text) {
    const chat = active;
    const clean = text.trim();
    if (!clean) return true;
    try {
      const result = await api(`chats/${chat.id}/messages`, { text: clean });
      applyFeed({
        chat_id: chat.id, messages: [{ deleted: false, message: result.message }],
        callback_answers: [], keyboard: chat.keyboard,
      });
      startTyping(chat);
      return true;
    } catch {
      toast(t().sendFailed);
      return false;
    }
  }

  async function press(chat, messageId, data, button) {
    const box = button.closest(".ikb");
    if (box.dataset.busy !== undefined) return; // one press at a time per message
    box.dataset.busy = "";
    button.setAttribute("aria-busy", "true");
    startTyping(chat);
    let result;
    try {
      result = await api(`chats/${chat.id}/press`, { message_id: messageId, callback_data: data });
    } catch {
      delete box.dataset.busy;
      button.removeAttribute("aria-busy");
      stopTyping(chat);
      toast(t().pressFailed);
      return;
    }
    const id = result.callback_query_id;
    if (chat.answers.has(id)) {
      finishPress(chat, messageId, chat.answers.get(id));
      return;
    }
    const timer = setTimeout(() => {
      chat.pending.delete(id);
      refresh(chat, messageId);
    }, PRESS_TTL_MS);
    chat.pending.set(id, { messageId, timer });
  }

  function onAnswer(chat, answer) {
    const id = answer.callback_query_id;
    chat.answers.set(id, answer);
    if (chat.answers.size > 50) chat.answers.delete(chat.answers.keys().next().value);
    const pending = chat.pending.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    chat.pending.delete(id);
    finishPress(chat, pending.messageId, answer);
  }

  function finishPress(chat, messageId, answer) {
    stopTyping(chat);
    refresh(chat, messageId);
    if (chat !== active || !answer.text) return;
    if (answer.show_alert) showAlert(answer.text);
    else toast(answer.text);
  }

  function refresh(chat, messageId) {
    const m = chat.messages.get(messageId);
    if (chat === active && m) showMessage(chat, m);
  }

  function startTyping(chat) {
    chat.typing = true;
    clearTimeout(chat.typingTimer);
    chat.typingTimer = setTimeout(() => stopTyping(chat), TYPING_MS);
    if (chat === active) showTyping();
  }
  function stopTyping(chat) {
    chat.typing = false;
    clearTimeout(chat.typingTimer);
    if (chat === active) showTyping();
  }
  function showTyping() {
    const stick = nearBottom();
    ui.typing.hidden = !active.typing;
    if (stick) scrollToBottom();
  }

  let toastTimer = 0;
  function toast(text) {
    ui.toast.textContent = text;
    ui.toast.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => ui.toast.classList.remove("show"), TOAST_MS);
  }

  function showAlert(text) {
    ui.alertText.textContent = text;
    if (!ui.alert.open) ui.alert.showModal();
    ui.alertOk.focus();
  }
  ui.alertOk.addEventListener("click", () => ui.alert.close());

  function renderReplyKeyboard() {
    const chat = active;
    const box = ui.replyKeyboard;
    box.replaceChildren();
    const markup = chat.keyboard;
    const shown = Boolean(markup) && !chat.keyboardHidden;
    ui.input.placeholder = (shown && markup.input_field_placeholder) || t().placeholder;
    if (!shown) { box.hidden = true; return; }
    box.setAttribute("aria-label", t().replyKeyboard);
    for (const row of markup.keyboard) {
      const line = el("div", "rk-row");
      for (const b of row) {
        const label = typeof b === "string" ? b : b.text;
        const button = el("button", "ikb-button", label);
        button.type = "button";
        const special = typeof b === "object" && Object.keys(b).some((k) => k.startsWith("request_") || k === "web_app");
        if (special) {
          button.setAttribute("aria-disabled", "true");
          button.title = t().unavailable;
        } else {
          button.addEventListener("click", () => {
            if (markup.one_time_keyboard) {
              chat.keyboardHidden = true;
              renderReplyKeyboard();
              ui.input.focus();
            }
            send(label);
          });
        }
        line.append(button);
      }
      box.append(line);
    }
    box.hidden = false;
  }

  // ------------------------------------------------------------------------ tabs --
  function buildTabs() {
    for (const chat of chats.values()) {
      const tab = el("button", "tab");
      tab.type = "button";
      tab.id = `tab-${chat.id}`;
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", "chat");
      const avatar = el("span", `avatar hue-${chat.index % 4}`, chat.person.first_name.slice(0, 1));
      avatar.setAttribute("aria-hidden", "true");
      const code = (chat.person.language_code || "").slice(0, 2);
      const tag = el("span", "tab-lang", code.toUpperCase());
      tag.setAttribute("aria-hidden", "true");
      chat.tabTag = tag;
      chat.tabLanguage = srOnly("");
      chat.unreadBadge = el("span", "unread");
      chat.unreadBadge.setAttribute("aria-hidden", "true");
      chat.unreadBadge.hidden = true;
      chat.unreadText = srOnly("");
      tab.append(avatar, el("span", "", chat.person.first_name), tag, chat.tabLanguage);
      tab.append(chat.unreadBadge, chat.unreadText);
      tab.addEventListener("click", () => select(chat));
      tab.addEventListener("keydown", onTabKey);
      chat.tab = tab;
      ui.tabs.append(tab);
    }
  }

  function onTabKey(event) {
    const list = [...chats.values()];
    const at = list.indexOf(active);
    const moves = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: list.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = list[(moves[event.key] + list.length) % list.length];
    select(next);
    next.tab.focus();
  }

  function updateTab(chat) {
    const code = (chat.person.language_code || "").slice(0, 2);
    chat.tabTag.textContent = code.toUpperCase();
    chat.tabLanguage.textContent = t().languages[code] ? ` (${t().languages[code]})` : "";
    chat.unreadBadge.hidden = chat.unread === 0;
    chat.unreadBadge.textContent = chat.unread ? String(chat.unread) : "";
    chat.unreadText.textContent = chat.unread ? `, ${t().unread(chat.unread)}` : "";
  }

  function select(chat) {
    if (active === chat) return;
    if (active) active.draft = ui.input.value;
    active = chat;
    save("chat", String(chat.id));
    for (const other of chats.values()) {
      const selected = other === chat;
      other.tab.setAttribute("aria-selected", String(selected));
      other.tab.tabIndex = selected ? 0 : -1;
    }
    ui.chat.setAttribute("aria-labelledby", chat.tab.id);
    chat.unread = 0;
    updateTab(chat);
    ui.input.value = chat.draft;
    renderChat();
  }

  function renderChat() {
    const chat = active;
    const code = (chat.person.language_code || "").slice(0, 2);
    ui.messages.lang = code; // the bot answers in the volunteer's language
    ui.note.textContent = t().note(chat.person.first_name, t().languages[code] || code);
    ui.log.setAttribute("aria-busy", "true"); // no announcements for a whole chat at once
    const ordered = [...chat.messages.values()].sort((a, b) => a.message_id - b.message_id);
    ui.messages.replaceChildren(...ordered.map((m) => renderMessage(chat, m)));
    ui.log.setAttribute("aria-busy", "false");
    updateEmpty();
    renderReplyKeyboard();
    showTyping();
    scrollToBottom();
  }

  // ------------------------------------------------------------------- page texts --
  function buildChips() {
    for (const command of SHORTCUTS) {
      const chip = el("button", "chip", `/${command}`);
      chip.type = "button";
      chip.dataset.command = command;
      chip.append(srOnly(""));
      chip.addEventListener("click", () => send(`/${command}`));
      ui.chips.append(chip);
    }
  }

  function names() {
    const list = config.people.map((person) => person.first_name);
    return new Intl.ListFormat(t().locale, { style: "long", type: "conjunction" }).format(list);
  }

  // The page's language is the bot's too: the volunteers' Telegram and their settings follow.
  async function setBotLanguage(next) {
    try {
      await api(new URL("sandbox/language", document.baseURI), { language: next });
    } catch {
      toast(t().languageFailed);
      return;
    }
    for (const chat of chats.values()) chat.person.language_code = next;
    for (const chat of chats.values()) updateTab(chat);
    if (active) renderChat();
    toast(t().botLanguage(names()));
  }

  function setLanguage(next) {
    lang = next;
    save("lang", next);
    const text = t();
    document.documentElement.lang = next;
    document.title = text.title;
    for (const node of document.querySelectorAll("[data-t]")) node.textContent = text[node.dataset.t];
    ui.lang.textContent = text.otherName;
    ui.lang.lang = text.other;
    ui.lang.setAttribute("aria-label", text.otherLabel);
    ui.who.textContent = text.who(names());
    ui.logLabel.textContent = text.conversation;
    ui.inputLabel.textContent = text.messageLabel;
    ui.chips.setAttribute("aria-label", text.shortcuts);
    for (const chip of ui.chips.children) {
      const description = text.commands[chip.dataset.command];
      chip.title = description;
      chip.lastChild.textContent = `: ${description}`;
    }
    if (!online) ui.conn.textContent = text.offline;
    for (const chat of chats.values()) updateTab(chat);
    if (active) renderChat();
  }

  // ------------------------------------------------------------------------ wiring --
  ui.lang.addEventListener("click", () => {
    setLanguage(t().other);
    setBotLanguage(lang);
  });
  ui.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = ui.input.value;
    if (!text.trim()) { ui.input.focus(); return; }
    ui.input.value = "";
    active.draft = "";
    if (!(await send(text)) && !ui.input.value) ui.input.value = text;
  });
  ui.emptyStart.addEventListener("click", () => {
    ui.input.focus({ preventScroll: true }); // the button goes away with the empty chat
    send("/start");
  });

  buildTabs();
  buildChips();
  setLanguage(lang);
  const saved = chats.get(Number(load("chat")));
  const first = chats.values().next().value;
  if (saved || first) select(saved || first);
  // Arriving from a link on the agenda page, a poster or a feed (/sandbox?start=e_<code>): the
  // chosen volunteer opens it, as Telegram does with t.me/<bot>?start=...
  const payload = new URLSearchParams(location.search).get("start");
  if (payload !== null) window.history.replaceState(null, "", location.pathname); // not on reload
  if (active && payload && START_PAYLOAD.test(payload)) send(`/start ${payload}`);
  if (chats.size) pollForever();
})();
