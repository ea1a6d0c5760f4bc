// Unit tests of the client core with a fake adapter: run with `node --test static/js/tests/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { DEFAULT_LIMITS, HappyChatClient, backoffDelay, foldChange } from "../happychat-client.js";

class FakeSocket {
  constructor(url) {
    this.url = url;
    this.sent = [];
    this.closed = false;
  }

  send(text) {
    if (this.closed) throw new Error("closed");
    this.sent.push(JSON.parse(text));
  }

  close() {
    this.closed = true;
  }

  // Test helpers: play the server.
  open() { this.onopen?.(); }
  frame(obj) { this.onmessage?.({ data: JSON.stringify(obj) }); }
  serverClose(code = 1006) { this.closed = true; this.onclose?.({ code }); }
  ofType(type) { return this.sent.filter((f) => f.type === type); }
}

function fakeAdapter({ storage = new Map(), random = () => 0.5 } = {}) {
  let now = 1_000_000;
  let timerId = 0;
  const timers = new Map();
  const sockets = [];
  const requests = [];
  let uuid = 0;
  const adapter = {
    sockets,
    requests,
    storageMap: storage,
    createSocket(url) {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    async request(method, path, body) {
      requests.push({ method, path, body });
      return {};
    },
    storage: {
      getItem: (k) => (storage.has(k) ? storage.get(k) : null),
      setItem: (k, v) => storage.set(k, v),
    },
    setTimeout(fn, ms) {
      timerId += 1;
      timers.set(timerId, { fn, at: now + ms });
      return timerId;
    },
    clearTimeout(id) { timers.delete(id); },
    now: () => now,
    random,
    uuid: () => `cid-${++uuid}`,
    /** Advance the fake clock, firing due timers in order. */
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at);
        if (due.length === 0) break;
        const [id, t] = due[0];
        timers.delete(id);
        now = t.at;
        t.fn();
      }
      now = end;
    },
    get socket() { return sockets[sockets.length - 1]; },
  };
  return adapter;
}

const ME = { id: 1, username: "alice", nickname: "Alice", avatar: null };
const BOB = { id: 2, username: "bob", nickname: "Bob", avatar: null };

function msg(conversation, seq, sender = BOB, extra = {}) {
  return { id: conversation * 1000 + seq, conversation, seq, sender, kind: "text", body: `m${seq}`, attachment: null, client_id: `x${seq}`, created_at: "2026-01-01T00:00:00Z", ...extra };
}

function connected(options = {}) {
  const adapter = fakeAdapter(options);
  const client = new HappyChatClient({ adapter, url: "ws://test/ws/chat/", ...options.client });
  const got = { message: [], status: [], read: [], typing: [], presence: [], event: [], failed: [], error: [], unauthenticated: [] };
  for (const key of Object.keys(got)) client.on(key, (d) => got[key].push(d));
  client.connect();
  adapter.socket.open();
  adapter.socket.frame({ type: "hello", user: ME, heartbeat: 10, server_time: "now" });
  return { adapter, client, got };
}

function sync(adapter) {
  const frames = adapter.socket.ofType("sync");
  return frames[frames.length - 1];
}

test("backoff doubles from 1 s to a 30 s ceiling with jitter", () => {
  assert.equal(backoffDelay(0, () => 0), 500);
  assert.equal(backoffDelay(0, () => 1), 1000);
  assert.equal(backoffDelay(1, () => 1), 2000);
  assert.equal(backoffDelay(4, () => 1), 16000);
  assert.equal(backoffDelay(5, () => 1), 30000);
  assert.equal(backoffDelay(12, () => 1), 30000);
  assert.equal(backoffDelay(12, () => 0), 15000);
});

test("hello opens the client and it syncs with its cursors at once", () => {
  const adapter = fakeAdapter();
  const client = new HappyChatClient({ adapter, url: "ws://x/" });
  client.setCursor(7, 3);
  client.setCursor(7, 2); // never moves back
  client.connect();
  assert.equal(client.status, "connecting");
  adapter.socket.open();
  adapter.socket.frame({ type: "hello", user: ME, heartbeat: 10 });
  assert.equal(client.status, "open");
  assert.deepEqual(sync(adapter), { type: "sync", cursors: { 7: 3 } });
});

