// The web UI: conversation list and chat view on top of the one client module.
// It never touches the socket; everything live arrives as client events.
import { _, fillAvatar, fmt, h, ngettext, safeUrl } from "./dom.js";
import { EmojiPicker } from "./emoji.js";
import { HappyChatClient, browserAdapter, socketUrl, watchBrowser } from "./happychat-client.js";
import { saveOfflineSnapshot } from "./offline-store.js";
import { showNotification } from "./push.js";

const $ = (id) => document.getElementById(id);
const root = $("app");
const me = JSON.parse($("me-data").textContent);
const client = new HappyChatClient({
  adapter: browserAdapter(),
  url: socketUrl(),
  storageKey: `happychat.${me.id}`,
});
const prefs = loadPrefs();
const state = {
  conversations: new Map(), // id -> Conversation (REST shape, kept current)
  people: new Map(), // user id -> User (with remark where known)
  online: new Set(),
  typing: new Map(), // conversation id -> {user, until}
  peerRead: new Map(), // conversation id -> seq the other side has read (1:1)
  current: null, // the open conversation's view
  listLoaded: false,
};

// --- preferences (this device only) -------------------------------------------------

function loadPrefs() {
  const read = (key, fallback) => {
    try {
      const raw = localStorage.getItem(`happychat.${key}`);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  };
  return {
    theme: read("theme.choice", "system"),
    sound: read("sound", true),
    notify: read("notify", false),
    save(key, value) {
      try { localStorage.setItem(`happychat.${key}`, JSON.stringify(value)); } catch { /* ignore */ }
    },
  };
}

// --- formatting ---------------------------------------------------------------------

const lang = document.documentElement.lang || "en";
const timeFmt = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
const dayFmt = new Intl.DateTimeFormat(lang, { year: "numeric", month: "long", day: "numeric", weekday: "short" });
const shortDayFmt = new Intl.DateTimeFormat(lang, { month: "numeric", day: "numeric" });
const weekdayFmt = new Intl.DateTimeFormat(lang, { weekday: "short" });

function dayKey(date) {
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

function dayLabel(date) {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(date) === dayKey(today)) return _("Today");
  if (dayKey(date) === dayKey(yesterday)) return _("Yesterday");
  return dayFmt.format(date);
}

function listTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const now = new Date();
  if (dayKey(date) === dayKey(now)) return timeFmt.format(date);
  const days = (now - date) / 86400000;
  if (days < 2 && dayKey(new Date(now - 86400000)) === dayKey(date)) return _("Yesterday");
  if (days < 7) return weekdayFmt.format(date);
  return shortDayFmt.format(date);
}

function displayName(user) {
  if (!user) return "";
  const known = state.people.get(user.id);
  return (known && known.remark) || user.remark || user.nickname || user.username || "";
}

function rememberUser(user) {
  if (!user || user.id == null) return;
  const known = state.people.get(user.id) || {};
  state.people.set(user.id, { ...known, ...user, remark: user.remark || known.remark });
}

function conversationTitle(conv) {
  if (conv.kind === "direct" && conv.peer) return displayName(conv.peer) || conv.title;
  return conv.title || _("Conversation");
}

function conversationAvatar(conv) {
  if (conv.kind === "direct" && conv.peer) return { name: conversationTitle(conv), url: conv.peer.avatar, key: conv.peer.id };
  return { name: conversationTitle(conv), url: conv.avatar, key: conv.id };
}

function messagePreview(message, conv) {
  if (!message) return conv && conv.kind === "robot" ? _("Say hello to the robot!") : "";
  const text = message.kind === "image" ? _("[Image]") : message.body;
  if (conv && conv.kind === "group" && message.sender && message.sender.id !== me.id && message.kind !== "system") {
    return `${displayName(message.sender)}: ${text}`;
  }
  return text;
}

// --- conversation list --------------------------------------------------------------

async function loadConversations() {
  let data;
  try {
    data = await client.request("GET", "/api/v1/conversations/");
  } catch (err) {
    if (err && (err.status === 401 || err.status === 403)) window.location.assign("/accounts/login/?next=/");
    return;
  }
  const items = Array.isArray(data) ? data : (data && data.results) || [];
  for (const conv of items) {
    const known = state.conversations.get(conv.id);
    if (conv.peer) rememberUser(conv.peer);
    // The list is a snapshot; anything newer that arrived live wins.
    if (known && (known.last_seq || 0) > (conv.last_seq || 0)) continue;
    const merged = { ...known, ...conv };
    // A read this page sent may not be in the snapshot yet: never move the cursor back.
    if (known && (known.last_read_seq || 0) > (conv.last_read_seq || 0)) {
      merged.last_read_seq = known.last_read_seq;
      merged.unread = Math.max(0, (merged.last_seq || 0) - merged.last_read_seq);
    }
    state.conversations.set(conv.id, merged);
    client.setCursor(conv.id, conv.last_seq || 0);
    if (conv.peer && conv.peer_last_read_seq != null) state.peerRead.set(conv.id, conv.peer_last_read_seq);
  }
  state.listLoaded = true;
  renderList();
  if (!client.socket) client.connect();
  route();
}

