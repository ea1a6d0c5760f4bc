// Friends and friend requests: find people (username, nickname or exact e-mail) and ask
// them, accept or decline what others asked; tapping a friend opens your conversation.
const app = getApp();

function me() {
  return app.globalData.user || app.client().user;
}

Page({
  data: { friends: [], requests: [], query: "", results: [], searched: false, busy: false, error: "" },

  onLoad() {
    // Requests and friendships change while the page is open: keep it current.
    this.off = app.client().on("event", ({ event }) => {
      if (["friend_request", "friend_added", "friend_updated", "friend_removed"].includes(event)) this.load();
    });
  },

  onUnload() {
    if (this.off) this.off();
  },

  onShow() {
    return this.load();
  },

  async load() {
    const api = app.client().api;
    try {
      const [friends, requests] = await Promise.all([api.friends(), api.friendRequests()]);
      const self = me();
      this.friendIds = new Set(friends.map((f) => f.id));
      this.outgoing = new Set(
        requests.filter((r) => r.status === "pending" && self && r.from.id === self.id).map((r) => r.to.id),
      );
      this.setData({
        friends: friends.map((f) => ({ id: f.id, name: f.remark || f.nickname, username: f.username })),
        requests: requests
          .filter((r) => r.status === "pending" && (!self || r.to.id === self.id))
          .map((r) => ({ id: r.id, name: r.from.nickname, message: r.message })),
        error: "",
      });
      if (this.data.results.length) this.setData({ results: this.data.results.map((r) => this.result(r)) });
    } catch (err) {
      this.setData({ error: err.detail || "Could not load friends." });
    }
  },

  /** Run an action; its error is shown and the list reloaded either way (it may have moved on). */
  async act(action, fallback) {
    this.setData({ busy: true, error: "" });
    let failed = null;
    try {
      await action();
    } catch (err) {
      failed = (err && err.detail) || fallback;
    }
    await this.load();
    this.setData({ busy: false, error: failed || "" });
    return !failed;
  },

  onAccept(e) {
    const id = Number(e.currentTarget.dataset.id);
    return this.act(() => app.client().api.acceptFriendRequest(id), "The request was not accepted.");
  },

  onDecline(e) {
    const id = Number(e.currentTarget.dataset.id);
    return this.act(() => app.client().api.rejectFriendRequest(id), "The request was not declined.");
  },

  onQuery(e) {
    this.setData({ query: e.detail.value });
  },

  /** A search result row: what can be done with this person. */
  result(user) {
    let state = "add";
    if (this.friendIds && this.friendIds.has(user.id)) state = "friend";
    else if (this.outgoing && this.outgoing.has(user.id)) state = "asked";
    return { id: user.id, name: user.name || user.remark || user.nickname, username: user.username, state };
  },

  async onSearch() {
    const q = this.data.query.trim();
    if (!q) {
      this.setData({ results: [], searched: false });
      return;
    }
    try {
      const self = me();
      const users = await app.client().api.searchUsers(q);
      this.setData({
        results: users.filter((u) => !u.is_robot && !(self && u.id === self.id)).map((u) => this.result(u)),
        searched: true,
        error: "",
      });
    } catch (err) {
      this.setData({ error: err.detail || "Could not search." });
    }
  },

  /** Ask someone to be friends, with an optional note. */
  async onAdd(e) {
    const id = Number(e.currentTarget.dataset.id);
    const answer = await new Promise((resolve) =>
      wx.showModal({
        title: "Add friend",
        editable: true,
        placeholderText: "A note (optional)",
        success: resolve,
        fail: () => resolve({}),
      }),
    );
    if (!answer.confirm) return;
    const sent = await this.act(
      () => app.client().api.sendFriendRequest(id, (answer.content || "").trim()),
      "The request was not sent.",
    );
    if (sent) wx.showToast({ title: "Request sent" });
  },

  async onOpen(e) {
    const userId = Number(e.currentTarget.dataset.id);
    try {
      const conversations = await app.client().api.conversations();
      const direct = conversations.find((c) => c.kind === "direct" && c.peer && c.peer.id === userId);
      if (direct) wx.navigateTo({ url: `/pages/chat/chat?id=${direct.id}` });
    } catch (err) {
      this.setData({ error: err.detail || "Could not open the conversation." });
    }
  },
});
