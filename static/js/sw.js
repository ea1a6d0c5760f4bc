// HappyChat's service worker: the shell when offline, and Web Push notifications.
// Served as /sw.js (scope "/") with `const CONFIG = {version, shell, offline, ...}` in front.
//
// What it caches: static files (stale-while-revalidate) and the offline page, in one cache
// named after CONFIG.version, so a deploy that changes them replaces the cache whole.
// What it never caches: pages (they carry the user's data and CSRF token), /api/, /ws/,
// /media/ (private pictures), /accounts/, /admin/ and translations. A page that cannot load
// gets the offline page, which shows what the app saved on this device and says so.
/* global CONFIG */

const CACHE = `happychat-${CONFIG.version}`;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(CONFIG.shell);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("happychat-") && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(pageOrOffline(request));
  } else if (url.pathname.startsWith(CONFIG.staticPrefix) || url.pathname === "/favicon.ico") {
    event.respondWith(staleWhileRevalidate(event, request));
  }
  // Anything else (API, media, translations, the manifest) goes to the network untouched.
});

/** Pages always come from the network; only when it fails, the offline page. */
async function pageOrOffline(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const offline = await caches.match(CONFIG.offline, { cacheName: CACHE });
    if (offline) return offline;
    throw error;
  }
}

/** The cached copy at once (refreshed in the background), or the network the first time. */
async function staleWhileRevalidate(event, request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreVary: true });
  const fresh = fetch(request).then((response) => {
    if (response.ok && response.type === "basic") cache.put(request, response.clone());
    return response;
  });
  if (cached) {
    event.waitUntil(fresh.catch(() => undefined));
    return cached;
  }
  return fresh;
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  // The offline page is rendered in the language of whoever installed the worker: a page
  // in another language asks for a fresh copy (Django marks it with Content-Language).
  if (data.type === "offline-language") event.waitUntil(refreshOfflinePage(data.lang));
});

async function refreshOfflinePage(lang) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(CONFIG.offline);
  if (cached && cached.headers.get("Content-Language") === lang) return;
  try {
    await cache.add(CONFIG.offline);
  } catch { /* offline now: keep the copy we have */ }
}

// --- Web Push --------------------------------------------------------------------------
// Payload (JSON, decrypted by the browser): {type, title, body, url, tag, conversation?,
// lang?, sent_at?}; see docs/protocol-extensions.md. A push always shows a notification:
// browsers require it of a subscription made with userVisibleOnly.

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data.text() };
  }
  const options = {
    body: data.body || "",
    icon: CONFIG.icon,
    badge: CONFIG.badge,
    data: { url: data.url || "/", type: data.type || "" },
    lang: data.lang || "",
    timestamp: data.sent_at ? Date.parse(data.sent_at) : Date.now(),
  };
  if (data.tag) {
    // One notification per conversation, replaced (and announced again) by newer messages.
    options.tag = data.tag;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(data.title || "HappyChat", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  event.waitUntil(openApp(target.href));
});

/** Focus a window of the app and show `url` there, or open a new window at `url`. */
async function openApp(url) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const mine = windows.filter((w) => new URL(w.url).origin === self.location.origin);
  const best = mine.find((w) => w.focused) || mine.find((w) => w.visibilityState === "visible") || mine[0];
  if (best) {
    await best.focus();
    best.postMessage({ type: "open", url });
    return;
  }
  await self.clients.openWindow(url);
}