let reloadTimer = null;
function reloadConversationsSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(loadConversations, 300);
}

function sortedConversations() {
  const convs = [...state.conversations.values()];
  const others = convs.some((c) => c.kind !== "robot" && c.last_message);
  const activity = (c) => (c.last_message ? Date.parse(c.last_message.created_at) : 0) || 0;
  return convs.sort((a, b) => {
    // New users: the robot stays on top until they have talked to someone else.
    if (!others) {
      if (a.kind === "robot" && b.kind !== "robot") return -1;
      if (b.kind === "robot" && a.kind !== "robot") return 1;
    }
    return activity(b) - activity(a) || b.id - a.id;
  });
}

function renderList() {
  const list = $("conversations");
  const focusedId = document.activeElement?.closest?.("[data-conversation]")?.dataset.conversation;
  const rows = sortedConversations().map(renderListItem);
  list.replaceChildren(...rows);
  $("list-empty").hidden = rows.length > 0;
  if (focusedId) list.querySelector(`[data-conversation="${CSS.escape(focusedId)}"] a`)?.focus();
  updateTitle();
  keepForOffline();
}

// What the offline page shows (offline-store.js): the list as shown here, and the open chat.
function keepForOffline() {
  if (!state.listLoaded) return;
  const conversations = sortedConversations().map((c) => ({
    id: c.id, kind: c.kind, title: conversationTitle(c), preview: messagePreview(c.last_message, c),
    time: c.last_message ? c.last_message.created_at : null, unread: c.unread || 0, muted: isMuted(c),
  }));
  const view = state.current;
  const open = view && !view.loading ? {
    id: view.id,
    messages: [...view.messages.values()].sort((a, b) => a.seq - b.seq).map((m) => ({
      seq: m.seq, mine: m.sender.id === me.id, sender: displayName(m.sender),
      text: m.kind === "image" ? _("[Image]") : m.body, time: m.created_at,
    })),
  } : null;
  saveOfflineSnapshot({ id: me.id, name: me.nickname || me.username }, conversations, open);
}

function renderListItem(conv) {
  const title = conversationTitle(conv);
  const avatar = fillAvatar(h("span", { class: "avatar", "aria-hidden": "true" }), conversationAvatar(conv));
  const online = conv.kind === "direct" && conv.peer && state.online.has(conv.peer.id);
  if (online) avatar.append(h("span", { class: "online-dot" }));
  const unread = conv.unread || 0;
  const muted = isMuted(conv);
  const typing = typingUser(conv.id);
  const preview = typing ? fmt(_("%(name)s is typing…"), { name: displayName(typing) }) : messagePreview(conv.last_message, conv);
  const label = [
    title,
    online ? _("online") : null,
    unread ? fmt(ngettext("%(count)s unread message", "%(count)s unread messages", unread), { count: unread }) : null,
    muted ? _("muted") : null,
  ].filter(Boolean).join(", ");
  const current = state.current && state.current.id === conv.id;
  return h("li", { dataset: { conversation: String(conv.id) }, class: current ? "active" : "" },
    h("a", { href: `#/c/${conv.id}`, class: "conv", "aria-label": label, "aria-current": current ? "true" : null },
      avatar,
      h("span", { class: "conv-main" },
        h("span", { class: "conv-top" },
          h("span", { class: "conv-title", text: title }),
          h("time", { class: "conv-time", text: listTime(conv.last_message && conv.last_message.created_at) })),
        h("span", { class: "conv-bottom" },
          h("span", { class: typing ? "conv-preview typing" : "conv-preview", text: preview }),
          muted ? h("span", { class: "muted-icon", "aria-hidden": "true", text: "🔕" }) : null,
          unread ? h("span", { class: muted ? "badge quiet" : "badge", "aria-hidden": "true", text: unread > 99 ? "99+" : String(unread) }) : null))));
}

function isMuted(conv) {
  return Boolean(conv && conv.muted);
}

function totalUnread() {
  let n = 0;
  for (const c of state.conversations.values()) if (!isMuted(c)) n += c.unread || 0;
  return n;
}

