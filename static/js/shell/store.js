// The one store the screens read and subscribe to. It loads over REST (the SDK's client.api) and
// keeps itself current from the SDK's events; it is the only module that listens to the
// client. Screens call its methods (send, markRead, …) and never see the socket.
//
// Topics emitted with "change": conversations, people, presence, typing, friends,
// requests, groups, members, cards, blocks, me, status. Chat events re-emitted as they are:
// message, change (a recall, edit or reaction folded into a message), read, outbox,
// failed, typing, presence; and jump (open a conversation at a message).
import { _, fmt, pgettext } from "../dom.js";
import { Emitter } from "../happychat-client.js";
import { systemText } from "./format.js";

// The kinds people send: what counts as unread and may be replied to, forwarded, reacted to.
export const CONTENT_KINDS = new Set(["text", "image", "file"]);

/**
 * Unread messages once read up to `seq`, without asking the server: at most the seqs left
 * (some may be change entries or system lines, which are not unread) and at most what the
 * server counted for an earlier cursor.
 */
export function unreadAfter(conv, seq) {
  const left = Math.max(0, (conv.last_seq || 0) - seq);
  return conv.unread == null ? left : Math.min(conv.unread, left);
}

export class Store extends Emitter {
  constructor({ client, api, me }) {
    super();
    this.client = client;
    this.api = api;
    this.me = me;
    this.status = "connecting";
    this.conversations = new Map(); // id -> Conversation (REST shape, kept current)
    this.listLoaded = false;
    this.people = new Map(); // user id -> User (with remark where known)
    this.online = new Set();
    this.typingBy = new Map(); // conversation id -> {user, until}
    this.peerRead = new Map(); // conversation id -> seq the other side has read (1:1)
    this.friends = null; // [User] once loaded
    this.requests = null; // [FriendRequest] both directions
    this.invitations = null; // [GroupInvitation] to me
    this.blocks = null; // [{user, created_at}]
    this.groups = new Map(); // group id -> Group (with my_role)
    this.members = new Map(); // group id -> [Member]
    this.cards = new Map(); // user id -> a person's card
    this.jumpTo = null; // {conversation, seq}: where the chat opens next (a search result)
    this._reloadTimer = null;
    this._listen();
  }

  changed(...topics) {
    for (const topic of topics) this.emit("change", topic);
  }

  /** Call fn(topic) on every change; returns the unsubscribe function. */
  subscribe(fn) {
    return this.on("change", fn);
  }

  // --- names -------------------------------------------------------------------------

  displayName(user) {
    if (!user) return "";
    const known = this.people.get(user.id);
    return (known && known.remark) || user.remark || (known && known.nickname) || user.nickname || user.username || "";
  }

  rememberUser(user) {
    if (!user || user.id == null) return;
    const known = this.people.get(user.id) || {};
    const remark = "remark" in user ? user.remark : known.remark;
    this.people.set(user.id, { ...known, ...user, remark });
  }

  conversationTitle(conv) {
    if (!conv) return "";
    if ((conv.kind === "direct" || conv.kind === "robot") && conv.peer) return this.displayName(conv.peer) || conv.title;
    return conv.title || _("Conversation");
  }

  conversationWith(userId) {
    for (const conv of this.conversations.values()) {
      if ((conv.kind === "direct" || conv.kind === "robot") && conv.peer && conv.peer.id === userId) return conv;
    }
    return null;
  }

  conversationOfGroup(groupId) {
    for (const conv of this.conversations.values()) if (conv.group === groupId) return conv;
    return null;
  }

  pendingIncoming() {
    return (this.requests || []).filter((r) => r.status === "pending" && r.to.id === this.me.id);
  }

  pendingInvitations() {
    return (this.invitations || []).filter((i) => i.status === "pending");
  }

  /** What the Contacts tab's badge counts: requests and invitations waiting for me. */
  waitingCount() {
    return this.pendingIncoming().length + this.pendingInvitations().length;
  }

