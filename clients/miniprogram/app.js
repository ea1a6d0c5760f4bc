// The example mini-program: one HappyChat client for the whole app (pages reach it
// through getApp().chat), logged in with wx.login and kept connected by the SDK.
import { HappyChatClient, wechatAdapter } from "./lib/happychat-client.js";
import { SERVER_URL } from "./config.js";

const TOKEN_KEY = "hc.token";

App({
  globalData: { serverUrl: SERVER_URL, user: null },
  chat: null,

  onLaunch() {
    if (this.client().token) this.client().connect();
  },

  /** The one client, created on first use with the token kept from the last log-in. */
  client() {
    if (!this.chat) {
      const chat = new HappyChatClient({
        adapter: wechatAdapter({ wx, baseUrl: this.globalData.serverUrl }),
        token: wx.getStorageSync(TOKEN_KEY) || null,
        storageKey: "hc",
      });
      chat.adapter.watch(chat); // network back / app shown → reconnect at once
      chat.on("hello", ({ user }) => {
        this.globalData.user = user;
      });
      chat.on("unauthenticated", () => {
        wx.removeStorageSync(TOKEN_KEY);
        chat.setToken(null);
        wx.reLaunch({ url: "/pages/login/login" });
      });
      this.chat = chat;
    }
    return this.chat;
  },

  loggedIn(result) {
    wx.setStorageSync(TOKEN_KEY, result.token);
    this.globalData.user = result.user;
    this.client().connect();
    return result.user;
  },

  async loginWithWeChat() {
    const code = await new Promise((resolve, reject) =>
      wx.login({ success: (res) => resolve(res.code), fail: reject }),
    );
    return this.loggedIn(await this.client().api.loginWithWeChat(code));
  },

  async loginWithPassword(username, password) {
    return this.loggedIn(await this.client().api.login(username, password));
  },

  /** Revoke this phone's token, forget it and the client, and go back to the log-in page. */
  async logout() {
    const chat = this.client();
    chat.close(); // first, so the revocation's close (4003) is not taken for an expiry
    // Unsent messages are this user's: never send them later under someone else's log-in.
    for (const item of [...chat.outbox]) chat.discard(item.id);
    try {
      await chat.api.logout();
    } catch {
      /* offline or already revoked: the token is forgotten here anyway */
    }
    wx.removeStorageSync(TOKEN_KEY);
    this.chat = null;
    this.globalData.user = null;
    wx.reLaunch({ url: "/pages/login/login" });
  },
});
