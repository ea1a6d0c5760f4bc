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

after(() => {
  carol.close();
  bob.close();
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
