// Conversation list: newest first, with unread badges and the "[@me]" mark, kept current
// by live messages and message changes (a recalled preview shows as recalled). The search
// box finds messages (GET search/messages/); a result opens the chat at that message.
const app = getApp();
const COUNTED = ["text", "image", "file"]; // what counts as unread (docs/protocol.md §7)
const LIST_EVENTS = [
  "friend_added", "friend_updated", "friend_removed", "conversation_created",
  "group_joined", "group_left", "group_updated", "group_dissolved",
];

function me() {
  return app.globalData.user || app.client().user;
}

function preview(message) {
  if (!message) return "";
  const self = me();
  const who = self && message.sender.id === self.id ? "You" : message.sender.remark || message.sender.nickname;
  if (message.recalled) return `${who} recalled a message`;
  if (message.kind === "image") return "[Image]";
  if (message.kind === "file") return `[File] ${(message.attachment && message.attachment.name) || ""}`.trim();
  return message.body;
}

function badge(unread) {
  return unread > 99 ? "99+" : String(unread);
}

function row(conversation) {
  return {
    id: conversation.id,
    title: conversation.title || (conversation.peer && (conversation.peer.remark || conversation.peer.nickname)) || "",
    unread: conversation.unread,
    badge: badge(conversation.unread),
    mentioned: conversation.mentioned,
    muted: conversation.muted,
    preview: preview(conversation.last_message),
    previewId: conversation.last_message ? conversation.last_message.id : null,
    lastSeq: conversation.last_seq,
    readSeq: conversation.last_read_seq,
  };
}

Page({
  data: { conversations: [], query: "", results: [], searched: false, error: "" },

  onLoad() {
    const chat = app.client();
    this.off = [
      chat.on("message", ({ message }) => this.onMessage(message)),
      chat.on("change", ({ target }) => this.onChange(target)),
      // A friend or group new, gone, renamed (or remarked), muted: reload the list.
      chat.on("event", ({ event }) => {
        if (LIST_EVENTS.includes(event)) this.load();
      }),
      chat.on("read", ({ conversation, user, seq }) => {
        if (me() && user === me().id) this.markRead(conversation, seq);
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
      for (const c of conversations) {
        chat.setCursor(c.id, c.last_seq);
        if (c.last_message) chat.remember([c.last_message]); // so a recall of it folds in
      }
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
    const self = me();
    const mine = Boolean(self && message.sender.id === self.id);
    current.lastSeq = message.seq;
    current.preview = message.kind === "system" ? message.body : preview(message);
    current.previewId = message.id;
    if (mine) {
      current.readSeq = message.seq;
      current.unread = 0;
      current.mentioned = false;
    } else if (COUNTED.includes(message.kind)) {
      current.unread += 1;
      if (self && ((message.mentions || []).includes(self.id) || message.mention_all)) current.mentioned = true;
    }
    current.badge = badge(current.unread);
    rows.splice(index, 1);
    rows.unshift(current);
    this.setData({ conversations: rows });
    this.updateBadge();
  },

  /** A recall or edit of the message a row previews changes the preview (not the order). */
  onChange(target) {
    if (!target) return;
    const rows = this.data.conversations;
    if (!rows.some((r) => r.previewId === target.id)) return;
    this.setData({ conversations: rows.map((r) => (r.previewId === target.id ? { ...r, preview: preview(target) } : r)) });
  },

  markRead(conversation, seq) {
    const rows = this.data.conversations.map((r) => {
      if (r.id !== conversation || seq <= r.readSeq) return r;
      // Read up to the newest: nothing left; read partway: the exact count comes with the next load.
      const unread = seq >= r.lastSeq ? 0 : r.unread;
      return { ...r, readSeq: seq, unread, badge: badge(unread), mentioned: unread > 0 && r.mentioned };
    });
    this.setData({ conversations: rows });
    this.updateBadge();
  },

  onQuery(e) {
    this.setData({ query: e.detail.value });
  },

  /** Messages you may read with every word of the query, newest first, words highlighted. */
  async onSearch() {
    const q = this.data.query.trim();
    if (!q) {
      this.onClearSearch();
      return;
    }
    try {
      const page = await app.client().api.searchMessages(q);
      const titles = new Map(this.data.conversations.map((r) => [r.id, r.title]));
      this.setData({
        results: page.results.map((m) => ({
          id: m.id,
          conversation: m.conversation,
          seq: m.seq,
          title: titles.get(m.conversation) || "",
          sender: m.sender.remark || m.sender.nickname,
          snippet: (m.snippet && m.snippet.length ? m.snippet : [{ text: preview(m), hit: false }]).map((part, index) => ({
            key: index,
            text: part.text,
            hit: Boolean(part.hit),
          })),
        })),
        searched: true,
        error: "",
      });
    } catch (err) {
      this.setData({ error: err.detail || "Could not search." });
    }
  },

  onClearSearch() {
    this.setData({ query: "", results: [], searched: false });
  },

  onOpenResult(e) {
    const { conversation, seq } = e.currentTarget.dataset;
    wx.navigateTo({ url: `/pages/chat/chat?id=${conversation}&seq=${seq}` });
  },

  updateBadge() {
    const total = this.data.conversations.reduce((n, r) => n + (r.muted && !r.mentioned ? 0 : r.unread), 0);
    if (total > 0) wx.setTabBarBadge({ index: 0, text: badge(total) });
    else wx.removeTabBarBadge({ index: 0 });
  },

  onOpen(e) {
    const id = Number(e.currentTarget.dataset.id);
    wx.navigateTo({ url: `/pages/chat/chat?id=${id}` });
  },
});
