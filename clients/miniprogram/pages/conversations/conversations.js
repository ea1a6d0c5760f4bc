// Conversation list: newest first, with unread badges kept current by live messages.
const app = getApp();

function preview(message) {
  if (!message) return "";
  return message.kind === "image" ? "[Image]" : message.body;
}

function row(conversation) {
  return {
    id: conversation.id,
    title: conversation.title || (conversation.peer && (conversation.peer.remark || conversation.peer.nickname)) || "",
    unread: conversation.unread,
    badge: conversation.unread > 99 ? "99+" : String(conversation.unread),
    preview: preview(conversation.last_message),
    lastSeq: conversation.last_seq,
    readSeq: conversation.last_read_seq,
  };
}

Page({
  data: { conversations: [], error: "" },

  onLoad() {
    const chat = app.client();
    this.off = [
      chat.on("message", ({ message }) => this.onMessage(message)),
      chat.on("read", ({ conversation, user, seq }) => {
        if (app.globalData.user && user === app.globalData.user.id) this.markRead(conversation, seq);
      }),
    ];
  },

  onUnload() {
    for (const off of this.off || []) off();
  },

  onShow() {
    return this.load();
  },

  async load() {
    const chat = app.client();
    try {
      const conversations = await chat.api.conversations();
      for (const c of conversations) chat.setCursor(c.id, c.last_seq);
      this.setData({ conversations: conversations.map(row), error: "" });
      this.updateBadge();
    } catch (err) {
      this.setData({ error: err.detail || "Could not load conversations." });
    }
  },

  onMessage(message) {
    const rows = this.data.conversations.slice();
    const index = rows.findIndex((r) => r.id === message.conversation);
    if (index < 0) {
      this.load(); // a conversation we did not know yet
      return;
    }
    const current = { ...rows[index] };
    if (message.seq <= current.lastSeq) return; // already counted
    const mine = app.globalData.user && message.sender.id === app.globalData.user.id;
    current.lastSeq = message.seq;
    current.preview = preview(message);
    if (mine) current.readSeq = message.seq;
    current.unread = Math.max(0, current.lastSeq - current.readSeq);
    current.badge = current.unread > 99 ? "99+" : String(current.unread);
    rows.splice(index, 1);
    rows.unshift(current);
    this.setData({ conversations: rows });
    this.updateBadge();
  },

  markRead(conversation, seq) {
    const rows = this.data.conversations.map((r) => {
      if (r.id !== conversation || seq <= r.readSeq) return r;
      const unread = Math.max(0, r.lastSeq - seq);
      return { ...r, readSeq: seq, unread, badge: String(unread) };
    });
    this.setData({ conversations: rows });
    this.updateBadge();
  },

  updateBadge() {
    const total = this.data.conversations.reduce((n, r) => n + r.unread, 0);
    if (total > 0) wx.setTabBarBadge({ index: 0, text: total > 99 ? "99+" : String(total) });
    else wx.removeTabBarBadge({ index: 0 });
  },

  onOpen(e) {
    const id = Number(e.currentTarget.dataset.id);
    wx.navigateTo({ url: `/pages/chat/chat?id=${id}` });
  },
});