test("a token client authenticates with a first auth frame", () => {
  const adapter = fakeAdapter();
  const client = new HappyChatClient({ adapter, url: "ws://x/", token: "secret" });
  client.connect();
  adapter.socket.open();
  assert.deepEqual(adapter.socket.sent[0], { type: "auth", token: "secret" });
});

test("messages are delivered once each, deduped by conversation and seq", () => {
  const { adapter, client, got } = connected();
  client.setCursor(5, 0);
  adapter.socket.frame({ type: "message", message: msg(5, 1) });
  adapter.socket.frame({ type: "message", message: msg(5, 1) });
  adapter.socket.frame({ type: "message", message: msg(5, 2) });
  adapter.socket.frame({ type: "message", message: msg(5, 2) });
  assert.deepEqual(got.message.map((d) => d.message.seq), [1, 2]);
  assert.equal(client.cursor(5), 2);
});

test("a gap holds the later message, syncs, and delivers in order once filled", () => {
  const { adapter, client, got } = connected();
  client.setCursor(5, 1);
  adapter.socket.frame({ type: "synced", cursors: {}, has_more: [] });
  const syncsBefore = adapter.socket.ofType("sync").length;
  adapter.socket.frame({ type: "message", message: msg(5, 3) });
  assert.deepEqual(got.message.map((d) => d.message.seq), []);
  assert.equal(adapter.socket.ofType("sync").length, syncsBefore + 1);
  assert.deepEqual(sync(adapter).cursors, { 5: 1 });
  // The server's answer to sync: 2 and 3 again, then synced.
  adapter.socket.frame({ type: "message", message: msg(5, 2) });
  adapter.socket.frame({ type: "message", message: msg(5, 3) });
  adapter.socket.frame({ type: "synced", cursors: { 5: 3 }, has_more: [] });
  assert.deepEqual(got.message.map((d) => d.message.seq), [2, 3]);
  assert.equal(client.cursor(5), 3);
});

test("only one sync is in flight; another is sent after synced if asked meanwhile", () => {
  const { adapter, client } = connected();
  assert.equal(adapter.socket.ofType("sync").length, 1);
  client.sync();
  client.sync();
  assert.equal(adapter.socket.ofType("sync").length, 1);
  adapter.socket.frame({ type: "synced", cursors: {}, has_more: [] });
  assert.equal(adapter.socket.ofType("sync").length, 2);
});

test("a conversation without a cursor starts where its first message is", () => {
  const { adapter, client, got } = connected();
  adapter.socket.frame({ type: "message", message: msg(9, 40) });
  adapter.socket.frame({ type: "message", message: msg(9, 41) });
  assert.deepEqual(got.message.map((d) => d.message.seq), [40, 41]);
  assert.equal(client.cursor(9), 41);
});

test("a send is persisted in the outbox with a client id until acked", () => {
  const storage = new Map();
  const { adapter, client } = connected({ storage });
  client.setCursor(5, 0);
  const item = client.send({ conversation: 5, body: "hi" });
  assert.equal(item.id, "cid-1");
  assert.deepEqual(adapter.socket.ofType("send")[0], { type: "send", id: "cid-1", conversation: 5, kind: "text", body: "hi" });
  assert.equal(JSON.parse(storage.get("happychat.outbox"))[0].id, "cid-1");
  adapter.socket.frame({ type: "ack", id: "cid-1", message: msg(5, 1, ME, { client_id: "cid-1" }) });
  assert.deepEqual(JSON.parse(storage.get("happychat.outbox")), []);
  assert.equal(client.cursor(5), 1);
});

test("an acked own message is delivered as a message event once", () => {
  const { adapter, client, got } = connected();
  client.setCursor(5, 0);
  client.send({ conversation: 5, body: "hi" });
  const stored = msg(5, 1, ME, { client_id: "cid-1" });
  adapter.socket.frame({ type: "ack", id: "cid-1", message: stored });
  adapter.socket.frame({ type: "message", message: stored });
  assert.equal(got.message.length, 1);
  assert.equal(got.message[0].message.client_id, "cid-1");
});

