// The conversation list with its header: you, the "+" menu and the search box, whose
// results have sections (chats, contacts, groups, people, messages).
import { _, fmt, ngettext } from "../dom.js";
import { conversationAvatar, groupAvatar, isBot, listTime, userAvatar } from "../shell/format.js";
import { go } from "../shell/router.js";
import { Avatar, BotBadge, html, toast, useAction, useEffect, useRef, useState, useStore } from "../shell/ui.js";
import { MessageResults, useMessageSearch } from "./message-search.js";

export function ListHeader({ store }) {
  useStore(store, ["me"]);
  const name = store.me.nickname || store.me.username;
  return html`<header class="bar list-bar">
    <a class="me" href="/me/" aria-label=${fmt(_("%(name)s: your profile"), { name })}>
      <${Avatar} spec=${userAvatar(store.me)} size="small" />
      <span class="me-name" id="me-name">${name}</span>
    </a>
    <${PlusMenu} />
  </header>`;
}

function PlusMenu() {
  const [open, setOpen] = useState(false);
  const ref = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    const away = (e) => { if (ref.current && !ref.current.contains(e.target)) setOpen(false); };
    const esc = (e) => { if (e.key === "Escape") { setOpen(false); ref.current?.querySelector("button")?.focus(); } };
    document.addEventListener("pointerdown", away);
    document.addEventListener("keydown", esc);
    ref.current?.querySelector("[role=menuitem]")?.focus();
    return () => { document.removeEventListener("pointerdown", away); document.removeEventListener("keydown", esc); };
  }, [open]);
  return html`<div class="plus" ref=${ref}>
    <button type="button" class="icon-btn" id="plus-button" aria-haspopup="menu" aria-expanded=${String(open)}
      aria-label=${_("New chat, new group or add a friend")} title=${_("New")} onClick=${() => setOpen(!open)}>
      <svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="9"/><path d="M12 8v8M8 12h8"/></svg>
    </button>
    ${open ? html`<div class="menu plus-menu" role="menu" onClick=${() => setOpen(false)}>
      <a role="menuitem" class="menu-item" href="/new/chat/">${_("New chat")}</a>
      <a role="menuitem" class="menu-item" href="/new/group/">${_("New group")}</a>
      <a role="menuitem" class="menu-item" href="/contacts/find/">${_("Add a friend")}</a>
    </div>` : null}
  </div>`;
}

export function ChatList({ store, route }) {
  useStore(store, ["conversations", "presence", "typing", "people", "groups"]);
  const [query, setQuery] = useState("");
  const text = query.trim();
  return html`
    <${ListHeader} store=${store} />
    <div class="search-bar" role="search">
      <label class="visually-hidden" for="list-search">${_("Search people, groups, chats and messages")}</label>
      <input type="search" id="list-search" class="search-input" placeholder=${_("Search")} value=${query}
        autocomplete="off" onInput=${(e) => setQuery(e.currentTarget.value)} />
    </div>
    ${text ? html`<${SearchResults} store=${store} text=${text} />` : html`<${Conversations} store=${store} route=${route} />`}`;
}

function Conversations({ store, route }) {
  const convs = store.sortedConversations();
  const activeId = route.name === "chat" || route.name === "info" ? route.id : null;
  const onKey = (e) => {
    // Up/Down move through the list; the links themselves take Enter.
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const links = [...e.currentTarget.querySelectorAll("a.conv")];
    const i = links.indexOf(document.activeElement);
    if (i < 0) return;
    e.preventDefault();
    links[Math.max(0, Math.min(links.length - 1, i + (e.key === "ArrowDown" ? 1 : -1)))].focus();
  };
  if (store.listLoaded && !convs.length) {
    return html`<p id="list-empty" class="empty">${_("No conversations yet. Add a friend or join a group to start chatting.")}</p>`;
  }
  return html`<ul id="conversations" class="conversations" aria-label=${_("Conversations")} onKeyDown=${onKey}>
    ${convs.map((conv) => html`<${ConversationRow} key=${conv.id} store=${store} conv=${conv} active=${conv.id === activeId} />`)}
  </ul>`;
}

function ConversationRow({ store, conv, active }) {
  const title = store.conversationTitle(conv);
  const bot = conv.kind === "robot" || isBot(conv.peer);
  const online = conv.kind === "direct" && conv.peer && store.online.has(conv.peer.id);
  const unread = conv.unread || 0;
  const typing = store.isTyping(conv.id);
  const preview = typing ? fmt(_("%(name)s is typing…"), { name: store.displayName(typing) }) : store.preview(conv);
  const label = [
    title,
    bot ? _("Bot") : null,
    online ? _("online") : null,
    unread ? fmt(ngettext("%(count)s unread message", "%(count)s unread messages", unread), { count: unread }) : null,
    conv.mentioned ? _("you were mentioned") : null,
    conv.muted ? _("muted") : null,
    conv.is_active === false ? _("read only") : null,
  ].filter(Boolean).join(", ");
  return html`<li data-conversation=${String(conv.id)} class=${active ? "active" : ""}>
    <a href=${`/chats/${conv.id}/`} class=${conv.is_active === false ? "conv inactive" : "conv"} aria-label=${label} aria-current=${active ? "true" : null}>
      <span class="avatar-wrap"><${Avatar} spec=${conversationAvatar(conv, title)} />${online ? html`<span class="online-dot"></span>` : null}</span>
      <span class="conv-main">
        <span class="conv-top">
          <span class="conv-title">${title}</span>${bot ? html`<${BotBadge} />` : null}
          <time class="conv-time">${listTime(conv.last_message && conv.last_message.created_at)}</time>
        </span>
        <span class="conv-bottom">
          <span class=${typing ? "conv-preview typing" : "conv-preview"}>${conv.mentioned && !typing ? html`<span class="mention-mark">${_("[@me]")}</span> ` : null}${preview}</span>
          ${conv.muted ? html`<span class="muted-icon" aria-hidden="true">🔕</span>` : null}
          ${unread ? html`<span class=${conv.muted ? "badge quiet" : "badge"} aria-hidden="true">${unread > 99 ? "99+" : String(unread)}</span>` : null}
        </span>
      </span>
    </a>
  </li>`;
}

