// The entry module: it only wires the SDK, the store and the screens, and routes URLs.
// Each screen lives in its own module under screens/; the store (shell/store.js) is the
// only thing that listens to the SDK, which alone owns the socket.
import { _ } from "./dom.js";
import { HappyChatClient, browserAdapter, socketUrl, watchBrowser } from "./happychat-client.js";
import { saveOfflineSnapshot } from "./offline-store.js";
import { createNotifier } from "./shell/notify.js";
import { Router, parse } from "./shell/router.js";
import { Store } from "./shell/store.js";
import { html, render, toast } from "./shell/ui.js";
import { createChatScreen } from "./screens/chat.js";
import { Contacts } from "./screens/contacts.js";
import { ChatInfo } from "./screens/group-info.js";
import { ChatList } from "./screens/list.js";
import { Nav } from "./screens/nav.js";
import { NewScreen } from "./screens/new-chat.js";
import { PersonScreen } from "./screens/person.js";
import { ProfileScreen } from "./screens/profile.js";
import { SettingsScreen } from "./screens/settings.js";

const $ = (id) => document.getElementById(id);
const root = $("app");
const me = JSON.parse($("me-data").textContent);
const languages = JSON.parse($("languages-data").textContent);
const phone = window.matchMedia("(max-width: 600px)");

const client = new HappyChatClient({ adapter: browserAdapter(), url: socketUrl(), storageKey: `happychat.${me.id}` });
const store = new Store({ client, api: client.api, me });
store.rememberUser(me);

let router = null;
const chat = createChatScreen({ store, emojiUrl: root.dataset.emojiUrl, currentRoute: () => router.route });
const notifier = createNotifier({ store, soundUrl: root.dataset.soundUrl, isSeen: (id) => chat.isSeen(id) });
let section = "chats"; // which list the left pane shows: chats or contacts
let lastPath = null;

// --- routing -------------------------------------------------------------------------

function show(route) {
  const isChat = route.name === "chat" || route.name === "info";
  if (route.name === "home" || isChat) section = "chats";
  else if (route.name === "contacts") section = "contacts";
  root.classList.toggle("section-chats", section === "chats");
  root.classList.toggle("section-contacts", section === "contacts");

  // What the main pane holds: a chat, a panel (card, profile, settings, new), or nothing.
  let panel = null;
  if (route.name === "person") panel = html`<${PersonScreen} store=${store} id=${route.id} key=${route.id} />`;
  else if (route.name === "me") panel = html`<${ProfileScreen} store=${store} phone=${phone.matches} />`;
  else if (route.name === "settings") panel = html`<${SettingsScreen} store=${store} notifier=${notifier} languages=${languages} />`;
  else if (route.name === "new") panel = html`<${NewScreen} store=${store} kind=${route.kind} key=${route.kind} />`;

  if (isChat && store.conversations.has(route.id)) chat.open(route.id);
  else chat.close();
  const chatMissing = isChat && !store.conversations.has(route.id);
  $("placeholder").hidden = Boolean(panel) || (isChat && !chatMissing);
  $("placeholder").querySelector("p").textContent = chatMissing && store.listLoaded
    ? _("This conversation could not be found.")
    : section === "contacts" ? _("Pick a contact to see their card.") : _("Pick a conversation to start chatting.");
  $("panel-root").hidden = !panel;
  render(panel, $("panel-root"));

  const side = route.name === "info" && store.conversations.has(route.id);
  $("side-root").hidden = !side;
  render(side ? html`<${ChatInfo} store=${store} id=${route.id} key=${route.id} />` : null, $("side-root"));

  // Phones show one screen at a time; the tab bar only on the top-level ones.
  root.classList.toggle("show-main", isChat || Boolean(panel));
  root.classList.toggle("show-side", side);
  root.classList.toggle("top-level", route.name === "home" || route.name === "contacts" || route.name === "me");

  render(html`<${Nav} store=${store} route=${route} section=${section} />`, $("rail"));
  render(section === "contacts"
    ? html`<${Contacts} store=${store} tab=${route.name === "contacts" ? route.tab : "friends"} />`
    : html`<${ChatList} store=${store} route=${route} />`, $("list-pane"));
  $("list-pane").setAttribute("aria-label", section === "contacts" ? _("Contacts") : _("Conversations"));

  // A new screen: put the reader at its title (screen readers announce it).
  if (lastPath !== null && lastPath !== route.path) {
    const title = side ? $("side-root").querySelector(".panel-title") : panel ? $("panel-root").querySelector(".panel-title") : null;
    if (title) {
      title.tabIndex = -1;
      title.focus({ preventScroll: true });
    }
  }
  lastPath = route.path;
}