  /** Newest activity first; a new user's robot stays on top until they talk to someone. */
  sortedConversations() {
    const convs = [...this.conversations.values()];
    const others = convs.some((c) => c.kind !== "robot" && c.last_message);
    const activity = (c) => (c.last_message ? Date.parse(c.last_message.created_at) : 0) || 0;
    return convs.sort((a, b) => {
      if (!others) {
        if (a.kind === "robot" && b.kind !== "robot") return -1;
        if (b.kind === "robot" && a.kind !== "robot") return 1;
      }
      return activity(b) - activity(a) || b.id - a.id;
    });
  }

  /** A person's name as this reader sees it, "You" for the reader, null if unknown. */
  nameOf(userId) {
    // "You" as the subject of a sentence ("You invited Bob"): 你 in Chinese, where the
    // plain "You" (a sender label) is 我.
    if (userId === this.me.id) return pgettext("sentence subject", "You");
    const known = this.people.get(userId);
    return known ? this.displayName(known) : null;
  }

  /** A message in a line of text (list preview, notification, quote): no sender prefix. */
  messageText(message) {
    if (!message) return "";
    if (message.recalled) return this.recallText(message);
    if (message.kind === "system") return systemText(message, (id) => this.nameOf(id));
    if (message.kind === "image") return message.body ? `${_("[Image]")} ${message.body}` : _("[Image]");
    if (message.kind === "file") return `${_("[File]")} ${(message.attachment && message.attachment.name) || ""}`.trim();
    return message.body;
  }

  /**
   * A recalled message's tombstone: "Alice recalled a message", or, when a group's owner or
   * admin recalled a member's (`recalled_by`), "Bob recalled a message from Carol".
   */
  recallText(message) {
    const sender = message.sender || {};
    const mine = sender.id === this.me.id;
    const by = message.recalled_by;
    if (by == null || by === sender.id) {
      return mine ? _("You recalled a message") : fmt(_("%(name)s recalled a message"), { name: this.displayName(sender) });
    }
    if (by === this.me.id) return fmt(_("You recalled a message from %(name)s"), { name: this.displayName(sender) });
    const conv = this.conversations.get(message.conversation);
    const member = conv && conv.group ? (this.members.get(conv.group) || []).find((m) => m.user.id === by) : null;
    const actor = this.nameOf(by) || (member && (member.alias || this.displayName(member.user))) || _("An admin");
    if (mine) return fmt(_("%(actor)s recalled your message"), { actor });
    return fmt(_("%(actor)s recalled a message from %(name)s"), { actor, name: this.displayName(sender) });
  }

  /** The list row's preview of a conversation's last message. */
  preview(conv) {
    const message = conv.last_message;
    if (!message) return conv.kind === "robot" ? _("Say hello to the robot!") : "";
    const text = this.messageText(message);
    if (conv.kind === "group" && message.sender && message.sender.id !== this.me.id
      && message.kind !== "system" && !message.recalled) {
      return `${this.displayName(message.sender)}: ${text}`;
    }
    return text;
  }

  /** Whether a message mentions the reader (by id, or @all). */
  mentionsMe(message) {
    return Boolean(message && message.sender && message.sender.id !== this.me.id
      && (message.mention_all || (message.mentions || []).includes(this.me.id)));
  }

  /** Now on the server's clock (ms), for its time windows (recall, edit). */
  serverNow() {
    return Date.now() + (this.client.clockOffset || 0);
  }

  /** The limits the server announced in hello (recall/edit windows, sizes, reactions). */
  get limits() {
    return this.client.limits;
  }

  /** My role in a conversation's group ("owner", "admin", "member") or null. */
  myRole(conv) {
    const group = conv && conv.group ? this.groups.get(conv.group) : null;
    return group ? group.my_role || null : null;
  }

  /** A member's role in a conversation's group, or null when not known (members not loaded). */
  roleOf(conv, userId) {
    const members = conv && conv.group ? this.members.get(conv.group) : null;
    const member = members && members.find((m) => m.user.id === userId);
    return member ? member.role : null;
  }

