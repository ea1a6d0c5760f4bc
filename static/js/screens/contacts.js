// Contacts: friends (and whom you blocked), requests and invitations, your groups, and
// finding people. Each tab has its own URL (/contacts/, /contacts/requests/, …).
import { _, fmt } from "../dom.js";
import { groupAvatar } from "../shell/format.js";
import { go } from "../shell/router.js";
import { Avatar, html, toast, useAction, useEffect, useState, useStore } from "../shell/ui.js";
import { GroupRow, PersonRow } from "./list.js";

const TABS = [
  ["friends", "/contacts/", () => _("Friends")],
  ["requests", "/contacts/requests/", () => _("Requests")],
  ["groups", "/contacts/groups/", () => _("Groups")],
  ["find", "/contacts/find/", () => _("Find people")],
];

export function Contacts({ store, tab }) {
  useStore(store, ["requests"]);
  const waiting = store.waitingCount();
  return html`
    <header class="bar list-bar"><h1 class="pane-title">${_("Contacts")}</h1>
      <a class="icon-btn" href="/new/group/" aria-label=${_("New group")} title=${_("New group")}>
        <svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="9"/><path d="M12 8v8M8 12h8"/></svg></a>
    </header>
    <nav class="tabs" aria-label=${_("Contacts")}>
      ${TABS.map(([id, href, label]) => html`<a class="tab" href=${href} id=${`tab-${id}`} aria-current=${tab === id ? "page" : null}>
        ${label()}${id === "requests" && waiting ? html` <span class="count-badge" aria-label=${fmt(_("%(count)s waiting"), { count: waiting })}>${waiting}</span>` : null}</a>`)}
    </nav>
    <div class="pane-scroll" id="contacts-body">
      ${tab === "friends" ? html`<${Friends} store=${store} />` : null}
      ${tab === "requests" ? html`<${Requests} store=${store} />` : null}
      ${tab === "groups" ? html`<${Groups} store=${store} />` : null}
      ${tab === "find" ? html`<${Find} store=${store} />` : null}
    </div>`;
}

function Friends({ store }) {
  useStore(store, ["friends", "blocks", "people"]);
  useEffect(() => { store.loadFriends(); store.loadBlocks(); }, []);
  const [busy, run] = useAction();
  if (!store.friends) return html`<p class="hint pad">${_("Loading…")}</p>`;
  const friends = [...store.friends].sort((a, b) => store.displayName(a).localeCompare(store.displayName(b)));
  return html`
    ${friends.length ? html`<ul class="rows" id="friend-list" aria-label=${_("Friends")}>
      ${friends.map((f) => html`<${PersonRow} key=${f.id} store=${store} user=${f} />`)}</ul>`
      : html`<p class="empty">${_("No friends yet.")} <a href="/contacts/find/">${_("Find people")}</a></p>`}
    ${store.blocks && store.blocks.length ? html`<section class="result-section">
      <h2 class="section-title">${_("Blocked")}</h2>
      <ul class="rows">${store.blocks.map((b) => html`<${PersonRow} key=${b.user.id} store=${store} user=${b.user}
        extra=${html`<button type="button" class="btn small" disabled=${busy}
          onClick=${() => run(async () => { await store.api.unblock(b.user.id); await store.loadBlocks(); toast(_("Unblocked")); })}>${_("Unblock")}</button>`} />`)}</ul>
    </section>` : null}`;
}

