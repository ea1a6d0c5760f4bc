// Your profile: picture (uploaded with wx.uploadFile to POST me/avatar/, since a
// mini-program cannot PATCH a file), nickname, the WeChat link (link this WeChat account
// to a password account, or unlink it; docs/protocol.md §1), and logging out.
const app = getApp();

/** A wx.* call with success/fail callbacks as a promise. */
function call(api, options = {}) {
  return new Promise((resolve, reject) => api({ ...options, success: resolve, fail: reject }));
}

function absolute(url) {
  if (!url) return "";
  return /^https?:\/\//.test(url) ? url : `${app.globalData.serverUrl.replace(/\/$/, "")}${url}`;
}

Page({
  // wechat: null while unknown or when the server has no WeChat set up (section hidden),
  // else {linked, unionid}.
  data: { user: null, avatar: "", nickname: "", wechat: null, busy: false, error: "" },

  onShow() {
    return this.load();
  },

  async load() {
    const api = app.client().api;
    try {
      this.show(await api.me());
    } catch (err) {
      this.setData({ error: err.detail || "Could not load your profile." });
      return;
    }
    try {
      this.showWeChat(await api.wechatLink());
    } catch {
      this.setData({ wechat: null }); // not answered now: the section stays hidden
    }
  },

  showWeChat(link) {
    this.setData({ wechat: { linked: Boolean(link && link.linked), unionid: Boolean(link && link.unionid) } });
  },

  /** Run a profile action: busy while it runs, its error (or `fallback`) shown if it fails. */
  async act(action, fallback) {
    this.setData({ busy: true, error: "" });
    try {
      return await action();
    } catch (err) {
      this.setData({ error: (err && (err.detail || err.message || err.errMsg)) || fallback });
      return null;
    } finally {
      this.setData({ busy: false });
    }
  },

  show(me) {
    // Avatars are public (docs/protocol.md §6.3): an <image src> can load them.
    this.setData({
      user: { username: me.username, nickname: me.nickname },
      avatar: absolute(me.avatar),
      nickname: me.nickname,
      error: "",
    });
    app.globalData.user = { ...(app.globalData.user || {}), ...me };
  },

  onNickname(e) {
    this.setData({ nickname: e.detail.value });
  },

  async onChangeAvatar() {
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
    this.setData({ busy: true });
    try {
      this.show(await app.client().api.uploadAvatar(path));
      wx.showToast({ title: "Picture changed" });
    } catch (err) {
      const errors = (err && err.errors && err.errors.file) || [];
      this.setData({ error: errors.join(" ") || (err && err.detail) || "The picture was not changed." });
    } finally {
      this.setData({ busy: false });
    }
  },

  async onSave() {
    this.setData({ busy: true });
    try {
      this.show(await app.client().api.updateMe({ nickname: this.data.nickname.trim() }));
      wx.showToast({ title: "Saved" });
    } catch (err) {
      const errors = (err && err.errors && err.errors.nickname) || [];
      this.setData({ error: errors.join(" ") || (err && err.detail) || "Nothing was saved." });
    } finally {
      this.setData({ busy: false });
    }
  },

  /** Link the WeChat account using this phone (a fresh wx.login code) to this account. */
  async onLinkWeChat() {
    const link = await this.act(async () => {
      let code;
      try {
        ({ code } = await call(wx.login));
      } catch {
        throw new Error("WeChat did not give a log-in code; try again.");
      }
      return app.client().api.linkWeChat(code);
    }, "WeChat was not linked.");
    if (link) {
      this.showWeChat(link);
      wx.showToast({ title: "WeChat linked" });
    }
  },

  /** Unlink WeChat after asking (the server refuses while it is the only way in). */
  async onUnlinkWeChat() {
    const answer = await call(wx.showModal, {
      title: "Unlink WeChat?",
      content: "You will log in with your HappyChat password instead.",
    }).catch(() => ({}));
    if (!answer.confirm) return;
    const done = await this.act(async () => {
      await app.client().api.unlinkWeChat();
      return true;
    }, "WeChat was not unlinked.");
    if (done) {
      this.showWeChat({ linked: false });
      wx.showToast({ title: "WeChat unlinked" });
    }
  },

  onLogout() {
    return app.logout();
  },
});