  totalUnread() {
    let n = 0;
    for (const c of this.conversations.values()) if (!c.muted) n += c.unread || 0;
    return n;
  }

  isTyping(conversation) {
    const t = this.typingBy.get(conversation);
    return t && t.until > Date.now() ? t.user : null;
  }

  // --- loading -------------------------------------------------------------------------

  async loadConversations() {
    let data;
    try {
      data = await this.api.conversations();
    } catch (err) {
      if (err && (err.status === 401 || err.status === 403)) this.emit("unauthenticated", {});
      return false;
    }
    const items = Array.isArray(data) ? data : (data && data.results) || [];
    for (const conv of items) this._mergeConversation(conv);
    this.listLoaded = true;
    this.changed("conversations");
    return true;
  }

  _mergeConversation(conv) {
    const known = this.conversations.get(conv.id);
    if (conv.peer) this.rememberUser(conv.peer);
    // The list is a snapshot; anything newer that arrived live wins.
    if (known && (known.last_seq || 0) > (conv.last_seq || 0)) return known;
    const merged = { ...known, ...conv };
    // A read this page sent may not be in the snapshot yet: never move the cursor back.
    if (known && (known.last_read_seq || 0) > (conv.last_read_seq || 0)) {
      merged.last_read_seq = known.last_read_seq;
      merged.unread = unreadAfter(merged, merged.last_read_seq);
    }
    this.conversations.set(conv.id, merged);
    this.client.setCursor(conv.id, conv.last_seq || 0);
    if (conv.peer && conv.peer_last_read_seq != null) this.peerRead.set(conv.id, conv.peer_last_read_seq);
    return merged;
  }

  /** One conversation (e.g. a deep link to a group left earlier, not in the list). */
  async loadConversation(id) {
    try {
      const conv = await this.api.conversation(id);
      const merged = this._mergeConversation(conv);
      this.changed("conversations");
      return merged;
    } catch {
      return null;
    }
  }

  reloadConversationsSoon() {
    clearTimeout(this._reloadTimer);
    this._reloadTimer = setTimeout(() => this.loadConversations(), 300);
  }

  async loadFriends() {
    try {
      this.friends = await this.api.friends();
      for (const f of this.friends) this.rememberUser(f);
      this.changed("friends", "people");
    } catch { /* keep what we had */ }
    return this.friends;
  }

  async loadRequests() {
    try {
      this.requests = await this.api.friendRequests();
      this.changed("requests");
    } catch { /* keep what we had */ }
    return this.requests;
  }

  async loadInvitations() {
    try {
      this.invitations = await this.api.invitations();
      this.changed("requests");
    } catch { /* keep what we had */ }
    return this.invitations;
  }

  async loadBlocks() {
    try {
      this.blocks = await this.api.blocks();
      this.changed("blocks");
    } catch { /* keep what we had */ }
    return this.blocks;
  }

  async loadGroup(id) {
    try {
      const group = await this.api.group(id);
      this.groups.set(id, group);
      this.changed("groups");
      return group;
    } catch (err) {
      if (err && err.status === 404) {
        this.groups.delete(id);
        this.changed("groups");
      }
      return null;
    }
  }

  async loadMembers(id) {
    try {
      const members = await this.api.groupMembers(id);
      for (const m of members) this.rememberUser(m.user);
      this.members.set(id, members);
      this.changed("members");
      return members;
    } catch {
      return this.members.get(id) || null;
    }
  }

  async loadCard(userId) {
    try {
      const card = await this.api.user(userId);
      this.cards.set(userId, card);
      this.rememberUser(card);
      this.changed("cards", "people");
      return card;
    } catch (err) {
      this.cards.set(userId, { missing: true, status: err && err.status });
      this.changed("cards");
      return null;
    }
  }

  async loadMe() {
    try {
      Object.assign(this.me, await this.api.me());
      this.changed("me");
    } catch { /* keep what we had */ }
    return this.me;
  }

