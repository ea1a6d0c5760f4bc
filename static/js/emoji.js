// The emoji picker: vendored Unicode data (static/vendor/unicode-emoji-json), no network
// beyond our own server, loaded the first time the picker opens.
import { _, h } from "./dom.js";

// Category names in the reader's language (the vendored data names them in English).
const GROUP_NAMES = {
  smileys_emotion: () => _("Smileys and emotion"),
  people_body: () => _("People and body"),
  animals_nature: () => _("Animals and nature"),
  food_drink: () => _("Food and drink"),
  travel_places: () => _("Travel and places"),
  activities: () => _("Activities"),
  objects: () => _("Objects"),
  symbols: () => _("Symbols"),
  flags: () => _("Flags"),
};

const GROUP_ICONS = {
  smileys_emotion: "😀", people_body: "👋", animals_nature: "🐼", food_drink: "🍜",
  travel_places: "🚄", activities: "⚽", objects: "💡", symbols: "❤️", flags: "🏁",
};

function groupName(group) {
  return GROUP_NAMES[group.slug] ? GROUP_NAMES[group.slug]() : group.name;
}

export class EmojiPicker {
  constructor({ root, toggle, dataUrl, onPick }) {
    this.root = root;
    this.toggle = toggle;
    this.dataUrl = dataUrl;
    this.onPick = onPick;
    this.groups = null;
    toggle.addEventListener("click", () => (this.root.hidden ? this.open() : this.close()));
    // Escape closes the picker wherever the focus is (the composer, the grid, the tabs).
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !this.root.hidden) {
        e.stopPropagation();
        const inside = this.root.contains(document.activeElement);
        this.close();
        if (inside) this.toggle.focus();
      }
    }, true);
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
    if (this.root.hidden) return;
    this.root.hidden = true;
    this.toggle.setAttribute("aria-expanded", "false");
  }

  render(activeSlug) {
    const tabs = h("div", { class: "emoji-tabs", role: "tablist", "aria-label": _("Emoji categories") });
    for (const group of this.groups) {
      const name = groupName(group);
      tabs.append(h("button", {
        type: "button", role: "tab", class: "emoji-tab", title: name, "aria-label": name,
        "aria-selected": String(group.slug === activeSlug),
        onclick: () => { this.render(group.slug); this.root.querySelector(".emoji-grid button")?.focus(); },
      }, GROUP_ICONS[group.slug] || group.emojis[0]?.emoji || "?"));
    }
    const group = this.groups.find((g) => g.slug === activeSlug) || this.groups[0];
    const grid = h("div", { class: "emoji-grid", role: "tabpanel", "aria-label": groupName(group) });
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
