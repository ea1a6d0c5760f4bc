// HappyChat client core: the one owner of the /ws/chat/ socket (docs/protocol.md §2).
//
// Platform parts (socket constructor, HTTP, storage, timers, randomness, ids) come in
// through an adapter object, so the same core runs in a browser (browserAdapter below)
// and, later, in the WeChat mini-program. UI code subscribes with on(type, fn) and calls
// methods; it never touches the socket.
//
// Events emitted (detail objects):
//   status   {status: "connecting"|"open"|"reconnecting"|"closed", attempt}
//   hello    {user, heartbeat}
//   message  {message, live}      each stored message exactly once, in seq order per conversation
//   outbox   {items}              the unacked messages changed (state "sending" | "failed")
//   read     {conversation, user, seq}
//   typing   {conversation, user}
//   presence {user, online}
//   event    {event, data}
//   synced   {cursors, has_more}
//   error    {code, detail, ref?}  errors that do not belong to an outbox item
//   failed   {item, code, detail}  an outbox item the server refused for good
//   unauthenticated {code}         the server closed with 4001/4003: log in again

const CLOSE_UNAUTHENTICATED = 4001;
const CLOSE_REVOKED = 4003;
const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const DEFAULT_HEARTBEAT_S = 25;
// A retry of an unacked send after this long; idempotent on the server by client id.
const RESEND_AFTER_MS = 8000;
const TYPING_THROTTLE_MS = 3000;
// Errors after which resending the same frame can never succeed.
const PERMANENT_ERRORS = new Set([
  "invalid_frame", "too_large", "not_member", "not_friends", "not_found",
  "content_blocked", "invalid_attachment", "unknown_type",
]);

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
   * @param {object} options.adapter  {createSocket(url), request(method, path, body),
   *   storage: {getItem, setItem}, setTimeout, clearTimeout, now(), random(), uuid()}
   * @param {string} options.url      the WebSocket URL
   * @param {string} [options.token]  for clients without a session cookie: sent as `auth`
   * @param {string} [options.storageKey]  namespace for the persisted outbox
   */
  constructor({ adapter, url, token = null, storageKey = "happychat" }) {
    super();
    this.adapter = adapter;
    this.url = url;
    this.token = token;
    this.storageKey = `${storageKey}.outbox`;
    this.status = "closed";
    this.user = null;
    this.heartbeat = DEFAULT_HEARTBEAT_S;
    this.socket = null;
    this.attempt = 0;
    this.cursors = new Map(); // conversation id -> newest contiguous seq held
    this.held = new Map(); // conversation id -> Map(seq -> message) waiting for a gap to fill
    this.outbox = this._loadOutbox();
    this.syncing = false;
    this.syncAgain = false;
    this.lastReceived = 0;
    this.lastTyping = new Map();
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

  /** The network came back or the page became visible: probe now instead of waiting. */
  wake() {
    if (!this._wantOpen) return;
    if (!this.socket) {
      this.adapter.clearTimeout(this._timers.reconnect);
      this.attempt = 0;
      this._open();
      return;
    }
    if (this.status === "open") this._ping();
  }

  /** The platform says the network is gone: drop the socket and start reconnecting. */
  networkLost() {
    if (this.socket) this._drop();
  }

  _open() {
    this._setStatus(this.attempt === 0 && !this.user ? "connecting" : "reconnecting");
    let socket;
    try {
      socket = this.adapter.createSocket(this.url);
    } catch {
      this._scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.token) this._send({ type: "auth", token: this.token });
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

  _ping() {
    if (!this.socket || this.status !== "open") return;
    const sentAt = this.adapter.now();
    this._send({ type: "ping" });
    this._schedulePing();
    // Dead-socket detection: any frame after the ping proves the socket alive.
    this.adapter.clearTimeout(this._timers.dead);
    const waitMs = Math.min(10000, Math.max(2000, this.heartbeat * 400));
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
      case "event": return this.emit("event", { event: frame.event, data: frame.data || {} });
      case "error": return this._onError(frame);
      default: return undefined;
    }
  }

  _onHello(frame) {
    this.user = frame.user;
    this.heartbeat = Number(frame.heartbeat) > 0 ? Number(frame.heartbeat) : DEFAULT_HEARTBEAT_S;
    this.attempt = 0;
    this._setStatus("open");
    this.emit("hello", { user: frame.user, heartbeat: this.heartbeat });
    this._schedulePing();
    this.sync();
    this._flushOutbox(true);
  }

  _onAck(frame) {
    this._removeFromOutbox(frame.id);
    if (frame.message) this._applyMessage(frame.message, true);
  }

  _onError(frame) {
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
    this.emit("message", { message, live });
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
    if (current === undefined || seq > current) this.cursors.set(conversation, seq);
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

  /** Queue a message; it is persisted and retried until the server acks it. */
  send({ conversation, kind = "text", body = "", attachment = null, preview = null }) {
    const item = {
      id: this.adapter.uuid(),
      conversation,
      kind,
      body,
      attachment,
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
    return this.request("POST", `/api/v1/conversations/${conversation}/read/`, { seq }).catch(() => {});
  }

  /** Say we are typing, at most once every few seconds per conversation. */
  typing(conversation) {
    const now = this.adapter.now();
    if (now - (this.lastTyping.get(conversation) || 0) < TYPING_THROTTLE_MS) return;
    this.lastTyping.set(conversation, now);
    this._send({ type: "typing", conversation });
  }

  // --- REST --------------------------------------------------------------------------

  /** A JSON REST call through the adapter; rejects with {status, body} on failure. */
  request(method, path, body) {
    return this.adapter.request(method, path, body);
  }

  /** One page of history, oldest first: {results, has_more}. */
  history(conversation, { before = null, after = null, limit = 30 } = {}) {
    const params = [`limit=${limit}`];
    if (before != null) params.push(`before=${before}`);
    if (after != null) params.push(`after=${after}`);
    return this.request("GET", `/api/v1/conversations/${conversation}/messages/?${params.join("&")}`);
  }
}

// --- the browser adapter -------------------------------------------------------------

function cookie(name) {
  const hit = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
}

/** Platform parts for a browser page authenticated by the session cookie. */
export function browserAdapter() {
  return {
    createSocket: (url) => new WebSocket(url),
    async request(method, path, body) {
      const headers = { Accept: "application/json" };
      const init = { method, headers, credentials: "same-origin" };
      if (method !== "GET") headers["X-CSRFToken"] = cookie("csrftoken");
      if (body instanceof FormData) init.body = body;
      else if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      const res = await fetch(path, init);
      const text = await res.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
      if (!res.ok) throw { status: res.status, body: data };
      return data;
    },
    storage: window.localStorage,
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
    clearTimeout: (id) => window.clearTimeout(id),
    now: () => Date.now(),
    random: () => Math.random(),
    uuid: () => (crypto.randomUUID ? crypto.randomUUID() : fallbackUuid()),
  };
}

function fallbackUuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Wire a client to the browser's online/offline/visibility signals. */
export function watchBrowser(client) {
  window.addEventListener("online", () => client.wake());
  window.addEventListener("offline", () => client.networkLost());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") client.wake();
  });
}

/** The /ws/chat/ URL of the page's own host. */
export function socketUrl(loc = window.location) {
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/ws/chat/`;
}