  setMe(user) {
    Object.assign(this.me, user);
    this.rememberUser(user);
    this.changed("me", "people");
  }

  // --- chat actions (the screens' way to the SDK) ---------------------------------------

  send(message) {
    return this.client.send(message);
  }

  retry(id) {
    this.client.retry(id);
  }

  pending(conversation) {
    return this.client.pending(conversation);
  }

  history(conversation, options) {
    return this.client.history(conversation, options);
  }

  /** Recall, edit, react: the folded message, or a rejection with the server's error. */
  recall(messageId) {
    return this.client.recall(messageId);
  }

  edit(messageId, body) {
    return this.client.edit(messageId, body);
  }

  react(messageId, emoji, on) {
    return this.client.react(messageId, emoji, on);
  }

  /** Copy messages (ids, in order) into a conversation → the copies. */
  forward(conversation, messages) {
    return this.api.forward({ id: this.client.adapter.uuid(), conversation, messages });
  }

  /** Open a conversation at a message: the chat screen takes it when it shows that chat. */
  requestJump(conversation, seq) {
    this.jumpTo = { conversation, seq };
    this.emit("jump", this.jumpTo);
  }

  takeJump(conversation) {
    const jump = this.jumpTo && this.jumpTo.conversation === conversation ? this.jumpTo : null;
    if (jump) this.jumpTo = null;
    return jump;
  }

  typing(conversation) {
    this.client.typing(conversation);
  }

  markRead(conversation, seq) {
    const conv = this.conversations.get(conversation);
    if (!conv) return;
    conv.last_read_seq = Math.max(conv.last_read_seq || 0, seq);
    conv.unread = 0;
    if (!conv.mentionSeq || seq >= conv.mentionSeq) conv.mentioned = false;
    this.client.markRead(conversation, seq);
    this.changed("conversations");
  }

  async setMuted(conversation, muted) {
    const conv = this.conversations.get(conversation);
    if (!conv) return;
    const before = Boolean(conv.muted);
    conv.muted = muted;
    this.changed("conversations");
    try {
      const result = await this.api.mute(conversation, muted);
      conv.muted = Boolean(result.muted);
    } catch (err) {
      conv.muted = before;
      this.changed("conversations");
      throw err;
    }
    this.changed("conversations");
  }

  // --- live events ---------------------------------------------------------------------

  _listen() {
    const c = this.client;
    c.on("message", (detail) => this._onMessage(detail));
    c.on("change", (detail) => this._onChange(detail));
    c.on("read", (detail) => this._onRead(detail));
    c.on("typing", (detail) => this._onTyping(detail));
    c.on("presence", ({ user, online }) => {
      if (online && this.status === "open") this.online.add(user);
      else this.online.delete(user);
      this.changed("presence");
      this.emit("presence", { user, online });
    });
    c.on("event", (detail) => this._onEvent(detail));
    c.on("outbox", (detail) => this.emit("outbox", detail));
    c.on("failed", (detail) => this.emit("failed", detail));
    c.on("status", ({ status }) => {
      this.status = status;
      // Presence is only known while connected: after a drop nobody is shown online
      // until the server's presence frames after the next hello say so again.
      if (status !== "open" && this.online.size) {
        this.online.clear();
        this.changed("presence");
      }
      this.changed("status");
      this.emit("status", { status });
    });
    c.on("hello", ({ user }) => this.setMe(user));
    c.on("synced", () => {
      // Counts may have moved while we were away (e.g. read on another device).
      if (this.listLoaded) this.reloadConversationsSoon();
      this.loadRequests();
    });
    c.on("unauthenticated", () => this.emit("unauthenticated", {}));
  }

