// Log in: with WeChat (wx.login → POST /api/v1/auth/wechat/) or a HappyChat password.
const app = getApp();

Page({
  data: { username: "", password: "", error: "", busy: false },

  onLoad() {
    if (app.client().token) wx.switchTab({ url: "/pages/conversations/conversations" });
  },

  onUsername(e) {
    this.setData({ username: e.detail.value });
  },

  onPassword(e) {
    this.setData({ password: e.detail.value });
  },

  async run(action) {
    this.setData({ busy: true, error: "" });
    try {
      await action();
      wx.switchTab({ url: "/pages/conversations/conversations" });
    } catch (err) {
      this.setData({ error: (err && err.detail) || "Log-in failed; try again." });
    } finally {
      this.setData({ busy: false });
    }
  },

  onWeChatLogin() {
    return this.run(() => app.loginWithWeChat());
  },

  onPasswordLogin() {
    return this.run(() => app.loginWithPassword(this.data.username, this.data.password));
  },
});