test("unacked sends are retried with the same id, and on reconnect", () => {
  const { adapter, client } = connected();
  client.send({ conversation: 5, body: "hi" });
  adapter.advance(8000);
  const sends = adapter.socket.ofType("send");
  assert.ok(sends.length >= 2);
  assert.ok(sends.every((f) => f.id === "cid-1"));
  adapter.socket.serverClose(1006);
  assert.equal(client.status, "reconnecting");
  adapter.advance(1000);
  adapter.socket.open();
  adapter.socket.frame({ type: "hello", user: ME, heartbeat: 10 });
  assert.deepEqual(adapter.socket.ofType("send").map((f) => f.id), ["cid-1"]);
});

test("a message sent while offline waits in the outbox and goes out after hello", () => {
  const storage = new Map();
  const adapter = fakeAdapter({ storage });
  const client = new HappyChatClient({ adapter, url: "ws://x/" });
  client.send({ conversation: 5, body: "later" });
  assert.equal(adapter.sockets.length, 0);
  client.connect();
  adapter.socket.open();
  assert.equal(adapter.socket.ofType("send").length, 0);
  adapter.socket.frame({ type: "hello", user: ME, heartbeat: 10 });
  assert.equal(adapter.socket.ofType("send")[0].body, "later");
});

test("the outbox survives a reload through storage", () => {
  const storage = new Map();
  const first = connected({ storage });
  first.client.send({ conversation: 5, body: "persist me" });
  first.client.close();
  const second = connected({ storage });
  const resent = second.adapter.socket.ofType("send");
  assert.equal(resent.length, 1);
  assert.equal(resent[0].body, "persist me");
  assert.equal(resent[0].id, "cid-1");
});

test("a sync that returns our own unacked message clears it from the outbox", () => {
  const { adapter, client } = connected();
  client.setCursor(5, 0);
  client.send({ conversation: 5, body: "hi" });
  adapter.socket.frame({ type: "message", message: msg(5, 1, ME, { client_id: "cid-1" }) });
  assert.equal(client.pending(5).length, 0);
});

test("a permanent error fails the item; retry resends it with the same id", () => {
  const { adapter, client, got } = connected();
  const outboxStates = [];
  client.on("outbox", ({ items }) => outboxStates.push(items.map((i) => i.state).join()));
  client.send({ conversation: 5, body: "hi" });
  adapter.socket.frame({ type: "error", code: "not_friends", detail: "no", ref: "cid-1" });
  assert.equal(client.pending(5)[0].state, "failed");
  assert.equal(outboxStates[outboxStates.length - 1], "failed");
  assert.equal(got.failed.length, 1);
  adapter.advance(9000);
  assert.equal(adapter.socket.ofType("send").length, 1); // failed items are not auto-retried
  client.retry("cid-1");
  assert.equal(client.pending(5)[0].state, "sending");
  assert.deepEqual(adapter.socket.ofType("send").map((f) => f.id), ["cid-1", "cid-1"]);
});

test("a retryable busy error keeps the item sending and retries it", () => {
  const { adapter, client } = connected();
  client.send({ conversation: 5, body: "hi" });
  adapter.socket.frame({ type: "error", code: "busy", detail: "later", ref: "cid-1", retryable: true });
  assert.equal(client.pending(5)[0].state, "sending");
  adapter.advance(9000);
  assert.ok(adapter.socket.ofType("send").length >= 2);
});

test("errors not tied to an outbox item are emitted", () => {
  const { adapter, got } = connected();
  adapter.socket.frame({ type: "error", code: "unknown_type", detail: "?" });
  assert.equal(got.error[0].code, "unknown_type");
});

test("heartbeat pings every heartbeat seconds", () => {
  const { adapter } = connected();
  adapter.advance(10000);
  assert.equal(adapter.socket.ofType("ping").length, 1);
  adapter.socket.frame({ type: "pong" });
  adapter.advance(10000);
  assert.equal(adapter.socket.ofType("ping").length, 2);
});

test("a socket that does not answer a ping is dropped and reconnected", () => {
  const { adapter, client } = connected();
  const first = adapter.socket;
  adapter.advance(10000); // ping
  adapter.advance(4000); // no pong within the wait
  assert.ok(first.closed);
  assert.equal(client.status, "reconnecting");
  adapter.advance(1000);
  assert.equal(adapter.sockets.length, 2);
});

