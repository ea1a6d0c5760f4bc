// The example mini-program's pages (clients/miniprogram/) driven through the wx shim
// against the real daphne: log in with WeChat, friends, conversation list with unread
// badges and "[@me]", a chat room with text, emoji, an image and documents, the message
// changes of docs/protocol.md §11 (recall, edit, reply with a jump, reactions, system
// messages), and the profile page (avatar through wx.uploadFile, log out).
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import WebSocket from "ws";

import { HappyChatClient, nodeAdapter } from "../../static/js/happychat-client.js";
// The pages use the mini-program's own copy of the SDK (byte-identical, another module).
import { HappyChatError } from "../../clients/miniprogram/lib/happychat-client.js";
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
  if (!definitions[path]) {
    await import(`../../clients/miniprogram/pages/${path}.js`);
    definitions[path] = definitions.current;
  }
  const def = definitions[path];
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
const bobChanges = [];
bob.on("message", ({ message }) => bobSeen.push(message));
bob.on("change", ({ target }) => target && bobChanges.push(target));
const PDF = Buffer.from("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "latin1");
const tap = (dataset) => ({ currentTarget: { dataset } });
const lastCall = (api) => wx.calls.filter((c) => c.api === api).at(-1);
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

test("friends page: find people and ask them with a note; decline; refusals are shown and change nothing", async () => {
  const carol = new HappyChatClient({ adapter: nodeAdapter({ baseUrl: cfg.base, WebSocket }), token: cfg.users.carol.token });
  const dave = new HappyChatClient({ adapter: nodeAdapter({ baseUrl: cfg.base, WebSocket }), token: cfg.users.dave.token });
  const friends = await page("friends/friends");
  await friends.onShow();
  const result = (username) => friends.data.results.find((r) => r.username === username);

  friends.onQuery({ detail: { value: " carol " } });
  await friends.onSearch();
  assert.deepEqual(friends.data.results.map((r) => [r.username, r.state]), [["carol", "add"]]);
  await friends.onAdd(tap({ id: cfg.users.carol.id })); // the note dialog is cancelled: nothing sent
  assert.equal((await carol.api.friendRequests()).length, 0);
  wx.answers.modal.push({ confirm: true, content: " lunch sometime? " });
  await friends.onAdd(tap({ id: cfg.users.carol.id }));
  assert.equal(friends.data.error, "");
  assert.equal(result("carol").state, "asked");
  const [asked] = await carol.api.friendRequests();
  assert.deepEqual([asked.from.id, asked.message, asked.status], [me.id, "lunch sometime?", "pending"]);
  // Asking again: the server's reason is shown, and there is still one request.
  wx.answers.modal.push({ confirm: true, content: "" });
  await friends.onAdd(tap({ id: cfg.users.carol.id }));
  assert.match(friends.data.error, /./);
  assert.equal(friends.data.busy, false);
  assert.equal((await carol.api.friendRequests()).length, 1);

  friends.onQuery({ detail: { value: "bob" } });
  await friends.onSearch();
  assert.equal(result("bob").state, "friend");
  friends.onQuery({ detail: { value: "nobody-by-this-name" } });
  await friends.onSearch();
  assert.deepEqual([friends.data.results, friends.data.searched], [[], true]);
  friends.onQuery({ detail: { value: "  " } });
  await friends.onSearch();
  assert.deepEqual([friends.data.results, friends.data.searched], [[], false]);

  // Declining dave's request; accepting it afterwards is refused with a reason.
  await dave.api.sendFriendRequest(me.id, "hi from dave");
  await friends.onShow();
  const request = friends.data.requests.find((r) => r.name === "Dave" || r.message === "hi from dave");
  await friends.onDecline(tap({ id: request.id }));
  assert.equal(friends.data.error, "");
  assert.equal(friends.data.requests.length, 0);
  assert.equal((await dave.api.friendRequests()).find((r) => r.id === request.id).status, "rejected");
  await friends.onAccept(tap({ id: request.id }));
  assert.match(friends.data.error, /./);
  assert.ok(!friends.data.friends.some((f) => f.username === "dave"));
  assert.ok(!(await dave.api.friends()).some((f) => f.id === me.id));

  // Live: carol accepts while the page is open; a new request arrives.
  await carol.api.acceptFriendRequest(asked.id);
  await until(() => friends.data.friends.some((f) => f.username === "carol"), 5000, "carol becomes a friend live");
  await dave.api.sendFriendRequest(me.id, "second try");
  await until(() => friends.data.requests.some((r) => r.message === "second try"), 5000, "a request arrives live");
  friends.onUnload();
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
  // Becoming friends wrote a system message first ("You are now friends"; docs/protocol.md §11).
  assert.deepEqual(room.data.messages.filter((m) => m.kind !== "system").map((m) => m.body), ["are you there?", "hello?"]);
  assert.equal(room.data.messages[0].kind, "system");
  assert.equal(room.data.maxChars, 5000, "the composer takes what hello.limits allows");
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
  assert.equal(room.data.scrollTo, `m${room.data.messages.at(-1).seq}`, "the view follows a new message");
  const seqs = room.data.messages.map((m) => m.seq);
  assert.equal(new Set(seqs).size, seqs.length, "a message shown twice");
  await until(async () => (await appDef.chat.api.conversation(conv)).unread === 0, 5000, "read");
  room.onUnload();
});

test("chat room shows issue 10: edited mark, recalled tombstone, reply quote, file bubble, system chip", async () => {
  const post = (body, extra = {}) => bob.api.postMessage(conv, { id: `mp-${Math.random()}`, body, ...extra });
  const original = await post("original");
  const typo = await post("typo");
  await bob.api.edit(typo.id, "fixed");
  const oops = await post("oops");
  await bob.api.recall(oops.id);
  await post("answering you", { replyTo: original.id });
  const upload = await bob.api.uploadFile(PDF, { filename: "report.pdf" });
  await bob.api.postMessage(conv, { id: `mp-file-${Date.now()}`, kind: "file", attachment: upload.id });

  const room = await page("chat/chat", { id: String(conv) });
  const rows = () => room.data.messages;
  const byId = (id) => rows().find((m) => m.id === id);
  assert.equal(rows()[0].system, "You are now friends. Say hello!");
  assert.equal(byId(typo.id).body, "fixed");
  assert.equal(byId(typo.id).edited, true);
  assert.deepEqual([byId(oops.id).recalled, byId(oops.id).body, byId(oops.id).tombstone], [true, "", "Bob recalled a message"]);
  const reply = rows().find((m) => m.body === "answering you");
  assert.deepEqual(reply.quote, { id: original.id, seq: original.seq, sender: "Bob", text: "original" });
  const file = rows().find((m) => m.kind === "file");
  assert.deepEqual(file.file, { name: "report.pdf", size: `${PDF.length} B`, url: upload.url });

  // Tapping the file downloads it with the token and opens it with wx.openDocument.
  await room.onOpenFile(tap({ url: file.file.url, name: file.file.name }));
  assert.equal(lastCall("downloadFile").header.Authorization, `Token ${appDef.chat.token}`);
  const opened = lastCall("openDocument");
  assert.equal(opened.fileType, "pdf");
  assert.deepEqual(readFileSync(opened.filePath), PDF);

  // Live changes fold in: an edit, then a recall that also turns the reply's quote.
  await bob.edit(original.id, "original, edited");
  await until(() => byId(original.id).body === "original, edited" && byId(original.id).edited, 5000, "live edit");
  await bob.recall(original.id);
  await until(() => byId(original.id).recalled, 5000, "live recall");
  assert.equal(byId(original.id).tombstone, "Bob recalled a message");
  await until(() => rows().find((m) => m.body === "answering you").quote.text === "[Recalled]", 5000, "quote recalled");
  const seqs = rows().map((m) => m.seq);
  assert.equal(new Set(seqs).size, seqs.length, "a message shown twice");
  room.onUnload();
});

test("chat room actions: reply, react, edit and recall by long press; a document sent with its name", async () => {
  const room = await page("chat/chat", { id: String(conv) });
  const rows = () => room.data.messages;
  const fixed = rows().find((m) => m.body === "fixed");

  wx.answers.actionSheet.push(0); // Reply
  await room.onMessageAction(tap({ id: fixed.id }));
  assert.deepEqual(room.data.replyTo, { id: fixed.id, sender: "Bob", text: "fixed" });
  room.onInput({ detail: { value: "replying to fixed" } });
  room.onSend();
  await until(() => bobSeen.some((m) => m.body === "replying to fixed"), 5000, "bob gets the reply");
  assert.equal(bobSeen.find((m) => m.body === "replying to fixed").reply_to, fixed.id);
  await until(() => rows().some((m) => m.body === "replying to fixed" && m.quote && m.quote.id === fixed.id), 5000, "own quote");

  wx.answers.actionSheet.push(1, 0); // React…, then 👍
  await room.onMessageAction(tap({ id: fixed.id }));
  assert.deepEqual(lastCall("showActionSheet").itemList, ["👍", "❤️", "😂", "😮", "😢", "🙏"]);
  await until(() => rows().find((m) => m.id === fixed.id).reactions.length === 1, 5000, "reaction shown");
  assert.deepEqual(rows().find((m) => m.id === fixed.id).reactions, [{ emoji: "👍", count: 1, mine: true }]);
  await until(() => bobChanges.some((t) => t.id === fixed.id && t.reactions.some((r) => r.emoji === "👍")), 5000, "bob sees it");
  // Bob adds ❤️; tapping it adds mine, tapping my 👍 takes it back.
  await bob.react(fixed.id, "❤️", true);
  await until(() => rows().find((m) => m.id === fixed.id).reactions.length === 2, 5000, "bob's heart shown");
  await room.onReaction(tap({ id: fixed.id, emoji: "❤️", mine: false }));
  await room.onReaction(tap({ id: fixed.id, emoji: "👍", mine: true }));
  assert.deepEqual(rows().find((m) => m.id === fixed.id).reactions, [{ emoji: "❤️", count: 2, mine: true }]);
  await until(() => bobChanges.some((t) => t.id === fixed.id && t.reactions.length === 1 && t.reactions[0].count === 2), 5000, "bob sees both");
  wx.answers.actionSheet.push(2); // Copy
  await room.onMessageAction(tap({ id: fixed.id }));
  assert.equal(wx.clipboard, "fixed");

  room.onInput({ detail: { value: "my message" } });
  room.onSend();
  await until(() => rows().some((m) => m.mine && m.body === "my message"), 5000, "own message");
  const mine = rows().find((m) => m.mine && m.body === "my message");
  wx.answers.actionSheet.push(3); // Reply, React…, Copy, Edit, Recall
  wx.answers.modal.push({ confirm: true, content: "my edited message" });
  await room.onMessageAction(tap({ id: mine.id }));
  assert.deepEqual(lastCall("showActionSheet").itemList, ["Reply", "React…", "Copy", "Edit", "Recall"]);
  assert.equal(rows().find((m) => m.id === mine.id).body, "my edited message");
  assert.equal(rows().find((m) => m.id === mine.id).edited, true);
  wx.answers.actionSheet.push(4);
  await room.onMessageAction(tap({ id: mine.id }));
  assert.equal(rows().find((m) => m.id === mine.id).tombstone, "You recalled a message");
  await until(() => bobChanges.some((t) => t.id === mine.id && t.recalled), 5000, "bob sees the recall");
  // Past the server's windows (hello.limits), edit and recall are not offered.
  const limits = appDef.chat.limits;
  appDef.chat.limits = { ...limits, recall_seconds: 0, edit_seconds: 0 };
  const replyRow = rows().find((m) => m.mine && m.body === "replying to fixed");
  await room.onMessageAction(tap({ id: replyRow.id })); // dismissed
  assert.deepEqual(lastCall("showActionSheet").itemList, ["Reply", "React…", "Copy"]);
  appDef.chat.limits = limits;
  // Bob's messages offer neither edit nor recall.
  await room.onMessageAction(tap({ id: fixed.id })); // dismissed
  assert.deepEqual(lastCall("showActionSheet").itemList, ["Reply", "React…", "Copy"]);

  // A document picked from a chat: wx.uploadFile sends the temp name, the page the real one.
  const path = join(tmp, "tmp_71c0.pdf");
  writeFileSync(path, PDF);
  wx.chooseFile = { path, name: "minutes.pdf" };
  await room.onChooseFile();
  await until(() => bobSeen.some((m) => m.kind === "file" && m.attachment.name === "minutes.pdf"), 8000, "bob gets the file");
  assert.equal(lastCall("uploadFile").filePath, path);
  await until(() => rows().some((m) => m.mine && m.file && m.file.name === "minutes.pdf"), 5000, "own file shown");
  // Too big (hello.limits.file_max_bytes): refused before uploading anything.
  const uploads = () => wx.calls.filter((c) => c.api === "uploadFile").length;
  const uploadsBefore = uploads();
  wx.chooseFile = { path, name: "huge.pdf", size: 20 * 1024 * 1024 + 1 };
  await room.onChooseFile();
  assert.equal(lastCall("showToast").title, "Files can be at most 20.0 MB");
  assert.equal(uploads(), uploadsBefore);
  // A type the server does not take: its reason is shown, and nothing is sent.
  const exe = join(tmp, "tmp_9a.exe");
  writeFileSync(exe, "MZ\x90\x00 not a document");
  wx.chooseFile = { path: exe, name: "setup.exe" };
  const filesBefore = bobSeen.filter((m) => m.kind === "file").length;
  await room.onChooseFile();
  assert.equal(uploads(), uploadsBefore + 1);
  assert.match(lastCall("showToast").title, /./);
  assert.notEqual(lastCall("showToast").title, "The file was not sent", "the server's reason, not a generic one");
  assert.deepEqual(appDef.chat.pending(conv), []);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(bobSeen.filter((m) => m.kind === "file").length, filesBefore);
  room.onUnload();
});

test("chat room: a message the server refuses stays, marked failed, until sent again or deleted", async () => {
  const room = await page("chat/chat", { id: String(conv) });
  const storedBefore = (await bob.api.history(conv, { limit: 1 })).results.at(-1).seq;
  const toasts = () => wx.calls.filter((c) => c.api === "showToast").length;
  let seen = toasts();
  room.onInput({ detail: { value: "x".repeat(5001) } }); // over the 5,000 characters of a text
  room.onSend();
  await until(() => room.data.pending.length === 1 && room.data.pending[0].failed, 5000, "marked failed");
  assert.ok(toasts() > seen && lastCall("showToast").title, "the server's reason is shown");
  assert.equal(appDef.chat.outbox.length, 1, "kept: nothing the user typed is lost");

  seen = toasts();
  await room.onRetry(tap({ id: room.data.pending[0].id })); // dismissed: nothing changes
  assert.deepEqual(lastCall("showActionSheet").itemList, ["Send again", "Delete"]);
  assert.equal(room.data.pending[0].failed, true);
  wx.answers.actionSheet.push(0); // send again: refused again, still kept
  await room.onRetry(tap({ id: room.data.pending[0].id }));
  await until(() => toasts() > seen && room.data.pending[0] && room.data.pending[0].failed, 5000, "refused again");
  wx.answers.actionSheet.push(1); // delete
  await room.onRetry(tap({ id: room.data.pending[0].id }));
  assert.deepEqual(room.data.pending, []);
  assert.equal(appDef.chat.outbox.length, 0);
  assert.equal((await bob.api.history(conv, { limit: 1 })).results.at(-1).seq, storedBefore, "nothing stored");
  room.onUnload();
});

test("chat room: a quote whose original is not loaded yet jumps there through history around it", async () => {
  const target = (await bob.api.history(conv, { limit: 200 })).results.find((m) => m.body === "fixed");
  for (let n = 0; n < 32; n += 1) await bob.api.postMessage(conv, { id: `fill-${n}-${Date.now()}`, body: `filler ${n}` });
  await bob.api.postMessage(conv, { id: `jump-${Date.now()}`, body: "see way up", replyTo: target.id });
  const room = await page("chat/chat", { id: String(conv) });
  assert.ok(!room.data.messages.some((m) => m.seq === target.seq), "the original is not among the newest 30");
  const reply = room.data.messages.find((m) => m.body === "see way up");
  await room.onQuote(tap({ seq: reply.quote.seq }));
  assert.ok(room.data.messages.some((m) => m.seq === target.seq && m.body === "fixed"));
  assert.equal(room.data.scrollTo, `m${target.seq}`);
  const seqs = room.data.messages.map((m) => m.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  assert.equal(new Set(seqs).size, seqs.length);
  room.onUnload();
});

test("chat room: scrolling to the top loads earlier pages until the first message", async () => {
  const room = await page("chat/chat", { id: String(conv) });
  const seqs = () => room.data.messages.map((m) => m.seq);
  assert.equal(room.data.hasOlder, true);
  const shown = room.data.messages.length;
  const first = seqs()[0];
  await room.onLoadOlder();
  assert.ok(room.data.messages.length > shown, "an earlier page was added");
  assert.ok(seqs()[0] < first);
  assert.equal(room.data.scrollTo, `m${first}`, "the reader stays where they were");
  for (let n = 0; n < 10 && room.data.hasOlder; n += 1) await room.onLoadOlder();
  assert.equal(room.data.hasOlder, false);
  assert.equal(room.data.loadingOlder, false);
  assert.equal(room.data.messages[0].system, "You are now friends. Say hello!");
  assert.deepEqual(seqs(), [...seqs()].sort((a, b) => a - b));
  assert.equal(new Set(seqs()).size, seqs().length, "a message shown twice");
  const count = room.data.messages.length;
  await room.onLoadOlder(); // nothing older: no request, nothing changes
  assert.equal(room.data.messages.length, count);
  room.onUnload();
});

test("conversation list: [@me] for a group mention, a recalled preview, system messages not unread", async () => {
  const list = await page("conversations/conversations");
  await list.onShow();
  const group = await bob.api.createGroup({ name: "Lunch club", members: [me.id], isPublic: false });
  await until(() => list.data.conversations.some((r) => r.id === group.conversation), 8000, "the new group listed");
  const row = (id) => list.data.conversations.find((r) => r.id === id);
  assert.equal(row(group.conversation).unread, 0, "the group_created system message is not unread");
  assert.equal(row(group.conversation).mentioned, false);
  await bob.api.postMessage(group.conversation, { id: `at-${Date.now()}`, body: "@phone lunch?", mentions: [me.id] });
  await until(() => row(group.conversation).mentioned, 5000, "[@me]");
  assert.equal(row(group.conversation).unread, 1);
  assert.equal(list.data.conversations[0].id, group.conversation);
  await list.onShow(); // the server agrees after a reload
  assert.equal(row(group.conversation).mentioned, true);
  assert.equal(row(group.conversation).unread, 1);

  // A rename reaches the list live.
  await bob.api.updateGroup(group.id, { name: "Lunch club 🍜" });
  await until(() => row(group.conversation).title === "Lunch club 🍜", 5000, "renamed live");
  await bob.api.updateGroup(group.id, { name: "Lunch club" });
  await until(() => row(group.conversation).title === "Lunch club", 5000, "renamed back");

  bob.send({ conversation: conv, body: "never mind" });
  await until(() => row(conv).preview === "never mind", 5000, "live preview");
  await until(() => bobSeen.some((m) => m.body === "never mind"), 5000, "acked");
  await bob.recall(bobSeen.find((m) => m.body === "never mind").id);
  await until(() => row(conv).preview === "Bob recalled a message", 5000, "recalled preview");
  list.onUnload();
});

test("group chat: '@' opens the member picker; mentions go as user ids, @all only for owners and admins", async () => {
  const lunch = (await appDef.chat.api.conversations()).find((c) => c.title === "Lunch club");
  const room = await page("chat/chat", { id: String(lunch.id) });
  // System messages are chips in your words, from their data.
  assert.deepEqual(room.data.messages.filter((m) => m.kind === "system").map((m) => m.system), [
    'Bob created the group "Lunch club"',
    'Bob renamed the group to "Lunch club 🍜"',
    'Bob renamed the group to "Lunch club"',
  ]);
  room.onInput({ detail: { value: "hi" } });
  assert.deepEqual(room.data.picker, [], "no picker without an @");
  room.onInput({ detail: { value: "hi @" } });
  // A plain member: the others, no "All members".
  assert.deepEqual(room.data.picker, [{ id: cfg.users.bob.id, name: "Bob" }]);
  room.onPickMention(tap({ id: cfg.users.bob.id }));
  assert.equal(room.data.draft, "hi @Bob ");
  assert.deepEqual(room.data.picker, []);
  room.onInput({ detail: { value: "hi @Bob see you" } });
  room.onSend();
  await until(() => bobSeen.some((m) => m.body === "hi @Bob see you"), 5000, "bob gets the mention");
  const mention = bobSeen.find((m) => m.body === "hi @Bob see you");
  assert.deepEqual([mention.mentions, mention.mention_all], [[cfg.users.bob.id], false]);
  assert.equal((await bob.api.conversation(lunch.id)).mentioned, true);
  // A mention deleted from the draft is not sent.
  room.onInput({ detail: { value: "@" } });
  room.onPickMention(tap({ id: cfg.users.bob.id }));
  room.onInput({ detail: { value: "changed my mind" } });
  room.onSend();
  await until(() => bobSeen.some((m) => m.body === "changed my mind"), 5000, "plain message");
  assert.deepEqual(bobSeen.find((m) => m.body === "changed my mind").mentions, []);
  room.onUnload();

  // The owner of a group may mention everyone.
  const book = await appDef.chat.api.createGroup({ name: "Book club", members: [cfg.users.bob.id], isPublic: false });
  const owned = await page("chat/chat", { id: String(book.conversation) });
  assert.deepEqual(owned.data.messages.map((m) => m.system), ['You created the group "Book club"']);
  owned.onInput({ detail: { value: "@" } });
  assert.deepEqual(owned.data.picker, [{ id: "all", name: "All members" }, { id: cfg.users.bob.id, name: "Bob" }]);
  owned.onPickMention(tap({ id: "all" }));
  owned.onInput({ detail: { value: "@all meeting at 8" } });
  owned.onSend();
  await until(() => bobSeen.some((m) => m.body === "@all meeting at 8"), 5000, "bob gets @all");
  assert.equal(bobSeen.find((m) => m.body === "@all meeting at 8").mention_all, true);
  await until(() => owned.data.messages.some((m) => m.mine && m.body === "@all meeting at 8"), 5000, "own @all shown");
  // The owner may recall a member's message; the tombstone says who did.
  const spoiler = await bob.api.postMessage(book.conversation, { id: `sp-${Date.now()}`, body: "spoiler!" });
  await until(() => owned.data.messages.some((m) => m.id === spoiler.id), 5000, "bob's message shown");
  wx.answers.actionSheet.push(3); // Reply, React…, Copy, Recall
  await owned.onMessageAction(tap({ id: spoiler.id }));
  assert.deepEqual(lastCall("showActionSheet").itemList, ["Reply", "React…", "Copy", "Recall"]);
  await until(() => owned.data.messages.find((m) => m.id === spoiler.id).recalled, 5000, "recalled");
  assert.equal(owned.data.messages.find((m) => m.id === spoiler.id).tombstone, "You recalled a message from Bob");
  await until(() => bobChanges.some((t) => t.id === spoiler.id && t.recalled), 5000, "bob sees the recall");
  // Bob leaves while the room is open: a chip says so, and the picker no longer offers him.
  await bob.api.leaveGroup(book.id);
  await until(() => owned.data.messages.some((m) => m.system === "Bob left the group"), 5000, "left chip");
  await until(() => owned.members.length === 0, 5000, "members reloaded");
  owned.onInput({ detail: { value: "anyone? @" } });
  assert.deepEqual(owned.data.picker, [{ id: "all", name: "All members" }]);
  owned.onClosePicker();
  assert.deepEqual(owned.data.picker, []);
  owned.onUnload();
  // A plain member is not offered a recall of someone else's message.
  const again = await page("chat/chat", { id: String(lunch.id) });
  const bobs = again.data.messages.find((m) => !m.mine && m.kind === "text");
  await again.onMessageAction(tap({ id: bobs.id })); // dismissed
  assert.deepEqual(lastCall("showActionSheet").itemList, ["Reply", "React…", "Copy"]);
  again.onUnload();
});

test("conversation list search: messages found with highlights; a result opens the chat at that message", async () => {
  const list = await page("conversations/conversations");
  await list.onShow();
  list.onQuery({ detail: { value: "answering" } });
  await list.onSearch();
  assert.equal(list.data.searched, true);
  const [found] = list.data.results;
  assert.equal(list.data.results.length, 1);
  assert.deepEqual([found.conversation, found.title, found.sender], [conv, "Bob", "Bob"]);
  assert.ok(found.snippet.some((part) => part.hit && /answering/i.test(part.text)), JSON.stringify(found.snippet));
  // A recalled message is never found; nothing found says so.
  list.onQuery({ detail: { value: "spoiler" } });
  await list.onSearch();
  assert.deepEqual([list.data.results, list.data.searched], [[], true]);
  list.onClearSearch();
  assert.deepEqual([list.data.query, list.data.results, list.data.searched], ["", [], false]);

  // Open the result: the chat loads the newest page, then the history around the hit.
  await list.onOpenResult(tap({ conversation: found.conversation, seq: found.seq }));
  assert.equal(lastCall("navigateTo").url, `/pages/chat/chat?id=${conv}&seq=${found.seq}`);
  const room = await page("chat/chat", { id: String(conv), seq: String(found.seq) });
  assert.ok(room.data.messages.some((m) => m.seq === found.seq && m.body === "answering you"));
  assert.equal(room.data.scrollTo, `m${found.seq}`);
  assert.ok(room.data.messages.at(-1).seq > found.seq + 30, "the newest messages are there too");
  room.onUnload();
  list.onUnload();
});

test("chat room: the remark you gave someone names their live messages too (live frames carry no remark)", async () => {
  await appDef.chat.api.setRemark(cfg.users.bob.id, "Bobby");
  const room = await page("chat/chat", { id: String(conv) });
  bob.send({ conversation: conv, body: "who am I?" });
  await until(() => room.data.messages.some((m) => m.body === "who am I?"), 5000, "live message");
  assert.equal(room.data.messages.find((m) => m.body === "who am I?").sender, "Bobby");
  room.onUnload();
  await appDef.chat.api.setRemark(cfg.users.bob.id, "");
});

test("me page: avatar through wx.uploadFile (POST me/avatar/), nickname, refusals, log out", async () => {
  const mePage = await page("me/me");
  await mePage.onShow();
  assert.equal(mePage.data.user.username, me.username);
  wx.chooseImagePath = pngFile(tmp, "face.png");
  await mePage.onChangeAvatar();
  assert.equal(mePage.data.error, "");
  const upload = lastCall("uploadFile");
  assert.equal(upload.url, `${cfg.base}/api/v1/me/avatar/`);
  assert.equal(upload.header.Authorization, `Token ${appDef.chat.token}`);
  assert.ok(mePage.data.avatar.startsWith(`${cfg.base}/media/avatars/`), mePage.data.avatar);
  const avatar = await fetch(mePage.data.avatar); // public: an <image src> loads it
  assert.equal(avatar.status, 200);
  assert.match(avatar.headers.get("content-type"), /^image\//);
  assert.equal((await bob.api.user(me.id)).avatar, new URL(mePage.data.avatar).pathname);

  // Not an image: the field error is shown and the picture stays.
  const before = mePage.data.avatar;
  const bad = join(tmp, "notes.png");
  writeFileSync(bad, "not an image at all");
  wx.chooseImagePath = bad;
  await mePage.onChangeAvatar();
  assert.match(mePage.data.error, /image/i);
  assert.equal(mePage.data.avatar, before);
  const refused = await appDef.chat.api.uploadAvatar(bad).catch((err) => err);
  assert.ok(refused instanceof HappyChatError);
  assert.deepEqual([refused.status, refused.code, Object.keys(refused.errors)], [400, "invalid", ["file"]]);

  mePage.onNickname({ detail: { value: "  Phone Person " } });
  await mePage.onSave();
  assert.equal(mePage.data.user.nickname, "Phone Person");
  assert.equal((await bob.api.user(me.id)).nickname, "Phone Person");

  // WeChat is this account's only way in: unlinking is refused, with the server's reason.
  assert.deepEqual(mePage.data.wechat, { linked: true, unionid: false });
  const deletes = () => wx.calls.filter((c) => c.api === "request" && c.method === "DELETE").length;
  const deletesBefore = deletes();
  await mePage.onUnlinkWeChat(); // the confirmation is dismissed: nothing is asked of the server
  assert.equal(deletes(), deletesBefore);
  assert.equal(lastCall("showModal").title, "Unlink WeChat?");
  wx.answers.modal.push({ confirm: true });
  await mePage.onUnlinkWeChat();
  assert.equal(deletes(), deletesBefore + 1);
  assert.match(mePage.data.error, /only way into this account/);
  assert.deepEqual(mePage.data.wechat, { linked: true, unionid: false });
  assert.equal((await appDef.chat.api.wechatLink()).linked, true);

  const token = appDef.chat.token;
  await mePage.onLogout();
  assert.equal(lastCall("reLaunch").url, "/pages/login/login");
  assert.equal(wx.getStorageSync("hc.token"), "");
  assert.equal(appDef.chat, null);
  const gone = await new HappyChatClient({ adapter: nodeAdapter({ baseUrl: cfg.base, WebSocket }), token }).api.me().catch((err) => err);
  assert.equal(gone.status, 401);
});

test("me page: a password account links WeChat (then logs in with it) and unlinks it; bad codes change nothing", async () => {
  const login = await page("login/login");
  login.onUsername({ detail: { value: "dave" } });
  login.onPassword({ detail: { value: cfg.passwords.dave } });
  await login.onPasswordLogin();
  assert.equal(login.data.error, "");
  assert.equal(appDef.globalData.user.username, "dave");
  const mePage = await page("me/me");
  await mePage.onShow();
  assert.equal(mePage.data.user.username, "dave");
  assert.deepEqual(mePage.data.wechat, { linked: false, unionid: false });
  const linked = async () => (await appDef.chat.api.wechatLink()).linked;

  // wx.login fails; WeChat refuses the code; the WeChat account is someone else's.
  await mePage.onLinkWeChat(); // no code from wx.login
  assert.match(mePage.data.error, /log-in code/);
  wx.nextLoginCode = "wrong-code";
  await mePage.onLinkWeChat();
  assert.match(mePage.data.error, /code/i);
  wx.nextLoginCode = "ok:openid-miniprogram:other";
  await mePage.onLinkWeChat();
  assert.match(mePage.data.error, /another account/);
  assert.deepEqual(mePage.data.wechat, { linked: false, unionid: false });
  assert.equal(await linked(), false);
  assert.equal(mePage.data.busy, false);

  wx.nextLoginCode = "ok:openid-dave:union-dave";
  await mePage.onLinkWeChat();
  assert.equal(mePage.data.error, "");
  assert.deepEqual(mePage.data.wechat, { linked: true, unionid: true });
  assert.equal(await linked(), true);
  // The link works: a WeChat log-in on another phone is dave's.
  const phone = new HappyChatClient({ adapter: nodeAdapter({ baseUrl: cfg.base, WebSocket }) });
  const viaWeChat = await phone.api.loginWithWeChat("ok:openid-dave");
  assert.equal(viaWeChat.user.id, cfg.users.dave.id);

  // dave has a password, so unlinking is allowed.
  wx.answers.modal.push({ confirm: true });
  await mePage.onUnlinkWeChat();
  assert.equal(mePage.data.error, "");
  assert.deepEqual(mePage.data.wechat, { linked: false, unionid: false });
  assert.equal(await linked(), false);
  await mePage.onShow(); // the server agrees after a reload
  assert.deepEqual(mePage.data.wechat, { linked: false, unionid: false });
  await mePage.onLogout();
});
