// The SDK's WeChat adapter through the wx shim, against the real daphne pytest started
// (tests/system/test_js_sdk.py) and the fake WeChat behind it.
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import WebSocket from "ws";

import { HappyChatClient, HappyChatError, nodeAdapter, wechatAdapter } from "../../static/js/happychat-client.js";
import { config, control, createWx, pngFile, sleep, until } from "./wx-shim.mjs";

const cfg = config();
const tmp = process.env.HC_TMP;
const wx = createWx(join(tmp, "wx-phone"));
const seen = []; // every `message` event the mini-program's client emitted, in order
let app = null;
let me = null;
let conv = null;

function makeApp(token = null) {
  const client = new HappyChatClient({
    adapter: wechatAdapter({ wx, baseUrl: cfg.base }),
    token,
    storageKey: "hc",
    persistCursors: true,
  });
  client.on("message", ({ message, live }) => seen.push({ ...message, live }));
  client.adapter.watch(client);
  return client;
}

const bob = new HappyChatClient({
  adapter: nodeAdapter({ baseUrl: cfg.base, WebSocket }),
  token: cfg.users.bob.token,
});
const bobSeen = [];
bob.on("message", ({ message }) => bobSeen.push(message));

const inConv = (list) => list.filter((m) => m.conversation === conv);
const bodies = (list) => inConv(list).map((m) => m.body);

after(() => {
  app?.close();
  bob.close();
});

test("logs in with a wx.login code through the fake WeChat; refusals are HappyChatErrors", async () => {
  app = makeApp();
  await assert.rejects(app.api.loginWithWeChat("not-a-code"), (err) => {
    assert.ok(err instanceof HappyChatError);
    assert.equal(err.status, 400);
    assert.equal(err.code, "invalid_code");
    assert.equal(err.retryable, false);
    return true;
  });
  await assert.rejects(app.api.loginWithWeChat("ratelimit"), (err) => err.status === 429 && err.retryable === true);
  wx.nextLoginCode = "ok:openid-phone";
  const code = await new Promise((resolve, reject) => wx.login({ success: (r) => resolve(r.code), fail: reject }));
  const result = await app.api.loginWithWeChat(code);
  assert.ok(result.token);
  assert.equal(app.token, result.token);
  me = result.user;
  assert.match(me.username, /^wx_/);
  assert.deepEqual(await app.api.wechatLink(), { ...(await app.api.wechatLink()), linked: true });
});

test("befriends bob, then sends and receives text live over a header-authenticated socket", async () => {
  await app.api.sendFriendRequest(cfg.users.bob.id, "hi from the mini-program");
  const pending = (await bob.api.friendRequests()).find((r) => r.from.id === me.id && r.status === "pending");
  await bob.api.acceptFriendRequest(pending.id);
  const direct = (await app.api.conversations()).find((c) => c.kind === "direct" && c.peer.id === cfg.users.bob.id);
  conv = direct.id;
  app.setCursor(conv, direct.last_seq);
  bob.setCursor(conv, direct.last_seq);
  app.connect();
  bob.connect();
  await until(() => app.status === "open" && bob.status === "open", 10000, "both sockets open");
  const socketCall = wx.calls.find((c) => c.api === "connectSocket");
  assert.equal(socketCall.header.Authorization, `Token ${app.token}`);
  assert.equal(socketCall.url, `${cfg.base.replace("http", "ws")}/ws/chat/`);

  app.send({ conversation: conv, body: "hello bob 👋" });
  await until(() => bodies(bobSeen).includes("hello bob 👋"), 5000, "bob gets the text");
  await until(() => app.outbox.length === 0, 5000, "the ack");
  bob.send({ conversation: conv, body: "hi, phone" });
  await until(() => bodies(seen).includes("hi, phone"), 5000, "the phone gets bob's text");
  assert.equal(inConv(seen).find((m) => m.body === "hi, phone").live, true);
});

test("sends an image through wx.uploadFile and fetches it back with wx.downloadFile", async () => {
  const path = pngFile(tmp);
  await app.sendImage({ conversation: conv, file: path });
  await until(() => inConv(bobSeen).some((m) => m.kind === "image"), 8000, "bob gets the image");
  const image = inConv(bobSeen).find((m) => m.kind === "image");
  assert.ok(image.attachment.id > 0);
  assert.equal(image.attachment.width, 64);
  const upload = wx.calls.find((c) => c.api === "uploadFile");
  assert.equal(upload.name, "file");
  assert.equal(upload.header.Authorization, `Token ${app.token}`);
  await until(() => inConv(seen).some((m) => m.kind === "image"), 5000, "the phone's own image");
  const temp = await app.api.downloadImage(image.attachment.thumbnail_url);
  assert.ok(existsSync(temp) && statSync(temp).size > 50);
  const magic = readFileSync(temp).subarray(0, 4).toString("hex");
  assert.ok(["89504e47", "ffd8ffe0", "ffd8ffdb", "ffd8ffe1", "52494646"].includes(magic), magic);
  const download = wx.calls.find((c) => c.api === "downloadFile");
  assert.equal(download.header.Authorization, `Token ${app.token}`);
});

