// The chat screen: header, timeline, message actions (react, reply, copy, edit, forward,
// select, recall, report), jumps to a message, and the composer (chat-composer.js).
// Hand-written DOM (the timeline keeps the reader's scroll position while history loads
// above it); it reads the store and talks to the server only through it.
import { _, fillAvatar, fmt, h, ngettext, safeUrl } from "../dom.js";
import { errorText } from "../shell/api.js";
import { dayKey, dayLabel, isBot, timeFmt } from "../shell/format.js";
import { announce } from "../shell/notify.js";
import { back } from "../shell/router.js";
import { CONTENT_KINDS } from "../shell/store.js";
import { toast } from "../shell/ui.js";
import { changeError, createComposer } from "./chat-composer.js";
import { fileContent, forwardedLine, quoteBlock, reactionsRow, reactorNames, recalledChip, systemChip, textContent } from "./chat-render.js";
import { forwardMessages } from "./forward.js";

const $ = (id) => document.getElementById(id);
const PAGE = 30;
// A quote this close to what is loaded pages back to it; farther, the page around it loads.
const PAGE_BACK_LIMIT = 150;

export function createChatScreen({ store, emojiUrl, currentRoute }) {
  const me = store.me;
  let current = null; // the open conversation's view
  let selecting = null; // Set of selected seqs in multi-select mode
  const recalledTexts = new Map(); // message id -> text of my own message I recalled here

  const composer = createComposer({
    store,
    emojiUrl,
    currentView: () => current,
    scrollToBottom: () => scrollToBottom(),
    renderPending: () => renderPending(),
    onSent: () => {
      if (current && !current.atLatest) loadLatest(current, { reset: true });
      else scrollToBottom();
    },
  });

  // --- open / close ------------------------------------------------------------------

  function open(id) {
    if (current && current.id === id) {
      renderHeader();
      const jump = store.takeJump(id);
      if (jump) jumpTo(jump.seq);
      return;
    }
    const conv = store.conversations.get(id);
    const view = newView(id, conv);
    current = view;
    selecting = null;
    $("placeholder").hidden = true;
    $("chat-view").hidden = false;
    $("messages").replaceChildren();
    $("pending").replaceChildren();
    $("history-status").textContent = _("Loading…");
    closeMenu();
    composer.reset();
    renderSelectBar();
    renderHeader();
    if (conv.kind === "group" && conv.group) {
      store.loadGroup(conv.group);
      if (conv.is_active !== false) store.loadMembers(conv.group);
    }
    const jump = store.takeJump(id);
    if (jump) loadAround(view, jump.seq);
    else loadLatest(view);
    if (window.matchMedia("(min-width: 601px)").matches) composer.focus();
  }

  function newView(id, conv) {
    return {
      id,
      messages: new Map(), // seq -> Message (folded)
      loading: true,
      hasMore: true, // older history exists
      atLatest: true, // the newest messages are loaded (false after a jump far back)
      loadingNewer: false,
      queued: [],
      firstUnread: (conv.unread || 0) > 0 ? (conv.last_read_seq || 0) + 1 : null,
      uploads: [],
    };
  }

  function close() {
    current = null;
    selecting = null;
    $("chat-view").hidden = true;
    closeMenu();
    composer.reset();
  }

  function isSeen(conversationId) {
    return Boolean(current && current.id === conversationId && document.visibilityState === "visible"
      && !$("chat-view").hidden && isAtBottom() && current.atLatest);
  }

  // --- header ------------------------------------------------------------------------

  function renderHeader() {
    const view = current;
    if (!view) return;
    const conv = store.conversations.get(view.id);
    const title = store.conversationTitle(conv);
    $("chat-title").textContent = title;
    const group = conv.kind === "group" && conv.group ? store.groups.get(conv.group) : null;
    $("chat-count").textContent = group && group.member_count ? `(${group.member_count})` : "";
    const bot = conv.kind === "robot" || isBot(conv.peer);
    $("chat-bot").hidden = !bot;
    const avatar = (conv.kind === "direct" || conv.kind === "robot") && conv.peer
      ? { name: title, url: conv.peer.avatar, key: conv.peer.id, bot }
      : { name: title, url: conv.avatar, key: conv.id };
    fillAvatar($("chat-avatar"), avatar);
    const info = `/chats/${conv.id}/info/`;
    $("chat-heading").href = info;
    $("info-open").href = info;
    $("chat-heading").setAttribute("aria-label", group
      ? fmt(_("%(name)s, %(count)s members: group info"), { name: title, count: group.member_count })
      : fmt(_("%(name)s: chat info"), { name: title }));
    renderSubtitle();
    renderReadOnly();
  }

  function renderSubtitle() {
    const view = current;
    if (!view) return;
    const conv = store.conversations.get(view.id);
    const typing = store.isTyping(conv.id);
    let text = "";
    if (typing) text = conv.kind === "group" ? fmt(_("%(name)s is typing…"), { name: store.displayName(typing) }) : _("typing…");
    else if (conv.kind === "direct" && conv.peer) text = store.online.has(conv.peer.id) ? _("online") : "";
    $("chat-subtitle").textContent = text;
    // With nothing under it, the title sits centred beside the avatar.
    $("chat-subtitle").hidden = !text;
  }

  // A group the reader left, was removed from or that was dissolved: history stays,
  // the composer goes.
  function renderReadOnly() {
    const conv = current && store.conversations.get(current.id);
    const readOnly = Boolean(conv && conv.is_active === false);
    $("composer").hidden = readOnly || Boolean(selecting);
    $("read-only").hidden = !readOnly || Boolean(selecting);
    if (!readOnly) return;
    composer.closePickers();
    const reason = conv.left_reason;
    $("read-only").textContent = reason === "removed"
      ? _("You were removed from this group. You can read its history but not send.")
      : reason === "dissolved"
        ? _("This group was dissolved. You can read its history but not send.")
        : _("You are no longer a member of this group. You can read its history but not send.");
  }

  // --- history -----------------------------------------------------------------------

  const seqsOf = (view) => [...view.messages.keys()].sort((a, b) => a - b);
  const oldestSeq = (view) => Math.min(...view.messages.keys());
  const newestSeq = (view) => (view.messages.size ? Math.max(...view.messages.keys()) : 0);

  /** The newest page; `reset` drops what a jump had loaded. */
  async function loadLatest(view, { reset = false } = {}) {
    if (reset) {
      view.messages = new Map();
      view.loading = true;
      view.atLatest = true;
      view.hasMore = true;
      $("history-status").textContent = _("Loading…");
    }
    let page;
    try {
      page = await store.history(view.id, { limit: PAGE });
    } catch {
      if (current === view) $("history-status").textContent = _("Could not load messages.");
      return;
    }
    if (current !== view) return;
    for (const m of page.results || []) addMessage(view, m);
    view.hasMore = Boolean(page.has_more);
    view.loading = false;
    view.atLatest = true;
    for (const m of view.queued) addMessage(view, m);
    view.queued = [];
    renderTimeline(view);
    renderPending();
    const divider = $("messages").querySelector(".unread-divider");
    if (divider && !reset) divider.scrollIntoView({ block: "start" });
    else scrollToBottom();
    // A short first page cannot be scrolled; load more until it can.
    maybeLoadOlder();
    markReadIfSeen();
    updateJumps();
    store.changed("chat");
  }

  /** The page around a message far from what is loaded (a search result, an old quote). */
  async function loadAround(view, seq) {
    view.loading = true;
    $("history-status").textContent = _("Loading…");
    let page;
    try {
      page = await store.history(view.id, { around: seq, limit: 40 });
    } catch {
      view.loading = false;
      if (current === view) $("history-status").textContent = _("Could not load messages.");
      return;
    }
    if (current !== view) return;
    view.messages = new Map();
    view.queued = [];
    for (const m of page.results || []) addMessage(view, m);
    view.hasMore = Boolean(page.has_more);
    view.loading = false;
    const conv = store.conversations.get(view.id);
    view.atLatest = !conv.last_message || newestSeq(view) >= conv.last_message.seq;
    renderTimeline(view);
    renderPending();
    showMessage(seq);
    updateJumps();
    markReadIfSeen();
    store.changed("chat");
  }

  function addMessage(view, message) {
    if (view.messages.has(message.seq)) return false;
    view.messages.set(message.seq, message);
    store.rememberUser(message.sender);
    return true;
  }

  async function loadOlder(view) {
    if (view.loading || !view.hasMore) return;
    const oldest = oldestSeq(view);
    if (!Number.isFinite(oldest) || oldest <= 1) {
      view.hasMore = false;
      $("history-status").textContent = _("This is the beginning of the conversation.");
      return;
    }
    view.loading = true;
    $("history-status").textContent = _("Loading…");
    let page;
    try {
      page = await store.history(view.id, { before: oldest, limit: PAGE });
    } catch {
      view.loading = false;
      $("history-status").textContent = _("Could not load messages.");
      return;
    }
    if (current !== view) return;
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

  /** After a jump back in time: the messages after what is loaded, as the reader scrolls down. */
  async function loadNewer(view) {
    if (view.loading || view.loadingNewer || view.atLatest) return;
    view.loadingNewer = true;
    let page;
    try {
      page = await store.history(view.id, { after: newestSeq(view), limit: PAGE });
    } catch {
      view.loadingNewer = false;
      return;
    }
    view.loadingNewer = false;
    if (current !== view) return;
    for (const m of page.results || []) addMessage(view, m);
    const conv = store.conversations.get(view.id);
    view.atLatest = !page.has_more && (!conv.last_message || newestSeq(view) >= conv.last_message.seq);
    renderTimeline(view);
    renderPending();
    updateJumps();
    // Something arrived while the last page was on its way: fetch it too.
    if (!page.has_more && !view.atLatest) loadNewer(view);
  }

  function maybeLoadOlder() {
    const view = current;
    if (view && !view.loading && view.hasMore && $("timeline").scrollTop < 200) loadOlder(view);
  }

  // --- timeline ----------------------------------------------------------------------

  function renderTimeline(view) {
    const items = [];
    let prev = null;
    for (const seq of seqsOf(view)) {
      const message = view.messages.get(seq);
      items.push(...separatorsBefore(view, message, prev));
      items.push(renderMessage(view, message, prev));
      prev = message;
    }
    $("messages").replaceChildren(...items);
    $("history-status").textContent = view.hasMore ? "" : _("This is the beginning of the conversation.");
  }

  /** Redraw one message (a change folded into it) and the next (its grouping may change). */
  function rerender(view, seq) {
    const seqs = seqsOf(view);
    const i = seqs.indexOf(seq);
    if (i < 0) return;
    const atBottom = isAtBottom();
    for (const j of [i, i + 1]) {
      if (j >= seqs.length) continue;
      const li = $("messages").querySelector(`li[data-seq="${seqs[j]}"]`);
      const prev = j > 0 ? view.messages.get(seqs[j - 1]) : null;
      if (li) li.replaceWith(renderMessage(view, view.messages.get(seqs[j]), prev));
    }
    if (atBottom) scrollToBottom();
  }

  function separatorsBefore(view, message, prev) {
    const out = [];
    const date = new Date(message.created_at);
    if (!prev || dayKey(new Date(prev.created_at)) !== dayKey(date)) {
      out.push(h("li", { class: "day-separator" }, h("span", { text: dayLabel(date) })));
    }
    if (view.firstUnread && message.seq === firstUnreadSeq(view)) {
      out.push(h("li", { class: "unread-divider" }, h("span", { text: _("New messages") })));
    }
    return out;
  }

  // The first message at or after the first unread seq that someone else wrote.
  function firstUnreadSeq(view) {
    return seqsOf(view).filter((s) => s >= view.firstUnread).find((s) => {
      const m = view.messages.get(s);
      return m.sender.id !== me.id && CONTENT_KINDS.has(m.kind);
    }) ?? null;
  }

  const isContent = (message) => CONTENT_KINDS.has(message.kind) && !message.recalled;

  function renderMessage(view, message, prev) {
    const conv = store.conversations.get(view.id);
    const mine = message.sender && message.sender.id === me.id;
    if (message.kind === "system") return systemChip(store, message);
    if (message.recalled) {
      const text = recalledTexts.get(message.id);
      return recalledChip(store, message, { reEdit: text && conv.is_active !== false ? () => reEdit(message, text) : null });
    }
    const grouped = prev && prev.sender.id === message.sender.id && isContent(prev)
      && new Date(message.created_at) - new Date(prev.created_at) < 5 * 60000
      && dayKey(new Date(prev.created_at)) === dayKey(new Date(message.created_at));
    const bot = isBot(message.sender) || (conv.kind === "robot" && !mine);
    const name = mine ? _("You") : store.displayName(message.sender);
    const avatar = fillAvatar(h("span", { class: "avatar small", "aria-hidden": "true" }),
      { name: store.displayName(message.sender), url: message.sender.avatar, key: message.sender.id, bot });
    const mentionsMe = store.mentionsMe(message);
    const li = h("li", {
      class: `msg ${mine ? "mine" : "theirs"}${grouped ? " grouped" : ""}${mentionsMe ? " mentions-me" : ""}`,
      dataset: { seq: String(message.seq), id: String(message.id), clientId: message.client_id || "" },
    });
    const bubble = h("div", { class: "bubble" });
    if (conv.kind === "group" && !mine && !grouped) {
      bubble.append(h("span", { class: "sender" }, h("span", { text: name }), bot ? h("span", { class: "bot-badge", text: _("Bot") }) : null));
    }
    const forwarded = forwardedLine(store, message);
    if (forwarded) bubble.append(forwarded);
    if (message.reply) bubble.append(quoteBlock(store, message, (seq) => jumpTo(seq), view.messages.get(message.reply.seq)));
    const time = h("time", { datetime: message.created_at, text: timeFmt.format(new Date(message.created_at)) });
    const meta = h("span", { class: "meta" });
    if (message.edited) meta.append(h("span", { class: "edited", text: _("edited") }));
    meta.append(time);
    if (mine) meta.append(statusMark(view, message));
    if (message.kind === "image") {
      bubble.classList.add("media");
      bubble.append(renderContent(conv, message), meta);
    } else {
      if (message.kind === "file") bubble.classList.add("file");
      // The time sits on the text's last line (a hidden copy keeps room for it there).
      bubble.append(renderContent(conv, message), metaRoom(meta), meta);
    }
    const body = h("div", { class: "msg-body" }, bubble);
    const reactions = reactionsRow(store, message, {
      onToggle: (m, emoji, on) => react(m, emoji, on),
      onWho: (m, anchor) => showReactors(m, anchor),
      disabled: conv.is_active === false,
    });
    if (reactions) body.append(reactions);
    const actions = h("button", {
      type: "button", class: "msg-more", "aria-label": _("Message actions"), "aria-haspopup": "menu",
      onclick: (e) => openMenu(message, e.currentTarget),
    }, "⋯");
    if (selecting) li.append(selectBox(message));
    li.append(h("span", { class: "visually-hidden", text: `${name}: ` }), avatar, body, actions);
    bubble.addEventListener("contextmenu", (e) => {
      e.preventDefault();
      if (!selecting) openMenu(message, actions);
    });
    attachLongPress(bubble, () => { if (!selecting) openMenu(message, actions); });
    if (selecting) {
      li.classList.add("selectable");
      // In select mode a tap anywhere on the message (links included) selects it.
      li.addEventListener("click", (e) => {
        if (e.target.closest(".select-box")) return;
        e.preventDefault();
        e.stopPropagation();
        toggleSelected(message);
      }, true);
    }
    return li;
  }

  // Phones have no hover and no right click: holding a bubble opens its menu.
  function attachLongPress(el, run) {
    let timer = null;
    let start = null;
    el.addEventListener("pointerdown", (e) => {
      if (e.pointerType === "mouse") return;
      start = [e.clientX, e.clientY];
      timer = setTimeout(run, 550);
    });
    el.addEventListener("pointermove", (e) => {
      if (timer && start && Math.hypot(e.clientX - start[0], e.clientY - start[1]) > 10) clearTimeout(timer);
    });
    for (const type of ["pointerup", "pointercancel", "pointerleave"]) el.addEventListener(type, () => clearTimeout(timer));
  }

  // An invisible copy of the time and mark, as wide as they are, at the end of the text.
  function metaRoom(meta) {
    return h("span", { class: "meta-room", "aria-hidden": "true" }, ...[...meta.childNodes].map((n) => h("span", { text: n.textContent })));
  }

  function renderContent(conv, message) {
    if (message.kind === "image" && message.attachment) {
      const a = message.attachment;
      const thumb = safeUrl(a.thumbnail_url || a.url);
      const full = safeUrl(a.url);
      const size = fitThumb(a.width, a.height);
      return h("button", { type: "button", class: "thumb", "aria-label": _("Open image"), onclick: () => openLightbox(full) },
        h("img", { src: thumb, alt: message.body || _("Image"), width: size.w, height: size.h, loading: "lazy" }));
    }
    if (message.kind === "file" && message.attachment) return fileContent(message);
    return textContent(store, conv, message);
  }

  function fitThumb(width, height, max = 220) {
    const w = Number(width) || max;
    const hgt = Number(height) || max;
    const scale = Math.min(1, max / Math.max(w, hgt));
    return { w: Math.max(40, Math.round(w * scale)), h: Math.max(40, Math.round(hgt * scale)) };
  }

  function statusMark(view, message) {
    const conv = store.conversations.get(view.id);
    if (conv.kind === "direct" && message.seq <= (store.peerRead.get(conv.id) || 0)) {
      return h("span", { class: "status read", text: _("Read") });
    }
    return h("span", { class: "status sent", title: _("Sent"), "aria-label": _("Sent"), text: "✓" });
  }

  function refreshStatusMarks() {
    const view = current;
    if (!view) return;
    for (const li of $("messages").querySelectorAll("li.msg.mine")) {
      const message = view.messages.get(Number(li.dataset.seq));
      const old = li.querySelector(".meta .status");
      if (message && old) {
        old.replaceWith(statusMark(view, message));
        const room = li.querySelector(".meta-room");
        if (room) room.replaceWith(metaRoom(li.querySelector(".meta")));
      }
    }
  }

  function appendLive(view, message) {
    if (!view.atLatest) {
      // Far back in history: the newest messages come when the reader scrolls down or
      // presses "jump to the newest".
      updateJumps();
      return;
    }
    const atBottom = isAtBottom();
    const newest = newestSeq(view);
    if (!addMessage(view, message)) return;
    if (message.seq < newest) {
      renderTimeline(view); // arrived out of order (rare): redraw in seq order
    } else {
      const prev = view.messages.get(Math.max(0, ...[...view.messages.keys()].filter((s) => s < message.seq))) || null;
      $("messages").append(...separatorsBefore({ ...view, firstUnread: null }, message, prev), renderMessage(view, message, prev));
    }
    if (atBottom || message.sender.id === me.id) scrollToBottom();
    updateJumps();
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
    const view = current;
    if (!view) return;
    $("jump-bottom").hidden = isAtBottom() && view.atLatest;
    const divider = $("messages").querySelector(".unread-divider");
    const conv = store.conversations.get(view.id);
    const above = divider && divider.offsetTop < $("timeline").scrollTop;
    const unreadTarget = view.firstUnread && conv.unread > 0;
    $("jump-unread").hidden = !(above || (unreadTarget && !divider));
    const count = view.unreadOnOpen || conv.unread || 0;
    $("jump-unread").textContent = fmt(ngettext("↑ %(count)s new message", "↑ %(count)s new messages", count), { count });
  }

  async function jumpToFirstUnread() {
    const view = current;
    if (!view || !view.firstUnread) return;
    // Page back until the first unread message is loaded, then bring it into view.
    while (view.hasMore && oldestSeq(view) > view.firstUnread) {
      await loadOlder(view);
      if (view.loading) break;
    }
    $("messages").querySelector(".unread-divider")?.scrollIntoView({ block: "start" });
    updateJumps();
  }

  // --- jumping to a message ------------------------------------------------------------

  /** Scroll a loaded message (or, for a seq that is not a message, the next one) into view
   *  and highlight it; false when it is not loaded. */
  function showMessage(seq) {
    const view = current;
    if (!view || !view.messages.size) return false;
    const seqs = seqsOf(view);
    if (seq < seqs[0] && view.hasMore) return false;
    if (seq > seqs[seqs.length - 1] && !view.atLatest) return false;
    const target = seqs.find((s) => s >= seq) ?? seqs[seqs.length - 1];
    const li = $("messages").querySelector(`li[data-seq="${target}"]`);
    if (!li) return false;
    li.scrollIntoView({ block: "center" });
    li.classList.remove("flash");
    void li.offsetWidth; // restart the highlight if it is already running
    li.classList.add("flash");
    setTimeout(() => li.classList.remove("flash"), 2600);
    updateJumps();
    return true;
  }

  /** Show the message with this seq, loading older history or the page around it first. */
  async function jumpTo(seq) {
    const view = current;
    if (!view) return;
    if (showMessage(seq)) return;
    while (view.loading) await new Promise((r) => setTimeout(r, 50));
    if (current !== view) return;
    if (view.atLatest && view.messages.size && oldestSeq(view) - seq <= PAGE_BACK_LIMIT) {
      while (view.hasMore && oldestSeq(view) > seq) {
        await loadOlder(view);
        while (view.loading) await new Promise((r) => setTimeout(r, 50));
        if (current !== view) return;
      }
      if (showMessage(seq)) return;
    }
    await loadAround(view, seq);
  }

  $("jump-unread").addEventListener("click", jumpToFirstUnread);
  $("jump-bottom").addEventListener("click", () => {
    if (current && !current.atLatest) {
      loadLatest(current, { reset: true });
      return;
    }
    scrollToBottom();
    markReadIfSeen();
  });
  $("timeline").addEventListener("scroll", () => {
    maybeLoadOlder();
    updateJumps();
    closeMenu();
    closeReactors();
    if (isAtBottom()) {
      if (current && !current.atLatest) loadNewer(current);
      markReadIfSeen();
    }
  }, { passive: true });

  function markReadIfSeen() {
    const view = current;
    if (!view || view.loading || !view.atLatest || document.visibilityState !== "visible" || !isAtBottom() || $("chat-view").hidden) return;
    const conv = store.conversations.get(view.id);
    const newest = newestSeq(view);
    if (!newest) return;
    if (view.unreadOnOpen === undefined) view.unreadOnOpen = conv.unread || 0;
    const seq = Math.max(newest, conv.last_seq || 0);
    if (seq > (conv.last_read_seq || 0) || conv.unread || conv.mentioned) store.markRead(conv.id, seq);
  }
  document.addEventListener("visibilitychange", markReadIfSeen);
  window.addEventListener("focus", markReadIfSeen);

  // --- message actions ---------------------------------------------------------------

  const menu = h("div", { class: "msg-menu", role: "menu", id: "msg-menu", "aria-label": _("Message actions"), hidden: true });
  $("chat-view").append(menu);
  let menuFor = null;

  function canRecall(conv, message) {
    if (!isContent(message) || conv.is_active === false) return false;
    const mine = message.sender.id === me.id;
    if (mine && store.serverNow() - Date.parse(message.created_at) < store.limits.recall_seconds * 1000) return true;
    if (conv.kind !== "group") return false;
    const role = store.myRole(conv);
    if (role === "owner") return true;
    // An admin may recall plain members' (and the robot's) messages, as the server decides.
    const theirs = store.roleOf(conv, message.sender.id);
    return role === "admin" && !mine && (theirs === null || theirs === "member");
  }

  function canEdit(conv, message) {
    return message.sender.id === me.id && message.kind === "text" && !message.recalled && conv.is_active !== false
      && store.serverNow() - Date.parse(message.created_at) < store.limits.edit_seconds * 1000;
  }

  function menuItems(message) {
    const conv = store.conversations.get(current.id);
    const mine = message.sender.id === me.id;
    const active = conv.is_active !== false;
    const items = [];
    if (isContent(message) && active) items.push([_("Reply"), "reply", () => composer.reply(message)]);
    if (message.kind === "text" && !message.recalled && navigator.clipboard) {
      items.push([_("Copy text"), "copy", () => navigator.clipboard.writeText(message.body).then(() => toast(_("Copied")), () => {})]);
    }
    if (canEdit(conv, message)) items.push([_("Edit"), "edit", () => composer.edit(message)]);
    if (isContent(message)) {
      items.push([_("Forward"), "forward", () => forward([message])]);
      items.push([_("Select"), "select", () => startSelect(message)]);
    }
    if (canRecall(conv, message)) items.push([_("Recall"), "recall", () => recall(message), "danger"]);
    if (!mine && message.kind !== "system") items.push([_("Report"), "report", () => openReport(message)]);
    return items;
  }

  function reactionBar(message) {
    const conv = store.conversations.get(current.id);
    if (!isContent(message) || conv.is_active === false) return null;
    const bar = h("div", { class: "quick-reactions", role: "group", "aria-label": _("React") });
    for (const emoji of store.limits.reactions) {
      const row = (message.reactions || []).find((r) => r.emoji === emoji);
      const on = Boolean(row && row.users.includes(me.id));
      bar.append(h("button", {
        type: "button", role: "menuitemcheckbox", class: on ? "quick-reaction on" : "quick-reaction",
        "aria-checked": String(on), "aria-label": fmt(_("React with %(emoji)s"), { emoji }), dataset: { emoji },
        onclick: () => { closeMenu(); react(message, emoji, !on); },
      }, emoji));
    }
    return bar;
  }

  function openMenu(message, anchor) {
    if (!current) return;
    closeReactors();
    const items = menuItems(message);
    const bar = reactionBar(message);
    if (!items.length && !bar) return;
    menuFor = anchor;
    anchor.setAttribute("aria-expanded", "true");
    menu.replaceChildren(...[bar, ...items.map(([label, action, run, cls]) => h("button", {
      type: "button", role: "menuitem", class: cls ? `menu-item ${cls}` : "menu-item", dataset: { action },
      onclick: () => { closeMenu(); run(); },
    }, label))].filter(Boolean));
    menu.hidden = false;
    placeNear(menu, anchor);
    menu.querySelector(".menu-item, button")?.focus();
  }

  function placeNear(el, anchor) {
    const box = anchor.getBoundingClientRect();
    const host = $("chat-view").getBoundingClientRect();
    const below = box.bottom - host.top + 4;
    const top = below + el.offsetHeight > host.height - 8 ? box.top - host.top - el.offsetHeight - 4 : below;
    const left = Math.max(8, Math.min(box.left - host.left, host.width - el.offsetWidth - 8));
    el.style.top = `${Math.max(8, Math.min(top, host.height - el.offsetHeight - 8))}px`;
    el.style.left = `${left}px`;
  }

  function closeMenu() {
    if (menu.hidden) return;
    menu.hidden = true;
    const anchor = menuFor;
    menuFor = null;
    if (anchor) anchor.removeAttribute("aria-expanded");
    if (anchor && menu.contains(document.activeElement)) anchor.focus();
  }

  menu.addEventListener("keydown", (e) => {
    const buttons = [...menu.querySelectorAll("button")];
    const i = buttons.indexOf(document.activeElement);
    if (e.key === "Escape") {
      e.stopPropagation();
      closeMenu();
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp" || e.key === "ArrowRight" || e.key === "ArrowLeft") {
      e.preventDefault();
      const step = e.key === "ArrowDown" || e.key === "ArrowRight" ? 1 : buttons.length - 1;
      buttons[(i + step) % buttons.length]?.focus();
    }
  });
  document.addEventListener("pointerdown", (e) => {
    if (!menu.hidden && !menu.contains(e.target) && e.target !== menuFor) closeMenu();
    if (!reactors.hidden && !reactors.contains(e.target)) closeReactors();
  });

  // --- recall, react, re-edit -----------------------------------------------------------

  async function recall(message) {
    try {
      const text = message.sender.id === me.id && message.kind === "text" ? message.body : null;
      const target = await store.recall(message.id);
      if (text && target && target.recalled) {
        // The tombstone is drawn already (the change came first): redraw it with "Re-edit".
        recalledTexts.set(message.id, text);
        const held = current && current.messages.get(message.seq);
        if (held && held.id === message.id && held.recalled) rerender(current, message.seq);
      }
    } catch (err) {
      toast(changeError(err, "recall"), { error: true });
    }
  }

  function reEdit(message, text) {
    recalledTexts.delete(message.id);
    if (current && current.messages.get(message.seq)) rerender(current, message.seq);
    const input = $("composer-input");
    input.value = input.value ? `${input.value}\n${text}` : text;
    input.dispatchEvent(new Event("input"));
    input.focus();
  }

  async function react(message, emoji, on) {
    try {
      await store.react(message.id, emoji, on);
    } catch (err) {
      toast(changeError(err, "react"), { error: true });
    }
  }

  // Who reacted: a small list near the reaction (long press or right click on it).
  const reactors = h("div", { class: "reactors", id: "reactors", role: "dialog", "aria-label": _("Reactions"), hidden: true });
  $("chat-view").append(reactors);
  reactors.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.stopPropagation(); closeReactors(); } });

  function showReactors(message, anchor) {
    closeMenu();
    reactors.replaceChildren(...(message.reactions || []).map((r) => h("p", { class: "reactors-row" },
      h("span", { class: "reactors-emoji", text: r.emoji }),
      h("span", { class: "reactors-names", text: reactorNames(store, r).join(", ") }))),
    h("button", { type: "button", class: "btn small", onclick: closeReactors }, _("Close")));
    reactors.hidden = false;
    placeNear(reactors, anchor);
    reactors.querySelector("button").focus();
  }

  function closeReactors() {
    reactors.hidden = true;
  }

  /** A folded message from the store (a change, or the answer to ours): redraw it. */
  function applyChange(target) {
    const view = current;
    if (!view || !target || target.conversation !== view.id) return;
    const held = view.messages.get(target.seq);
    if (!held || held.id !== target.id) return;
    if ((held.change_seq || 0) > (target.change_seq || 0)) return;
    const reply = held.reply && target.reply && held.reply.recalled !== target.reply.recalled;
    if ((held.change_seq || 0) === (target.change_seq || 0) && !reply) return;
    view.messages.set(target.seq, target);
    rerender(view, target.seq);
    composer.messageChanged(target);
    if (selecting && target.recalled && selecting.delete(target.seq)) renderSelectBar();
  }

  // --- multi-select and forward ---------------------------------------------------------

  function selectBox(message) {
    if (!isContent(message)) return h("span", { class: "select-spacer", "aria-hidden": "true" });
    return h("input", {
      type: "checkbox", class: "select-box", checked: selecting.has(message.seq) || null,
      "aria-label": fmt(_("Select the message from %(name)s"), { name: message.sender.id === me.id ? _("You") : store.displayName(message.sender) }),
      onchange: () => toggleSelected(message),
    });
  }

  function startSelect(message) {
    selecting = new Set([message.seq]);
    composer.closePickers();
    redrawKeepingScroll();
    renderSelectBar();
  }

  function toggleSelected(message) {
    if (!selecting || !isContent(message)) return;
    if (selecting.has(message.seq)) selecting.delete(message.seq);
    else if (selecting.size >= store.limits.forward_max) {
      toast(fmt(_("You can forward at most %(count)s messages at once."), { count: store.limits.forward_max }), { error: true });
    } else selecting.add(message.seq);
    const box = $("messages").querySelector(`li[data-seq="${message.seq}"] .select-box`);
    if (box) box.checked = selecting.has(message.seq);
    renderSelectBar();
  }

  function endSelect() {
    if (!selecting) return;
    selecting = null;
    redrawKeepingScroll();
    renderSelectBar();
  }

  function redrawKeepingScroll() {
    if (!current) return;
    const t = $("timeline");
    const top = t.scrollTop;
    renderTimeline(current);
    t.scrollTop = top;
  }

  function renderSelectBar() {
    const bar = $("select-bar");
    bar.hidden = !selecting;
    $("chat-view").classList.toggle("selecting", Boolean(selecting));
    renderReadOnly();
    if (!selecting) return;
    const n = selecting.size;
    $("select-count").textContent = fmt(ngettext("%(count)s selected", "%(count)s selected", n), { count: n });
    $("select-forward").disabled = n === 0;
  }

  async function forward(messages) {
    const done = await forwardMessages(store, messages);
    if (done) endSelect();
  }

  $("select-forward").addEventListener("click", () => {
    if (!current || !selecting || !selecting.size) return;
    const messages = [...selecting].sort((a, b) => a - b).map((s) => current.messages.get(s)).filter((m) => m && isContent(m));
    forward(messages);
  });
  $("select-cancel").addEventListener("click", endSelect);

  // --- reporting ------------------------------------------------------------------------
  // A reason from a short list, optional words; the operators see it.

  let reporting = null;
  function openReport(message) {
    reporting = message;
    $("report-quote").textContent = `${store.displayName(message.sender)}: ${store.messageText(message)}`;
    $("report-error").textContent = "";
    $("report-details").value = "";
    $("report-form").querySelector("input[value=spam]").checked = true;
    $("report-dialog").showModal();
  }

  const REASONS = {
    spam: () => _("Spam or advertising"),
    abuse: () => _("Harassment or abuse"),
    illegal: () => _("Illegal or harmful content"),
    other: () => _("Something else"),
  };

  $("report-send").addEventListener("click", async (e) => {
    e.preventDefault();
    const message = reporting;
    if (!message) return;
    const choice = $("report-form").querySelector("input[name=reason]:checked").value;
    const details = $("report-details").value.trim();
    if (choice === "other" && !details) {
      $("report-error").textContent = _("Please say what is wrong with this message.");
      return;
    }
    const reason = details ? `${REASONS[choice]()}: ${details}` : REASONS[choice]();
    $("report-send").disabled = true;
    try {
      await store.api.report(message.id, reason);
      $("report-dialog").close();
      toast(_("Thank you. The operators will look at this message."));
    } catch (err) {
      $("report-error").textContent = errorText(err, _("The report was not sent. Please try again."));
    } finally {
      $("report-send").disabled = false;
    }
  });
  $("report-dialog").addEventListener("close", () => { reporting = null; });

  // --- pending (outbox) and uploads --------------------------------------------------

  function renderPending() {
    const view = current;
    const list = $("pending");
    if (!view || view.loading || !view.atLatest) {
      list.replaceChildren();
      return;
    }
    const wasAtBottom = isAtBottom();
    const items = [];
    for (const up of view.uploads) items.push(pendingBubble(up, up.state, up));
    for (const item of store.pending(view.id)) {
      if (view.messages.has(item.seq)) continue;
      items.push(pendingBubble(item, item.state, null));
    }
    list.replaceChildren(...items);
    if (wasAtBottom) scrollToBottom();
  }

  function pendingBubble(item, status, upload) {
    let content;
    if (item.kind === "image") {
      content = h("span", { class: "thumb" }, item.preview ? h("img", { src: item.preview, alt: _("Image"), width: 120, height: 120 }) : h("span", { text: _("[Image]") }));
    } else if (item.kind === "file") {
      const name = (upload && upload.name) || _("Document");
      content = h("span", { class: "file-card" }, h("span", { class: "file-icon", "aria-hidden": "true", text: "…" }),
        h("span", { class: "file-main" }, h("span", { class: "file-name", text: name })));
    } else {
      content = h("p", { class: "text", text: item.body });
    }
    const failed = status === "failed";
    const statusText = status === "uploading" ? _("Uploading…") : failed ? _("Not sent") : _("Sending…");
    const meta = h("span", { class: "meta" }, h("span", { class: `status ${status}`, text: statusText }));
    const bubble = h("div", { class: item.kind === "image" ? "bubble media" : item.kind === "file" ? "bubble file" : "bubble" }, content);
    if (item.kind !== "image") bubble.append(metaRoom(meta));
    bubble.append(meta);
    const li = h("li", { class: `msg mine pending-msg ${status}`, dataset: { clientId: item.id || "" } },
      h("span", { class: "avatar small", "aria-hidden": "true" }), h("div", { class: "msg-body" }, bubble));
    if (failed) {
      li.append(h("button", {
        type: "button", class: "retry", "aria-label": _("Retry sending"),
        onclick: () => (upload ? composer.retryUpload(upload) : store.retry(item.id)),
      }, "↻ ", _("Retry")));
    }
    fillAvatar(li.querySelector(".avatar"), { name: me.nickname || me.username, url: me.avatar, key: me.id });
    return li;
  }

  // --- lightbox ----------------------------------------------------------------------

  function openLightbox(url) {
    if (!url) return;
    $("lightbox-image").src = url;
    $("lightbox").showModal();
  }
  $("lightbox").addEventListener("click", (e) => {
    if (e.target === $("lightbox") || e.target === $("lightbox-image")) $("lightbox").close();
  });

  // --- what the store says -----------------------------------------------------------

  store.on("message", ({ message, conv }) => {
    const view = current && current.id === conv.id ? current : null;
    if (!view) return;
    if (view.loading) view.queued.push(message);
    else appendLive(view, message);
    renderPending();
    markReadIfSeen();
  });
  store.on("change", ({ target }) => applyChange(target));
  store.on("jump", ({ conversation }) => {
    if (current && current.id === conversation) {
      const jump = store.takeJump(conversation);
      if (jump) jumpTo(jump.seq);
    }
  });
  store.on("read", ({ conversation }) => {
    if (current && current.id === conversation) refreshStatusMarks();
  });
  store.on("outbox", renderPending);
  store.on("failed", ({ code, detail }) => {
    const reason = code === "content_blocked" ? _("This text is not allowed by the content filter. Please change it.") : detail || "";
    const text = fmt(_("A message was not sent: %(reason)s"), { reason });
    announce(text);
    toast(text, { error: true });
  });
  store.subscribe((topic) => {
    if (!current) return;
    if (topic === "typing" || topic === "presence") renderSubtitle();
    else if (topic === "conversations" || topic === "groups" || topic === "people") renderHeader();
    else if (topic === "members" && !current.loading) {
      // Mentions are highlighted by the members' names, which may only now be known.
      const conv = store.conversations.get(current.id);
      if (conv.kind === "group") redrawKeepingScroll();
    }
  });

  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || !current || document.querySelector("dialog[open]")) return;
    if (!menu.hidden || !reactors.hidden || composer.pickerOpen) return;
    if (selecting) {
      endSelect();
      return;
    }
    if (composer.busy) {
      composer.cancel();
      return;
    }
    if (currentRoute().name === "chat" && window.matchMedia("(max-width: 600px)").matches) back();
  });

  return { open, close, isSeen, jumpTo, get current() { return current; } };
}
