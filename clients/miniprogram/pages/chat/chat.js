// A chat room: history from REST, live messages, acks and message changes from the SDK.
// Text, emoji, images and documents (uploaded with wx.uploadFile; shown and opened through
// wx.downloadFile with the token, as uploads are private to the conversation's members).
// Recalled messages are tombstones, edited ones carry a mark, replies quote their original
// (tap to jump), system messages are chips. Long-press a message: reply, react, edit,
// recall (docs/protocol.md §11). In groups, typing "@" opens a member picker; mentions go
// as user ids ("@all" for owners and admins).
const app = getApp();
const EMOJI = ["😀", "😂", "😍", "👍", "🙏", "🎉", "❤️", "😢", "😮", "👋"];

/** wx.showActionSheet as a promise of the tapped index, or null when dismissed. */
function sheet(itemList) {
  return new Promise((resolve) =>
    wx.showActionSheet({ itemList, success: (res) => resolve(res.tapIndex), fail: () => resolve(null) }),
  );
}
// What wx.openDocument can show.
const DOCUMENT_TYPES = ["doc", "docx", "xls", "xlsx", "ppt", "pptx", "pdf"];

function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function extension(name) {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
}

/** A short text for a message in a quote or the pending list. */
function summary(kind, body, name) {
  if (kind === "image") return "[Image]";
  if (kind === "file") return `[File] ${name || ""}`.trim();
  return body;
}