  _onMessage({ message, live }) {
    const conv = this.conversations.get(message.conversation);
    if (!conv) {
      this.reloadConversationsSoon();
      return;
    }
    this.rememberUser(message.sender);
    const fromMe = message.sender.id === this.me.id;
    if (!conv.last_message || message.seq >= (conv.last_message.seq || 0)) conv.last_message = message;
    conv.last_seq = Math.max(conv.last_seq || 0, message.seq);
    if (fromMe) {
      conv.last_read_seq = Math.max(conv.last_read_seq || 0, message.seq);
      conv.unread = 0;
      conv.mentioned = false;
    } else if (message.seq > (conv.last_read_seq || 0)) {
      // System messages show in the list but are not unread (docs/protocol.md §7).
      if (CONTENT_KINDS.has(message.kind)) conv.unread = (conv.unread || 0) + 1;
      if (this.mentionsMe(message)) {
        conv.mentioned = true;
        conv.mentionSeq = message.seq;
      }
      this.typingBy.delete(conv.id);
    }
    this.emit("message", { message, live, conv, fromMe });
    this.changed("conversations");
  }

  /** A recall, edit or reaction: the list preview follows, the chat redraws the message. */
  _onChange({ entry, target, live }) {
    const conversation = (target && target.conversation) || (entry && entry.conversation);
    const conv = this.conversations.get(conversation);
    if (!conv) return;
    if (entry) {
      conv.last_seq = Math.max(conv.last_seq || 0, entry.seq);
      // The actor's read cursor moves over their own entry, as sending does.
      if (entry.sender && entry.sender.id === this.me.id) conv.last_read_seq = Math.max(conv.last_read_seq || 0, entry.seq);
    }
    if (target && conv.last_message && conv.last_message.id === target.id) {
      conv.last_message = target;
      this.changed("conversations");
    }
    this.emit("change", { entry, target, live, conv });
  }

  _onRead({ conversation, user, seq }) {
    const conv = this.conversations.get(conversation);
    if (!conv) return;
    if (user === this.me.id) {
      // Read on another of my devices.
      if (seq >= (conv.last_read_seq || 0)) {
        conv.last_read_seq = seq;
        if (!conv.mentionSeq || seq >= conv.mentionSeq) conv.mentioned = false;
        conv.unread = unreadAfter(conv, seq);
        // Only the server knows how many of the seqs left are messages (not recalls,
        // edits, reactions or system lines): ask it when any are left.
        if (conv.unread) this.reloadConversationsSoon();
        this.changed("conversations");
      }
      return;
    }
    if (conv.kind === "direct") {
      this.peerRead.set(conversation, Math.max(seq, this.peerRead.get(conversation) || 0));
      this.emit("read", { conversation, user, seq });
    }
  }

  _onTyping({ conversation, user }) {
    if (user === this.me.id) return;
    const person = this.people.get(user) || { id: user, nickname: "" };
    this.typingBy.set(conversation, { user: person, until: Date.now() + 5000 });
    this.changed("typing");
    setTimeout(() => {
      if (!this.isTyping(conversation)) this.changed("typing");
    }, 5100);
  }

  _onEvent({ event, data }) {
    const handler = EVENT_HANDLERS[event];
    if (handler) handler.call(this, data || {});
    else this.reloadConversationsSoon();
    this.emit("social", { event, data });
  }

  _upsertRequest(request) {
    if (!request || request.id == null) return;
    const list = (this.requests || []).filter((r) => r.id !== request.id);
    this.requests = [request, ...list];
    this.changed("requests");
  }

  _updateGroupBrief(brief) {
    if (!brief || brief.id == null) return null;
    const known = this.groups.get(brief.id);
    const group = { ...known, ...brief, my_role: known ? known.my_role : undefined };
    this.groups.set(brief.id, group);
    const conv = this.conversationOfGroup(brief.id);
    if (conv) {
      conv.title = brief.name;
      conv.avatar = brief.avatar;
    }
    this.changed("groups", "conversations");
    return group;
  }

