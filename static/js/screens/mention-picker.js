// The @ member picker of a group's composer: typing "@" (and some letters) lists matching
// members above the composer; arrows move, Enter or Tab picks, Escape closes; a tap picks.
// What was picked is remembered by name, so the message is sent with the members' ids
// (robust to renames) rather than only their names in the text.
import { _, fmt, h, ngettext } from "../dom.js";
import { announce } from "../shell/notify.js";

const QUERY = /(^|\s)@([^\s@]{0,32})$/;

export class MentionPicker {
  /**
   * @param {object} o
   * @param {HTMLTextAreaElement} o.input  the composer
   * @param {HTMLElement} o.root           an empty list element for the suggestions
   * @param {() => Array} o.candidates     [{id ("all" for everyone), name (inserted), label, sub, avatar}] or [] outside groups
   * @param {() => void} o.onInsert        called after a name went into the text
   */
  constructor({ input, root, candidates, onInsert }) {
    this.input = input;
    this.root = root;
    this.candidates = candidates;
    this.onInsert = onInsert;
    this.items = [];
    this.active = 0;
    this.start = -1; // where the "@" is
    this.picks = new Map(); // inserted name -> id
    root.setAttribute("role", "listbox");
    root.setAttribute("aria-label", _("Mention a member"));
    input.setAttribute("aria-controls", root.id);
    input.setAttribute("aria-autocomplete", "list");
    // Keep the caret in the composer while a suggestion is tapped.
    root.addEventListener("pointerdown", (e) => e.preventDefault());
  }

  get open() {
    return !this.root.hidden;
  }

  /** Look at the text before the caret and show, narrow or hide the suggestions. */
  update() {
    const caret = this.input.selectionStart ?? this.input.value.length;
    const m = QUERY.exec(this.input.value.slice(0, caret));
    const all = m ? this.candidates() : [];
    if (!m || !all.length) {
      this.close();
      return;
    }
    const query = m[2].toLocaleLowerCase();
    const items = all.filter((c) => !query || [c.name, c.label, c.sub].some((f) => f && f.toLocaleLowerCase().includes(query))).slice(0, 8);
    if (!items.length) {
      this.close();
      return;
    }
    const wasOpen = this.open;
    this.start = caret - m[2].length - 1;
    this.items = items;
    this.active = Math.min(this.active, items.length - 1);
    this.render();
    if (!wasOpen) announce(fmt(ngettext("%(count)s member to mention: use the arrow keys", "%(count)s members to mention: use the arrow keys", items.length), { count: items.length }));
  }

  render() {
    this.root.replaceChildren(...this.items.map((c, i) => {
      const li = h("li", {
        id: `mention-option-${i}`, role: "option", class: "mention-option", "aria-selected": String(i === this.active),
        dataset: { user: String(c.id) },
        onclick: () => this.pick(i),
      }, c.avatar || null, h("span", { class: "mention-label", text: c.label }), c.sub ? h("span", { class: "mention-sub", text: c.sub }) : null);
      return li;
    }));
    this.root.hidden = false;
    this.input.setAttribute("aria-activedescendant", `mention-option-${this.active}`);
    this.root.querySelector("[aria-selected=true]")?.scrollIntoView({ block: "nearest" });
  }

  close() {
    if (!this.open) return;
    this.root.hidden = true;
    this.root.replaceChildren();
    this.items = [];
    this.active = 0;
    this.input.removeAttribute("aria-activedescendant");
  }

  /** Handle a key in the composer; true when the picker used it. */
  keydown(e) {
    if (!this.open) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      this.active = (this.active + (e.key === "ArrowDown" ? 1 : this.items.length - 1)) % this.items.length;
      this.render();
    } else if ((e.key === "Enter" || e.key === "Tab") && !e.isComposing && e.keyCode !== 229) {
      this.pick(this.active);
    } else if (e.key === "Escape") {
      this.close();
      e.stopPropagation();
    } else {
      return false;
    }
    e.preventDefault();
    return true;
  }

  pick(i) {
    const c = this.items[i];
    if (!c) return;
    const caret = this.input.selectionStart ?? this.input.value.length;
    const text = `@${c.name} `;
    this.input.setRangeText(text, this.start, caret, "end");
    this.picks.set(c.name, c.id);
    this.close();
    this.input.focus();
    this.onInsert();
  }

  /**
   * The mentions of a text about to be sent: ids picked whose "@name" is still in it, and
   * members typed by name without the picker; `all` when "@all" stays (and is allowed).
   */
  mentionsIn(text, members, { allowAll }) {
    const ids = new Set();
    let all = false;
    for (const [name, id] of this.picks) {
      if (!text.includes(`@${name}`)) continue;
      if (id === "all") all = true;
      else ids.add(id);
    }
    for (const m of members) {
      const names = [m.alias, m.user.nickname, m.user.username].filter(Boolean);
      if (names.some((n) => mentionedBy(text, n))) ids.add(m.user.id);
    }
    if (allowAll && (mentionedBy(text, "all") || text.includes("@所有人"))) all = true;
    return { ids: [...ids], all };
  }

  reset() {
    this.picks.clear();
    this.close();
  }
}

// "@name" followed by the end, a space or punctuation, in any case: as the server reads
// typed mentions (chat/services/messages.py), so "@al" does not mention "alice".
const BOUNDARY = /[\s@,，。、!?！？:：;；]/;
function mentionedBy(text, name) {
  const hay = text.toLocaleLowerCase();
  const needle = `@${name.toLocaleLowerCase()}`;
  let at = hay.indexOf(needle);
  while (at >= 0) {
    const next = hay.charAt(at + needle.length);
    if (!next || BOUNDARY.test(next)) return true;
    at = hay.indexOf(needle, at + 1);
  }
  return false;
}
