// URLs of the shell. The server answers every one of them with the shell (chat/urls.py),
// so a deep link or a reload lands on the same screen; in the page, links and the
// browser's back/forward move between screens without reloading.

const ROUTES = [
  [/^\/$/, () => ({ name: "home" })],
  [/^\/chats\/(\d+)\/$/, (m) => ({ name: "chat", id: Number(m[1]) })],
  [/^\/chats\/(\d+)\/info\/$/, (m) => ({ name: "info", id: Number(m[1]) })],
  [/^\/contacts\/$/, () => ({ name: "contacts", tab: "friends" })],
  [/^\/contacts\/(requests|groups|find)\/$/, (m) => ({ name: "contacts", tab: m[1] })],
  [/^\/people\/(\d+)\/$/, (m) => ({ name: "person", id: Number(m[1]) })],
  [/^\/me\/$/, () => ({ name: "me" })],
  [/^\/settings\/$/, () => ({ name: "settings" })],
  [/^\/new\/(chat|group)\/$/, (m) => ({ name: "new", kind: m[1] })],
];

/** The route of a path, or null when the shell does not draw it. */
export function parse(path) {
  for (const [pattern, build] of ROUTES) {
    const m = pattern.exec(path);
    if (m) return { ...build(m), path };
  }
  return null;
}

/** The screen a back button leads to when there is no in-app history to go back to. */
export function parentOf(route) {
  switch (route.name) {
    case "chat": return "/";
    case "info": return `/chats/${route.id}/`;
    case "person": return "/contacts/";
    case "settings": return "/me/";
    case "new": return "/";
    default: return "/";
  }
}

let active = null;

/** Go to a shell path from anywhere (a screen after an action, a notification). */
export function go(path, options) {
  active.go(path, options);
}

/** Back from anywhere, as the back buttons do. */
export function back() {
  active.back();
}

export class Router {
  constructor(onRoute) {
    active = this;
    this.onRoute = onRoute;
    this.route = parse(window.location.pathname) || parse("/");
    window.addEventListener("popstate", () => this._changed());
    document.addEventListener("click", (e) => this._click(e));
  }

  /** Go to a shell path (pushing history), or replace the current entry. */
  go(path, { replace = false } = {}) {
    if (path === window.location.pathname && !replace) return;
    const depth = (history.state && history.state.depth) || 0;
    if (replace) history.replaceState({ depth }, "", path);
    else history.pushState({ depth: depth + 1 }, "", path);
    this._changed();
  }

  /** Back like the browser when we came from a screen of ours, else up to the parent. */
  back() {
    if (history.state && history.state.depth > 0) history.back();
    else this.go(parentOf(this.route), { replace: true });
  }

  start() {
    // Old links and notifications used #/c/<id>; they open the same chat.
    const legacy = /^#\/c\/(\d+)$/.exec(window.location.hash);
    if (legacy) history.replaceState({ depth: 0 }, "", `/chats/${legacy[1]}/`);
    else if (!history.state) history.replaceState({ depth: 0 }, "", window.location.pathname);
    this._changed();
  }

  _changed() {
    this.route = parse(window.location.pathname) || parse("/");
    this.onRoute(this.route);
  }

  _click(e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest && e.target.closest("a[href]");
    if (!a || a.target || a.hasAttribute("download")) return;
    if (a.hasAttribute("data-back")) {
      e.preventDefault();
      this.back();
      return;
    }
    const url = new URL(a.href, window.location.href);
    if (url.origin !== window.location.origin || !parse(url.pathname)) return;
    e.preventDefault();
    this.go(url.pathname);
  }
}
