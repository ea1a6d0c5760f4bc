// The chat screen: header, timeline, composer, emoji, images, message actions.
// Hand-written DOM (the timeline keeps the reader's scroll position while history loads
// above it); it reads the store and talks to the server only through it.
import { _, fillAvatar, fmt, h, ngettext, safeUrl } from "../dom.js";
import { EmojiPicker } from "../emoji.js";
import { errorText } from "../shell/api.js";
import { dayKey, dayLabel, isBot, timeFmt } from "../shell/format.js";
import { announce, previewText } from "../shell/notify.js";
import { back } from "../shell/router.js";
import { toast } from "../shell/ui.js";

const $ = (id) => document.getElementById(id);
const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];

export function createChatScreen({ store, emojiUrl, currentRoute }) {
  const me = store.me;
  const input = $("composer-input");
  let current = null; // the open conversation's view

  // --- open / close ------------------------------------------------------------------

  function open(id) {
    if (current && current.id === id) {
      renderHeader();
      return;
    }
    const conv = store.conversations.get(id);
    const view = {
      id,
      messages: new Map(), // seq -> Message
      loading: true,
      hasMore: true,
      queued: [],
      firstUnread: (conv.unread || 0) > 0 ? (conv.last_read_seq || 0) + 1 : null,
      uploads: [],
    };
    current = view;
    $("placeholder").hidden = true;
    $("chat-view").hidden = false;
    $("messages").replaceChildren();
    $("pending").replaceChildren();
    $("history-status").textContent = _("Loading…");
    closeMenu();
    picker.close();
    renderHeader();
    if (conv.kind === "group" && conv.group) store.loadGroup(conv.group);
    loadLatest(view);
    if (window.matchMedia("(min-width: 601px)").matches) input.focus({ preventScroll: true });
  }

  function close() {
    current = null;
    $("chat-view").hidden = true;
    closeMenu();
  }

  function isSeen(conversationId) {
    return Boolean(current && current.id === conversationId && document.visibilityState === "visible"
      && !$("chat-view").hidden && isAtBottom());
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
    $("composer").hidden = readOnly;
    $("read-only").hidden = !readOnly;
    if (!readOnly) return;
    picker.close();
    const reason = conv.left_reason;
    $("read-only").textContent = reason === "removed"
      ? _("You were removed from this group. You can read its history but not send.")
      : reason === "dissolved"
        ? _("This group was dissolved. You can read its history but not send.")
        : _("You are no longer a member of this group. You can read its history but not send.");
  }

  // --- history -----------------------------------------------------------------------

  async function loadLatest(view) {
    let page;
    try {
      page = await store.history(view.id, { limit: 30 });
    } catch {
      if (current === view) $("history-status").textContent = _("Could not load messages.");
      return;
    }
    if (current !== view) return;
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
      page = await store.history(view.id, { before: oldest, limit: 30 });
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

  function maybeLoadOlder() {
    const view = current;
    if (view && !view.loading && view.hasMore && $("timeline").scrollTop < 200) loadOlder(view);
  }

  // --- timeline ----------------------------------------------------------------------

  function renderTimeline(view) {
    const seqs = [...view.messages.keys()].sort((a, b) => a - b);
    const items = [];
    let prev = null;
    for (const seq of seqs) {
      const message = view.messages.get(seq);
      items.push(...separatorsBefore(view, message, prev));
      items.push(renderMessage(view, message, prev));
      prev = message;
    }
    $("messages").replaceChildren(...items);
    $("history-status").textContent = view.hasMore ? "" : _("This is the beginning of the conversation.");
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
    const seqs = [...view.messages.keys()].filter((s) => s >= view.firstUnread).sort((a, b) => a - b);
    return seqs.find((s) => view.messages.get(s).sender.id !== me.id) ?? null;
  }

  function renderMessage(view, message, prev) {
    const conv = store.conversations.get(view.id);
    const mine = message.sender && message.sender.id === me.id;
    if (message.kind === "system") {
      return h("li", { class: "system-message", dataset: { seq: String(message.seq) } }, h("span", { text: message.body }));
    }
    const grouped = prev && prev.sender.id === message.sender.id && prev.kind !== "system"
      && new Date(message.created_at) - new Date(prev.created_at) < 5 * 60000
      && dayKey(new Date(prev.created_at)) === dayKey(new Date(message.created_at));
    const bot = isBot(message.sender) || (conv.kind === "robot" && !mine);
    const name = mine ? _("You") : store.displayName(message.sender);
    const avatar = fillAvatar(h("span", { class: "avatar small", "aria-hidden": "true" }),
      { name: store.displayName(message.sender), url: message.sender.avatar, key: message.sender.id, bot });
    const li = h("li", {
      class: `msg ${mine ? "mine" : "theirs"}${grouped ? " grouped" : ""}`,
      dataset: { seq: String(message.seq), clientId: message.client_id || "" },
    });
    const bubble = h("div", { class: "bubble" });
    if (conv.kind === "group" && !mine && !grouped) {
      bubble.append(h("span", { class: "sender" }, h("span", { text: name }), bot ? h("span", { class: "bot-badge", text: _("Bot") }) : null));
    }
    const time = h("time", { datetime: message.created_at, text: timeFmt.format(new Date(message.created_at)) });
    const meta = h("span", { class: "meta" }, time);
    if (mine) meta.append(statusMark(view, message));
    if (message.kind === "image") {
      bubble.classList.add("media");
      bubble.append(renderContent(message), meta);
    } else {
      // The time sits on the text's last line (a hidden copy keeps room for it there).
      bubble.append(renderContent(message), metaRoom(meta), meta);
    }
    const actions = h("button", {
      type: "button", class: "msg-more", "aria-label": _("Message actions"), "aria-haspopup": "menu",
      onclick: (e) => openMenu(message, e.currentTarget),
    }, "⋯");
    li.append(h("span", { class: "visually-hidden", text: `${name}: ` }), avatar, bubble, actions);
    bubble.addEventListener("contextmenu", (e) => {
      e.preventDefault();
      openMenu(message, actions);
    });
    return li;
  }

  // An invisible copy of the time and mark, as wide as they are, at the end of the text.
  function metaRoom(meta) {
    return h("span", { class: "meta-room", "aria-hidden": "true" }, ...[...meta.childNodes].map((n) => h("span", { text: n.textContent })));
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
    const atBottom = isAtBottom();
    const seqs = [...view.messages.keys()];
    const newest = seqs.length ? Math.max(...seqs) : 0;
    if (!addMessage(view, message)) return;
    if (message.seq < newest) {
      renderTimeline(view); // arrived out of order (rare): redraw in seq order
    } else {
      const prev = view.messages.get(Math.max(0, ...seqs.filter((s) => s < message.seq))) || null;
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
    $("jump-bottom").hidden = isAtBottom();
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
    closeMenu();
    if (isAtBottom()) markReadIfSeen();
  }, { passive: true });

  function markReadIfSeen() {
    const view = current;
    if (!view || view.loading || document.visibilityState !== "visible" || !isAtBottom() || $("chat-view").hidden) return;
    const conv = store.conversations.get(view.id);
    const seqs = [...view.messages.keys()];
    const newest = seqs.length ? Math.max(...seqs) : 0;
    if (!newest) return;
    if (view.unreadOnOpen === undefined) view.unreadOnOpen = conv.unread || 0;
    if (newest > (conv.last_read_seq || 0) || conv.unread) store.markRead(conv.id, newest);
  }
  document.addEventListener("visibilitychange", markReadIfSeen);
  window.addEventListener("focus", markReadIfSeen);

  // --- message actions ---------------------------------------------------------------
  // One menu for every message; recall, edit, reply and reactions join it later.

  const menu = h("div", { class: "msg-menu", role: "menu", id: "msg-menu", hidden: true });
  $("chat-view").append(menu);
  let menuFor = null;

  function menuItems(message) {
    const mine = message.sender.id === me.id;
    const items = [];
    if (message.kind === "text" && navigator.clipboard) {
      items.push([_("Copy text"), "copy", () => navigator.clipboard.writeText(message.body).then(() => toast(_("Copied")), () => {})]);
    }
    if (!mine && message.kind !== "system") items.push([_("Report"), "report", () => openReport(message)]);
    return items;
  }

  function openMenu(message, anchor) {
    const items = menuItems(message);
    if (!items.length) return;
    menuFor = anchor;
    menu.replaceChildren(...items.map(([label, action, run]) => h("button", {
      type: "button", role: "menuitem", class: "menu-item", dataset: { action },
      onclick: () => { closeMenu(); run(); },
    }, label)));
    menu.hidden = false;
    const box = anchor.getBoundingClientRect();
    const host = $("chat-view").getBoundingClientRect();
    const top = Math.min(box.bottom - host.top + 4, host.height - menu.offsetHeight - 8);
    const left = Math.max(8, Math.min(box.left - host.left, host.width - menu.offsetWidth - 8));
    menu.style.top = `${Math.max(8, top)}px`;
    menu.style.left = `${left}px`;
    menu.querySelector("button")?.focus();
  }

  function closeMenu() {
    if (menu.hidden) return;
    menu.hidden = true;
    const anchor = menuFor;
    menuFor = null;
    if (anchor && menu.contains(document.activeElement)) anchor.focus();
  }

  menu.addEventListener("keydown", (e) => {
    const buttons = [...menu.querySelectorAll("button")];
    const i = buttons.indexOf(document.activeElement);
    if (e.key === "Escape") {
      e.stopPropagation();
      closeMenu();
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      buttons[(i + (e.key === "ArrowDown" ? 1 : buttons.length - 1)) % buttons.length]?.focus();
    }
  });
  document.addEventListener("pointerdown", (e) => {
    if (!menu.hidden && !menu.contains(e.target) && e.target !== menuFor) closeMenu();
  });

  // Reporting: a reason from a short list, optional words; the operators see it.
  let reporting = null;
  function openReport(message) {
    reporting = message;
    $("report-quote").textContent = `${store.displayName(message.sender)}: ${previewText(message)}`;
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
    if (!view || view.loading) {
      list.replaceChildren();
      return;
    }
    const wasAtBottom = isAtBottom();
    const items = [];
    for (const up of view.uploads) items.push(pendingBubble(up.preview ? { kind: "image", preview: up.preview } : up, up.state, up));
    for (const item of store.pending(view.id)) {
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
    const bubble = h("div", { class: item.kind === "image" ? "bubble media" : "bubble" }, content);
    if (item.kind !== "image") bubble.append(metaRoom(meta));
    bubble.append(meta);
    const li = h("li", { class: `msg mine pending-msg ${status}`, dataset: { clientId: item.id || "" } },
      h("span", { class: "avatar small", "aria-hidden": "true" }), bubble);
    if (failed) {
      li.append(h("button", {
        type: "button", class: "retry", "aria-label": _("Retry sending"),
        onclick: () => (upload ? retryUpload(upload) : store.retry(item.id)),
      }, "↻ ", _("Retry")));
    }
    fillAvatar(li.querySelector(".avatar"), { name: me.nickname || me.username, url: me.avatar, key: me.id });
    return li;
  }

  // --- composer ----------------------------------------------------------------------

  function sendText() {
    const view = current;
    const body = input.value.trim();
    if (!view || !body) return;
    store.send({ conversation: view.id, kind: "text", body });
    input.value = "";
    autosize();
    picker.close();
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
    if (current && input.value.trim()) store.typing(current.id);
  });

  const picker = new EmojiPicker({
    root: $("emoji-picker"),
    toggle: $("emoji-toggle"),
    dataUrl: emojiUrl,
    onPick(emoji) {
      const start = input.selectionStart ?? input.value.length;
      const end = input.selectionEnd ?? input.value.length;
      input.setRangeText(emoji, start, end, "end");
      input.focus();
      autosize();
    },
  });

  // Images: button, paste and drag-and-drop all lead to the same preview dialog.
  let previewFile = null;

  function offerImage(file) {
    if (!file || !current) return;
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
    $("preview-dialog").showModal();
  }

  $("preview-dialog").addEventListener("close", () => {
    const dialog = $("preview-dialog");
    if (dialog.returnValue === "send" && previewFile && current) {
      startUpload(current, previewFile, $("preview-image").src);
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
    if (current && store.conversations.get(current.id).is_active !== false) offerImage([...(e.dataTransfer?.files || [])][0]);
  });

  async function startUpload(view, file, preview) {
    const upload = { id: `upload-${Date.now()}-${Math.random()}`, file, preview, state: "uploading", kind: "image" };
    view.uploads.push(upload);
    renderPending();
    scrollToBottom();
    await runUpload(view, upload);
  }

  async function runUpload(view, upload) {
    try {
      const result = await store.api.uploadImage(upload.file);
      view.uploads = view.uploads.filter((u) => u !== upload);
      store.send({ conversation: view.id, kind: "image", body: "", attachment: result.id, preview: upload.preview });
    } catch (err) {
      upload.state = "failed";
      announce(fmt(_("The image was not sent: %(reason)s"), { reason: (err && err.detail) || _("upload failed") }));
    }
    if (current === view) renderPending();
  }

  function retryUpload(upload) {
    const view = current;
    if (!view) return;
    upload.state = "uploading";
    renderPending();
    runUpload(view, upload);
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
  store.on("read", ({ conversation }) => {
    if (current && current.id === conversation) refreshStatusMarks();
  });
  store.on("outbox", renderPending);
  store.on("failed", ({ detail }) => announce(fmt(_("A message was not sent: %(reason)s"), { reason: detail || "" })));
  store.subscribe((topic) => {
    if (!current) return;
    if (topic === "typing" || topic === "presence") renderSubtitle();
    else if (topic === "conversations" || topic === "groups" || topic === "people") renderHeader();
  });

  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || !current || document.querySelector("dialog[open]")) return;
    if (!menu.hidden || !$("emoji-picker").hidden) return;
    if (currentRoute().name === "chat" && window.matchMedia("(max-width: 600px)").matches) back();
  });

  return { open, close, isSeen, get current() { return current; } };
}