function updateTitle() {
  const n = totalUnread();
  document.title = n ? `(${n > 99 ? "99+" : n}) HappyChat` : "HappyChat";
}

// Up/Down move through the list; the links themselves take Enter.
$("conversations").addEventListener("keydown", (e) => {
  if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
  const links = [...$("conversations").querySelectorAll("a.conv")];
  const i = links.indexOf(document.activeElement);
  if (i < 0) return;
  e.preventDefault();
  links[Math.max(0, Math.min(links.length - 1, i + (e.key === "ArrowDown" ? 1 : -1)))].focus();
});

// --- routing: #/c/<id> opens a chat; on phones the list and chat are two screens -----

function route() {
  const match = /^#\/c\/(\d+)$/.exec(window.location.hash);
  const id = match ? Number(match[1]) : null;
  if (id && state.conversations.has(id)) openConversation(id);
  else if (id && !state.listLoaded) return;
  else closeConversation();
}
window.addEventListener("hashchange", route);

function closeConversation() {
  state.current = null;
  root.classList.remove("show-chat");
  $("chat-view").hidden = true;
  $("placeholder").hidden = false;
  renderList();
}

// --- chat view ----------------------------------------------------------------------

function openConversation(id) {
  if (state.current && state.current.id === id) return;
  const conv = state.conversations.get(id);
  const view = {
    id,
    conv,
    messages: new Map(), // seq -> Message
    loading: true,
    hasMore: true,
    queued: [],
    firstUnread: (conv.unread || 0) > 0 ? (conv.last_read_seq || 0) + 1 : null,
    uploads: [],
  };
  state.current = view;
  root.classList.add("show-chat");
  $("placeholder").hidden = true;
  $("chat-view").hidden = false;
  $("messages").replaceChildren();
  $("pending").replaceChildren();
  $("history-status").textContent = _("Loading…");
  renderHeader();
  renderList();
  loadLatest(view);
  if (window.matchMedia("(min-width: 601px)").matches) $("composer-input").focus({ preventScroll: true });
}

function renderHeader() {
  const view = state.current;
  if (!view) return;
  const conv = state.conversations.get(view.id);
  $("chat-title").textContent = conversationTitle(conv);
  fillAvatar($("chat-avatar"), conversationAvatar(conv));
  const muted = isMuted(conv);
  $("mute-toggle").setAttribute("aria-pressed", String(muted));
  $("mute-toggle").classList.toggle("on", muted);
  $("mute-toggle").setAttribute("aria-label", muted ? _("Unmute notifications for this conversation") : _("Mute notifications for this conversation"));
  renderSubtitle();
}

function renderSubtitle() {
  const view = state.current;
  if (!view) return;
  const conv = state.conversations.get(view.id);
  const typing = typingUser(conv.id);
  let text = "";
  if (typing) text = conv.kind === "group" ? fmt(_("%(name)s is typing…"), { name: displayName(typing) }) : _("typing…");
  else if (conv.kind === "direct" && conv.peer) text = state.online.has(conv.peer.id) ? _("online") : "";
  else if (conv.kind === "robot") text = _("Robot");
  $("chat-subtitle").textContent = text;
}

async function loadLatest(view) {
  let page;
  try {
    page = await client.history(view.id, { limit: 30 });
  } catch {
    if (state.current === view) $("history-status").textContent = _("Could not load messages.");
    return;
  }
  if (state.current !== view) return;
  for (const m of page.results || []) addMessage(view, m);
  view.hasMore = Boolean(page.has_more);
  view.loading = false;
  for (const m of view.queued) addMessage(view, m);
  view.queued = [];
  renderTimeline(view);
  renderPending();
  const divider = $("messages").querySelector(".unread-divider");
  if (divider) divider.scrollIntoView({ block: "start" });
  else scrollToBottom();
  // A short first page cannot be scrolled; load more until it can.
  maybeLoadOlder();
  markReadIfSeen();
  updateJumps();
}

function addMessage(view, message) {
  if (view.messages.has(message.seq)) return false;
  view.messages.set(message.seq, message);
  rememberUser(message.sender);
  return true;
}