// --- search ------------------------------------------------------------------------

function matches(text, ...fields) {
  const needle = text.toLocaleLowerCase();
  return fields.some((f) => f && String(f).toLocaleLowerCase().includes(needle));
}

/** Server results for `text`, after a short pause in typing. */
function useRemote(fetcher, text, deps = []) {
  const [result, setResult] = useState({ text: "", items: null });
  useEffect(() => {
    let live = true;
    const timer = setTimeout(async () => {
      try {
        const items = await fetcher(text);
        if (live) setResult({ text, items });
      } catch {
        if (live) setResult({ text, items: [] });
      }
    }, 250);
    return () => { live = false; clearTimeout(timer); };
  }, [text, ...deps]);
  return result.text === text ? result.items : null;
}

function SearchResults({ store, text }) {
  useStore(store, ["friends"]);
  useEffect(() => { if (!store.friends) store.loadFriends(); }, []);
  const chats = store.sortedConversations().filter((c) => matches(text, store.conversationTitle(c), c.peer && c.peer.username));
  const friends = (store.friends || []).filter((f) => matches(text, f.remark, f.nickname, f.username));
  const groups = useRemote((t) => store.api.groups(t), text);
  const people = useRemote((t) => store.api.searchUsers(t), text);
  const friendIds = new Set((store.friends || []).map((f) => f.id));
  const strangers = people && people.filter((p) => !friendIds.has(p.id) && p.id !== store.me.id);
  const otherGroups = groups && groups.filter((g) => !g.my_role);
  const messages = useMessageSearch(store, text);
  const sections = [
    [_("Chats"), "chats", chats, (c) => html`<${ConversationRow} key=${c.id} store=${store} conv=${c} active=${false} />`],
    [_("Contacts"), "contacts", friends, (f) => html`<${PersonRow} key=${f.id} store=${store} user=${f} />`],
    [_("Groups you can join"), "groups", otherGroups, (g) => html`<${GroupRow} key=${g.id} store=${store} group=${g} />`],
    [_("People"), "people", strangers, (p) => html`<${PersonRow} key=${p.id} store=${store} user=${p} />`],
  ];
  const loading = groups === null || people === null || messages === null;
  const empty = !loading && sections.every(([, , items]) => !items || !items.length) && !(messages.results || []).length;
  return html`<div class="search-results" id="search-results" aria-live="polite">
    ${sections.map(([title, id, items, row]) => (items && items.length ? html`<section class="result-section" data-section=${id} key=${id}>
      <h2 class="section-title">${title}</h2>
      <ul class="rows">${items.map(row)}</ul>
    </section>` : null))}
    ${messages ? html`<${MessageResults} store=${store} text=${text} page=${messages} />` : null}
    ${loading ? html`<p class="hint pad">${_("Searching…")}</p>` : null}
    ${empty ? html`<p class="empty">${fmt(_("Nothing matches “%(text)s”."), { text })}</p>` : null}
  </div>`;
}

export function PersonRow({ store, user, extra = null, href }) {
  const name = store.displayName(user);
  return html`<li class="row">
    <a class="row-link" href=${href || `/people/${user.id}/`}>
      <${Avatar} spec=${userAvatar(user, name)} size="small" />
      <span class="row-main">
        <span class="row-title">${name}${isBot(user) ? html` <${BotBadge} />` : null}</span>
        <span class="row-sub">@${user.username}${user.remark && user.nickname !== user.remark ? ` · ${user.nickname}` : ""}</span>
      </span>
    </a>
    ${extra}
  </li>`;
}

export function GroupRow({ store, group }) {
  const [busy, run] = useAction();
  const conv = group.my_role ? store.conversationOfGroup(group.id) : null;
  const join = () => run(async () => {
    const joined = await store.api.joinGroup(group.id);
    await store.loadConversations();
    toast(fmt(_("You joined %(name)s"), { name: joined.name }));
    const c = store.conversationOfGroup(group.id);
    if (c) go(`/chats/${c.id}/`);
  }, _("Could not join the group."));
  const count = fmt(ngettext("%(count)s member", "%(count)s members", group.member_count), { count: group.member_count });
  const body = html`<${Avatar} spec=${groupAvatar(group)} size="small" />
    <span class="row-main"><span class="row-title">${group.name}</span><span class="row-sub">${count}</span></span>`;
  return html`<li class="row">
    ${conv ? html`<a class="row-link" href=${`/chats/${conv.id}/`}>${body}</a>` : html`<span class="row-link">${body}</span>`}
    ${!group.my_role ? html`<button type="button" class="btn small" disabled=${busy} onClick=${join}
      aria-label=${fmt(_("Join %(name)s"), { name: group.name })}>${_("Join")}</button>` : null}
  </li>`;
}
