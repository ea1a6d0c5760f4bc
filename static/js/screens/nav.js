// The main navigation: a rail on the left on PC, tabs at the bottom on a phone.
import { _ } from "../dom.js";
import { userAvatar } from "../shell/format.js";
import { Avatar, html, useStore } from "../shell/ui.js";

const ICONS = {
  chats: html`<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 5h16v11H8l-4 4z"/><path d="M8 9h8M8 12h5"/></svg>`,
  contacts: html`<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm7 0a3 3 0 1 0 0-6M2 21v-1a6 6 0 0 1 6-6h2a6 6 0 0 1 6 6v1m1-7a5 5 0 0 1 5 5v2"/></svg>`,
  me: html`<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="8" r="4"/><path d="M4 21v-1a7 7 0 0 1 14 0v1"/></svg>`,
  settings: html`<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="3"/><path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z"/></svg>`,
};

export function Nav({ store, route, section }) {
  useStore(store, ["conversations", "requests", "me"]);
  const unread = store.totalUnread();
  const waiting = store.waitingCount();
  const mine = route.name === "me" || route.name === "settings";
  const item = (name, href, label, active, badge, extra = "") => html`
    <a class=${`nav-item ${extra}`} href=${href} id=${`nav-${name}`} aria-current=${active ? "page" : null}
       aria-label=${badge ? `${label}, ${badge}` : label} title=${label}>
      ${ICONS[name]}<span class="nav-label" aria-hidden="true">${label}</span>
      ${badge ? html`<span class=${name === "contacts" ? "dot-badge count" : "badge nav-badge"} id=${name === "contacts" ? "requests-badge" : null} aria-hidden="true">${badge}</span>` : null}
    </a>`;
  return html`
    <a class="nav-me only-wide" href="/me/" aria-label=${_("Your profile")} title=${store.me.nickname || store.me.username}>
      <${Avatar} spec=${userAvatar(store.me)} size="small" />
    </a>
    ${item("chats", "/", _("Chats"), section === "chats" && !mine, unread ? (unread > 99 ? "99+" : String(unread)) : "")}
    ${item("contacts", "/contacts/", _("Contacts"), section === "contacts" && !mine, waiting ? String(waiting) : "")}
    ${item("me", "/me/", _("Me"), route.name === "me" || route.name === "settings", "", "only-phone")}
    <span class="nav-spacer"></span>
    ${item("settings", "/settings/", _("Settings"), route.name === "settings", "", "only-wide")}`;
}