async function loadOlder(view) {
  if (view.loading || !view.hasMore) return;
  const oldest = Math.min(...view.messages.keys());
  if (!Number.isFinite(oldest) || oldest <= 1) {
    view.hasMore = false;
    $("history-status").textContent = _("This is the beginning of the conversation.");
    return;
  }
  view.loading = true;
  $("history-status").textContent = _("Loading…");
  let page;
  try {
    page = await client.history(view.id, { before: oldest, limit: 30 });
  } catch {
    view.loading = false;
    $("history-status").textContent = _("Could not load messages.");
    return;
  }
  if (state.current !== view) return;
  const timeline = $("timeline");
  // Keep what the reader is looking at in place while older messages go in above it.
  const fromBottom = timeline.scrollHeight - timeline.scrollTop;
  for (const m of page.results || []) addMessage(view, m);
  view.hasMore = Boolean(page.has_more);
  view.loading = false;
  renderTimeline(view);
  timeline.scrollTop = timeline.scrollHeight - fromBottom;
  maybeLoadOlder();
}

function maybeLoadOlder() {
  const view = state.current;
  const timeline = $("timeline");
  if (view && !view.loading && view.hasMore && timeline.scrollTop < 200) loadOlder(view);
}

function renderTimeline(view) {
  const list = $("messages");
  const seqs = [...view.messages.keys()].sort((a, b) => a - b);
  const items = [];
  let prev = null;
  for (const seq of seqs) {
    const message = view.messages.get(seq);
    items.push(...separatorsBefore(view, message, prev));
    items.push(renderMessage(view, message, prev));
    prev = message;
  }
  list.replaceChildren(...items);
  $("history-status").textContent = view.hasMore ? "" : _("This is the beginning of the conversation.");
}

function separatorsBefore(view, message, prev) {
  const out = [];
  const date = new Date(message.created_at);
  if (!prev || dayKey(new Date(prev.created_at)) !== dayKey(date)) {
    out.push(h("li", { class: "day-separator", role: "separator" }, h("span", { text: dayLabel(date) })));
  }
  if (view.firstUnread && message.seq === firstUnreadSeq(view)) {
    out.push(h("li", { class: "unread-divider", role: "separator" }, h("span", { text: _("New messages") })));
  }
  return out;
}

// The first message at or after the first unread seq that someone else wrote.
function firstUnreadSeq(view) {
  const seqs = [...view.messages.keys()].filter((s) => s >= view.firstUnread).sort((a, b) => a - b);
  return seqs.find((s) => view.messages.get(s).sender.id !== me.id) ?? null;
}

function renderMessage(view, message, prev) {
  const conv = state.conversations.get(view.id);
  const mine = message.sender && message.sender.id === me.id;
  if (message.kind === "system") {
    return h("li", { class: "system-message", dataset: { seq: String(message.seq) } }, h("span", { text: message.body }));
  }
  const grouped = prev && prev.sender.id === message.sender.id && prev.kind !== "system"
    && new Date(message.created_at) - new Date(prev.created_at) < 5 * 60000
    && dayKey(new Date(prev.created_at)) === dayKey(new Date(message.created_at));
  const name = mine ? _("You") : displayName(message.sender);
  const avatar = fillAvatar(h("span", { class: "avatar small", "aria-hidden": "true" }),
    { name: displayName(message.sender), url: message.sender.avatar, key: message.sender.id });
  const li = h("li", {
    class: `msg ${mine ? "mine" : "theirs"}${grouped ? " grouped" : ""}`,
    dataset: { seq: String(message.seq), clientId: message.client_id || "" },
  });
  const bubble = h("div", { class: "bubble" });
  if (conv.kind === "group" && !mine && !grouped) bubble.append(h("span", { class: "sender", text: name }));
  bubble.append(renderContent(message));
  const meta = h("span", { class: "meta" }, h("time", { datetime: message.created_at, text: timeFmt.format(new Date(message.created_at)) }));
  if (mine) meta.append(statusMark(view, message));
  bubble.append(meta);
  li.append(h("span", { class: "visually-hidden", text: `${name}: ` }), avatar, bubble);
  return li;
}

function renderContent(message) {
  if (message.kind === "image" && message.attachment) {
    const a = message.attachment;
    const thumb = safeUrl(a.thumbnail_url || a.url);
    const full = safeUrl(a.url);
    const size = fitThumb(a.width, a.height);
    return h("button", { type: "button", class: "thumb", "aria-label": _("Open image"), onclick: () => openLightbox(full) },
      h("img", { src: thumb, alt: message.body || _("Image"), width: size.w, height: size.h, loading: "lazy" }));
  }
  return h("p", { class: "text", text: message.body });
}

function fitThumb(width, height, max = 220) {
  const w = Number(width) || max;
  const hgt = Number(height) || max;
  const scale = Math.min(1, max / Math.max(w, hgt));
  return { w: Math.max(40, Math.round(w * scale)), h: Math.max(40, Math.round(hgt * scale)) };
}

