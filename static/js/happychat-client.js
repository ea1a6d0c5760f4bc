// HappyChat JavaScript SDK: one client core for browsers, WeChat mini-programs and Node.
//
// The wire contract it implements is docs/protocol.md (version in PROTOCOL_VERSION); the
// SDK's own guide is static/js/README.md and its types are happychat-client.d.ts.
// No runtime dependency: platform parts (socket, HTTP, upload, storage, timers, ids,
// network/app signals) come in through an adapter chosen by the caller —
// browserAdapter(), wechatAdapter({wx}) or nodeAdapter({WebSocket}) below. UI code
// subscribes with on(type, fn) and calls methods; it never touches the socket.
//
// What the core guarantees (docs/protocol.md §3): sends wait in a persisted outbox and
// are retried with the same client id until acked (so never stored twice); `message`
// events come once per (conversation, seq), in order, gaps repaired through `sync`;
// reconnects back off 1 s doubling to 30 s with jitter; a ping heartbeat detects dead
// sockets; the platform's "network back" / "app in front" signals reconnect at once.
//
// Events emitted (detail objects):
//   status   {status: "connecting"|"open"|"reconnecting"|"closed", attempt}
//   hello    {user, heartbeat, limits}
//   message  {message, live}      each stored message exactly once, in seq order per conversation
//                                  (change entries excepted: they come as `change`)
//   change   {entry, target, live} a recall/edit/reaction entry (docs/protocol.md §11) and the
//                                  message it changed, folded (target null if not held);
//                                  entry null when an ack or REST answer brought a new state
//   outbox   {items}              the unacked messages changed (state "sending" | "failed")
//   read     {conversation, user, seq}
//   typing   {conversation, user}
//   presence {user, online}
//   event    {event, data}
//   synced   {cursors, has_more}
//   error    {code, detail, ref?}  errors that do not belong to an outbox item
//   failed   {item, code, detail}  an outbox item the server refused for good
//   unauthenticated {code}         the server closed with 4001/4003: log in again

/** The docs/protocol.md version this SDK implements. */
export const PROTOCOL_VERSION = "1.13";

const CLOSE_UNAUTHENTICATED = 4001;
const CLOSE_REVOKED = 4003;
const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const DEFAULT_HEARTBEAT_S = 25;
// A retry of an unacked send after this long; idempotent on the server by client id.
const RESEND_AFTER_MS = 8000;
const TYPING_THROTTLE_MS = 3000;
// After the app comes back or the network returns, a socket that does not answer a ping
// within this long is taken for dead (the platform may have dropped it silently).
const PROBE_MS = 3000;
// Errors after which resending the same frame can never succeed.
// (docs/protocol.md §2.4: everything but rate_limited, busy and unauthenticated.)
const PERMANENT_ERRORS = new Set([
  "invalid_frame", "too_large", "not_member", "not_friends", "not_found",
  "content_blocked", "invalid_attachment", "unknown_type", "permission_denied", "conflict",
]);

/** Message kinds that change an earlier message instead of adding one (docs/protocol.md §11). */
export const CHANGE_KINDS = new Set(["recall", "edit", "reaction"]);
/** What the server allows, until its `hello.limits` says otherwise (docs/protocol.md §2.3, §9). */
export const DEFAULT_LIMITS = Object.freeze({
  recall_seconds: 120,
  edit_seconds: 86400,
  text_max_chars: 5000,
  image_max_bytes: 10 * 1024 * 1024,
  file_max_bytes: 20 * 1024 * 1024,
  forward_max: 50,
  reactions: ["👍", "❤️", "😂", "😮", "😢", "🙏"],
});
// Folded messages kept for folding changes into; the oldest are forgotten past this.
const MAX_HELD_MESSAGES = 5000;

/**
 * Fold change entry `entry` into message `target`: the new target, or null when the entry
 * is not about it or is already included (entry.seq <= target.change_seq), so entries may
 * come in any order and any number of times (docs/message-changes.md).
 */
export function foldChange(target, entry) {
  if (!target || !entry || entry.target !== target.id) return null;
  if (entry.seq <= (target.change_seq || 0)) return null;
  const next = { ...target, change_seq: entry.seq };
  if (entry.kind === "recall") {
    const byAdmin = entry.data && entry.data.by === "admin" && entry.sender;
    Object.assign(next, { recalled: true, recalled_by: byAdmin ? entry.sender.id : null, body: "", attachment: null, reactions: [] });
  } else if (entry.kind === "edit") {
    Object.assign(next, { body: entry.body, edited: true });
  } else if (entry.kind === "reaction") {
    const { emoji, on } = entry.data || {};
    const who = entry.sender && entry.sender.id;
    const reactions = (target.reactions || []).map((r) => ({ ...r, users: [...r.users] }));
    let row = reactions.find((r) => r.emoji === emoji);
    if (!row && on) reactions.push((row = { emoji, count: 0, users: [] }));
    if (row) {
      row.users = row.users.filter((u) => u !== who);
      if (on) row.users.push(who);
      row.count = row.users.length;
    }
    next.reactions = reactions.filter((r) => r.count > 0);
  } else {
    return null;
  }
  return next;
}

/** Delay before reconnect attempt `attempt` (0-based): 1 s doubling to 30 s, with jitter. */
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** attempt);
  // "Equal jitter": at least half the ceiling, so a crowd of clients spreads out but
  // nobody hammers the server at once.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** A tiny EventTarget-like emitter that also works where EventTarget does not exist. */
export class Emitter {
  constructor() {
    this._listeners = new Map();
  }

  on(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
    return () => this.off(type, fn);
  }

  off(type, fn) {
    this._listeners.get(type)?.delete(fn);
  }

  emit(type, detail) {
    for (const fn of [...(this._listeners.get(type) || [])]) {
      try {
        fn(detail);
      } catch (err) {
        // One broken subscriber must not stop delivery to the others.
        console.error(err);
      }
    }
  }
}

