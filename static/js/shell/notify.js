// Sound and desktop notifications for messages that arrive while the reader is elsewhere,
// and the spoken announcements for screen readers.
import { _, fmt } from "../dom.js";
import { showNotification } from "../push.js";
import { prefs } from "./prefs.js";

export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A fresh text node after a tick makes screen readers read repeated texts too.
  setTimeout(() => { region.textContent = text; }, 50);
}

export function previewText(message) {
  if (message.kind === "image") return _("[Image]");
  if (message.kind === "file") return `${_("[File]")} ${(message.attachment && message.attachment.name) || ""}`.trim();
  return message.body;
}

/** Play the sound and show a desktop notification for messages not seen as they came;
 * a mention of the reader notifies even in a muted group (as Web Push does). */
export function createNotifier({ store, soundUrl, isSeen }) {
  const sound = new Audio(soundUrl);
  store.on("message", ({ message, conv, fromMe }) => {
    if (fromMe || message.kind === "system") return;
    const text = store.messageText(message);
    const mention = conv.kind === "group" && store.mentionsMe(message);
    announce(mention
      ? fmt(_("%(name)s mentioned you: %(text)s"), { name: store.displayName(message.sender), text })
      : fmt(_("New message from %(name)s: %(text)s"), { name: store.displayName(message.sender), text }));
    if (isSeen(conv.id) || (conv.muted && !mention)) return;
    if (prefs.sound) sound.play().catch(() => {});
    if (!prefs.notify || !("Notification" in window) || Notification.permission !== "granted") return;
    if (document.visibilityState === "visible" && document.hasFocus()) return;
    const title = store.conversationTitle(conv);
    const who = store.displayName(message.sender);
    const body = mention
      ? fmt(_("%(name)s mentioned you: %(text)s"), { name: who, text })
      : conv.kind === "group" ? `${who}: ${text}` : text;
    // Same tag as a Web Push for this conversation: the two replace each other, never pile up.
    showNotification(title, { body, tag: `conversation-${conv.id}`, url: `/chats/${conv.id}/` });
  });
  store.on("notice", ({ text }) => announce(text));
  return { playSound: () => sound.play().catch(() => {}) };
}