function statusMark(view, message) {
  const conv = state.conversations.get(view.id);
  if (conv.kind === "direct" && message.seq <= (state.peerRead.get(conv.id) || 0)) {
    return h("span", { class: "status read", text: _("Read") });
  }
  return h("span", { class: "status sent", title: _("Sent"), "aria-label": _("Sent"), text: "✓" });
}

function refreshStatusMarks() {
  const view = state.current;
  if (!view) return;
  for (const li of $("messages").querySelectorAll("li.msg.mine")) {
    const message = view.messages.get(Number(li.dataset.seq));
    const old = li.querySelector(".status");
    if (message && old) old.replaceWith(statusMark(view, message));
  }
}

function appendLive(view, message) {
  const timeline = $("timeline");
  const atBottom = isAtBottom();
  const seqs = [...view.messages.keys()];
  const newest = seqs.length ? Math.max(...seqs) : 0;
  if (!addMessage(view, message)) return;
  if (message.seq < newest) {
    renderTimeline(view); // arrived out of order (rare): redraw in seq order
  } else {
    const prev = view.messages.get(Math.max(0, ...seqs.filter((s) => s < message.seq))) || null;
    const list = $("messages");
    list.append(...separatorsBefore({ ...view, firstUnread: null }, message, prev), renderMessage(view, message, prev));
  }
  if (atBottom || message.sender.id === me.id) scrollToBottom();
  updateJumps();
  void timeline;
}

function isAtBottom() {
  const t = $("timeline");
  return t.scrollHeight - t.scrollTop - t.clientHeight < 80;
}

function scrollToBottom() {
  const t = $("timeline");
  t.scrollTop = t.scrollHeight;
}

function updateJumps() {
  const view = state.current;
  if (!view) return;
  $("jump-bottom").hidden = isAtBottom();
  const divider = $("messages").querySelector(".unread-divider");
  const conv = state.conversations.get(view.id);
  const timeline = $("timeline");
  const above = divider && divider.offsetTop < timeline.scrollTop;
  const unreadTarget = view.firstUnread && conv.unread > 0;
  $("jump-unread").hidden = !(above || (unreadTarget && !divider));
  $("jump-unread").textContent = fmt(ngettext("↑ %(count)s new message", "↑ %(count)s new messages", view.unreadOnOpen || conv.unread || 0), { count: view.unreadOnOpen || conv.unread || 0 });
}

async function jumpToFirstUnread() {
  const view = state.current;
  if (!view || !view.firstUnread) return;
  // Page back until the first unread message is loaded, then bring it into view.
  while (view.hasMore && Math.min(...view.messages.keys()) > view.firstUnread) {
    await loadOlder(view);
    if (view.loading) break;
  }
  $("messages").querySelector(".unread-divider")?.scrollIntoView({ block: "start" });
  updateJumps();
}

$("jump-unread").addEventListener("click", jumpToFirstUnread);
$("jump-bottom").addEventListener("click", () => {
  scrollToBottom();
  markReadIfSeen();
});
$("timeline").addEventListener("scroll", () => {
  maybeLoadOlder();
  updateJumps();
  if (isAtBottom()) markReadIfSeen();
}, { passive: true });

function markReadIfSeen() {
  const view = state.current;
  if (!view || view.loading || document.visibilityState !== "visible" || !isAtBottom()) return;
  const conv = state.conversations.get(view.id);
  const seqs = [...view.messages.keys()];
  const newest = seqs.length ? Math.max(...seqs) : 0;
  if (!newest) return;
  if (view.unreadOnOpen === undefined) view.unreadOnOpen = conv.unread || 0;
  if (newest > (conv.last_read_seq || 0) || conv.unread) {
    conv.last_read_seq = Math.max(conv.last_read_seq || 0, newest);
    conv.unread = 0;
    client.markRead(conv.id, newest);
    renderList();
  }
}
document.addEventListener("visibilitychange", markReadIfSeen);
window.addEventListener("focus", markReadIfSeen);

// --- pending (outbox) and uploads ---------------------------------------------------

function renderPending() {
  const view = state.current;
  const list = $("pending");
  if (!view || view.loading) {
    list.replaceChildren();
    return;
  }
  const wasAtBottom = isAtBottom();
  const items = [];
  for (const up of view.uploads) items.push(pendingBubble(up.preview ? { kind: "image", preview: up.preview } : up, up.state, up));
  for (const item of client.pending(view.id)) {
    if (view.messages.has(item.seq)) continue;
    items.push(pendingBubble(item, item.state, null));
  }
  list.replaceChildren(...items);
  if (wasAtBottom) scrollToBottom();
}

