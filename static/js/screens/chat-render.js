// What a message looks like in the chat timeline: a bubble's content (text with mentions,
// image, file), its quote, forward line, reactions, and the centred chips (system messages,
// recalled messages). Hand-written DOM; user text only ever goes in as text.
import { _, fmt, h, ngettext, safeUrl } from "../dom.js";
import { fileSize, fileType, systemText } from "../shell/format.js";

/** The centred grey chip of a system message, in the reader's language. */
export function systemChip(store, message) {
  return h("li", { class: "system-message", dataset: { seq: String(message.seq) } },
    h("span", { text: systemText(message, (id) => store.nameOf(id)) }));
}

/** "Alice recalled a message" in place of the message; mine may offer to edit it again. */
export function recalledChip(store, message, { reEdit = null } = {}) {
  const text = store.recallText(message);
  return h("li", { class: "system-message recalled", dataset: { seq: String(message.seq), id: String(message.id) } },
    h("span", {}, text, reEdit ? h("button", { type: "button", class: "link-btn re-edit", onclick: reEdit }, _("Re-edit")) : null));
}

/** Mentioned names found in a text, so they can be highlighted: [{start, end, me}]. */
function mentionRanges(store, conv, message) {
  const members = (conv.group && store.members.get(conv.group)) || [];
  const names = [];
  const add = (name, me) => { if (name) names.push({ name: `@${name}`, me }); };
  for (const id of message.mentions || []) {
    const member = members.find((m) => m.user.id === id);
    const user = (member && member.user) || store.people.get(id);
    const me = id === store.me.id;
    if (member) add(member.alias, me);
    if (user) {
      add(user.nickname, me);
      add(user.username, me);
    }
  }
  if (message.mention_all) {
    add("all", true);
    add("所有人", true);
  }
  names.sort((a, b) => b.name.length - a.name.length);
  const ranges = [];
  const body = message.body || "";
  for (const { name, me } of names) {
    let at = body.indexOf(name);
    while (at >= 0) {
      const end = at + name.length;
      if (!ranges.some((r) => at < r.end && end > r.start)) ranges.push({ start: at, end, me });
      at = body.indexOf(name, end);
    }
  }
  return ranges.sort((a, b) => a.start - b.start);
}

/** A text bubble's paragraph, @mentions highlighted (yours stronger). */
export function textContent(store, conv, message) {
  const p = h("p", { class: "text" });
  const body = message.body || "";
  const ranges = (message.mentions && message.mentions.length) || message.mention_all ? mentionRanges(store, conv, message) : [];
  let at = 0;
  for (const r of ranges) {
    if (r.start > at) p.append(body.slice(at, r.start));
    p.append(h("span", { class: r.me ? "mention mention-me" : "mention", text: body.slice(r.start, r.end) }));
    at = r.end;
  }
  if (at < body.length) p.append(body.slice(at));
  return p;
}

const FILE_LABELS = { pdf: "PDF", doc: "DOC", xls: "XLS", ppt: "PPT", zip: "ZIP", txt: "TXT", file: "FILE" };

/** A document: type icon, name, size, and a download link (the session cookie authorizes it). */
export function fileContent(message) {
  const a = message.attachment;
  const name = a.name || _("Document");
  const type = fileType(name);
  const size = fileSize(a.size);
  return h("a", {
    class: "file-card", href: safeUrl(a.url), download: name,
    "aria-label": fmt(_("Download %(name)s (%(size)s)"), { name, size }),
  },
  h("span", { class: `file-icon file-${type}`, "aria-hidden": "true", text: FILE_LABELS[type] }),
  h("span", { class: "file-main" },
    h("span", { class: "file-name", text: name }),
    h("span", { class: "file-size", text: size })),
  svgIcon("file-download", "M12 4v11M7 10l5 5 5-5M5 20h14"));
}

/** A stroked line icon (SVG needs its own namespace; h() makes HTML elements). */
export function svgIcon(cls, d) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("class", cls);
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(NS, "path");
  path.setAttribute("d", d);
  svg.append(path);
  return svg;
}

/**
 * The quoted original above a reply; a click jumps to it. `original` is the quoted message
 * when this view holds it (a Quote carries no attachment: a document's name comes from it).
 */
export function quoteBlock(store, message, onJump, original = null) {
  const q = message.reply;
  let text;
  if (q.recalled) text = _("The original message was recalled");
  else if (q.kind === "image") text = _("[Image]");
  else if (q.kind === "file" && original && original.id === q.id && !original.recalled) text = store.messageText(original);
  else if (q.kind === "file") text = q.body ? `${_("[File]")} ${q.body}` : _("[File]");
  else text = q.body;
  const name = q.sender.id === store.me.id ? _("You") : (store.nameOf(q.sender.id) || q.sender.nickname);
  return h("button", {
    type: "button", class: q.recalled ? "quote recalled" : "quote", dataset: { jump: String(q.seq) },
    "aria-label": fmt(_("Reply to %(name)s: %(text)s. Show the original"), { name, text }),
    onclick: (e) => { e.stopPropagation(); onJump(q.seq); },
  }, h("span", { class: "quote-name", text: name }), h("span", { class: "quote-text", text }));
}

/** "Forwarded from Alice" over a forwarded copy. */
export function forwardedLine(store, message) {
  const from = message.data && message.data.forwarded_from;
  if (!from) return null;
  const name = from.sender ? (from.sender.id === store.me.id ? _("You") : store.nameOf(from.sender.id) || from.sender.nickname) : "";
  return h("span", { class: "forwarded", text: fmt(_("Forwarded from %(name)s"), { name }) });
}

/** Names of those who reacted with one emoji, as the reader sees them. */
export function reactorNames(store, reaction) {
  return reaction.users.map((id) => store.nameOf(id) || "?");
}

/** The row of reaction counts under a bubble: a click toggles yours, a long press (or the
 * context menu) lists who reacted. */
export function reactionsRow(store, message, { onToggle, onWho, disabled }) {
  if (!message.reactions || !message.reactions.length) return null;
  const row = h("div", { class: "reactions", role: "group", "aria-label": _("Reactions") });
  for (const r of message.reactions) {
    const mine = r.users.includes(store.me.id);
    const names = reactorNames(store, r).join(", ");
    const chip = h("button", {
      type: "button", class: mine ? "reaction mine" : "reaction", "aria-pressed": String(mine), title: names,
      "aria-label": fmt(ngettext("%(emoji)s %(count)s reaction: %(names)s", "%(emoji)s %(count)s reactions: %(names)s", r.count), { emoji: r.emoji, count: r.count, names }),
      dataset: { emoji: r.emoji }, disabled: disabled || null,
    }, h("span", { class: "reaction-emoji", text: r.emoji }), h("span", { class: "reaction-count", text: String(r.count) }));
    let timer = null;
    let long = false;
    chip.addEventListener("pointerdown", () => {
      long = false;
      timer = setTimeout(() => { long = true; onWho(message, chip); }, 500);
    });
    const cancel = () => clearTimeout(timer);
    chip.addEventListener("pointerup", cancel);
    chip.addEventListener("pointerleave", cancel);
    chip.addEventListener("contextmenu", (e) => { e.preventDefault(); e.stopPropagation(); cancel(); onWho(message, chip); });
    chip.addEventListener("click", (e) => {
      e.stopPropagation();
      if (long) { long = false; return; }
      onToggle(message, r.emoji, !mine);
    });
    row.append(chip);
  }
  return row;
}