async function route(next) {
  const isChat = next.name === "chat" || next.name === "info";
  if (isChat && store.listLoaded && !store.conversations.has(next.id)) {
    // A deep link to a conversation not in the list (e.g. a group left earlier).
    await store.loadConversation(next.id);
  }
  show(next);
}

// --- live updates that are not a screen's own ----------------------------------------

store.subscribe((topic) => {
  if (topic === "conversations") {
    const n = store.totalUnread();
    document.title = n ? `(${n > 99 ? "99+" : n}) HappyChat` : "HappyChat";
  }
  if (topic === "conversations" || topic === "chat") keepForOffline();
});

// What the offline page shows (offline-store.js): the list as shown here, and the open chat.
function keepForOffline() {
  if (!store.listLoaded) return;
  const conversations = store.sortedConversations().map((c) => ({
    id: c.id, kind: c.kind, title: store.conversationTitle(c), preview: store.preview(c),
    time: c.last_message ? c.last_message.created_at : null, unread: c.unread || 0, muted: Boolean(c.muted),
  }));
  const view = chat.current;
  const open = view && !view.loading ? {
    id: view.id,
    messages: [...view.messages.values()].sort((a, b) => a.seq - b.seq).map((m) => ({
      seq: m.seq, mine: m.sender.id === me.id, sender: store.displayName(m.sender),
      text: store.messageText(m), time: m.created_at,
    })),
  } : null;
  saveOfflineSnapshot({ id: me.id, name: me.nickname || me.username }, conversations, open);
}

// A notification click (push.js / the service worker) opens its screen without a reload;
// old links of the form /#/c/<id> lead to the same chat.
window.addEventListener("happychat:open", (event) => {
  const url = new URL(event.detail.url);
  if (url.origin !== window.location.origin) return;
  const legacy = /^#\/c\/(\d+)$/.exec(url.hash);
  const path = legacy ? `/chats/${legacy[1]}/` : url.pathname;
  if (!parse(path)) return;
  event.preventDefault();
  window.focus();
  router.go(path);
});

let bannerTimer = null;
store.on("status", ({ status }) => {
  clearTimeout(bannerTimer);
  if (status === "reconnecting") {
    // A blip shorter than a second is not worth a banner.
    bannerTimer = setTimeout(() => { $("banner").hidden = false; root.classList.add("offline"); }, 800);
  } else if (status === "open") {
    $("banner").hidden = true;
    root.classList.remove("offline");
  }
});
store.on("notice", ({ text }) => toast(text));
// Logging out ends the socket too (4003): the logout form's own navigation takes the page
// to the login screen, so a second one here would only abort it.
let loggingOut = false;
document.addEventListener("submit", (event) => {
  if (event.target instanceof HTMLFormElement && event.target.dataset.logout !== undefined) loggingOut = true;
}, true);
store.on("unauthenticated", () => {
  if (!loggingOut) window.location.assign(`/accounts/login/?next=${encodeURIComponent(window.location.pathname)}`);
});
phone.addEventListener("change", () => router && show(router.route));

// --- start ---------------------------------------------------------------------------

setTimeout(() => $("toast")?.classList.add("gone"), 4000);
watchBrowser(client);
setInterval(() => store.changed("conversations"), 60000); // keep relative times fresh
router = new Router((next) => route(next));
show(router.route);
store.loadRequests();
store.loadInvitations();
store.loadConversations().then((ok) => {
  if (ok && !client.socket) client.connect();
  router.start();
});
window.happychat = { client, store, router, chat }; // for debugging and tests