function pendingBubble(item, status, upload) {
  const content = item.kind === "image"
    ? h("span", { class: "thumb" }, item.preview ? h("img", { src: item.preview, alt: _("Image"), width: 120, height: 120 }) : h("span", { text: _("[Image]") }))
    : h("p", { class: "text", text: item.body });
  const failed = status === "failed";
  const statusText = status === "uploading" ? _("Uploading…") : failed ? _("Not sent") : _("Sending…");
  const meta = h("span", { class: "meta" }, h("span", { class: `status ${status}`, text: statusText }));
  const li = h("li", { class: `msg mine pending-msg ${status}`, dataset: { clientId: item.id || "" } },
    h("span", { class: "avatar small", "aria-hidden": "true" }), h("div", { class: "bubble" }, content, meta));
  if (failed) {
    li.append(h("button", {
      type: "button", class: "retry", "aria-label": _("Retry sending"),
      onclick: () => (upload ? retryUpload(upload) : client.retry(item.id)),
    }, "↻ ", _("Retry")));
  }
  fillAvatar(li.querySelector(".avatar"), { name: me.nickname || me.username, url: me.avatar, key: me.id });
  return li;
}

client.on("outbox", renderPending);
client.on("failed", ({ detail }) => announce(fmt(_("A message was not sent: %(reason)s"), { reason: detail || "" })));

// --- composer -----------------------------------------------------------------------

const input = $("composer-input");

function sendText() {
  const view = state.current;
  const body = input.value.trim();
  if (!view || !body) return;
  client.send({ conversation: view.id, kind: "text", body });
  input.value = "";
  autosize();
  scrollToBottom();
}

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  sendText();
  input.focus();
});

input.addEventListener("keydown", (e) => {
  // isComposing: Enter that confirms a Chinese IME candidate must not send.
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    sendText();
  }
});

function autosize() {
  input.style.height = "auto";
  input.style.height = `${Math.min(160, input.scrollHeight)}px`;
}

input.addEventListener("input", () => {
  autosize();
  if (state.current && input.value.trim()) client.typing(state.current.id);
});

new EmojiPicker({
  root: $("emoji-picker"),
  toggle: $("emoji-toggle"),
  dataUrl: root.dataset.emojiUrl,
  onPick(emoji) {
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    input.setRangeText(emoji, start, end, "end");
    input.focus();
    autosize();
  },
});

// Images: button, paste and drag-and-drop all lead to the same preview dialog.
const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];
let previewFile = null;

function offerImage(file) {
  if (!file || !state.current) return;
  const dialog = $("preview-dialog");
  $("preview-error").textContent = "";
  if (!IMAGE_TYPES.includes(file.type)) {
    $("preview-error").textContent = _("Only JPEG, PNG, GIF and WebP images can be sent.");
  } else if (file.size > 10 * 1024 * 1024) {
    $("preview-error").textContent = _("The image is larger than 10 MB.");
  }
  previewFile = $("preview-error").textContent ? null : file;
  $("preview-send").disabled = !previewFile;
  if (previewFile) $("preview-image").src = URL.createObjectURL(file);
  else $("preview-image").removeAttribute("src");
  dialog.showModal();
}

$("preview-dialog").addEventListener("close", () => {
  const dialog = $("preview-dialog");
  if (dialog.returnValue === "send" && previewFile && state.current) {
    startUpload(state.current, previewFile, $("preview-image").src);
  } else if ($("preview-image").src) {
    URL.revokeObjectURL($("preview-image").src);
  }
  previewFile = null;
  dialog.returnValue = "";
  input.focus();
});

$("image-button").addEventListener("click", () => $("image-input").click());
$("image-input").addEventListener("change", (e) => {
  offerImage(e.target.files[0]);
  e.target.value = "";
});

input.addEventListener("paste", (e) => {
  const file = [...(e.clipboardData?.files || [])].find((f) => f.type.startsWith("image/"));
  if (file) {
    e.preventDefault();
    offerImage(file);
  }
});

const dropZone = $("drop-zone");
dropZone.addEventListener("dragover", (e) => {
  if ([...(e.dataTransfer?.types || [])].includes("Files")) {
    e.preventDefault();
    $("drop-hint").hidden = false;
  }
});
dropZone.addEventListener("dragleave", (e) => {
  if (!dropZone.contains(e.relatedTarget)) $("drop-hint").hidden = true;
});
dropZone.addEventListener("drop", (e) => {
  e.preventDefault();
  $("drop-hint").hidden = true;
  offerImage([...(e.dataTransfer?.files || [])][0]);
});

