// The offline page: says the app is offline, and shows (read-only) what this device saved.
import { loadOfflineSnapshot } from "./offline-store.js";

const $ = (id) => document.getElementById(id);
const root = $("offline");
const lang = document.documentElement.lang || "en";
const when = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
const timeOnly = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return date.toDateString() === new Date().toDateString() ? timeOnly.format(date) : when.format(date);
}

const snapshot = loadOfflineSnapshot();

function showList() {
  $("offline-chat").hidden = true;
  $("offline-saved").hidden = false;
  const rows = snapshot.conversations.map((conv) => {
    const button = el("button");
    button.type = "button";
    button.append(el("span", "title", conv.title), el("time", "time", formatTime(conv.time)));
    const preview = el("span", "preview", conv.preview || "");
    if (conv.unread) preview.prepend(el("span", "unread", `(${conv.unread}) `));
    button.append(preview);
    if (snapshot.chats[conv.id]) button.addEventListener("click", () => showChat(conv));
    else button.disabled = true;
    const li = el("li");
    li.append(button);
    return li;
  });
  $("offline-list").replaceChildren(...rows);
}

function showChat(conv) {
  const chat = snapshot.chats[conv.id];
  $("offline-saved").hidden = true;
  $("offline-chat").hidden = false;
  $("offline-chat-title").textContent = conv.title;
  $("offline-messages").replaceChildren(...chat.messages.map((m) => {
    const li = el("li", m.mine ? "mine" : "");
    li.append(el("span", "who", `${m.mine ? root.dataset.you : m.sender} · ${formatTime(m.time)}`));
    li.append(document.createTextNode(m.text));
    return li;
  }));
  $("offline-back").focus();
}

if (snapshot && snapshot.conversations.length) {
  $("offline-saved-at").textContent = root.dataset.savedAt.replace("%(time)s", when.format(new Date(snapshot.saved_at)));
  showList();
} else {
  $("offline-saved-at").textContent = root.dataset.nothingSaved;
}

$("offline-back").addEventListener("click", showList);
// The service worker answered for the page that failed: loading it again is the retry.
$("offline-retry").addEventListener("click", () => window.location.reload());
window.addEventListener("online", () => window.location.reload());
