// A chat room: history from REST, live messages and acks from the SDK, text, emoji and
// images (uploaded with wx.uploadFile, shown through wx.downloadFile with the token, as
// uploaded images are private to the conversation's members).
const app = getApp();
const EMOJI = ["😀", "😂", "😍", "👍", "🙏", "🎉", "❤️", "😢", "😮", "👋"];

Page({
  data: { messages: [], pending: [], draft: "", emoji: EMOJI, showEmoji: false, error: "" },

  async onLoad(query) {
    this.conversation = Number(query.id);
    this.seqs = new Set();
    this.images = new Map(); // attachment url → temp file path
    const chat = app.client();
    this.off = [
      chat.on("message", ({ message }) => {
        if (message.conversation === this.conversation) this.add([message]);
      }),
      chat.on("outbox", () => this.showPending()),
      chat.on("failed", ({ detail }) => wx.showToast({ title: detail || "Not sent", icon: "none" })),
    ];
    try {
      const conversation = await chat.api.conversation(this.conversation);
      wx.setNavigationBarTitle({ title: conversation.title || "Chat" });
      const page = await chat.api.history(this.conversation, { limit: 30 });
      this.add(page.results);
      chat.setCursor(this.conversation, conversation.last_seq);
    } catch (err) {
      this.setData({ error: err.detail || "Could not load this conversation." });
    }
    this.showPending();
  },

  onUnload() {
    for (const off of this.off || []) off();
  },

  /** Add stored messages once each (history and live may overlap), in seq order. */
  add(messages) {
    const me = app.globalData.user;
    const fresh = messages.filter((m) => !this.seqs.has(m.seq));
    if (fresh.length === 0) return;
    for (const m of fresh) this.seqs.add(m.seq);
    const rows = this.data.messages.concat(
      fresh.map((m) => ({
        seq: m.seq,
        mine: Boolean(me && m.sender.id === me.id),
        sender: m.sender.remark || m.sender.nickname,
        kind: m.kind,
        body: m.body,
        thumbnail: m.attachment ? m.attachment.thumbnail_url : "",
        url: m.attachment ? m.attachment.url : "",
        image: "",
      })),
    );
    rows.sort((a, b) => a.seq - b.seq);
    this.setData({ messages: rows });
    for (const m of fresh) if (m.attachment) this.loadImage(m.seq, m.attachment.thumbnail_url);
    this.markRead();
  },

  async loadImage(seq, url) {
    try {
      const path = this.images.get(url) || (await app.client().api.downloadImage(url));
      this.images.set(url, path);
      this.setData({ messages: this.data.messages.map((m) => (m.seq === seq ? { ...m, image: path } : m)) });
    } catch {
      /* the image stays a placeholder */
    }
  },

  markRead() {
    const newest = this.data.messages.length ? this.data.messages[this.data.messages.length - 1].seq : 0;
    if (newest > (this.readSeq || 0)) {
      this.readSeq = newest;
      app.client().markRead(this.conversation, newest);
    }
  },

  showPending() {
    const pending = app.client().pending(this.conversation).map((i) => ({
      id: i.id,
      body: i.kind === "image" ? "[Image]" : i.body,
      failed: i.state === "failed",
    }));
    this.setData({ pending });
  },

  onInput(e) {
    this.setData({ draft: e.detail.value });
    app.client().typing(this.conversation);
  },

  onToggleEmoji() {
    this.setData({ showEmoji: !this.data.showEmoji });
  },

  onEmoji(e) {
    this.setData({ draft: this.data.draft + e.currentTarget.dataset.emoji });
  },

  onSend() {
    const body = this.data.draft.trim();
    if (!body) return;
    app.client().send({ conversation: this.conversation, body });
    this.setData({ draft: "", showEmoji: false });
  },

  onRetry(e) {
    app.client().retry(e.currentTarget.dataset.id);
  },

  async onChooseImage() {
    let path;
    try {
      path = await new Promise((resolve, reject) =>
        wx.chooseMedia({
          count: 1,
          mediaType: ["image"],
          sizeType: ["compressed"],
          success: (res) => resolve(res.tempFiles[0].tempFilePath),
          fail: reject,
        }),
      );
    } catch {
      return; // cancelled
    }
    try {
      await app.client().sendImage({ conversation: this.conversation, file: path });
    } catch (err) {
      wx.showToast({ title: err.detail || "The image was not sent", icon: "none" });
    }
  },

  onPreview(e) {
    const { image } = e.currentTarget.dataset;
    if (image) wx.previewImage({ urls: [image] });
  },
});