  endMembership(groupId, reason, by) {
    const conv = this.conversationOfGroup(groupId);
    if (conv) {
      conv.is_active = false;
      conv.left_reason = reason;
      conv.left_by = by;
      this.changed("conversations");
    }
    const group = this.groups.get(groupId);
    if (group) group.my_role = null;
    this.members.delete(groupId);
    this.changed("groups", "members");
  }
}

// What each social event (docs/protocol-extensions.md, chat/events.py) changes here.
const EVENT_HANDLERS = {
  friend_request({ request }) {
    this._upsertRequest(request);
    if (request && request.status === "pending" && request.to && request.to.id === this.me.id) {
      this.emit("notice", { text: fmt(_("%(name)s sent you a friend request"), { name: this.displayName(request.from) }) });
    }
  },
  friend_added({ user }) {
    this.rememberUser(user);
    this.loadFriends();
    this.loadRequests();
    if (user && this.cards.has(user.id)) this.loadCard(user.id);
    this.reloadConversationsSoon();
  },
  friend_updated({ user }) {
    if (!user) return;
    this.rememberUser({ ...user, remark: user.remark || "" });
    if (this.friends) this.friends = this.friends.map((f) => (f.id === user.id ? { ...f, ...user, remark: user.remark || undefined } : f));
    const card = this.cards.get(user.id);
    if (card) this.cards.set(user.id, { ...card, remark: user.remark || undefined });
    this.changed("friends", "people", "cards", "conversations");
  },
  friend_removed({ user }) {
    if (this.friends) this.friends = this.friends.filter((f) => f.id !== user);
    const card = this.cards.get(user);
    if (card) this.cards.set(user, { ...card, is_friend: false, remark: undefined });
    const known = this.people.get(user);
    if (known) this.people.set(user, { ...known, remark: undefined });
    this.changed("friends", "cards", "people", "conversations");
  },
  user_blocked({ user }) {
    this.loadBlocks();
    const card = user && this.cards.get(user.id);
    if (card) this.cards.set(user.id, { ...card, is_blocked: true });
    this.changed("cards");
  },
  user_unblocked({ user }) {
    if (this.blocks) this.blocks = this.blocks.filter((b) => b.user.id !== user);
    const card = this.cards.get(user);
    if (card) this.cards.set(user, { ...card, is_blocked: false });
    this.changed("blocks", "cards");
  },
  conversation_created() {
    this.reloadConversationsSoon();
  },
  group_joined({ group, user }) {
    this._updateGroupBrief(group);
    if (user) this.rememberUser(user);
    if (user && user.id === this.me.id) {
      this.loadGroup(group.id);
      this.reloadConversationsSoon();
    }
    if (this.members.has(group.id)) this.loadMembers(group.id);
  },
  group_left({ group, user, reason, by }) {
    this._updateGroupBrief(group);
    if (user === this.me.id) {
      this.endMembership(group.id, reason, by);
      if (reason === "removed") this.emit("notice", { text: fmt(_("You were removed from %(name)s"), { name: group.name }) });
      return;
    }
    const members = this.members.get(group.id);
    if (members) {
      this.members.set(group.id, members.filter((m) => m.user.id !== user));
      this.changed("members");
    }
  },
  group_updated({ group, changed = [], member, muted }) {
    this._updateGroupBrief(group);
    if (changed.includes("muted") && muted !== undefined) {
      const conv = this.conversationOfGroup(group.id);
      if (conv) conv.muted = muted;
      this.changed("conversations");
    }
    if (changed.includes("roles") || changed.includes("owner")) this.loadGroup(group.id);
    if (member && this.members.has(group.id)) {
      const members = this.members.get(group.id).map((m) => (m.user.id === member.user ? { ...m, ...member, user: m.user } : m));
      this.members.set(group.id, members);
      this.changed("members");
    }
    if ((changed.includes("roles") || changed.includes("owner")) && this.members.has(group.id)) this.loadMembers(group.id);
  },
  group_invitation() {
    this.loadInvitations();
  },
  group_dissolved({ group, by }) {
    this.endMembership(group.id, "dissolved", by);
  },
};