Page({
  data: {
    messages: [],
    pending: [],
    draft: "",
    emoji: EMOJI,
    showEmoji: false,
    replyTo: null,
    maxChars: 5000, // the server's text limit (hello.limits.text_max_chars)
    picker: [], // the member picker after "@": [{id, name}], id "all" for everyone
    scrollTo: "bottom",
    hasOlder: false, // older messages exist before the first one shown
    loadingOlder: false,
    error: "",
  },

  async onLoad(query) {
    this.conversation = Number(query.id);
    this.byId = new Map(); // message id → folded message shown
    this.names = new Map(); // user id → name, for system messages
    this.images = new Map(); // attachment url → temp file path
    this.members = []; // groups: [{id, name}] of the other members, for the "@" picker
    this.isAdmin = false; // a group's owner or admin: may mention all and recall anyone's messages
    this.recalledBy = new Map(); // message id → who recalled it, when it was not its sender
    this.picked = new Map(); // user id (or "all") → the "@name" put in the draft
    const chat = app.client();
    this.setData({ maxChars: chat.limits.text_max_chars });
    this.off = [
      chat.on("message", ({ message }) => {
        if (message.conversation === this.conversation) this.add([message]);
      }),
      chat.on("change", ({ entry, target }) => {
        if (entry && target && entry.kind === "recall" && entry.sender && entry.sender.id !== target.sender.id) {
          this.recalledBy.set(target.id, entry.sender);
        }
        if (target && target.conversation === this.conversation) this.add([target]);
      }),
      // Members come and go, roles and aliases change: the picker and names follow.
      chat.on("event", ({ event, data }) => {
        const group = data && data.group && data.group.id;
        if (this.group && group === this.group && ["group_joined", "group_left", "group_updated"].includes(event)) {
          this.loadMembers().catch(() => {});
        }
      }),
      chat.on("outbox", () => this.showPending()),
      chat.on("failed", ({ detail }) => wx.showToast({ title: detail || "Not sent", icon: "none" })),
    ];
    try {
      const conversation = await chat.api.conversation(this.conversation);
      this.kind = conversation.kind;
      wx.setNavigationBarTitle({ title: conversation.title || "Chat" });
      if (conversation.peer) this.names.set(conversation.peer.id, conversation.peer.remark || conversation.peer.nickname);
      if (conversation.kind === "group" && conversation.group) {
        this.group = conversation.group;
        await this.loadMembers();
      }
      // client.history remembers the messages, so later recalls and edits fold into them.
      const page = await chat.history(this.conversation, { limit: 30 });
      this.add(page.results);
      this.setData({ hasOlder: page.has_more });
      chat.setCursor(this.conversation, conversation.last_seq);
      // Opened from a search result: show that message with its context.
      if (Number(query.seq) > 0) await this.jump(Number(query.seq));
    } catch (err) {
      this.setData({ error: err.detail || "Could not load this conversation." });
    }
    this.showPending();
  },

  onUnload() {
    for (const off of this.off || []) off();
  },

  /** Groups: the other members for the "@" picker, your role, and everyone's name. */
  async loadMembers() {
    const me = this.me();
    const members = [];
    for (const member of await app.client().api.groupMembers(this.group)) {
      const name = member.user.remark || member.alias || member.user.nickname;
      this.names.set(member.user.id, name); // kept after they leave, for older messages
      if (me && member.user.id === me.id) this.isAdmin = member.role !== "member";
      else members.push({ id: member.user.id, name }); // the robot too: it answers when mentioned
    }
    this.members = members;
  },

  me() {
    return app.globalData.user || app.client().user;
  },

  name(userId) {
    const me = this.me();
    if (me && userId === me.id) return "You";
    return this.names.get(userId) || null;
  },

  /** A system message in words, from its data (the server's English `body` as a fallback). */
  systemText(m) {
    const d = m.data || {};
    const n = (id) => this.name(id);
    const known = (...ids) => ids.every((id) => id == null || n(id));
    switch (d.event) {
      case "friend_added": return "You are now friends. Say hello!";
      case "group_created": return known(d.by) ? `${n(d.by)} created the group "${d.name}"` : m.body;
      case "member_joined":
        if (!known(d.user, d.by)) return m.body;
        return d.by && d.by !== d.user ? `${n(d.by)} invited ${n(d.user)} to the group` : `${n(d.user)} joined the group`;
      case "member_left": return known(d.user) ? `${n(d.user)} left the group` : m.body;
      case "member_removed": return known(d.user, d.by) ? `${n(d.by)} removed ${n(d.user)} from the group` : m.body;
      case "group_renamed": return known(d.by) ? `${n(d.by)} renamed the group to "${d.name}"` : m.body;
      case "notice_changed": return known(d.by) ? `${n(d.by)} changed the group notice` : m.body;
      case "owner_transferred": return known(d.user) ? `${n(d.user)} is now the group owner` : m.body;
      default: return m.body;
    }
  },

  /** "Bob recalled a message", or who else did ("You recalled a message from Bob"). */
  tombstone(m, mine, sender) {
    const by = this.recalledBy.get(m.id);
    if (!by) return `${mine ? "You" : sender} recalled a message`;
    const me = this.me();
    const who = me && by.id === me.id ? "You" : this.name(by.id) || by.nickname;
    return `${who} recalled a message from ${mine ? "you" : sender}`;
  },

  /** The row the page draws for a (folded) message. */
  row(m) {
    const me = this.me();
    const mine = Boolean(me && m.sender.id === me.id);
    // The name you gave them, else their alias in this group (from the members), else theirs.
    const sender = m.sender.remark || this.names.get(m.sender.id) || m.sender.nickname;
    if (!mine && !this.names.has(m.sender.id)) this.names.set(m.sender.id, sender);
    const attachment = m.recalled ? null : m.attachment;
    const file = attachment && attachment.kind === "file" ? attachment : null;
    const quote = m.reply && {
      id: m.reply.id,
      seq: m.reply.seq,
      sender: m.reply.sender.nickname,
      text: m.reply.recalled ? "[Recalled]" : summary(m.reply.kind, m.reply.body),
    };
    return {
      id: m.id,
      seq: m.seq,
      mine,
      sender,
      kind: m.kind,
      body: m.recalled ? "" : m.body,
      recalled: m.recalled,
      tombstone: m.recalled ? this.tombstone(m, mine, sender) : "",
      sentAt: Date.parse(m.created_at) || 0,
      edited: m.edited && !m.recalled,
      system: m.kind === "system" ? this.systemText(m) : "",
      quote: quote || null,
      file: file ? { name: file.name, size: fileSize(file.size), url: file.url } : null,
      url: attachment && attachment.kind === "image" ? attachment.url : "",
      image: attachment && attachment.kind === "image" ? this.images.get(attachment.thumbnail_url) || "" : "",
      reactions: (m.recalled ? [] : m.reactions || []).map((r) => ({
        emoji: r.emoji,
        count: r.count,
        mine: Boolean(me && r.users.includes(me.id)),
      })),
      mentioned: Boolean(me && !mine && ((m.mentions || []).includes(me.id) || m.mention_all)),
    };
  },

  /** Show stored messages (new ones once each, changed ones replaced), in seq order. */
  add(messages) {
    let rows = this.data.messages;
    const newestBefore = rows.length ? rows[rows.length - 1].seq : 0;
    let changed = false;
    for (const m of messages) {
      if (m.kind === "recall" || m.kind === "edit" || m.kind === "reaction") continue;
      const held = this.byId.get(m.id);
      if (held && (held.change_seq || 0) > (m.change_seq || 0)) continue; // an older copy
      if (held && held.change_seq === m.change_seq && JSON.stringify(held.reply) === JSON.stringify(m.reply)) continue;
      this.byId.set(m.id, m);
      const row = this.row(m);
      rows = held ? rows.map((r) => (r.id === m.id ? row : r)) : rows.concat([row]);
      changed = true;
    }
    if (!changed) return;
    rows.sort((a, b) => a.seq - b.seq);
    const newest = rows.length ? rows[rows.length - 1].seq : 0;
    // Something newer than what was shown: follow it (older pages and changes stay put).
    this.setData(newest > newestBefore ? { messages: rows, scrollTo: `m${newest}` } : { messages: rows });
    for (const m of messages) {
      if (m.attachment && m.attachment.kind === "image" && !m.recalled) this.loadImage(m.id, m.attachment.thumbnail_url);
    }
    this.markRead();
  },

  async loadImage(id, url) {
    try {
      const path = this.images.get(url) || (await app.client().api.downloadImage(url));
      this.images.set(url, path);
      this.setData({ messages: this.data.messages.map((m) => (m.id === id ? { ...m, image: path } : m)) });
    } catch {
      /* the image stays a placeholder */
    }
  },

  markRead() {
    const rows = this.data.messages;
    const newest = Math.max(rows.length ? rows[rows.length - 1].seq : 0, app.client().cursor(this.conversation) || 0);
    if (newest > (this.readSeq || 0)) {
      this.readSeq = newest;
      app.client().markRead(this.conversation, newest);
    }
  },

  showPending() {
    const pending = app.client().pending(this.conversation).map((i) => ({
      id: i.id,
      body: summary(i.kind, i.body, i.preview),
      failed: i.state === "failed",
    }));
    this.setData({ pending });
  },

  onInput(e) {
    const value = e.detail.value;
    const typedAt = value.endsWith("@") && value.length > this.data.draft.length;
    this.setData({ draft: value });
    app.client().typing(this.conversation);
    if (typedAt && this.kind === "group") this.openPicker();
  },

  /** The "@" picker: the other members, and everyone for an owner or admin. */
  openPicker() {
    const everyone = this.isAdmin ? [{ id: "all", name: "All members" }] : [];
    this.setData({ picker: everyone.concat(this.members) });
  },

  onPickMention(e) {
    const raw = e.currentTarget.dataset.id;
    const id = String(raw) === "all" ? "all" : Number(raw);
    const choice = this.data.picker.find((p) => p.id === id);
    if (!choice) return;
    const text = id === "all" ? "@all" : `@${choice.name}`;
    this.picked.set(id, text);
    // The "@" just typed becomes the mention.
    const draft = this.data.draft.endsWith("@") ? this.data.draft.slice(0, -1) : this.data.draft;
    this.setData({ draft: `${draft}${text} `, picker: [] });
  },

  onClosePicker() {
    this.setData({ picker: [] });
  },

  /** Mentions still in the text (one deleted from the draft is no longer sent). */
  mentionsIn(body) {
    const mentions = [];
    let mentionAll = false;
    for (const [id, text] of this.picked) {
      if (!body.includes(text)) continue;
      if (id === "all") mentionAll = true;
      else mentions.push(id);
    }
    return { mentions: mentions.length ? mentions : null, mentionAll };
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
    const replyTo = this.data.replyTo ? this.data.replyTo.id : null;
    const { mentions, mentionAll } = this.mentionsIn(body);
    app.client().send({ conversation: this.conversation, body, replyTo, mentions, mentionAll });
    this.picked.clear();
    this.setData({ draft: "", showEmoji: false, replyTo: null, picker: [] });
  },

  /** A message the server refused stays in the outbox until the user retries or deletes it. */
  async onRetry(e) {
    const { id } = e.currentTarget.dataset;
    const tapIndex = await sheet(["Send again", "Delete"]);
    if (tapIndex === 0) app.client().retry(id);
    else if (tapIndex === 1) app.client().discard(id);
    // dismissed: it stays, marked failed
  },

  onCancelReply() {
    this.setData({ replyTo: null });
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

  /** Send a document picked from a WeChat chat (mini-programs have no file browser). */
  async onChooseFile() {
    let file;
    try {
      file = await new Promise((resolve, reject) =>
        wx.chooseMessageFile({ count: 1, type: "file", success: (res) => resolve(res.tempFiles[0]), fail: reject }),
      );
    } catch {
      return; // cancelled
    }
    const max = app.client().limits.file_max_bytes;
    if (file.size > max) {
      // Not worth uploading only to be refused (the server checks again).
      wx.showToast({ title: `Files can be at most ${fileSize(max)}`, icon: "none" });
      return;
    }
    try {
      // wx.uploadFile names the part after the temp file: pass the real name along.
      await app.client().sendFile({ conversation: this.conversation, file: file.path, filename: file.name, preview: file.name });
    } catch (err) {
      wx.showToast({ title: err.detail || "The file was not sent", icon: "none" });
    }
  },

  /** Download a document with the token, then let WeChat show it. */
  async onOpenFile(e) {
    const { url, name } = e.currentTarget.dataset;
    wx.showLoading({ title: "Opening…" });
    try {
      const filePath = await app.client().api.downloadFile(url);
      const type = extension(name);
      if (!DOCUMENT_TYPES.includes(type)) {
        wx.showToast({ title: `Downloaded; WeChat cannot preview .${type} files`, icon: "none" });
        return;
      }
      await new Promise((resolve, reject) =>
        wx.openDocument({ filePath, fileType: type, showMenu: true, success: resolve, fail: reject }),
      );
    } catch (err) {
      wx.showToast({ title: (err && (err.detail || err.errMsg)) || "Could not open the file", icon: "none" });
    } finally {
      wx.hideLoading();
    }
  },

  onPreview(e) {
    const { image } = e.currentTarget.dataset;
    if (image) wx.previewImage({ urls: [image] });
  },

  /** Jump to a reply's original, loading the history around it when it is not shown yet. */
  /** Scrolled to the top: the page of messages before the first one shown. */
  async onLoadOlder() {
    const rows = this.data.messages;
    if (!this.data.hasOlder || this.data.loadingOlder || rows.length === 0) return;
    const first = rows[0].seq;
    this.setData({ loadingOlder: true });
    try {
      const page = await app.client().history(this.conversation, { before: first, limit: 30 });
      this.add(page.results);
      // Stay where the reader was: on the message that was first.
      this.setData({ hasOlder: page.has_more, scrollTo: `m${first}` });
    } catch (err) {
      wx.showToast({ title: (err && err.detail) || "Could not load earlier messages", icon: "none" });
    } finally {
      this.setData({ loadingOlder: false });
    }
  },

  onQuote(e) {
    return this.jump(Number(e.currentTarget.dataset.seq));
  },

  /** Show message `seq`: loaded around it when it is not shown yet, then scrolled to. */
  async jump(seq) {
    if (!this.data.messages.some((m) => m.seq === seq)) {
      try {
        const page = await app.client().history(this.conversation, { around: seq, limit: 30 });
        this.add(page.results);
      } catch (err) {
        wx.showToast({ title: err.detail || "Could not load that message", icon: "none" });
        return;
      }
    }
    this.setData({ scrollTo: `m${seq}` });
  },

  /** Long press: reply, react, and for your own messages edit and recall. */
  async onMessageAction(e) {
    const row = this.data.messages.find((m) => m.id === Number(e.currentTarget.dataset.id));
    if (!row || row.recalled || row.kind === "system") return;
    const actions = [
      ["Reply", () => this.setData({ replyTo: { id: row.id, sender: row.sender, text: summary(row.kind, row.body, row.file && row.file.name) } })],
      ["React…", async () => {
        const reactions = app.client().limits.reactions;
        const index = await sheet(reactions);
        return index === null ? null : app.client().react(row.id, reactions[index]);
      }],
    ];
    // Offer only what the server allows now (hello.limits); it still decides.
    const { recall_seconds: recallSeconds, edit_seconds: editSeconds } = app.client().limits;
    const age = (Date.now() - row.sentAt) / 1000;
    if (row.kind === "text") actions.push(["Copy", () => wx.setClipboardData({ data: row.body })]);
    if (row.mine && row.kind === "text" && age < editSeconds) actions.push(["Edit", () => this.edit(row)]);
    if ((row.mine && age < recallSeconds) || (this.kind === "group" && this.isAdmin && !row.mine)) {
      actions.push(["Recall", () => app.client().recall(row.id)]);
    }
    const tapIndex = await sheet(actions.map(([label]) => label));
    if (tapIndex === null) return; // dismissed
    await this.change(() => actions[tapIndex][1]());
  },

  /** Tapping a reaction under a message adds yours, or takes it back. */
  onReaction(e) {
    const { id, emoji, mine } = e.currentTarget.dataset;
    return this.change(() => app.client().react(Number(id), emoji, !mine));
  },

  /** Run a message change; the folded message it answers is shown, a refusal explained. */
  async change(action) {
    try {
      const changed = await action();
      if (changed && changed.id) this.add([changed]);
    } catch (err) {
      wx.showToast({ title: (err && err.detail) || "That did not work", icon: "none" });
    }
  },

  async edit(row) {
    const res = await new Promise((resolve) =>
      wx.showModal({ title: "Edit message", editable: true, content: row.body, success: resolve, fail: () => resolve({}) }),
    );
    const body = (res.content || "").trim();
    if (!res.confirm || !body || body === row.body) return null;
    return app.client().edit(row.id, body);
  },
});
