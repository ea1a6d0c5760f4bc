// The SDK's Node adapter: a basic round trip against the real daphne pytest started.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import WebSocket from "ws";

import { HappyChatClient, HappyChatError, nodeAdapter } from "../../static/js/happychat-client.js";
import { config, pngBytes, until } from "./wx-shim.mjs";

const cfg = config();
// Node's own WebSocket where this Node has one (token in the first frame), else `ws`.
const carol = new HappyChatClient({ adapter: nodeAdapter({ baseUrl: cfg.base, WebSocket: globalThis.WebSocket || WebSocket }) });
const bob = new HappyChatClient({ adapter: nodeAdapter({ baseUrl: cfg.base, WebSocket }), token: cfg.users.bob.token });
const got = { carol: [], bob: [] };
carol.on("message", ({ message }) => got.carol.push(message));
bob.on("message", ({ message }) => got.bob.push(message));

const dave = new HappyChatClient({ adapter: nodeAdapter({ baseUrl: cfg.base, WebSocket }) });
const daveEvents = { message: [], unauthenticated: [] };
dave.on("message", ({ message }) => daveEvents.message.push(message));
dave.on("unauthenticated", (detail) => daveEvents.unauthenticated.push(detail));

after(() => {
  carol.close();
  bob.close();
  dave.close();
});

test("authenticates, sends and receives, reads history, uploads and downloads", async () => {
  await assert.rejects(carol.api.login("carol", "wrong"), (err) => err instanceof HappyChatError && err.code === "invalid_credentials");
  // Seeded people have tokens (their passwords use a test-only hasher): log in by token.
  carol.setToken(cfg.users.carol.token);
  assert.equal((await carol.api.me()).username, "carol");
  const direct = (await carol.api.conversations()).find((c) => c.kind === "direct" && c.peer.username === "bob");
  carol.setCursor(direct.id, direct.last_seq);
  bob.setCursor(direct.id, direct.last_seq);
  carol.connect();
  bob.connect();
  await until(() => carol.status === "open" && bob.status === "open", 10000, "open");

  carol.send({ conversation: direct.id, body: "from node" });
  await until(() => got.bob.some((m) => m.body === "from node"), 5000, "bob receives");
  bob.send({ conversation: direct.id, body: "back to node" });
  await until(() => got.carol.some((m) => m.body === "back to node"), 5000, "carol receives");
  await until(() => carol.outbox.length === 0 && bob.outbox.length === 0, 5000, "acks");

  const page = await carol.api.history(direct.id, { limit: 2 });
  assert.deepEqual(page.results.map((m) => m.body), ["from node", "back to node"]);
  const read = await carol.api.markRead(direct.id, page.results[1].seq);
  assert.equal(read.unread, 0);

  const upload = await carol.api.uploadImage(pngBytes(), { filename: "x.png" });
  assert.equal(upload.width, 64);
  const bytes = await carol.api.downloadImage(upload.thumbnail_url);
  assert.ok(bytes instanceof Uint8Array && bytes.length > 50);

  await assert.rejects(carol.api.group(987654), (err) => err.status === 404 && err.code === "not_found" && err.retryable === false);
  await assert.rejects(carol.api.markRead(direct.id, -1), (err) => err.status === 400 && err.errors && "seq" in err.errors);
});

test("password log-in from Node: the token works over REST and the socket; logout revokes it", async () => {
  // dave has a real password hash (tests/system/dbtool.py seed "passwords").
  const wrong = await dave.api.login("dave", "not his password").catch((err) => err);
  assert.ok(wrong instanceof HappyChatError);
  assert.deepEqual([wrong.status, wrong.code, wrong.retryable], [400, "invalid_credentials", false]);
  assert.equal(dave.token, null, "a failed log-in sets no token");

  const { token, user } = await dave.api.login("dave", cfg.passwords.dave);
  assert.equal(user.username, "dave");
  assert.equal(dave.token, token);
  assert.equal((await dave.api.me()).email, "dave@example.com");
  // Logging in by e-mail works too, and gives this device its own token.
  const byEmail = await new HappyChatClient({ adapter: nodeAdapter({ baseUrl: cfg.base, WebSocket }) }).api.login("dave@example.com", cfg.passwords.dave);
  assert.notEqual(byEmail.token, token);

  const direct = (await dave.api.conversations()).find((c) => c.kind === "direct" && c.peer.username === "bob");
  dave.setCursor(direct.id, direct.last_seq);
  dave.connect();
  await until(() => dave.status === "open", 10000, "dave's socket");
  assert.equal(dave.user.id, user.id);
  dave.send({ conversation: direct.id, body: "logged in with a password" });
  await until(() => got.bob.some((m) => m.body === "logged in with a password"), 5000, "bob receives");
  await until(() => dave.outbox.length === 0, 5000, "the ack");

  await dave.api.logout();
  assert.equal(dave.token, null);
  await until(() => daveEvents.unauthenticated.length === 1, 5000, "the socket closed by the revocation");
  assert.equal(daveEvents.unauthenticated[0].code, 4003);
  assert.equal(dave.status, "closed");
  const revoked = await new HappyChatClient({ adapter: nodeAdapter({ baseUrl: cfg.base, WebSocket }), token }).api.me().catch((err) => err);
  assert.deepEqual([revoked.status, revoked.code], [401, "unauthenticated"]);
});

test("an account not activated yet: the right password answers inactive, a wrong one invalid_credentials", async () => {
  const erin = new HappyChatClient({ adapter: nodeAdapter({ baseUrl: cfg.base, WebSocket }) });
  const inactive = await erin.api.login("erin", cfg.passwords.erin).catch((err) => err);
  assert.ok(inactive instanceof HappyChatError);
  assert.deepEqual([inactive.status, inactive.code, inactive.retryable], [400, "inactive", false]);
  assert.match(inactive.detail, /activat/i);
  const wrong = await erin.api.login("erin", "guess").catch((err) => err);
  assert.deepEqual([wrong.status, wrong.code], [400, "invalid_credentials"]);
  assert.equal(erin.token, null);
});