export class HappyChatClient extends Emitter {
  /**
   * @param {object} options
   * @param {object} options.adapter  platform parts: browserAdapter(), wechatAdapter() or
   *   nodeAdapter() (or your own with the same members, see happychat-client.d.ts)
   * @param {string} [options.url]    the WebSocket URL (default: the adapter's socketUrl)
   * @param {string} [options.token]  an API token (sent as a header where the platform can,
   *   else as the first `auth` frame); without one the browser's session cookie is used
   * @param {string} [options.storageKey]  namespace for the persisted outbox (and cursors)
   * @param {boolean} [options.persistCursors]  keep the per-conversation cursors in storage,
   *   so a restarted app syncs only what it lacks (for apps that keep the messages too)
   */
  constructor({ adapter, url = null, token = null, storageKey = "happychat", persistCursors = false }) {
    super();
    this.adapter = adapter;
    this.url = url || adapter.socketUrl || null;
    this.token = token;
    this.storageKey = `${storageKey}.outbox`;
    this.cursorKey = `${storageKey}.cursors`;
    this.persistCursors = persistCursors;
    this.offline = false;
    /** Typed REST helpers (docs/protocol.md §6), authenticated like this client. */
    this.api = new HappyChatApi({ adapter, token: () => this.token, onToken: (t) => this.setToken(t) });
    this.status = "closed";
    this.user = null;
    this.heartbeat = DEFAULT_HEARTBEAT_S;
    /** The server's limits a UI needs (recall/edit windows, sizes, reactions): from `hello`. */
    this.limits = { ...DEFAULT_LIMITS };
    /** Milliseconds to add to this device's clock to get the server's (from `hello`). */
    this.clockOffset = 0;
    this.socket = null;
    this.attempt = 0;
    this.cursors = this._loadCursors(); // conversation id -> newest contiguous seq held
    this.held = new Map(); // conversation id -> Map(seq -> message) waiting for a gap to fill
    this.outbox = this._loadOutbox();
    this.syncing = false;
    this.syncAgain = false;
    this.lastReceived = 0;
    this.lastTyping = new Map();
    this.messages = new Map(); // message id -> folded message (for folding changes into)
    this._changes = new Map(); // frame id -> {resolve, reject} of recall/edit/react calls
    this._timers = { reconnect: null, ping: null, dead: null, resend: null };
    this._wantOpen = false;
  }

  // --- lifecycle ---------------------------------------------------------------------

  /** Open the socket (and keep it open, reconnecting, until close()). */
  connect() {
    this._wantOpen = true;
    if (this.socket) return;
    this._open();
  }

