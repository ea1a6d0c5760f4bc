// Web Push for this browser: the calls a settings screen needs, nothing that runs on import.
//
//   pushSupported()  true if this browser can receive pushes at all
//   pushState()      "unsupported" | "unavailable" (server has no VAPID key) | "denied"
//                    | "enabled" | "disabled"
//   enablePush()     ask permission (call from a click), subscribe, register with the server
//   disablePush()    unsubscribe here and on the server
//   showNotification(title, options)  a notification from an open page (through the
//                    service worker where there is one: Android refuses `new Notification`)
//
// Pushes arrive while no tab of the app is connected; an open tab notifies by itself.
import { HappyChatApi, browserAdapter } from "./happychat-client.js";

const api = new HappyChatApi({ adapter: browserAdapter() });
// Which user turned pushes on in this browser: another user logging in here later does not
// inherit them (the server also drops a subscription when its session ends).
const OWNER = "happychat.push.user";
let config = null;

function currentUser() {
  return (typeof document !== "undefined" && document.body && document.body.dataset.userId) || "";
}

function owner() {
  try { return localStorage.getItem(OWNER) || ""; } catch { return ""; }
}

function setOwner(userId) {
  try {
    if (userId) localStorage.setItem(OWNER, userId);
    else localStorage.removeItem(OWNER);
  } catch { /* ignore */ }
}

export function pushSupported() {
  return typeof window !== "undefined" && "serviceWorker" in navigator && "PushManager" in window
    && "Notification" in window && window.isSecureContext;
}

async function serverKey() {
  if (config === null) config = await api.pushConfig();
  return config.public_key;
}

async function registration() {
  return navigator.serviceWorker.ready;
}

async function currentSubscription() {
  return (await registration()).pushManager.getSubscription();
}

function keyBytes(base64url) {
  const padded = base64url.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(base64url.length / 4) * 4, "=");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function sameKey(subscription, key) {
  const current = subscription.options && subscription.options.applicationServerKey;
  if (!current) return true;
  const wanted = keyBytes(key);
  const have = new Uint8Array(current);
  return have.length === wanted.length && have.every((b, i) => b === wanted[i]);
}

async function register(subscription) {
  await api.subscribePush(subscription, { language: document.documentElement.lang || "" });
}

export async function pushState() {
  if (!pushSupported()) return "unsupported";
  let key;
  try {
    key = await serverKey();
  } catch {
    return "unavailable";
  }
  if (!key) return "unavailable";
  if (Notification.permission === "denied") return "denied";
  const subscription = await currentSubscription();
  const mine = subscription && currentUser() && owner() === currentUser();
  return mine && Notification.permission === "granted" ? "enabled" : "disabled";
}

/** Subscribe this browser (asks for permission: call it from a user's click). */
export async function enablePush() {
  if (!pushSupported()) return "unsupported";
  const key = await serverKey();
  if (!key) return "unavailable";
  const permission = await Notification.requestPermission();
  if (permission !== "granted") return permission === "denied" ? "denied" : "disabled";
  const reg = await registration();
  let subscription = await reg.pushManager.getSubscription();
  if (subscription && !sameKey(subscription, key)) {
    await subscription.unsubscribe(); // the server's key changed: the old one is useless
    subscription = null;
  }
  if (!subscription) {
    subscription = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  }
  await register(subscription);
  setOwner(currentUser());
  return "enabled";
}

/** Stop pushes to this browser, here and on the server. */
export async function disablePush() {
  if (!pushSupported()) return "unsupported";
  const subscription = await currentSubscription();
  if (subscription) {
    try {
      await api.unsubscribePush(subscription.endpoint);
    } catch { /* logged out or offline: the server drops it when the push service refuses */ }
    await subscription.unsubscribe();
  }
  setOwner("");
  return pushState();
}

/**
 * Re-register an existing subscription (on each start of the app): the server learns a
 * renewed endpoint, the current user and language. Never asks for permission.
 */
export async function refreshPush() {
  if (!pushSupported() || Notification.permission !== "granted") return;
  if (!currentUser() || owner() !== currentUser()) return;
  try {
    const key = await serverKey();
    const subscription = await currentSubscription();
    if (key && subscription && sameKey(subscription, key)) await register(subscription);
  } catch { /* offline or logged out: try on the next start */ }
}

/** Show a notification from the page; clicking it opens `url` in the app. */
export async function showNotification(title, { body = "", tag = "", url = "/" } = {}) {
  if (!("Notification" in window) || Notification.permission !== "granted") return false;
  const options = { body, tag: tag || undefined, icon: "/static/icons/icon-192.png", data: { url } };
  try {
    const reg = "serviceWorker" in navigator ? await navigator.serviceWorker.getRegistration() : null;
    if (reg && reg.active) {
      await reg.showNotification(title, options);
      return true;
    }
  } catch { /* fall back to a page notification */ }
  try {
    const n = new Notification(title, options);
    n.onclick = () => {
      window.focus();
      openInApp(url);
      n.close();
    };
    return true;
  } catch {
    return false; // some webviews have Notification but refuse to construct it
  }
}

/** Show `url` in this window: a "happychat:open" listener may route it without a reload. */
export function openInApp(url) {
  const target = new URL(url, window.location.href);
  const event = new CustomEvent("happychat:open", { detail: { url: target.href }, cancelable: true });
  if (!window.dispatchEvent(event)) return;
  window.location.assign(target.href);
}