test("reconnect delays back off exponentially and reset after hello", () => {
  const adapter = fakeAdapter({ random: () => 1 });
  const client = new HappyChatClient({ adapter, url: "ws://x/" });
  client.connect();
  adapter.socket.serverClose();
  adapter.advance(999);
  assert.equal(adapter.sockets.length, 1);
  adapter.advance(1);
  assert.equal(adapter.sockets.length, 2);
  adapter.socket.serverClose();
  adapter.advance(1999);
  assert.equal(adapter.sockets.length, 2);
  adapter.advance(1);
  assert.equal(adapter.sockets.length, 3);
  adapter.socket.open();
  adapter.socket.frame({ type: "hello", user: ME, heartbeat: 10 });
  assert.equal(client.attempt, 0);
  adapter.socket.serverClose();
  adapter.advance(1000);
  assert.equal(adapter.sockets.length, 4);
});

test("after a reconnect the sync carries the cursors and nothing is delivered twice", () => {
  const { adapter, client, got } = connected();
  client.setCursor(5, 0);
  adapter.socket.frame({ type: "message", message: msg(5, 1) });
  adapter.socket.serverClose();
  adapter.advance(1000);
  adapter.socket.open();
  adapter.socket.frame({ type: "hello", user: ME, heartbeat: 10 });
  assert.deepEqual(sync(adapter).cursors, { 5: 1 });
  adapter.socket.frame({ type: "message", message: msg(5, 1) });
  adapter.socket.frame({ type: "message", message: msg(5, 2) });
  adapter.socket.frame({ type: "synced", cursors: { 5: 2 }, has_more: [] });
  assert.deepEqual(got.message.map((d) => d.message.seq), [1, 2]);
});

test("a truncated sync for a known conversation asks again", () => {
  const { adapter, client } = connected();
  client.setCursor(5, 0);
  adapter.socket.frame({ type: "synced", cursors: {}, has_more: [] });
  client.sync();
  const count = adapter.socket.ofType("sync").length;
  adapter.socket.frame({ type: "message", message: msg(5, 1) });
  adapter.socket.frame({ type: "synced", cursors: { 5: 1 }, has_more: [5] });
  assert.equal(adapter.socket.ofType("sync").length, count + 1);
  assert.deepEqual(sync(adapter).cursors, { 5: 1 });
});

test("close codes 4001 and 4003 stop reconnecting and report unauthenticated", () => {
  const { adapter, client, got } = connected();
  adapter.socket.serverClose(4001);
  adapter.advance(60000);
  assert.equal(adapter.sockets.length, 1);
  assert.equal(client.status, "closed");
  assert.equal(got.unauthenticated[0].code, 4001);
});

test("read, typing, presence and event frames reach subscribers", () => {
  const { adapter, got } = connected();
  adapter.socket.frame({ type: "read", conversation: 5, user: 2, seq: 4 });
  adapter.socket.frame({ type: "typing", conversation: 5, user: 2 });
  adapter.socket.frame({ type: "presence", user: 2, online: true });
  adapter.socket.frame({ type: "event", event: "friend_added", data: { user: BOB } });
  assert.deepEqual(got.read, [{ conversation: 5, user: 2, seq: 4 }]);
  assert.deepEqual(got.typing, [{ conversation: 5, user: 2 }]);
  assert.deepEqual(got.presence, [{ user: 2, online: true }]);
  assert.equal(got.event[0].event, "friend_added");
});

test("a resync event makes the client sync with its cursors", () => {
  const { adapter, client, got } = connected();
  adapter.socket.frame({ type: "synced", cursors: { 5: 3 }, has_more: [] });
  client.setCursor(5, 3);
  const before = adapter.socket.ofType("sync").length;
  adapter.socket.frame({ type: "event", event: "resync", data: {} });
  assert.equal(adapter.socket.ofType("sync").length, before + 1);
  assert.deepEqual(sync(adapter).cursors, { 5: 3 });
  assert.equal(got.event[0].event, "resync");
});

test("typing is throttled per conversation", () => {
  const { adapter, client } = connected();
  client.typing(5);
  client.typing(5);
  client.typing(6);
  assert.equal(adapter.socket.ofType("typing").length, 2);
  adapter.advance(3000);
  client.typing(5);
  assert.equal(adapter.socket.ofType("typing").length, 3);
});

test("sending a message lets the next keystroke announce typing again", () => {
  const { adapter, client } = connected();
  client.typing(5);
  client.send({ conversation: 5, body: "done" });
  client.typing(5);
  assert.equal(adapter.socket.ofType("typing").length, 2);
});