test("SIGKILL of daphne mid-stream and an app restart: every message stored once, outbox empty, nothing shown twice", async () => {
  const sent = [];
  const sendOne = (n) => sent.push(app.send({ conversation: conv, body: `burst ${n}` }).id);
  for (let n = 0; n < 12; n += 1) {
    sendOne(n);
    await sleep(15);
  }
  await control("/kill");
  for (let n = 12; n < 20; n += 1) sendOne(n); // queued while the server is dead
  await until(() => app.status !== "open", 5000, "the client noticing");
  const stored = JSON.parse(wx.getStorageSync("hc.outbox"));
  assert.ok(stored.length >= 8, `outbox persisted ${stored.length}`);
  // The mini-program is killed too; a new one starts from what storage kept.
  app.close();
  app = makeApp(app.token);
  assert.ok(app.outbox.length >= 8);
  assert.equal(app.cursor(conv), Math.max(...inConv(seen).map((m) => m.seq)));
  await control("/start");
  app.connect();
  await until(() => app.status === "open" && app.outbox.length === 0, 30000, "the outbox to drain");
  assert.deepEqual(JSON.parse(wx.getStorageSync("hc.outbox")), []);

  const dump = await control(`/dump?conversation=${conv}`);
  const mine = dump.messages.filter((m) => m.sender === me.id && m.body.startsWith("burst "));
  assert.deepEqual(mine.map((m) => m.client_id).sort(), [...sent].sort());
  assert.equal(new Set(mine.map((m) => m.client_id)).size, 20);
  // Shown exactly once each, in seq order, with no gap.
  await until(() => inConv(seen).filter((m) => m.body.startsWith("burst ")).length >= 20, 10000, "all bursts shown");
  const seqs = inConv(seen).map((m) => m.seq);
  assert.equal(new Set(seqs).size, seqs.length, "a message was shown twice");
  for (let i = 1; i < seqs.length; i += 1) assert.equal(seqs[i], seqs[i - 1] + 1);
  assert.equal(seqs.at(-1), dump.conversations[String(conv)]);
  await until(() => bob.status === "open", 15000, "bob back");
});

test("network 'none' stops reconnect attempts; when it returns the client reconnects at once and sync fills the gap", async () => {
  wx.setNetwork(false);
  await until(() => app.status === "reconnecting", 3000, "the drop");
  const attempts = wx.calls.filter((c) => c.api === "connectSocket").length;
  for (let n = 0; n < 3; n += 1) {
    await bob.api.postMessage(conv, { id: `offline-${n}-${Date.now()}`, body: `while offline ${n}` });
  }
  await sleep(1500);
  assert.equal(wx.calls.filter((c) => c.api === "connectSocket").length, attempts, "tried while offline");
  assert.ok(!bodies(seen).includes("while offline 0"));
  const back = Date.now();
  wx.setNetwork(true);
  await until(() => ["while offline 0", "while offline 1", "while offline 2"].every((b) => bodies(seen).includes(b)), 5000, "the gap");
  assert.ok(Date.now() - back < 3000, `reconnected after ${Date.now() - back} ms`);
  const seqs = inConv(seen).map((m) => m.seq);
  assert.equal(new Set(seqs).size, seqs.length);
});

test("app hide and show: a socket that died in the background is replaced promptly", async () => {
  await until(() => app.status === "open", 5000, "open");
  wx.hide();
  for (let n = 0; n < 2; n += 1) bob.send({ conversation: conv, body: `while hidden ${n}` });
  await sleep(500);
  assert.ok(!bodies(seen).includes("while hidden 0"));
  const shown = Date.now();
  wx.show();
  await until(() => bodies(seen).includes("while hidden 1"), 8000, "messages sent while hidden");
  assert.ok(Date.now() - shown < 6000, `took ${Date.now() - shown} ms`);
  assert.equal(app.status, "open");
  const seqs = inConv(seen).map((m) => m.seq);
  assert.equal(new Set(seqs).size, seqs.length);
});
