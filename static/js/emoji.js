// The emoji picker: vendored Unicode data (static/vendor/unicode-emoji-json), no network
// beyond our own server, loaded the first time the picker opens.
import { _, h } from "./dom.js";

const GROUP_ICONS = {
  smileys_emotion: "😀", people_body: "👋", animals_nature: "🐼", food_drink: "🍜",
  travel_places: "🚄", activities: "⚽", objects: "💡", symbols: "❤️", flags: "🏁",
};

export class EmojiPicker {
  constructor({ root, toggle, dataUrl, onPick }) {
    this.root = root;
    this.toggle = toggle;
    this.dataUrl = dataUrl;
    this.onPick = onPick;
    this.groups = null;
    toggle.addEventListener("click", () => (this.root.hidden ? this.open() : this.close()));
    root.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.stopPropagation();
        this.close();
        this.toggle.focus();
      }
    });
    document.addEventListener("pointerdown", (e) => {
      if (!this.root.hidden && !this.root.contains(e.target) && !this.toggle.contains(e.target)) this.close();
    });
  }

  async open() {
    this.root.hidden = false;
    this.toggle.setAttribute("aria-expanded", "true");
    if (!this.groups) {
      this.root.replaceChildren(h("p", { class: "hint", text: _("Loading…") }));
      try {
        const res = await fetch(this.dataUrl);
        this.groups = (await res.json()).filter((g) => g.slug !== "component");
      } catch {
        this.root.replaceChildren(h("p", { class: "error", text: _("Could not load emoji.") }));
        return;
      }
      this.render(this.groups[0].slug);
    }
    this.root.querySelector(".emoji-grid button")?.focus();
  }

  close() {
    this.root.hidden = true;
    this.toggle.setAttribute("aria-expanded", "false");
  }

  render(activeSlug) {
    const tabs = h("div", { class: "emoji-tabs", role: "tablist", "aria-label": _("Emoji categories") });
    for (const group of this.groups) {
      tabs.append(h("button", {
        type: "button", role: "tab", class: "emoji-tab", title: group.name, "aria-label": group.name,
        "aria-selected": String(group.slug === activeSlug),
        onclick: () => { this.render(group.slug); this.root.querySelector(".emoji-grid button")?.focus(); },
      }, GROUP_ICONS[group.slug] || group.emojis[0]?.emoji || "?"));
    }
    const group = this.groups.find((g) => g.slug === activeSlug) || this.groups[0];
    const grid = h("div", { class: "emoji-grid", role: "tabpanel", "aria-label": group.name });
    for (const item of group.emojis) {
      grid.append(h("button", {
        type: "button", class: "emoji", title: item.name, "aria-label": item.name,
        onclick: () => this.onPick(item.emoji),
      }, item.emoji));
    }
    grid.addEventListener("keydown", (e) => this.moveFocus(e, grid));
    this.root.replaceChildren(tabs, grid);
  }

  // Arrow keys move through the grid, so the picker is usable without a pointer.
  moveFocus(e, grid) {
    const buttons = [...grid.querySelectorAll("button")];
    const index = buttons.indexOf(document.activeElement);
    if (index < 0) return;
    const perRow = Math.max(1, Math.round(grid.clientWidth / (buttons[0].offsetWidth || 44)));
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: perRow, ArrowUp: -perRow }[e.key];
    if (!step) return;
    e.preventDefault();
    buttons[Math.min(buttons.length - 1, Math.max(0, index + step))].focus();
  }
}