test("markRead uses the socket when open and REST otherwise", async () => {
  const { adapter, client } = connected();
  await client.markRead(5, 3);
  assert.deepEqual(adapter.socket.ofType("read")[0], { type: "read", conversation: 5, seq: 3 });
  client.close();
  await client.markRead(5, 4);
  assert.deepEqual(adapter.requests[0], { method: "POST", path: "/api/v1/conversations/5/read/", body: { seq: 4 } });
});

test("wake after going offline reconnects at once", () => {
  const { adapter, client } = connected();
  client.networkLost();
  assert.equal(client.status, "reconnecting");
  client.wake();
  assert.equal(adapter.sockets.length, 2);
});

test("garbage frames are ignored without throwing", () => {
  const { adapter, got } = connected();
  adapter.socket.onmessage({ data: "not json" });
  adapter.socket.onmessage({ data: "[]" });
  adapter.socket.frame({ type: "message", message: null });
  assert.equal(got.message.length, 0);
});


// --- message changes (docs/protocol.md §11) -------------------------------------------

function entry(conversation, seq, kind, target, extra = {}) {
  return msg(conversation, seq, BOB, { kind, target: target.id, body: "", data: null, ...extra });
}

test("a change entry folds into its target and is not a message", () => {
  const { adapter, client, got } = connected();
  const changes = [];
  client.on("change", (d) => changes.push(d));
  client.setCursor(5, 0);
  const first = msg(5, 1, BOB, { change_seq: 0, reactions: [] });
  adapter.socket.frame({ type: "message", message: first });
  adapter.socket.frame({ type: "message", message: entry(5, 2, "edit", first, { body: "fixed" }) });
  adapter.socket.frame({ type: "message", message: entry(5, 3, "reaction", first, { data: { emoji: "👍", on: true } }) });
  assert.deepEqual(got.message.map((d) => d.message.seq), [1]);
  assert.equal(client.cursor(5), 3);
  assert.equal(changes.length, 2);
  const folded = client.message(first.id);
  assert.equal(folded.body, "fixed");
  assert.equal(folded.edited, true);
  assert.equal(folded.change_seq, 3);
  assert.deepEqual(folded.reactions, [{ emoji: "👍", count: 1, users: [BOB.id] }]);
});

test("an old edit never reverts a newer folded state, whatever the order", () => {
  const target = { id: 9, body: "v3", edited: true, change_seq: 12, reactions: [] };
  assert.equal(foldChange(target, { kind: "edit", target: 9, seq: 10, body: "v2" }), null);
  assert.equal(foldChange(target, { kind: "edit", target: 9, seq: 12, body: "v3" }), null);
  assert.equal(foldChange(target, { kind: "edit", target: 9, seq: 13, body: "v4" }).body, "v4");
  assert.equal(foldChange(target, { kind: "edit", target: 8, seq: 13, body: "x" }), null);
});

test("reactions are set, not toggled, so a repeated entry is harmless", () => {
  let t = { id: 1, change_seq: 0, reactions: [] };
  const on = { kind: "reaction", target: 1, seq: 2, sender: BOB, data: { emoji: "❤️", on: true } };
  t = foldChange(t, on);
  assert.deepEqual(t.reactions, [{ emoji: "❤️", count: 1, users: [BOB.id] }]);
  assert.equal(foldChange(t, on), null);
  t = foldChange(t, { ...on, seq: 3, sender: ME });
  assert.deepEqual(t.reactions, [{ emoji: "❤️", count: 2, users: [BOB.id, ME.id] }]);
  t = foldChange(t, { ...on, seq: 4, data: { emoji: "❤️", on: false } });
  assert.deepEqual(t.reactions, [{ emoji: "❤️", count: 1, users: [ME.id] }]);
});

test("a recall empties the target and its quotes", () => {
  const { adapter, client } = connected();
  client.setCursor(5, 0);
  const original = msg(5, 1, BOB, { change_seq: 0, attachment: { id: 3 } });
  const reply = msg(5, 2, ME, { reply_to: original.id, reply: { id: original.id, body: "m1", recalled: false } });
  adapter.socket.frame({ type: "message", message: original });
  adapter.socket.frame({ type: "message", message: reply });
  adapter.socket.frame({ type: "message", message: entry(5, 3, "recall", original, { data: { by: "sender" } }) });
  const folded = client.message(original.id);
  assert.equal(folded.recalled, true);
  assert.equal(folded.body, "");
  assert.equal(folded.attachment, null);
  assert.equal(client.message(reply.id).reply.recalled, true);
});