function Requests({ store }) {
  useStore(store, ["requests", "people"]);
  useEffect(() => { store.loadRequests(); store.loadInvitations(); }, []);
  const [busy, run] = useAction();
  const incoming = store.pendingIncoming();
  const outgoing = (store.requests || []).filter((r) => r.status === "pending" && r.from.id === store.me.id);
  const invitations = store.pendingInvitations();
  const answer = (r, accept) => run(async () => {
    if (accept) await store.api.acceptFriendRequest(r.id);
    else await store.api.rejectFriendRequest(r.id);
    await store.loadRequests();
    toast(accept ? fmt(_("You and %(name)s are now friends"), { name: store.displayName(r.from) }) : _("Request declined"));
    if (accept) store.loadFriends();
  });
  const answerInvitation = (inv, accept) => run(async () => {
    if (accept) await store.api.acceptInvitation(inv.id);
    else await store.api.rejectInvitation(inv.id);
    await store.loadInvitations();
    if (accept) {
      await store.loadConversations();
      const conv = store.conversationOfGroup(inv.group.id);
      if (conv) go(`/chats/${conv.id}/`);
    }
  });
  return html`
    <section class="result-section" aria-labelledby="incoming-h">
      <h2 class="section-title" id="incoming-h">${_("Friend requests to you")}</h2>
      ${incoming.length ? html`<ul class="rows" id="incoming">${incoming.map((r) => html`<${PersonRow} key=${r.id} store=${store} user=${r.from}
        extra=${html`<span class="row-actions">
          ${r.message ? html`<span class="request-note">“${r.message}”</span>` : null}
          <button type="button" class="btn small primary" disabled=${busy} data-accept=${r.from.username} onClick=${() => answer(r, true)}>${_("Accept")}</button>
          <button type="button" class="btn small" disabled=${busy} onClick=${() => answer(r, false)}>${_("Decline")}</button></span>`} />`)}</ul>`
        : html`<p class="empty">${_("No requests waiting for you.")}</p>`}
    </section>
    ${invitations.length ? html`<section class="result-section" aria-labelledby="inv-h">
      <h2 class="section-title" id="inv-h">${_("Group invitations")}</h2>
      <ul class="rows">${invitations.map((inv) => html`<li class="row" key=${inv.id}>
        <span class="row-link"><${Avatar} spec=${groupAvatar({ ...inv.group, conversation: inv.group.id })} size="small" />
          <span class="row-main"><span class="row-title">${inv.group.name}</span>
          <span class="row-sub">${fmt(_("Invited by %(name)s"), { name: store.displayName(inv.inviter) })}</span></span></span>
        <span class="row-actions">
          <button type="button" class="btn small primary" disabled=${busy} onClick=${() => answerInvitation(inv, true)}>${_("Join")}</button>
          <button type="button" class="btn small" disabled=${busy} onClick=${() => answerInvitation(inv, false)}>${_("Decline")}</button></span>
      </li>`)}</ul></section>` : null}
    ${outgoing.length ? html`<section class="result-section" aria-labelledby="outgoing-h">
      <h2 class="section-title" id="outgoing-h">${_("Your requests")}</h2>
      <ul class="rows">${outgoing.map((r) => html`<${PersonRow} key=${r.id} store=${store} user=${r.to}
        extra=${html`<span class="hint">${_("Waiting for an answer")}</span>`} />`)}</ul></section>` : null}`;
}

function Groups({ store }) {
  const [groups, setGroups] = useState(null);
  const [query, setQuery] = useState("");
  const [found, setFound] = useState(null);
  useStore(store, ["groups", "conversations"]);
  useEffect(() => { store.api.groups().then(setGroups, () => setGroups([])); }, [store.conversations.size]);
  const search = async (e) => {
    e.preventDefault();
    const text = query.trim();
    if (!text) return;
    try {
      setFound((await store.api.groups(text)).filter((g) => !g.my_role));
    } catch {
      setFound([]);
    }
  };
  const mine = (groups || []).filter((g) => g.my_role);
  return html`
    <div class="pad"><a class="btn primary block" href="/new/group/">${_("New group")}</a></div>
    <section class="result-section" aria-labelledby="my-groups-h">
      <h2 class="section-title" id="my-groups-h">${_("Your groups")}</h2>
      ${groups === null ? html`<p class="hint pad">${_("Loading…")}</p>` : mine.length
        ? html`<ul class="rows" id="my-groups">${mine.map((g) => html`<${GroupRow} key=${g.id} store=${store} group=${g} />`)}</ul>`
        : html`<p class="empty">${_("You are in no group yet.")}</p>`}
    </section>
    <section class="result-section" aria-labelledby="find-groups-h">
      <h2 class="section-title" id="find-groups-h">${_("Find public groups")}</h2>
      <form class="inline-form pad" role="search" onSubmit=${search}>
        <label class="visually-hidden" for="group-search">${_("Group name")}</label>
        <input type="search" id="group-search" class="input" placeholder=${_("Group name")} value=${query} onInput=${(e) => setQuery(e.currentTarget.value)} />
        <button type="submit" class="btn">${_("Search")}</button>
      </form>
      ${found ? (found.length ? html`<ul class="rows">${found.map((g) => html`<${GroupRow} key=${g.id} store=${store} group=${g} />`)}</ul>`
        : html`<p class="empty">${_("No public group has that name.")}</p>`) : null}
    </section>`;
}

function Find({ store }) {
  const [query, setQuery] = useState("");
  const [found, setFound] = useState(null);
  useStore(store, ["friends", "people"]);
  useEffect(() => { if (!store.friends) store.loadFriends(); }, []);
  const search = async (e) => {
    e.preventDefault();
    const text = query.trim();
    if (!text) return;
    try {
      setFound(await store.api.searchUsers(text));
    } catch {
      setFound([]);
    }
  };
  return html`
    <form class="inline-form pad" role="search" onSubmit=${search}>
      <label class="visually-hidden" for="people-search">${_("Username, nickname or e-mail")}</label>
      <input type="search" id="people-search" class="input" placeholder=${_("Username, nickname or exact e-mail")} value=${query}
        onInput=${(e) => setQuery(e.currentTarget.value)} />
      <button type="submit" class="btn">${_("Search")}</button>
    </form>
    ${found ? (found.length ? html`<ul class="rows" id="people-results">${found.filter((u) => u.id !== store.me.id).map((u) => html`<${PersonRow} key=${u.id} store=${store} user=${u} />`)}</ul>`
      : html`<p class="empty">${fmt(_("Nobody matches “%(text)s”."), { text: query.trim() })}</p>`) : html`<p class="hint pad">${_("Find people by username, nickname or their exact e-mail address, then open their card to add them.")}</p>`}`;
}