  /** Close for good: no reconnect. */
  close() {
    this._wantOpen = false;
    this._clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      this._detach(socket);
      try { socket.close(1000); } catch { /* already closed */ }
    }
    this._setStatus("closed");
  }

  /** Use this token from now on (after logging in); an open socket keeps its identity. */
  setToken(token) {
    this.token = token || null;
  }

  /** The network came back or the app is in front again: probe or reconnect now. */
  wake() {
    this.offline = false;
    if (!this._wantOpen) return;
    if (!this.socket) {
      this.adapter.clearTimeout(this._timers.reconnect);
      this._timers.reconnect = null;
      this.attempt = 0;
      this._open();
      return;
    }
    if (this.status === "open") this._ping(PROBE_MS);
  }

  /** The platform says the network is gone: drop the socket; reconnect when it returns. */
  networkLost() {
    this.offline = true;
    // The socket may have closed (and a retry been scheduled) before the platform said so.
    this.adapter.clearTimeout(this._timers.reconnect);
    this._timers.reconnect = null;
    if (this.socket) this._drop();
  }

  _open() {
    this._setStatus(this.attempt === 0 && !this.user ? "connecting" : "reconnecting");
    let socket;
    try {
      socket = this.adapter.createSocket(this.url, { token: this.token });
    } catch {
      this._scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      // A token the adapter could not put in a header goes in the first frame.
      if (this.token && !socket.headerAuth) this._send({ type: "auth", token: this.token });
    };
    socket.onmessage = (ev) => this._receive(ev.data);
    socket.onclose = (ev) => this._closed(socket, ev && ev.code);
    socket.onerror = () => { /* a close event follows */ };
  }

  _detach(socket) {
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
  }

  _closed(socket, code) {
    if (socket !== this.socket) return;
    this._detach(socket);
    this.socket = null;
    this._clearTimers();
    this.syncing = false;
    // A change frame without its ack may or may not have been stored: the caller retries
    // (recall and `on`-reactions are idempotent; the state arrives through sync anyway).
    for (const { reject } of this._changes.values()) {
      reject(new HappyChatError({ code: "network", detail: "The connection closed.", retryable: true }));
    }
    this._changes.clear();
    if (code === CLOSE_UNAUTHENTICATED || code === CLOSE_REVOKED) {
      this._wantOpen = false;
      this._setStatus("closed");
      this.emit("unauthenticated", { code });
      return;
    }
    if (this._wantOpen) this._scheduleReconnect();
    else this._setStatus("closed");
  }

  /** Abandon a socket we believe dead and reconnect. */
  _drop() {
    const socket = this.socket;
    if (!socket) return;
    try { socket.close(4000); } catch { /* ignore */ }
    this._closed(socket, 4000);
  }

  _scheduleReconnect() {
    this._setStatus("reconnecting");
    // Offline: trying is pointless; wake() reconnects as soon as the network is back.
    if (this.offline) return;
    const delay = backoffDelay(this.attempt, this.adapter.random);
    this.attempt += 1;
    this.adapter.clearTimeout(this._timers.reconnect);
    this._timers.reconnect = this.adapter.setTimeout(() => {
      this._timers.reconnect = null;
      if (this._wantOpen && !this.socket) this._open();
    }, delay);
  }

  _clearTimers() {
    for (const key of Object.keys(this._timers)) {
      this.adapter.clearTimeout(this._timers[key]);
      this._timers[key] = null;
    }
  }

  _setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.emit("status", { status, attempt: this.attempt });
  }

  // --- heartbeat ---------------------------------------------------------------------

  _schedulePing() {
    this.adapter.clearTimeout(this._timers.ping);
    this._timers.ping = this.adapter.setTimeout(() => this._ping(), this.heartbeat * 1000);
  }

  _ping(probeMs = null) {
    if (!this.socket || this.status !== "open") return;
    const sentAt = this.adapter.now();
    this._send({ type: "ping" });
    this._schedulePing();
    // Dead-socket detection: any frame after the ping proves the socket alive.
    this.adapter.clearTimeout(this._timers.dead);
    const waitMs = probeMs || Math.min(10000, Math.max(2000, this.heartbeat * 400));
    this._timers.dead = this.adapter.setTimeout(() => {
      if (this.lastReceived < sentAt) this._drop();
    }, waitMs);
  }

  // --- inbound -----------------------------------------------------------------------

  _receive(raw) {
    this.lastReceived = this.adapter.now();
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    switch (frame.type) {
      case "hello": return this._onHello(frame);
      case "pong": return undefined;
      case "ack": return this._onAck(frame);
      case "message": return this._applyMessage(frame.message, true);
      case "synced": return this._onSynced(frame);
      case "read":
        return this.emit("read", { conversation: frame.conversation, user: frame.user, seq: frame.seq });
      case "typing": return this.emit("typing", { conversation: frame.conversation, user: frame.user });
      case "presence": return this.emit("presence", { user: frame.user, online: frame.online });
      case "event":
        // "resync": the server may have missed pushing live frames (its Redis was away).
        if (frame.event === "resync") this.sync();
        return this.emit("event", { event: frame.event, data: frame.data || {} });
      case "error": return this._onError(frame);
      default: return undefined;
    }
  }

  _onHello(frame) {
    this.user = frame.user;
    this.heartbeat = Number(frame.heartbeat) > 0 ? Number(frame.heartbeat) : DEFAULT_HEARTBEAT_S;
    if (frame.limits && typeof frame.limits === "object") this.limits = { ...DEFAULT_LIMITS, ...frame.limits };
    const serverTime = Date.parse(frame.server_time);
    if (Number.isFinite(serverTime)) this.clockOffset = serverTime - Date.now();
    this.attempt = 0;
    this._setStatus("open");
    this.emit("hello", { user: frame.user, heartbeat: this.heartbeat, limits: this.limits });
    this._schedulePing();
    this.sync();
    this._flushOutbox(true);
  }

  _onAck(frame) {
    this._removeFromOutbox(frame.id);
    if (frame.message) this._applyMessage(frame.message, true);
    if (frame.target) this._learn(frame.target, true);
    const pending = this._changes.get(frame.id);
    if (pending) {
      this._changes.delete(frame.id);
      pending.resolve(this.message(frame.target.id) || frame.target);
    }
  }

  _onError(frame) {
    const pending = frame.ref != null ? this._changes.get(frame.ref) : null;
    if (pending) {
      this._changes.delete(frame.ref);
      pending.reject(new HappyChatError({ code: frame.code, detail: frame.detail, retryable: !!frame.retryable, body: frame }));
      return;
    }
    const item = frame.ref != null ? this.outbox.find((i) => i.id === frame.ref) : null;
    if (!item) {
      this.emit("error", { code: frame.code, detail: frame.detail, ref: frame.ref });
      return;
    }
    if (frame.retryable || !PERMANENT_ERRORS.has(frame.code)) {
      // busy / rate_limited: nothing stored; the resend timer tries again.
      item.sentAt = this.adapter.now();
      return;
    }
    item.state = "failed";
    item.error = frame.code;
    this._saveOutbox();
    this._emitOutbox();
    this.emit("failed", { item: { ...item }, code: frame.code, detail: frame.detail });
  }

  /** Deliver a stored message once and in order; hold it if an earlier seq is missing. */
  _applyMessage(message, live) {
    if (!message || message.conversation == null || message.seq == null) return;
    const conv = message.conversation;
    if (this.user && message.sender && message.sender.id === this.user.id && message.client_id) {
      this._removeFromOutbox(message.client_id);
    }
    const cursor = this.cursors.get(conv);
    if (cursor === undefined) {
      // A conversation we hold nothing of: this message is where our copy starts.
      this._deliver(message, live);
      return;
    }
    if (message.seq <= cursor) return; // seen already: dedupe by (conversation, seq)
    if (message.seq > cursor + 1) {
      if (!this.held.has(conv)) this.held.set(conv, new Map());
      this.held.get(conv).set(message.seq, message);
      this.sync();
      return;
    }
    this._deliver(message, live);
    this._drainHeld(conv, live);
  }

  _deliver(message, live) {
    this.cursors.set(message.conversation, message.seq);
    this._saveCursors();
    if (CHANGE_KINDS.has(message.kind)) {
      this._fold(message, live);
      return;
    }
    this._remember(message);
    this.emit("message", { message, live });
  }

  // --- folded messages (docs/protocol.md §11) ----------------------------------------

  /** The folded state of a message this client holds (delivered, from history or acks). */
  message(id) {
    return this.messages.get(id) || null;
  }

  /**
   * Keep messages loaded elsewhere (REST history, search) so later changes fold into them;
   * a copy that is older than the one held (lower change_seq) is ignored. Returns the
   * folded messages, in the order given.
   */
  remember(messages) {
    return (messages || []).map((m) => this._learn(m, false) || m);
  }

  _remember(message) {
    if (!message || message.id == null || CHANGE_KINDS.has(message.kind)) return;
    this.messages.delete(message.id);
    this.messages.set(message.id, message);
    while (this.messages.size > MAX_HELD_MESSAGES) this.messages.delete(this.messages.keys().next().value);
  }

  /** Take a folded copy from the server if it is at least as new as ours; emit `change` if it is newer. */
  _learn(message, announce) {
    if (!message || message.id == null || CHANGE_KINDS.has(message.kind)) return null;
    const held = this.messages.get(message.id);
    if (held && (held.change_seq || 0) >= (message.change_seq || 0)) return held;
    this._remember(message);
    if (held && announce) this.emit("change", { entry: null, target: message, live: true });
    return message;
  }

  _fold(entry, live) {
    const held = this.messages.get(entry.target);
    const target = foldChange(held, entry);
    if (!target) {
      if (!held) this.emit("change", { entry, target: null, live });
      return;
    }
    this._remember(target);
    this.emit("change", { entry, target, live });
    if (entry.kind !== "recall") return;
    // Quotes of a recalled message show it recalled.
    for (const m of [...this.messages.values()]) {
      if (m.reply && m.reply.id === target.id && !m.reply.recalled) {
        const quoting = { ...m, reply: { ...m.reply, recalled: true, body: "" } };
        this._remember(quoting);
        this.emit("change", { entry, target: quoting, live });
      }
    }
  }

  /** Recall a message → Promise of the folded message (docs/protocol.md §11). */
  recall(messageId) {
    return this._change({ type: "recall", message: messageId }, () => this.api.recall(messageId));
  }

  /** Edit your text message → Promise of the folded message. */
  edit(messageId, body) {
    return this._change({ type: "edit", message: messageId, body }, () => this.api.edit(messageId, body));
  }

  /** Set (`on` true/false) or toggle (`on` omitted) your reaction → Promise of the folded message. */
  react(messageId, emoji, on = undefined) {
    const frame = { type: "react", message: messageId, emoji };
    if (on !== undefined) frame.on = on;
    return this._change(frame, () => this.api.react(messageId, emoji, on));
  }

  _change(frame, overRest) {
    if (this.status !== "open") {
      // No socket: the same service over REST; the entry itself comes with the next sync.
      return overRest().then((target) => this._learn(target, true) || target);
    }
    const id = this.adapter.uuid();
    return new Promise((resolve, reject) => {
      this._changes.set(id, { resolve, reject });
      this._send({ ...frame, id });
    });
  }

  _drainHeld(conv, live) {
    const held = this.held.get(conv);
    if (!held) return;
    let next = this.cursors.get(conv) + 1;
    while (held.has(next)) {
      const msg = held.get(next);
      held.delete(next);
      this._deliver(msg, live);
      next += 1;
    }
    for (const seq of [...held.keys()]) if (seq < next) held.delete(seq);
    if (held.size === 0) this.held.delete(conv);
  }

  _onSynced(frame) {
    this.syncing = false;
    const cursors = frame.cursors || {};
    const hasMore = frame.has_more || [];
    const before = this._syncFrom || new Map();
    // Held messages the sync made contiguous are delivered now.
    for (const conv of [...this.held.keys()]) this._drainHeld(conv, true);
    if (this.held.size > 0) this._dropUnreachableHeld(cursors);
    const progressed = [...this.cursors].some(([conv, seq]) => before.get(conv) !== seq);
    if (this.held.size > 0 && !progressed) {
      // The server has nothing to fill the gap with: show what we hold rather than lose it.
      for (const [conv, held] of this.held) {
        for (const seq of [...held.keys()].sort((a, b) => a - b)) this._deliver(held.get(seq), true);
        this.held.delete(conv);
      }
    }
    this.emit("synced", { cursors, has_more: hasMore });
    // A page-limited answer for a conversation we had a cursor for: ask for the rest.
    const truncated = hasMore.some((c) => before.has(Number(c)) && before.get(Number(c)) !== this.cursors.get(Number(c)));
    if (this.syncAgain || this.held.size > 0 || truncated) {
      this.syncAgain = false;
      this.sync();
    }
  }

  // A held message beyond the server's newest seq cannot exist; drop such leftovers so a
  // bad frame never makes us sync in a loop.
  _dropUnreachableHeld(serverCursors) {
    for (const [conv, held] of this.held) {
      const newest = serverCursors[String(conv)];
      if (newest === undefined) continue;
      for (const seq of [...held.keys()]) if (seq > newest) held.delete(seq);
      if (held.size === 0) this.held.delete(conv);
    }
  }

  // --- outbound ----------------------------------------------------------------------

  _send(frame) {
    if (!this.socket) return false;
    try {
      this.socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** Start a conversation's cursor at `seq` (e.g. its last_seq from the REST list). */
  setCursor(conversation, seq) {
    const current = this.cursors.get(conversation);
    if (current === undefined || seq > current) {
      this.cursors.set(conversation, seq);
      this._saveCursors();
    }
  }

  /** The newest contiguous seq held for a conversation, or undefined. */
  cursor(conversation) {
    return this.cursors.get(conversation);
  }

  /** Ask for everything after our cursors; one request in flight at a time. */
  sync() {
    if (this.status !== "open") return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    this._syncFrom = new Map(this.cursors);
    const cursors = {};
    for (const [conv, seq] of this.cursors) cursors[String(conv)] = seq;
    this._send({ type: "sync", cursors });
  }

  /** Upload an image (a File/Blob, a WeChat temp file path, or bytes in Node), then send it. */
  async sendImage({ conversation, file, body = "", preview = null, filename, replyTo = null }) {
    const upload = await this.api.uploadImage(file, { filename });
    return this.send({ conversation, kind: "image", body, attachment: upload.id, preview, replyTo });
  }

  /** Upload a document (PDF, Office, text, archive…), then send it as a `file` message. */
  async sendFile({ conversation, file, body = "", preview = null, filename, replyTo = null }) {
    const upload = await this.api.uploadFile(file, { filename });
    return this.send({ conversation, kind: "file", body, attachment: upload.id, preview, replyTo });
  }

  /** Queue a message; it is persisted and retried until the server acks it. */
  send({ conversation, kind = "text", body = "", attachment = null, preview = null, replyTo = null, mentions = null, mentionAll = false }) {
    const item = {
      id: this.adapter.uuid(),
      conversation,
      kind,
      body,
      attachment,
      replyTo,
      mentions,
      mentionAll,
      preview,
      state: "sending",
      createdAt: this.adapter.now(),
      sentAt: 0,
    };
    this.outbox.push(item);
    // Sending ends "typing"; the next keystroke may announce typing again at once.
    this.lastTyping.delete(conversation);
    this._saveOutbox();
    this._transmit(item);
    this._scheduleResend();
    return item;
  }

  /** Try a failed item again (same client id, so it can never be stored twice). */
  retry(id) {
    const item = this.outbox.find((i) => i.id === id);
    if (!item) return;
    item.state = "sending";
    delete item.error;
    this._saveOutbox();
    this._transmit(item);
    this._scheduleResend();
  }

  /** Give up on an unacked item. */
  discard(id) {
    this._removeFromOutbox(id);
  }

  pending(conversation) {
    return this.outbox.filter((i) => i.conversation === conversation).map((i) => ({ ...i }));
  }

  _transmit(item) {
    if (this.status !== "open") {
      this._emitOutbox();
      return;
    }
    const frame = { type: "send", id: item.id, conversation: item.conversation, kind: item.kind, body: item.body };
    if (item.attachment != null) frame.attachment = item.attachment;
    if (item.replyTo != null) frame.reply_to = item.replyTo;
    if (item.mentions != null) frame.mentions = item.mentions;
    if (item.mentionAll) frame.mention_all = true;
    item.sentAt = this.adapter.now();
    this._send(frame);
    this._emitOutbox();
  }

  _flushOutbox(all) {
    const now = this.adapter.now();
    for (const item of this.outbox) {
      if (item.state !== "sending") continue;
      if (all || now - item.sentAt >= RESEND_AFTER_MS) this._transmit(item);
    }
    this._scheduleResend();
  }

  _scheduleResend() {
    if (this._timers.resend || !this.outbox.some((i) => i.state === "sending")) return;
    this._timers.resend = this.adapter.setTimeout(() => {
      this._timers.resend = null;
      if (this.status === "open") this._flushOutbox(false);
      else this._scheduleResend();
    }, RESEND_AFTER_MS);
  }

  _removeFromOutbox(id) {
    const before = this.outbox.length;
    this.outbox = this.outbox.filter((i) => i.id !== id);
    if (this.outbox.length !== before) {
      this._saveOutbox();
      this._emitOutbox();
    }
  }

  _emitOutbox() {
    this.emit("outbox", { items: this.outbox.map((i) => ({ ...i })) });
  }

  _loadOutbox() {
    try {
      const raw = this.adapter.storage.getItem(this.storageKey);
      const items = raw ? JSON.parse(raw) : [];
      return Array.isArray(items) ? items.map((i) => ({ ...i, sentAt: 0 })) : [];
    } catch {
      return [];
    }
  }

  _loadCursors() {
    const cursors = new Map();
    if (!this.persistCursors) return cursors;
    try {
      const raw = this.adapter.storage.getItem(this.cursorKey);
      const saved = raw ? JSON.parse(raw) : {};
      for (const [conv, seq] of Object.entries(saved)) {
        if (Number.isInteger(seq)) cursors.set(Number(conv), seq);
      }
    } catch {
      /* unreadable: start without cursors (sync then sends the newest of each) */
    }
    return cursors;
  }

  _saveCursors() {
    if (!this.persistCursors) return;
    try {
      this.adapter.storage.setItem(this.cursorKey, JSON.stringify(Object.fromEntries(this.cursors)));
    } catch {
      /* storage full or unavailable: cursors still work in memory */
    }
  }

  _saveOutbox() {
    try {
      // Local previews (blob: URLs) die with the page; keep only what survives a reload.
      const items = this.outbox.map(({ preview, ...rest }) => rest);
      this.adapter.storage.setItem(this.storageKey, JSON.stringify(items));
    } catch {
      /* storage full or unavailable: the outbox still works in memory */
    }
  }

  /** Tell the others how far we have read (socket when open, REST otherwise). */
  markRead(conversation, seq) {
    if (this.status === "open" && this._send({ type: "read", conversation, seq })) return Promise.resolve();
    return this.api.markRead(conversation, seq).catch(() => {});
  }

  /** Say we are typing, at most once every few seconds per conversation. */
  typing(conversation) {
    const now = this.adapter.now();
    if (now - (this.lastTyping.get(conversation) || 0) < TYPING_THROTTLE_MS) return;
    this.lastTyping.set(conversation, now);
    this._send({ type: "typing", conversation });
  }

  // --- REST --------------------------------------------------------------------------

  /** A JSON REST call through the adapter; rejects with a HappyChatError. */
  request(method, path, body) {
    return this.api.request(method, path, body);
  }

  /** One page of history, oldest first: {results, has_more}; its messages are remembered
   *  (folded state, for changes to fold into) and come back as the client holds them. */
  history(conversation, options = {}) {
    return this.api.history(conversation, { limit: 30, ...options }).then((page) => ({
      ...page,
      results: this.remember(page.results),
    }));
  }
}


// --- errors --------------------------------------------------------------------------

/** The one error every REST helper throws: `code`, `detail`, `retryable` (docs/protocol.md §6.1). */
export class HappyChatError extends Error {
  constructor({ status = 0, code = "network", detail = "", retryable = false, errors = null, body = null } = {}) {
    super(detail || code);
    this.name = "HappyChatError";
    this.status = status; // HTTP status; 0 when the server could not be reached
    this.code = code;
    this.detail = detail || code;
    this.retryable = retryable;
    this.errors = errors; // {field: [messages]} for field errors
    this.body = body; // the parsed answer, as the server sent it
  }
}

const STATUS_CODES = { 401: "unauthenticated", 403: "permission_denied", 404: "not_found", 409: "conflict", 429: "rate_limited" };

/** Build the HappyChatError for a non-2xx answer (any shape the server may send). */
export function errorFromResponse(status, body) {
  const data = body && typeof body === "object" && !Array.isArray(body) ? body : {};
  let errors = data.errors || null;
  if (!errors && !data.code && !data.detail && Object.keys(data).length > 0) {
    errors = data; // DRF's plain per-field shape {"seq": ["This field is required."]}
  }
  const code = data.code || STATUS_CODES[status] || (status >= 500 ? "server_error" : "invalid");
  let detail = typeof data.detail === "string" ? data.detail : "";
  if (!detail && errors) detail = Object.values(errors).flat().join(" ");
  if (!detail && typeof body === "string") detail = body.slice(0, 200);
  const retryable = typeof data.retryable === "boolean" ? data.retryable : status === 429 || status >= 500;
  return new HappyChatError({ status, code, detail: detail || `HTTP ${status}`, retryable, errors, body });
}

function networkError(detail) {
  return new HappyChatError({ status: 0, code: "network", detail: detail || "The server could not be reached.", retryable: true });
}

function parseJson(text) {
  if (text === undefined || text === null || text === "") return null;
  if (typeof text !== "string") return text; // already parsed by the platform
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// --- REST helpers ----------------------------------------------------------------------

function query(params) {
  const parts = [];
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") parts.push(`${key}=${encodeURIComponent(value)}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

/** Typed helpers for every REST action (docs/protocol.md §6); each returns the contract's shape. */
export class HappyChatApi {
  /**
   * @param {object} options
   * @param {object} options.adapter  the platform adapter
   * @param {string|(() => string|null)} [options.token]  the token, or a function giving it
   * @param {(token: string|null) => void} [options.onToken]  told when log-in/out changes it
   */
  constructor({ adapter, token = null, onToken = null }) {
    this.adapter = adapter;
    this._token = typeof token === "function" ? token : () => this._ownToken;
    this._ownToken = typeof token === "function" ? null : token;
    this._onToken = onToken;
  }

  get token() {
    return this._token();
  }

  _setToken(token) {
    this._ownToken = token;
    if (this._onToken) this._onToken(token);
  }

  /** Any JSON call: `request("GET", "/api/v1/…")`; rejects with HappyChatError. */
  request(method, path, body) {
    return this.adapter.request(method, path, body, { token: this.token });
  }

  // identity (§1)
  /** Log in with username (or e-mail) and password: {token, user}; later calls use the token. */
  async login(username, password) {
    const result = await this.request("POST", "/api/v1/auth/token/", { username, password });
    this._setToken(result.token);
    return result;
  }

  /** Log in from a mini-program with the code of `wx.login()`: {token, user}. */
  async loginWithWeChat(code) {
    const result = await this.request("POST", "/api/v1/auth/wechat/", { code });
    this._setToken(result.token);
    return result;
  }

  /** Revoke this device's token (its sockets close) and forget it. */
  async logout() {
    try {
      await this.request("DELETE", "/api/v1/auth/token/");
    } finally {
      this._setToken(null);
    }
  }

  register({ username, email, password, nickname = "" }) {
    return this.request("POST", "/api/v1/auth/register/", { username, email, password, nickname });
  }
  resendActivation(email) { return this.request("POST", "/api/v1/auth/activation/resend/", { email }); }
  wechatLink() { return this.request("GET", "/api/v1/me/wechat/"); }
  linkWeChat(code) { return this.request("POST", "/api/v1/me/wechat/", { code }); }
  unlinkWeChat() { return this.request("DELETE", "/api/v1/me/wechat/"); }

  // me and people
  me() { return this.request("GET", "/api/v1/me/"); }
  /** Change any of nickname, bio, gender, region (a FormData may carry `avatar` too: browser, Node). */
  updateMe(fields) { return this.request("PATCH", "/api/v1/me/", fields); }
  /** Replace your avatar (a File/Blob, a WeChat temp file path, or bytes in Node) → Me. */
  uploadAvatar(file, { filename } = {}) {
    return this.adapter.upload("/api/v1/me/avatar/", file, { token: this.token, field: "file", filename });
  }
  /**
   * Everything stored about you, as a zip: an object URL in a browser, a temp file path in
   * WeChat, bytes (Uint8Array) in Node. At most THROTTLE_EXPORT a day (429 beyond).
   */
  exportData() { return this.adapter.download("/api/v1/me/export/", { token: this.token }); }
  searchUsers(search) { return this.request("GET", `/api/v1/users/${query({ search })}`); }
  /** A person's card: User plus bio, region, gender, is_friend, is_blocked. */
  user(id) { return this.request("GET", `/api/v1/users/${id}/`); }

  // friends
  friends() { return this.request("GET", "/api/v1/friends/"); }
  setRemark(userId, remark) { return this.request("PATCH", `/api/v1/friends/${userId}/`, { remark }); }
  removeFriend(userId) { return this.request("DELETE", `/api/v1/friends/${userId}/`); }
  friendRequests() { return this.request("GET", "/api/v1/friend-requests/"); }
  sendFriendRequest(to, message = "") { return this.request("POST", "/api/v1/friend-requests/", { to, message }); }
  acceptFriendRequest(id) { return this.request("POST", `/api/v1/friend-requests/${id}/accept/`); }
  rejectFriendRequest(id) { return this.request("POST", `/api/v1/friend-requests/${id}/reject/`); }
  blocks() { return this.request("GET", "/api/v1/blocks/"); }
  block(userId) { return this.request("POST", "/api/v1/blocks/", { user: userId }); }
  unblock(userId) { return this.request("DELETE", `/api/v1/blocks/${userId}/`); }

  // groups
  groups(search = "") { return this.request("GET", `/api/v1/groups/${query({ search })}`); }
  createGroup({ name, members = [], isPublic = true }) {
    return this.request("POST", "/api/v1/groups/", { name, members, is_public: isPublic });
  }
  group(id) { return this.request("GET", `/api/v1/groups/${id}/`); }
  /** Change any of name, notice, is_public (owner or admin); `avatar: null` removes the avatar. */
  updateGroup(id, fields) { return this.request("PATCH", `/api/v1/groups/${id}/`, fields); }
  /** Replace the group's avatar (owner or admin) → Group. */
  uploadGroupAvatar(id, file, { filename } = {}) {
    return this.adapter.upload(`/api/v1/groups/${id}/avatar/`, file, { token: this.token, field: "file", filename });
  }
  dissolveGroup(id) { return this.request("DELETE", `/api/v1/groups/${id}/`); }
  joinGroup(id) { return this.request("POST", `/api/v1/groups/${id}/join/`); }
  leaveGroup(id) { return this.request("POST", `/api/v1/groups/${id}/leave/`); }
  groupMembers(id) { return this.request("GET", `/api/v1/groups/${id}/members/`); }
  /** Add a friend (public group → Member) or invite them (private group → GroupInvitation). */
  addGroupMember(id, userId) { return this.request("POST", `/api/v1/groups/${id}/members/`, { user: userId }); }
  removeGroupMember(id, userId) { return this.request("DELETE", `/api/v1/groups/${id}/members/${userId}/`); }
  setGroupRole(id, userId, role) { return this.request("PATCH", `/api/v1/groups/${id}/members/${userId}/`, { role }); }
  transferGroup(id, userId) { return this.request("POST", `/api/v1/groups/${id}/transfer/`, { user: userId }); }
  /** Your alias in the group and whether it is muted for you. */
  updateGroupMe(id, fields) { return this.request("PATCH", `/api/v1/groups/${id}/me/`, fields); }
  addRobot(id) { return this.request("POST", `/api/v1/groups/${id}/robot/`); }
  removeRobot(id) { return this.request("DELETE", `/api/v1/groups/${id}/robot/`); }
  invitations() { return this.request("GET", "/api/v1/group-invitations/"); }
  acceptInvitation(id) { return this.request("POST", `/api/v1/group-invitations/${id}/accept/`); }
  rejectInvitation(id) { return this.request("POST", `/api/v1/group-invitations/${id}/reject/`); }

  // conversations and messages
  conversations() { return this.request("GET", "/api/v1/conversations/"); }
  conversation(id) { return this.request("GET", `/api/v1/conversations/${id}/`); }
  /** One page of history, oldest first: {results, has_more}; `around` centres it on a seq. */
  history(id, { before = null, after = null, around = null, limit = 50 } = {}) {
    return this.request("GET", `/api/v1/conversations/${id}/messages/${query({ limit, before, after, around })}`);
  }
  /** Send over HTTP (same guarantees as the socket; reuse `id` when retrying). */
  postMessage(conversation, { id, kind = "text", body = "", attachment = null, replyTo = null, mentions = null, mentionAll = false }) {
    const payload = { id, kind, body };
    if (attachment != null) payload.attachment = attachment;
    if (replyTo != null) payload.reply_to = replyTo;
    if (mentions != null) payload.mentions = mentions;
    if (mentionAll) payload.mention_all = true;
    return this.request("POST", `/api/v1/conversations/${conversation}/messages/`, payload);
  }
  /** One message you may read, folded. */
  getMessage(id) { return this.request("GET", `/api/v1/messages/${id}/`); }
  recall(id) { return this.request("POST", `/api/v1/messages/${id}/recall/`); }
  edit(id, body) { return this.request("PATCH", `/api/v1/messages/${id}/`, { body }); }
  react(id, emoji, on = undefined) {
    return this.request("POST", `/api/v1/messages/${id}/reactions/`, on === undefined ? { emoji } : { emoji, on });
  }
  /** Copy messages into a conversation → [Message]; reuse `id` when retrying. */
  forward({ id, conversation, messages }) {
    return this.request("POST", "/api/v1/messages/forward/", { id, conversation, messages });
  }
  /** Search messages you may read: {results: [Message + snippet], has_more}; page with before=<last id>. */
  searchMessages(q, { conversation = null, sender = null, before = null, limit = 20 } = {}) {
    return this.request("GET", `/api/v1/search/messages/${query({ q, conversation, sender, before, limit })}`);
  }
  markRead(id, seq) { return this.request("POST", `/api/v1/conversations/${id}/read/`, { seq }); }
  mute(id, muted) { return this.request("POST", `/api/v1/conversations/${id}/mute/`, { muted }); }
  report(messageId, reason) { return this.request("POST", `/api/v1/messages/${messageId}/report/`, { reason }); }

  // uploads (docs/protocol.md §6.3: only the uploader and the conversation's members may fetch them)
  /** Upload an image → Attachment {id, kind: "image", url, thumbnail_url, width, height}. */
  uploadImage(file, { filename } = {}) {
    return this.adapter.upload("/api/v1/uploads/", file, { token: this.token, field: "file", filename });
  }
  /**
   * Upload a document → Attachment {id, kind: "file", url, name, size, content_type}.
   * `filename` is the name shown (WeChat: pass the chosen file's name, as wx.uploadFile
   * sends its temp file's); its extension must fit the content.
   */
  uploadFile(file, { filename } = {}) {
    const fields = filename ? { kind: "file", name: filename } : { kind: "file" };
    return this.adapter.upload("/api/v1/uploads/", file, { token: this.token, field: "file", filename, fields });
  }
  /**
   * Fetch an image URL with this client's credentials (images may be private to members):
   * a temp file path in WeChat, an object URL in a browser, bytes (Uint8Array) in Node.
   */
  downloadImage(url) {
    return this.adapter.download(url, { token: this.token });
  }
  /** Fetch a document's `url` the same way (WeChat: open the temp file with wx.openDocument). */
  downloadFile(url) {
    return this.adapter.download(url, { token: this.token });
  }

  // Web Push (docs/protocol.md §10): browsers and wrapped web apps
  /** {public_key, preview}: the VAPID key for PushManager.subscribe (null: the server sends no pushes). */
  pushConfig() { return this.request("GET", "/api/v1/push/config/"); }
  /** This user's push subscriptions, one per browser or device. */
  pushSubscriptions() { return this.request("GET", "/api/v1/push/subscriptions/"); }
  /** Register a browser's PushSubscription (or its toJSON()) → PushSubscriptionInfo. */
  subscribePush(subscription, { language = "" } = {}) {
    const json = subscription && typeof subscription.toJSON === "function" ? subscription.toJSON() : subscription;
    const body = { endpoint: json.endpoint, keys: json.keys };
    if (language) body.language = language;
    return this.request("POST", "/api/v1/push/subscriptions/", body);
  }
  /** Stop pushes to the subscription with this endpoint. */
  unsubscribePush(endpoint) { return this.request("DELETE", "/api/v1/push/subscriptions/", { endpoint }); }
  /** Stop pushes to one of your devices, by id (from pushSubscriptions()). */
  deletePushSubscription(id) { return this.request("DELETE", `/api/v1/push/subscriptions/${id}/`); }
}

// --- shared adapter parts ------------------------------------------------------------

function absolute(base, path) {
  if (/^[a-z]+:\/\//i.test(path)) return path;
  return `${base}${path.startsWith("/") ? "" : "/"}${path}`;
}

function wsUrlFor(base) {
  return `${base.replace(/^http/i, "ws")}/ws/chat/`;
}

function randomUuid(random = Math.random) {
  const hex = [];
  for (let i = 0; i < 32; i += 1) hex.push(Math.floor(random() * 16).toString(16));
  hex[12] = "4";
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function timers() {
  return {
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (id) => clearTimeout(id),
    now: () => Date.now(),
    random: () => Math.random(),
  };
}

/** A storage that lives in memory only (outbox and cursors are lost with the process). */
export function memoryStorage() {
  const map = new Map();
  return {
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => map.set(k, String(v)),
    removeItem: (k) => map.delete(k),
  };
}

async function fetchJson(fetchFn, url, init) {
  let res;
  try {
    res = await fetchFn(url, init);
  } catch (err) {
    throw networkError(err && err.message);
  }
  const data = parseJson(await res.text());
  if (!res.ok) throw errorFromResponse(res.status, data);
  return data;
}

// --- the browser adapter -------------------------------------------------------------

function cookie(name) {
  const hit = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
}

/**
 * Platform parts for a browser page: the session cookie (same site), or a token from a
 * packaged app's own origin with `baseUrl` pointing at the server (CORS).
 */
export function browserAdapter({ baseUrl = "", storage = null } = {}) {
  const base = baseUrl.replace(/\/$/, "");
  const headersFor = (method, token) => {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Token ${token}`;
    else if (method !== "GET") headers["X-CSRFToken"] = cookie("csrftoken");
    return headers;
  };
  return {
    baseUrl: base,
    socketUrl: base ? wsUrlFor(base) : socketUrl(),
    createSocket: (url) => new WebSocket(url),
    request(method, path, body, { token } = {}) {
      const headers = headersFor(method, token);
      const init = { method, headers, credentials: token ? "omit" : "same-origin" };
      if (body instanceof FormData) init.body = body;
      else if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      return fetchJson(fetch, absolute(base, path), init);
    },
    upload(path, file, { token, field = "file", filename, fields = {} } = {}) {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append(field, file, filename || file.name || "upload");
      return this.request("POST", path, form, { token });
    },
    async download(url, { token } = {}) {
      const init = { headers: headersFor("GET", token), credentials: token ? "omit" : "same-origin" };
      let res;
      try {
        res = await fetch(absolute(base, url), init);
      } catch (err) {
        throw networkError(err && err.message);
      }
      if (!res.ok) throw errorFromResponse(res.status, parseJson(await res.text()));
      return URL.createObjectURL(await res.blob());
    },
    storage: storage || window.localStorage,
    ...timers(),
    uuid: () => (crypto.randomUUID ? crypto.randomUUID() : randomUuid()),
    watch: (client) => watchBrowser(client),
  };
}

/** Wire a client to the browser's online/offline/visibility signals. */
export function watchBrowser(client) {
  const online = () => client.wake();
  const offline = () => client.networkLost();
  const visible = () => {
    if (document.visibilityState === "visible") client.wake();
  };
  window.addEventListener("online", online);
  window.addEventListener("offline", offline);
  document.addEventListener("visibilitychange", visible);
  return () => {
    window.removeEventListener("online", online);
    window.removeEventListener("offline", offline);
    document.removeEventListener("visibilitychange", visible);
  };
}

/** The /ws/chat/ URL of the page's own host. */
export function socketUrl(loc = window.location) {
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/ws/chat/`;
}

// --- the WeChat mini-program adapter -------------------------------------------------

/**
 * Platform parts for a WeChat mini-program: `wx.connectSocket` (token in a header),
 * `wx.request`, `wx.uploadFile`, `wx.downloadFile`, `wx.getStorageSync`/`setStorageSync`,
 * `wx.onNetworkStatusChange`, `wx.onAppShow`/`onAppHide`. `baseUrl` is the server's
 * https:// address (it must be in the mini-program's legal domain list).
 */
export function wechatAdapter({ wx: api = globalThis.wx, baseUrl, socketUrl: wsUrl = null } = {}) {
  if (!api) throw new Error("wechatAdapter needs the wx object");
  if (!baseUrl) throw new Error("wechatAdapter needs baseUrl, e.g. https://chat.example.com");
  const base = baseUrl.replace(/\/$/, "");
  const auth = (token) => (token ? { Authorization: `Token ${token}` } : {});
  return {
    baseUrl: base,
    socketUrl: wsUrl || wsUrlFor(base),
    createSocket(url, { token } = {}) {
      const socket = {
        headerAuth: Boolean(token),
        onopen: null,
        onmessage: null,
        onclose: null,
        onerror: null,
        send(text) {
          task.send({ data: text });
        },
        close(code = 1000) {
          try {
            task.close({ code });
          } catch {
            /* already closed */
          }
        },
      };
      let opened = false;
      let closed = false;
      const closeOnce = (code) => {
        if (closed) return;
        closed = true;
        if (socket.onclose) socket.onclose({ code });
      };
      const task = api.connectSocket({ url, header: auth(token), fail: () => closeOnce(1006) });
      task.onOpen(() => {
        opened = true;
        if (socket.onopen) socket.onopen();
      });
      task.onMessage((res) => {
        if (socket.onmessage) socket.onmessage({ data: res.data });
      });
      task.onClose((res) => closeOnce(res && res.code));
      task.onError(() => {
        if (socket.onerror) socket.onerror();
        // A socket that never opened may report only an error: treat it as closed.
        if (!opened) closeOnce(1006);
      });
      return socket;
    },
    request(method, path, body, { token } = {}) {
      return new Promise((resolve, reject) => {
        const header = { Accept: "application/json", ...auth(token) };
        const options = { url: absolute(base, path), method, header, dataType: "text", responseType: "text" };
        if (body !== undefined) {
          header["Content-Type"] = "application/json";
          options.data = JSON.stringify(body);
        }
        options.success = (res) => {
          const data = parseJson(res.data);
          if (res.statusCode >= 200 && res.statusCode < 300) resolve(data);
          else reject(errorFromResponse(res.statusCode, data));
        };
        options.fail = (err) => reject(networkError(err && err.errMsg));
        api.request(options);
      });
    },
    upload(path, filePath, { token, field = "file", fields = {} } = {}) {
      return new Promise((resolve, reject) => {
        api.uploadFile({
          url: absolute(base, path),
          filePath,
          name: field,
          formData: fields,
          header: auth(token),
          success: (res) => {
            const data = parseJson(res.data);
            if (res.statusCode >= 200 && res.statusCode < 300) resolve(data);
            else reject(errorFromResponse(res.statusCode, data));
          },
          fail: (err) => reject(networkError(err && err.errMsg)),
        });
      });
    },
    download(url, { token } = {}) {
      return new Promise((resolve, reject) => {
        api.downloadFile({
          url: absolute(base, url),
          header: auth(token),
          success: (res) => {
            if (res.statusCode >= 200 && res.statusCode < 300) resolve(res.tempFilePath);
            else reject(errorFromResponse(res.statusCode, readTempJson(api, res.tempFilePath)));
          },
          fail: (err) => reject(networkError(err && err.errMsg)),
        });
      });
    },
    storage: {
      getItem: (k) => {
        const v = api.getStorageSync(k);
        return v === "" || v === undefined || v === null ? null : v;
      },
      setItem: (k, v) => api.setStorageSync(k, v),
      removeItem: (k) => api.removeStorageSync(k),
    },
    ...timers(),
    uuid: () => randomUuid(),
    /** Reconnect at once when the network returns or the app comes to the front. */
    watch(client) {
      const network = (res) => (res && res.isConnected ? client.wake() : client.networkLost());
      const show = () => client.wake();
      api.onNetworkStatusChange(network);
      api.onAppShow(show);
      return () => {
        if (api.offNetworkStatusChange) api.offNetworkStatusChange(network);
        if (api.offAppShow) api.offAppShow(show);
      };
    },
  };
}

// An error answer that wx.downloadFile saved as a file: its JSON, when it can be read.
function readTempJson(api, path) {
  try {
    if (!path || typeof api.getFileSystemManager !== "function") return null;
    return parseJson(api.getFileSystemManager().readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}

// --- the Node adapter ----------------------------------------------------------------

/**
 * Platform parts for Node 18+: the global `fetch`/`FormData`/`Blob`, and a WebSocket class:
 * the `ws` package's (the token goes in a header) or Node's global WebSocket (token in the
 * first frame). `storage` defaults to memory; pass a file-backed one to keep the outbox
 * across restarts (see static/js/README.md).
 */
export function nodeAdapter({ baseUrl, WebSocket: Socket = globalThis.WebSocket, storage = null, fetch: fetchFn = globalThis.fetch } = {}) {
  if (!baseUrl) throw new Error("nodeAdapter needs baseUrl, e.g. http://127.0.0.1:8000");
  if (!Socket) throw new Error("no WebSocket: pass the `ws` package's class as { WebSocket }");
  const base = baseUrl.replace(/\/$/, "");
  const native = Socket === globalThis.WebSocket;
  const headersFor = (token) => ({ Accept: "application/json", ...(token ? { Authorization: `Token ${token}` } : {}) });
  return {
    baseUrl: base,
    socketUrl: wsUrlFor(base),
    createSocket(url, { token } = {}) {
      if (native || !token) return new Socket(url);
      const socket = new Socket(url, { headers: { Authorization: `Token ${token}` } });
      socket.headerAuth = true;
      return socket;
    },
    request(method, path, body, { token } = {}) {
      const headers = headersFor(token);
      const init = { method, headers };
      if (body instanceof FormData) init.body = body;
      else if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      return fetchJson(fetchFn, absolute(base, path), init);
    },
    upload(path, file, { token, field = "file", filename, fields = {} } = {}) {
      const blob = file instanceof Blob ? file : new Blob([file]);
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append(field, blob, filename || file.name || "upload");
      return this.request("POST", path, form, { token });
    },
    async download(url, { token } = {}) {
      let res;
      try {
        res = await fetchFn(absolute(base, url), { headers: headersFor(token) });
      } catch (err) {
        throw networkError(err && err.message);
      }
      if (!res.ok) throw errorFromResponse(res.status, parseJson(await res.text()));
      return new Uint8Array(await res.arrayBuffer());
    },
    storage: storage || memoryStorage(),
    ...timers(),
    uuid: () => (globalThis.crypto && globalThis.crypto.randomUUID ? globalThis.crypto.randomUUID() : randomUuid()),
    watch: () => () => {},
  };
}