test("history is remembered, and an older copy never replaces a newer one", async () => {
  const adapter = fakeAdapter();
  const newer = msg(5, 1, BOB, { body: "new", change_seq: 7 });
  adapter.request = async () => ({ results: [msg(5, 1, BOB, { body: "old", change_seq: 4 })], has_more: false });
  const client = new HappyChatClient({ adapter, url: "ws://x/" });
  client.remember([newer]);
  const page = await client.history(5);
  assert.equal(page.results[0].body, "new");
  assert.equal(client.message(newer.id).body, "new");
});

test("recall, edit and react send frames and resolve with the acked target", async () => {
  const { adapter, client } = connected();
  const pending = client.edit(42, "hello");
  const frame = adapter.socket.ofType("edit")[0];
  assert.deepEqual({ ...frame, id: undefined }, { type: "edit", id: undefined, message: 42, body: "hello" });
  adapter.socket.frame({ type: "ack", id: frame.id, message: null, target: { id: 42, body: "hello", edited: true, change_seq: 8 } });
  assert.equal((await pending).body, "hello");
  const refused = client.recall(42);
  const recall = adapter.socket.ofType("recall")[0];
  adapter.socket.frame({ type: "error", code: "permission_denied", detail: "no", ref: recall.id });
  await assert.rejects(refused, (e) => e.code === "permission_denied");
  const react = client.react(42, "👍", true);
  assert.equal(adapter.socket.ofType("react")[0].on, true);
  adapter.socket.serverClose();
  await assert.rejects(react, (e) => e.retryable === true);
});

test("without a socket, changes go over REST", async () => {
  const adapter = fakeAdapter();
  const client = new HappyChatClient({ adapter, url: "ws://x/" });
  adapter.request = async (method, path, body) => {
    adapter.requests.push({ method, path, body });
    return { id: 42, recalled: true, change_seq: 3 };
  };
  const target = await client.recall(42);
  assert.equal(target.recalled, true);
  assert.deepEqual(adapter.requests.at(-1), { method: "POST", path: "/api/v1/messages/42/recall/", body: undefined });
});

test("send carries reply_to and mentions", () => {
  const { adapter, client } = connected();
  client.send({ conversation: 5, body: "@Bob yes", replyTo: 77, mentions: [BOB.id] });
  const frame = adapter.socket.ofType("send")[0];
  assert.equal(frame.reply_to, 77);
  assert.deepEqual(frame.mentions, [BOB.id]);
});

test("permission_denied and conflict on a send are permanent: the item fails, no resend loop", () => {
  for (const code of ["permission_denied", "conflict"]) {
    const { adapter, client, got } = connected();
    client.send({ conversation: 5, body: "@all lunch", mentionAll: true });
    adapter.socket.frame({ type: "error", code, detail: "no", ref: "cid-1" });
    assert.equal(client.pending(5)[0].state, "failed");
    assert.equal(got.failed.length, 1);
    adapter.advance(9500); // past the resend timer (8 s), before the first heartbeat
    assert.equal(adapter.sockets.length, 1);
    assert.equal(adapter.socket.ofType("send").length, 1, code);
  }
});

/** An adapter whose REST, upload and download calls are recorded (and answer `answer`). */
function recordingAdapter(answer = () => ({})) {
  const adapter = fakeAdapter();
  adapter.request = async (method, path, body, options) => {
    adapter.requests.push({ method, path, body, token: options && options.token });
    return answer(method, path, body);
  };
  adapter.upload = async (path, file, options) => {
    adapter.requests.push({ upload: path, file, ...options });
    return { id: 7, kind: options.fields && options.fields.kind === "file" ? "file" : "image" };
  };
  adapter.download = async (url, options) => {
    adapter.requests.push({ download: url, ...options });
    return "/tmp/downloaded";
  };
  return adapter;
}

