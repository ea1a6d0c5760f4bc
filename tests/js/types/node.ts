// A Node bot on the SDK, type-checked (never run) with `tsc --strict` and @types/node,
// @types/ws against static/js/happychat-client.d.ts: the `ws` package's WebSocket class and
// Buffers must fit.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import WebSocket from "ws";

import {
  HappyChatClient,
  HappyChatError,
  foldChange,
  memoryStorage,
  nodeAdapter,
  type ImageAttachment,
  type StorageLike,
} from "../../../static/js/happychat-client.js";

const file = "./happychat-state.json";
const state: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
const storage: StorageLike = {
  getItem: (k) => state[k] ?? null,
  setItem: (k, v) => {
    state[k] = v;
    writeFileSync(file, JSON.stringify(state));
  },
};

const bot = new HappyChatClient({ adapter: nodeAdapter({ baseUrl: "http://127.0.0.1:8000", WebSocket, storage }) });
try {
  await bot.api.login("bot", process.env.BOT_PASSWORD ?? "");
} catch (err) {
  if (err instanceof HappyChatError && (err.code === "invalid_credentials" || err.code === "inactive")) process.exit(1);
  throw err;
}
bot.on("message", ({ message }) => {
  if (bot.user && message.sender.id !== bot.user.id && message.kind === "text") {
    bot.send({ conversation: message.conversation, body: `You said: ${message.body}`, replyTo: message.id });
  }
});
bot.on("hello", ({ user, heartbeat }) => console.log(user.username, heartbeat));
for (const c of await bot.api.conversations()) bot.setCursor(c.id, c.last_seq);
bot.connect();

// Buffers (Uint8Array) and Blobs upload; downloads are bytes.
const upload: ImageAttachment = await bot.api.uploadImage(readFileSync("cat.png"), { filename: "cat.png" });
await bot.sendFile({ conversation: 12, file: new Blob([readFileSync("notes.pdf")]), filename: "notes.pdf" });
const bytes: Uint8Array = await bot.api.downloadImage(upload.thumbnail_url);
const zip: Uint8Array = await bot.api.exportData();
writeFileSync("export.zip", zip);
console.log(bytes.length);

const card = await bot.api.user(4);
console.log(card.is_friend, card.is_blocked, card.remark ?? card.nickname);
const copies = await bot.api.forward({ id: "fw-1", conversation: 15, messages: [901, 902] });
const folded = foldChange(copies[0], null);
console.log(folded, memoryStorage().removeItem("x"));
const group = await bot.api.uploadGroupAvatar(9, readFileSync("group.png"));
console.log(group.my_role);
const added = await bot.api.addGroupMember(9, 4);
console.log("role" in added ? added.role : added.status);

// Node's own WebSocket works too (token in the first frame).
declare const NativeWebSocket: new (url: string) => { send(data: string): void; close(code?: number): void; onopen: null; onmessage: null; onclose: null; onerror: null };
new HappyChatClient({ adapter: nodeAdapter({ baseUrl: "http://127.0.0.1:8000", WebSocket: NativeWebSocket }), token: "t" });

// @ts-expect-error a Node upload is bytes or a Blob, not a number
await bot.api.uploadImage(42);
// @ts-expect-error nodeAdapter needs baseUrl
nodeAdapter({ WebSocket });
