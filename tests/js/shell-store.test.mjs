// The web shell's store (static/js/shell/store.js) without a browser or a server: a fake
// client (the SDK's Emitter) delivers events, a fake api answers the conversation list.
import assert from "node:assert/strict";
import { test } from "node:test";

globalThis.window = {};
globalThis.document = { documentElement: { lang: "en" } };
const { Emitter } = await import("../../static/js/happychat-client.js");
const { Store, unreadAfter } = await import("../../static/js/shell/store.js");

const ME = 7;
const FRIEND = 8;

function setup(serverList) {
  const client = new Emitter();
  client.setCursor = () => {};
  let asked = 0;
  const api = {
    conversations: async () => {
      asked += 1;
      return serverList();
    },
  };
  const store = new Store({ client, api, me: { id: ME, nickname: "me" } });
  return { store, client, asked: () => asked };
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// seqs 1..7: 3 and 6 are messages from the friend; 4 is an edit entry, 5 a reaction entry,
// 7 a recall entry. The server counts what is unread above a cursor: messages only.
function serverConversation(lastRead) {
  const messages = [3, 6].filter((seq) => seq > lastRead).length;
  return { id: 1, kind: "direct", last_seq: 7, last_read_seq: lastRead, unread: messages, peer: { id: FRIEND } };
}

test("read on another device up to the end: nothing unread, no extra request", async () => {
  const { store, client, asked } = setup(() => [serverConversation(2)]);
  await store.loadConversations();
  assert.equal(store.conversations.get(1).unread, 2);
  client.emit("read", { conversation: 1, user: ME, seq: 7 });
  assert.equal(store.conversations.get(1).unread, 0);
  await wait(400);
  assert.equal(asked(), 1);
});

test("read on another device partway: change entries are not counted, the server settles it", async () => {
  let cursor = 2;
  const { store, client, asked } = setup(() => [serverConversation(cursor)]);
  await store.loadConversations();
  // Read up to 5 elsewhere: seqs 6 and 7 are left, but only 6 is a message.
  cursor = 5;
  client.emit("read", { conversation: 1, user: ME, seq: 5 });
  const conv = store.conversations.get(1);
  assert.ok(conv.unread <= 2, `at most the seqs left, got ${conv.unread}`);
  assert.equal(conv.last_read_seq, 5);
  await wait(400);
  assert.equal(asked(), 2, "the list was asked again");
  assert.equal(store.conversations.get(1).unread, 1);
});

test("a list older than a read made here keeps the cursor and never counts more than the server", async () => {
  const { store, client } = setup(() => [serverConversation(0)]);
  await store.loadConversations();
  client.emit("read", { conversation: 1, user: ME, seq: 3 });
  // The list answer predates that read (cursor 0, 2 unread): the later cursor wins, and
  // the four seqs left above it (one message, three entries) are not counted as more
  // than the server's two.
  await store.loadConversations();
  const conv = store.conversations.get(1);
  assert.equal(conv.last_read_seq, 3);
  assert.ok(conv.unread >= 1 && conv.unread <= 2, `got ${conv.unread}`);
});

test("unreadAfter bounds by the seqs left and by the server's count", () => {
  assert.equal(unreadAfter({ last_seq: 10, unread: 3 }, 4), 3);
  assert.equal(unreadAfter({ last_seq: 10, unread: 8 }, 8), 2);
  assert.equal(unreadAfter({ last_seq: 10, unread: 0 }, 2), 0);
  assert.equal(unreadAfter({ last_seq: 10 }, 12), 0);
  assert.equal(unreadAfter({ last_seq: 10 }, 7), 3);
});