test("upload helpers: documents carry kind=file, avatars go to their POST routes", async () => {
  const adapter = recordingAdapter();
  const client = new HappyChatClient({ adapter, url: "ws://x/", token: "tok" });
  await client.api.uploadFile("/tmp/report.pdf");
  await client.api.uploadFile("/tmp/tmp_3f.pdf", { filename: "年报.pdf" });
  await client.api.uploadImage("/tmp/cat.png");
  await client.api.uploadAvatar("/tmp/me.png");
  await client.api.uploadGroupAvatar(9, "/tmp/g.png", { filename: "g.png" });
  assert.deepEqual(adapter.requests.map((r) => [r.upload, r.field, r.fields && r.fields.kind, r.token]), [
    ["/api/v1/uploads/", "file", "file", "tok"],
    ["/api/v1/uploads/", "file", "file", "tok"],
    ["/api/v1/uploads/", "file", undefined, "tok"],
    ["/api/v1/me/avatar/", "file", undefined, "tok"],
    ["/api/v1/groups/9/avatar/", "file", undefined, "tok"],
  ]);
  assert.deepEqual(adapter.requests[1].fields, { kind: "file", name: "年报.pdf" });
  assert.equal(adapter.requests[4].filename, "g.png");
  assert.equal(await client.api.downloadFile("/api/v1/uploads/7/file/"), "/tmp/downloaded");
  assert.equal(await client.api.exportData(), "/tmp/downloaded");
  assert.deepEqual(adapter.requests.slice(5).map((r) => [r.download, r.token]), [
    ["/api/v1/uploads/7/file/", "tok"],
    ["/api/v1/me/export/", "tok"],
  ]);
});

test("sendFile uploads a document and queues a file message (with its reply)", async () => {
  const adapter = recordingAdapter();
  const { client } = (() => {
    const c = new HappyChatClient({ adapter, url: "ws://test/ws/chat/" });
    c.connect();
    adapter.socket.open();
    adapter.socket.frame({ type: "hello", user: ME, heartbeat: 10, server_time: "now" });
    return { client: c };
  })();
  const item = await client.sendFile({ conversation: 5, file: "/tmp/a.pdf", replyTo: 77 });
  assert.equal(item.kind, "file");
  const frame = adapter.socket.ofType("send")[0];
  assert.deepEqual({ kind: frame.kind, attachment: frame.attachment, reply_to: frame.reply_to }, { kind: "file", attachment: 7, reply_to: 77 });
});

test("push helpers send the subscription's JSON, language and endpoint", async () => {
  const adapter = recordingAdapter();
  const client = new HappyChatClient({ adapter, url: "ws://x/" });
  const keys = { p256dh: "BPk", auth: "au" };
  const subscription = { endpoint: "https://push.example/1", toJSON: () => ({ endpoint: "https://push.example/1", expirationTime: null, keys }) };
  await client.api.pushConfig();
  await client.api.subscribePush(subscription, { language: "zh-hans" });
  await client.api.subscribePush({ endpoint: "https://push.example/2", keys });
  await client.api.pushSubscriptions();
  await client.api.unsubscribePush("https://push.example/1");
  await client.api.deletePushSubscription(4);
  assert.deepEqual(adapter.requests.map((r) => [r.method, r.path, r.body]), [
    ["GET", "/api/v1/push/config/", undefined],
    ["POST", "/api/v1/push/subscriptions/", { endpoint: "https://push.example/1", keys, language: "zh-hans" }],
    ["POST", "/api/v1/push/subscriptions/", { endpoint: "https://push.example/2", keys }],
    ["GET", "/api/v1/push/subscriptions/", undefined],
    ["DELETE", "/api/v1/push/subscriptions/", { endpoint: "https://push.example/1" }],
    ["DELETE", "/api/v1/push/subscriptions/4/", undefined],
  ]);
});

