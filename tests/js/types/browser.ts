// A browser page on the SDK, type-checked (never run) with `tsc --strict` and the DOM lib
// against static/js/happychat-client.d.ts. `@ts-expect-error` lines are misuses the
// declarations must refuse.
import {
  HappyChatApi,
  HappyChatClient,
  HappyChatError,
  PROTOCOL_VERSION,
  browserAdapter,
  socketUrl,
  watchBrowser,
  type Conversation,
  type Message,
  type ServerEvent,
} from "../../../static/js/happychat-client.js";

declare const me: { id: number };
declare const input: HTMLInputElement;
declare function show(message: Message): void;

const version: string = PROTOCOL_VERSION;
const client = new HappyChatClient({ adapter: browserAdapter(), storageKey: `happychat.${me.id}` });
const conversations: Conversation[] = await client.api.conversations();
for (const c of conversations) client.setCursor(c.id, c.last_seq);
client.on("message", ({ message, live }) => {
  show(message);
  if (live && message.attachment?.kind === "file") console.log(message.attachment.name, message.attachment.size);
  if (message.attachment?.kind === "image") console.log(message.attachment.thumbnail_url, message.attachment.width);
  if (message.reply && message.reply.recalled) console.log("quote of a recalled message");
  if (message.kind === "system" && message.data && "event" in message.data && message.data.event === "member_joined") {
    console.log(message.data.user, message.data.by);
  }
});
client.on("change", ({ entry, target }) => {
  if (target) console.log(target.recalled, target.edited, target.reactions.map((r) => `${r.emoji}${r.count}`));
  if (entry) console.log(entry.kind, entry.target);
});
client.on("outbox", ({ items }) => items.forEach((i) => console.log(i.id, i.state)));
client.on("failed", ({ item, code }) => console.log(item.body, code));
client.on("unauthenticated", ({ code }) => location.assign(`/accounts/login/?code=${code}`));
client.on("status", ({ status }) => document.body.classList.toggle("offline", status !== "open"));
client.on("event", (e: ServerEvent) => {
  switch (e.event) {
    case "friend_added":
      console.log(e.data.user.nickname, e.data.conversation);
      break;
    case "group_updated":
      console.log(e.data.changed.includes("name"), e.data.group.name);
      break;
    default:
      break; // names added later are ignored
  }
});
client.connect();
const stop: () => void = watchBrowser(client);
stop();

const item = client.send({ conversation: 12, body: "Hello 👋", replyTo: 3, mentions: [4] });
console.log(item.id, item.state);
const file = input.files![0];
await client.sendImage({ conversation: 12, file, preview: URL.createObjectURL(file) });
await client.sendFile({ conversation: 12, file, filename: file.name });
const url: string = await client.api.downloadImage("/api/v1/uploads/88/thumbnail/");
const zip: string = await client.api.exportData();
console.log(url, zip, socketUrl(location));

const recalled: Message = await client.recall(901);
const edited = await client.edit(902, "fixed");
const reacted = await client.react(903, "👍", true);
console.log(recalled.recalled, edited.edited, reacted.reactions.length);
const page = await client.history(12, { around: 40 });
console.log(page.results.length, page.has_more);
const found = await client.api.searchMessages("lunch", { conversation: 12 });
console.log(found.results.map((hit) => hit.snippet.map((s) => (s.hit ? `<b>${s.text}</b>` : s.text)).join("")));

// The profile screen sends a FormData (with `avatar`); a packaged app logs in by token.
const form = new FormData();
form.append("nickname", "Alice");
form.append("avatar", file);
const updated = await client.api.updateMe(form);
console.log(updated.email, updated.gender);
const avatar = await client.api.uploadAvatar(file);
console.log(avatar.avatar);
const app = new HappyChatClient({ adapter: browserAdapter({ baseUrl: "https://chat.example.com" }) });
const { token, user } = await app.api.login("alice", "secret");
console.log(token, user.id);

// Web Push from a service worker registration.
declare const registration: ServiceWorkerRegistration;
const api = new HappyChatApi({ adapter: browserAdapter() });
const config = await api.pushConfig();
if (config.public_key) {
  const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: config.public_key });
  const saved = await api.subscribePush(subscription, { language: document.documentElement.lang });
  console.log(saved.id, saved.last_success_at);
  await api.unsubscribePush(subscription.endpoint);
}

try {
  await client.api.group(987654);
} catch (err) {
  if (err instanceof HappyChatError) console.log(err.status, err.code, err.detail, err.retryable, err.errors);
}
console.log(version);

// Misuses the declarations refuse:
// @ts-expect-error a browser uploads a File or Blob, not a path
await client.api.uploadImage("/tmp/cat.png");
// @ts-expect-error reactions come from the fixed set
await client.react(903, "🦄");
// @ts-expect-error no such event
client.on("messages", () => {});
// @ts-expect-error conversation is required
client.send({ body: "hi" });
// @ts-expect-error history pages are {results, has_more}
const wrong: Message[] = await client.api.history(12);
console.log(wrong);
