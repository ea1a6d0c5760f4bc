// Names, times and previews as every screen shows them.
import { _ } from "../dom.js";

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
