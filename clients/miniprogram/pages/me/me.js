// Your profile: picture (uploaded with wx.uploadFile to POST me/avatar/, since a
// mini-program cannot PATCH a file), nickname, and logging out.
const app = getApp();

function absolute(url) {
  if (!url) return "";
  return /^https?:\/\//.test(url) ? url : `${app.globalData.serverUrl.replace(/\/$/, "")}${url}`;
}

Page({
  data: { user: null, avatar: "", nickname: "", busy: false, error: "" },

  onShow() {
    return this.load();
  },

  async load() {
    try {
      this.show(await app.client().api.me());
    } catch (err) {
      this.setData({ error: err.detail || "Could not load your profile." });
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

  onLogout() {
    return app.logout();
  },
});
