// Friends and incoming friend requests; tapping a friend opens your conversation.
const app = getApp();

Page({
  data: { friends: [], requests: [], error: "" },

  onShow() {
    return this.load();
  },

  async load() {
    const api = app.client().api;
    try {
      const [friends, requests] = await Promise.all([api.friends(), api.friendRequests()]);
      const me = app.globalData.user;
      this.setData({
        friends: friends.map((f) => ({ id: f.id, name: f.remark || f.nickname, username: f.username })),
        requests: requests
          .filter((r) => r.status === "pending" && (!me || r.to.id === me.id))
          .map((r) => ({ id: r.id, name: r.from.nickname, message: r.message })),
        error: "",
      });
    } catch (err) {
      this.setData({ error: err.detail || "Could not load friends." });
    }
  },

  async onAccept(e) {
    await app.client().api.acceptFriendRequest(Number(e.currentTarget.dataset.id));
    return this.load();
  },

  async onOpen(e) {
    const userId = Number(e.currentTarget.dataset.id);
    const conversations = await app.client().api.conversations();
    const direct = conversations.find((c) => c.kind === "direct" && c.peer && c.peer.id === userId);
    if (direct) wx.navigateTo({ url: `/pages/chat/chat?id=${direct.id}` });
  },
});