async function startUpload(view, file, preview) {
  const upload = { id: `upload-${Date.now()}-${Math.random()}`, file, preview, state: "uploading", kind: "image" };
  view.uploads.push(upload);
  renderPending();
  scrollToBottom();
  await runUpload(view, upload);
}

async function runUpload(view, upload) {
  const form = new FormData();
  form.append("file", upload.file);
  try {
    const result = await client.request("POST", "/api/v1/uploads/", form);
    view.uploads = view.uploads.filter((u) => u !== upload);
    client.send({ conversation: view.id, kind: "image", body: "", attachment: result.id, preview: upload.preview });
  } catch (err) {
    upload.state = "failed";
    announce(fmt(_("The image was not sent: %(reason)s"), { reason: (err && err.body && err.body.detail) || _("upload failed") }));
  }
  if (state.current === view) renderPending();
}

function retryUpload(upload) {
  const view = state.current;
  if (!view) return;
  upload.state = "uploading";
  renderPending();
  runUpload(view, upload);
}

// --- lightbox -----------------------------------------------------------------------

function openLightbox(url) {
  if (!url) return;
  $("lightbox-image").src = url;
  $("lightbox").showModal();
}
$("lightbox").addEventListener("click", (e) => {
  if (e.target === $("lightbox") || e.target === $("lightbox-image")) $("lightbox").close();
});

// --- live events --------------------------------------------------------------------

client.on("message", ({ message }) => {
  const conv = state.conversations.get(message.conversation);
  if (!conv) {
    reloadConversationsSoon();
    return;
  }
  rememberUser(message.sender);
  const fromMe = message.sender.id === me.id;
  conv.last_message = message;
  conv.last_seq = Math.max(conv.last_seq || 0, message.seq);
  const view = state.current && state.current.id === conv.id ? state.current : null;
  if (fromMe) {
    conv.last_read_seq = Math.max(conv.last_read_seq || 0, message.seq);
    conv.unread = 0;
  } else if (message.seq > (conv.last_read_seq || 0)) {
    conv.unread = (conv.unread || 0) + 1;
  }
  if (view) {
    if (view.loading) view.queued.push(message);
    else appendLive(view, message);
    renderPending();
    markReadIfSeen();
  }
  if (!fromMe) {
    state.typing.delete(conv.id);
    if (view) renderSubtitle();
    const seen = view && document.visibilityState === "visible" && isAtBottom();
    announce(fmt(_("New message from %(name)s: %(text)s"), { name: displayName(message.sender), text: messagePreview({ ...message, sender: { id: me.id } }, null) }));
    if (!seen && !isMuted(conv)) notify(conv, message);
  }
  renderList();
});

client.on("read", ({ conversation, user, seq }) => {
  const conv = state.conversations.get(conversation);
  if (!conv) return;
  if (user === me.id) {
    // Read on another of my devices.
    if (seq >= (conv.last_read_seq || 0)) {
      conv.last_read_seq = seq;
      conv.unread = Math.max(0, (conv.last_seq || 0) - seq);
      renderList();
    }
    return;
  }
  if (conv.kind === "direct") {
    state.peerRead.set(conversation, Math.max(seq, state.peerRead.get(conversation) || 0));
    if (state.current && state.current.id === conversation) refreshStatusMarks();
  }
});

function typingUser(conversation) {
  const t = state.typing.get(conversation);
  return t && t.until > Date.now() ? t.user : null;
}

client.on("typing", ({ conversation, user }) => {
  if (user === me.id) return;
  const person = state.people.get(user) || { id: user, nickname: "" };
  state.typing.set(conversation, { user: person, until: Date.now() + 5000 });
  if (state.current && state.current.id === conversation) renderSubtitle();
  renderList();
  setTimeout(() => {
    if (!typingUser(conversation)) {
      if (state.current && state.current.id === conversation) renderSubtitle();
      renderList();
    }
  }, 5100);
});

client.on("presence", ({ user, online }) => {
  if (online) state.online.add(user);
  else state.online.delete(user);
  renderList();
  renderSubtitle();
});

client.on("event", ({ event, data }) => {
  if (event === "friend_request") {
    $("requests-badge").hidden = false;
    const from = data && (data.from || (data.request && data.request.from));
    announce(from ? fmt(_("%(name)s sent you a friend request"), { name: displayName(from) }) : _("New friend request"));
  }
  if (event === "friend_updated" && data && data.user) rememberUser(data.user);
  reloadConversationsSoon();
});

