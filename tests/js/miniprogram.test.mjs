// The example mini-program's pages (clients/miniprogram/) driven through the wx shim
// against the real daphne: log in with WeChat, friends, conversation list with unread
// badges, a chat room with text, emoji and an image.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import WebSocket from "ws";

import { HappyChatClient, nodeAdapter } from "../../static/js/happychat-client.js";
import { config, createWx, pngFile, until } from "./wx-shim.mjs";

const cfg = config();
const tmp = process.env.HC_TMP;
const wx = createWx(join(tmp, "mp-phone"));
const definitions = {};
let appDef = null;
globalThis.wx = wx;
globalThis.App = (def) => {
  appDef = def;
};
globalThis.getApp = () => appDef;
globalThis.Page = (def) => {
  definitions.current = def;
};

/** Load a page module and make an instance the way the mini-program runtime does. */
async function page(path, query = null) {
  await import(`../../clients/miniprogram/pages/${path}.js`);
  const def = definitions.current;
  const instance = { ...def, data: structuredClone(def.data) };
  instance.setData = (patch) => Object.assign(instance.data, patch);
  if (instance.onLoad) await instance.onLoad(query || {});
  return instance;
}

await import("../../clients/miniprogram/app.js");
appDef.globalData.serverUrl = cfg.base; // what config.js says in a real build
appDef.onLaunch();

const bob = new HappyChatClient({ adapter: nodeAdapter({ baseUrl: cfg.base, WebSocket }), token: cfg.users.bob.token });
const bobSeen = [];
bob.on("message", ({ message }) => bobSeen.push(message));
let me = null;
let conv = null;

after(() => {
  appDef.chat?.close();
  bob.close();
});

test("log-in page: WeChat log-in stores the token, connects and opens the chats tab", async () => {
  const login = await page("login/login");
  wx.nextLoginCode = "ok:openid-miniprogram";
  await login.onWeChatLogin();
  assert.equal(login.data.error, "");
  assert.ok(wx.calls.some((c) => c.api === "switchTab" && c.url === "/pages/conversations/conversations"));
  assert.equal(wx.getStorageSync("hc.token"), appDef.chat.token);
  await until(() => appDef.chat.status === "open", 8000, "socket open");
  me = appDef.globalData.user;
  assert.match(me.username, /^wx_/);
  // A code WeChat refuses shows its message.
  await login.onWeChatLogin(); // no code this time: wx.login fails
  wx.nextLoginCode = "used-or-wrong";
  await login.onWeChatLogin();
  assert.match(login.data.error, /code/i);
});

test("friends page: lists requests, accepting makes a friend", async () => {
  await bob.api.sendFriendRequest(me.id, "hello from bob");
  const friends = await page("friends/friends");
  await friends.onShow();
  assert.equal(friends.data.requests.length, 1);
  assert.equal(friends.data.requests[0].message, "hello from bob");
  await friends.onAccept({ currentTarget: { dataset: { id: friends.data.requests[0].id } } });
  assert.deepEqual(friends.data.friends.map((f) => f.username), ["bob"]);
  assert.equal(friends.data.requests.length, 0);
  await friends.onOpen({ currentTarget: { dataset: { id: cfg.users.bob.id } } });
  const nav = wx.calls.filter((c) => c.api === "navigateTo").at(-1);
  conv = Number(nav.url.split("id=")[1]);
  assert.ok(conv > 0);
});

test("conversation list: unread badges from REST, kept current by live messages", async () => {
  await bob.api.postMessage(conv, { id: `mp-1-${Date.now()}`, body: "are you there?" });
  const list = await page("conversations/conversations");
  await list.onShow();
  const row = () => list.data.conversations.find((r) => r.id === conv);
  assert.equal(row().unread, 1);
  assert.equal(row().preview, "are you there?");
  assert.equal(wx.calls.filter((c) => c.api === "setTabBarBadge").at(-1).text, "1");
  bob.setCursor(conv, 1);
  bob.connect();
  await until(() => bob.status === "open", 8000, "bob open");
  bob.send({ conversation: conv, body: "hello?" });
  await until(() => row().unread === 2, 5000, "live unread");
  assert.equal(list.data.conversations[0].id, conv);
  assert.equal(row().badge, "2");
  list.onUnload();
});

test("chat room: history, text, emoji and an image; reading clears the unread count", async () => {
  const room = await page("chat/chat", { id: String(conv) });
  // Becoming friends wrote a system message first ("You are now friends"; docs/protocol.md §12).
  assert.deepEqual(room.data.messages.filter((m) => m.kind !== "system").map((m) => m.body), ["are you there?", "hello?"]);
  assert.equal(room.data.messages[0].kind, "system");
  room.onInput({ detail: { value: "yes, " } });
  room.onEmoji({ currentTarget: { dataset: { emoji: "😀" } } });
  assert.equal(room.data.draft, "yes, 😀");
  room.onSend();
  assert.equal(room.data.draft, "");
  await until(() => room.data.messages.some((m) => m.mine && m.body === "yes, 😀"), 5000, "own text stored");
  await until(() => bobSeen.some((m) => m.body === "yes, 😀"), 5000, "bob gets it");
  assert.equal(room.data.pending.length, 0);

  wx.chooseImagePath = pngFile(tmp, "room.png");
  await room.onChooseImage();
  await until(() => room.data.messages.some((m) => m.kind === "image" && m.image), 8000, "image shown");
  const shown = room.data.messages.find((m) => m.kind === "image");
  assert.ok(existsSync(shown.image), "the thumbnail is a downloaded temp file");
  await until(() => bobSeen.some((m) => m.kind === "image"), 5000, "bob gets the image");

  bob.send({ conversation: conv, body: "nice picture" });
  await until(() => room.data.messages.some((m) => m.body === "nice picture" && !m.mine), 5000, "live reply");
  const seqs = room.data.messages.map((m) => m.seq);
  assert.equal(new Set(seqs).size, seqs.length, "a message shown twice");
  await until(async () => (await appDef.chat.api.conversation(conv)).unread === 0, 5000, "read");
  room.onUnload();
});
