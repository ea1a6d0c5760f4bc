// A mini-program on the SDK, type-checked (never run) with `tsc --strict`, no DOM lib and
// WeChat's own `wx` typings (miniprogram-api-typings) against
// static/js/happychat-client.d.ts: the real `wx` must fit the adapter's WxLike.
import {
  HappyChatClient,
  HappyChatError,
  wechatAdapter,
  type FileAttachment,
  type Message,
  type Me,
} from "../../../static/js/happychat-client.js";

const client = new HappyChatClient({
  adapter: wechatAdapter({ wx, baseUrl: "https://chat.example.com" }),
  token: wx.getStorageSync<string>("hc.token") || null,
  storageKey: "hc",
  persistCursors: true,
});
const unwatch: () => void = client.adapter.watch(client);
if (!client.token) {
  const code = await new Promise<string>((ok, no) => wx.login({ success: (r) => ok(r.code), fail: no }));
  try {
    const { token } = await client.api.loginWithWeChat(code);
    wx.setStorageSync("hc.token", token);
  } catch (err) {
    if (err instanceof HappyChatError && err.code === "invalid_code") console.log("call wx.login again");
    else throw err;
  }
}
client.on("message", ({ message }) => {
  if (message.attachment && message.attachment.kind === "image") {
    client.api.downloadImage(message.attachment.thumbnail_url).then((path: string) => console.log(path));
  }
});
client.connect();
client.send({ conversation: 12, body: "你好" });

// Images and documents are temp file paths; downloads are temp file paths too.
const chosen = await new Promise<string>((ok, no) =>
  wx.chooseMedia({ count: 1, mediaType: ["image"], success: (r) => ok(r.tempFiles[0].tempFilePath), fail: no }),
);
await client.sendImage({ conversation: 12, file: chosen });
const upload: FileAttachment = await client.api.uploadFile(chosen, { filename: "report.pdf" });
await client.sendFile({ conversation: 12, file: chosen });
const path: string = await client.api.downloadFile(upload.url);
wx.openDocument({ filePath: path, fileType: "pdf" });

// The profile page: wx.uploadFile can only POST, so the avatar goes to me/avatar/.
const me: Me = await client.api.uploadAvatar(chosen);
const again: Me = await client.api.updateMe({ nickname: "小明", gender: "other" });
console.log(me.avatar, again.nickname);
await client.api.linkWeChat("code");
const link = await client.api.wechatLink();
console.log(link.linked, link.unionid);

const message: Message = await client.recall(901);
console.log(message.recalled);
const [conversation] = await client.api.conversations();
console.log(conversation.mentioned, conversation.unread, conversation.muted);
await client.api.mute(conversation.id, true);
unwatch();

// @ts-expect-error a mini-program uploads temp file paths, not bytes
await client.api.uploadImage(new Uint8Array(4));
// @ts-expect-error wechatAdapter needs the server's address
wechatAdapter({ wx });