test("REST helpers use the contract's paths, methods and bodies", async () => {
  const adapter = recordingAdapter();
  const client = new HappyChatClient({ adapter, url: "ws://x/" });
  const api = client.api;
  const calls = [
    [() => api.user(4), "GET", "/api/v1/users/4/", undefined],
    [() => api.searchUsers("bo b"), "GET", "/api/v1/users/?search=bo%20b", undefined],
    [() => api.getMessage(8), "GET", "/api/v1/messages/8/", undefined],
    [() => api.recall(8), "POST", "/api/v1/messages/8/recall/", undefined],
    [() => api.edit(8, "new"), "PATCH", "/api/v1/messages/8/", { body: "new" }],
    [() => api.react(8, "👍"), "POST", "/api/v1/messages/8/reactions/", { emoji: "👍" }],
    [() => api.react(8, "👍", false), "POST", "/api/v1/messages/8/reactions/", { emoji: "👍", on: false }],
    [() => api.forward({ id: "f1", conversation: 3, messages: [8, 9] }), "POST", "/api/v1/messages/forward/", { id: "f1", conversation: 3, messages: [8, 9] }],
    [() => api.searchMessages("午饭", { conversation: 3, before: 80 }), "GET", `/api/v1/search/messages/?q=${encodeURIComponent("午饭")}&conversation=3&before=80&limit=20`, undefined],
    [() => api.history(3, { around: 12 }), "GET", "/api/v1/conversations/3/messages/?limit=50&around=12", undefined],
    [() => api.postMessage(3, { id: "c1", body: "hi", replyTo: 8, mentions: [2], mentionAll: true }), "POST", "/api/v1/conversations/3/messages/", { id: "c1", kind: "text", body: "hi", reply_to: 8, mentions: [2], mention_all: true }],
    [() => api.markRead(3, 12), "POST", "/api/v1/conversations/3/read/", { seq: 12 }],
    [() => api.mute(3, true), "POST", "/api/v1/conversations/3/mute/", { muted: true }],
    [() => api.report(8, "spam"), "POST", "/api/v1/messages/8/report/", { reason: "spam" }],
    [() => api.linkWeChat("code1"), "POST", "/api/v1/me/wechat/", { code: "code1" }],
    [() => api.unlinkWeChat(), "DELETE", "/api/v1/me/wechat/", undefined],
    [() => api.updateGroup(9, { avatar: null }), "PATCH", "/api/v1/groups/9/", { avatar: null }],
  ];
  for (const [call, method, path, body] of calls) {
    await call();
    assert.deepEqual(adapter.requests.at(-1), { method, path, body, token: null }, path);
  }
});

test("hello's limits replace the defaults; until then the defaults hold", () => {
  const adapter = fakeAdapter();
  const client = new HappyChatClient({ adapter, url: "ws://x/" });
  assert.equal(client.limits.recall_seconds, DEFAULT_LIMITS.recall_seconds);
  const hellos = [];
  client.on("hello", (d) => hellos.push(d));
  client.connect();
  adapter.socket.open();
  adapter.socket.frame({ type: "hello", user: ME, heartbeat: 10, limits: { recall_seconds: 30, file_max_bytes: 99 } });
  assert.equal(client.limits.recall_seconds, 30);
  assert.equal(client.limits.file_max_bytes, 99);
  assert.equal(client.limits.edit_seconds, DEFAULT_LIMITS.edit_seconds); // not sent: default kept
  assert.equal(hellos[0].limits.recall_seconds, 30);
});

test("a recall folded from an admin's entry names the admin; the sender's names nobody", () => {
  const target = { id: 5, seq: 3, sender: BOB, kind: "text", body: "buy now", change_seq: 0, reactions: [] };
  const byAdmin = foldChange(target, { id: 9, seq: 4, kind: "recall", target: 5, sender: ME, data: { by: "admin" } });
  assert.equal(byAdmin.recalled, true);
  assert.equal(byAdmin.recalled_by, ME.id);
  const bySender = foldChange(target, { id: 9, seq: 4, kind: "recall", target: 5, sender: BOB, data: { by: "sender" } });
  assert.equal(bySender.recalled_by, null);
});

test("hello's server_time gives the clock offset; a missing one keeps it", () => {
  const adapter = fakeAdapter();
  const client = new HappyChatClient({ adapter, url: "ws://x/" });
  assert.equal(client.clockOffset, 0);
  client.connect();
  adapter.socket.open();
  const ahead = new Date(Date.now() + 600000).toISOString(); // the server is 10 min ahead
  adapter.socket.frame({ type: "hello", user: ME, heartbeat: 10, server_time: ahead });
  assert.ok(Math.abs(client.clockOffset - 600000) < 5000, String(client.clockOffset));
  adapter.socket.frame({ type: "hello", user: ME, heartbeat: 10 });
  assert.ok(Math.abs(client.clockOffset - 600000) < 5000);
});
