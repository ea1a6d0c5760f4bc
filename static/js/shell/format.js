// Names, times and previews as every screen shows them.
import { _, fmt } from "../dom.js";

const lang = document.documentElement.lang || "en";
export const timeFmt = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
const dayFmt = new Intl.DateTimeFormat(lang, { year: "numeric", month: "long", day: "numeric", weekday: "short" });
const shortDayFmt = new Intl.DateTimeFormat(lang, { month: "numeric", day: "numeric" });
const weekdayFmt = new Intl.DateTimeFormat(lang, { weekday: "short" });

export function dayKey(date) {
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

/** "Today", "Yesterday" or the full date: the chip between days in a chat. */
export function dayLabel(date) {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(date) === dayKey(today)) return _("Today");
  if (dayKey(date) === dayKey(yesterday)) return _("Yesterday");
  return dayFmt.format(date);
}

/** The short time of the conversation list: a time today, else a day. */
export function listTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const now = new Date();
  if (dayKey(date) === dayKey(now)) return timeFmt.format(date);
  const days = (now - date) / 86400000;
  if (days < 2 && dayKey(new Date(now - 86400000)) === dayKey(date)) return _("Yesterday");
  if (days < 7) return weekdayFmt.format(date);
  return shortDayFmt.format(date);
}

/** Whether a user is the robot (the wire marks it with is_robot). */
export function isBot(user) {
  return Boolean(user && user.is_robot);
}

/** The avatar of a person: same picture, letter and colour on every screen. */
export function userAvatar(user, name) {
  return { name: name || (user && (user.remark || user.nickname || user.username)) || "?", url: user && user.avatar, key: user && user.id, bot: isBot(user) };
}

/** The avatar of a group, keyed by its conversation like the list row. */
export function groupAvatar(group) {
  return { name: group.name || "?", url: group.avatar, key: group.conversation };
}

export function conversationAvatar(conv, title) {
  if ((conv.kind === "direct" || conv.kind === "robot") && conv.peer) return { ...userAvatar(conv.peer, title), bot: conv.kind === "robot" || isBot(conv.peer) };
  return { name: title, url: conv.avatar, key: conv.id };
}

// --- messages ------------------------------------------------------------------------

/** "1.2 MB": a file's size in the reader's language. */
export function fileSize(bytes) {
  const n = Number(bytes) || 0;
  const units = [["GB", 2 ** 30], ["MB", 2 ** 20], ["KB", 2 ** 10]];
  for (const [unit, size] of units) {
    if (n >= size) return `${new Intl.NumberFormat(lang, { maximumFractionDigits: n >= 10 * size ? 0 : 1 }).format(n / size)} ${unit}`;
  }
  return `${n} B`;
}

const FILE_TYPES = [
  ["pdf", /\.pdf$/i],
  ["doc", /\.(docx?|odt|rtf)$/i],
  ["xls", /\.(xlsx?|ods|csv)$/i],
  ["ppt", /\.(pptx?|odp)$/i],
  ["zip", /\.(zip|7z|rar|gz|tgz|tar)$/i],
  ["txt", /\.(txt|md)$/i],
];

/** The family of a document by its name: pdf, doc, xls, ppt, zip, txt or file. */
export function fileType(name) {
  const hit = FILE_TYPES.find(([, pattern]) => pattern.test(name || ""));
  return hit ? hit[0] : "file";
}

/**
 * A system message in the reader's language, from its `data` (docs/protocol.md §11);
 * `nameOf(id)` gives a person's name as the reader sees it ("You" for the reader), or null
 * when unknown, in which case the server's English text is shown.
 */
export function systemText(message, nameOf) {
  const data = message.data || {};
  const actor = data.by != null ? nameOf(data.by) : nameOf(message.sender && message.sender.id);
  const user = data.user != null ? nameOf(data.user) : null;
  const t = (text, values) => (Object.values(values).some((v) => v == null) ? message.body : fmt(text, values));
  switch (data.event) {
    case "group_created": return t(_("%(actor)s created the group “%(group)s”"), { actor, group: data.name });
    case "member_joined":
      return data.by != null && data.by !== data.user
        ? t(_("%(actor)s invited %(name)s to the group"), { actor, name: user })
        : t(_("%(name)s joined the group"), { name: user });
    case "member_left": return t(_("%(name)s left the group"), { name: user });
    case "member_removed": return t(_("%(actor)s removed %(name)s from the group"), { actor, name: user });
    case "group_renamed": return t(_("%(actor)s renamed the group to “%(group)s”"), { actor, group: data.name });
    case "notice_changed": return t(_("%(actor)s changed the group notice"), { actor });
    case "owner_transferred":
      return data.by == null
        ? t(_("%(name)s is now the group owner"), { name: user })
        : t(_("%(actor)s made %(name)s the group owner"), { actor, name: user });
    case "friend_added": return _("You are now friends. Say hello!");
    default: return message.body;
  }
}
