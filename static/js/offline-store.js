// What the app keeps on this device for the offline page: the conversation list as last
// shown and the newest messages of the chats opened lately. Read-only copies, overwritten
// while online and removed on logout. Nothing here is ever sent anywhere.

const KEY = "happychat.offline";
const MAX_CONVERSATIONS = 50;
const MAX_CHATS = 5;
const MAX_MESSAGES = 30;
const DELAY_MS = 1000;

let pending = null;
let timer = null;

/**
 * Remember what the app shows, for the offline page (writes at most once a second).
 * @param {{id: number, name: string}} me
 * @param {Array<{id, kind, title, preview, time, unread, muted}>} conversations  list order
 * @param {{id: number, messages: Array<{seq, mine, sender, text, time}>}|null} open
 */
export function saveOfflineSnapshot(me, conversations, open = null) {
  pending = { me, conversations, open };
  if (timer === null) timer = setTimeout(flush, DELAY_MS);
}

/** Write a pending snapshot now (also used before the page goes away). */
export function flush() {
  clearTimeout(timer);
  timer = null;
  if (!pending) return;
  const { me, conversations, open } = pending;
  pending = null;
  const previous = loadOfflineSnapshot();
  const chats = previous && previous.me && previous.me.id === me.id ? previous.chats : {};
  if (open && open.messages.length) {
    chats[open.id] = { saved_at: new Date().toISOString(), messages: open.messages.slice(-MAX_MESSAGES) };
    const newest = Object.entries(chats).sort((a, b) => b[1].saved_at.localeCompare(a[1].saved_at));
    for (const [id] of newest.slice(MAX_CHATS)) delete chats[id];
  }
  const snapshot = {
    version: 1,
    saved_at: new Date().toISOString(),
    me: { id: me.id, name: me.name },
    conversations: conversations.slice(0, MAX_CONVERSATIONS),
    chats,
  };
  try {
    localStorage.setItem(KEY, JSON.stringify(snapshot));
  } catch { /* storage full or blocked: the offline page says nothing is saved */ }
}

/** The saved snapshot, or null. */
export function loadOfflineSnapshot() {
  try {
    const data = JSON.parse(localStorage.getItem(KEY) || "null");
    return data && data.version === 1 ? data : null;
  } catch {
    return null;
  }
}

/** Forget everything saved for offline use (on logout). */
export function forgetOfflineSnapshot() {
  clearTimeout(timer);
  timer = null;
  pending = null;
  try { localStorage.removeItem(KEY); } catch { /* ignore */ }
}

if (typeof window !== "undefined") window.addEventListener("pagehide", flush);