client.on("status", ({ status }) => {
  const banner = $("banner");
  clearTimeout(bannerTimer);
  if (status === "reconnecting") {
    // A blip shorter than a second is not worth a banner.
    bannerTimer = setTimeout(() => { banner.hidden = false; root.classList.add("offline"); }, 800);
  } else if (status === "open") {
    banner.hidden = true;
    root.classList.remove("offline");
  }
});
let bannerTimer = null;

client.on("hello", ({ user }) => {
  Object.assign(me, user);
  renderMe();
});

client.on("synced", () => {
  // Counts may have moved while we were away (e.g. read on another device).
  if (state.listLoaded) reloadConversationsSoon();
});

client.on("unauthenticated", () => window.location.assign("/accounts/login/?next=/"));

// --- notifications, sound, announcements --------------------------------------------

function announce(text) {
  const region = $("announcer");
  region.textContent = "";
  // A fresh text node after a tick makes screen readers read repeated texts too.
  setTimeout(() => { region.textContent = text; }, 50);
}

const sound = new Audio(root.dataset.soundUrl);
function notify(conv, message) {
  if (prefs.sound) sound.play().catch(() => {});
  if (!prefs.notify || !("Notification" in window) || Notification.permission !== "granted") return;
  if (document.visibilityState === "visible" && document.hasFocus()) return;
  // Same tag as a Web Push for this conversation: the two replace each other, never pile up.
  showNotification(conversationTitle(conv), {
    body: messagePreview(message, conv),
    tag: `conversation-${conv.id}`,
    url: `/#/c/${conv.id}`,
  });
}

// Mute is stored on the server (per member), so every device of the user agrees.
$("mute-toggle").addEventListener("click", async () => {
  const view = state.current;
  if (!view) return;
  const conv = state.conversations.get(view.id);
  const wanted = !conv.muted;
  conv.muted = wanted;
  renderHeader();
  renderList();
  try {
    const result = await client.request("POST", `/api/v1/conversations/${view.id}/mute/`, { muted: wanted });
    conv.muted = Boolean(result.muted);
  } catch {
    conv.muted = !wanted;
    announce(_("Could not change the mute setting."));
  }
  renderHeader();
  renderList();
});

// --- settings and theme -------------------------------------------------------------

function applyTheme(choice) {
  prefs.theme = choice;
  prefs.save("theme.choice", choice);
  try {
    if (choice === "system") localStorage.removeItem("happychat.theme");
    else localStorage.setItem("happychat.theme", choice);
  } catch { /* ignore */ }
  if (choice === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
  $("theme-select").value = choice;
}

function effectiveTheme() {
  const set = document.documentElement.dataset.theme;
  if (set) return set;
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

$("theme-toggle").addEventListener("click", () => applyTheme(effectiveTheme() === "dark" ? "light" : "dark"));
$("theme-select").addEventListener("change", (e) => applyTheme(e.target.value));
$("theme-select").value = prefs.theme;
$("settings-open").addEventListener("click", () => $("settings-dialog").showModal());

$("sound-toggle").checked = prefs.sound;
$("sound-toggle").addEventListener("change", (e) => {
  prefs.sound = e.target.checked;
  prefs.save("sound", prefs.sound);
  if (prefs.sound) sound.play().catch(() => {});
});

function renderNotifyStatus() {
  const status = $("notify-status");
  if (!("Notification" in window)) {
    $("notify-toggle").disabled = true;
    status.textContent = _("This browser cannot show notifications.");
    return;
  }
  $("notify-toggle").checked = prefs.notify && Notification.permission === "granted";
  status.textContent = Notification.permission === "denied" ? _("Notifications are blocked in the browser settings.") : "";
}

// Permission is asked only here, on the user's own click.
$("notify-toggle").addEventListener("change", async (e) => {
  prefs.notify = e.target.checked;
  if (prefs.notify && "Notification" in window && Notification.permission === "default") {
    await Notification.requestPermission();
  }
  prefs.save("notify", prefs.notify);
  renderNotifyStatus();
});

document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && root.classList.contains("show-chat") && !document.querySelector("dialog[open]")
      && $("emoji-picker").hidden && window.matchMedia("(max-width: 600px)").matches) {
    window.location.hash = "#/";
  }
});

function renderMe() {
  $("me-name").textContent = me.nickname || me.username;
  fillAvatar($("me-avatar"), { name: me.nickname || me.username, url: me.avatar, key: me.id });
}

// --- start --------------------------------------------------------------------------

renderMe();
renderNotifyStatus();
setTimeout(() => $("toast")?.classList.add("gone"), 4000);
watchBrowser(client);
setInterval(() => renderList(), 60000); // keep relative times fresh
loadConversations();
window.happychat = { client, state }; // for debugging and tests
