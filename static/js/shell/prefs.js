// Preferences of this device (localStorage): theme, sound, desktop notifications.

function read(key, fallback) {
  try {
    const raw = localStorage.getItem(`happychat.${key}`);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

function write(key, value) {
  try { localStorage.setItem(`happychat.${key}`, JSON.stringify(value)); } catch { /* storage blocked */ }
}

export const prefs = {
  theme: read("theme.choice", "system"),
  sound: read("sound", true),
  notify: read("notify", false),
  set(key, value) {
    this[key] = value;
    write(key === "theme" ? "theme.choice" : key, value);
  },
};

/** Apply "system", "light" or "dark" now and on every page (theme.js reads it first). */
export function applyTheme(choice) {
  prefs.set("theme", choice);
  try {
    if (choice === "system") localStorage.removeItem("happychat.theme");
    else localStorage.setItem("happychat.theme", choice);
  } catch { /* storage blocked: this page only */ }
  if (choice === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

export function effectiveTheme() {
  const set = document.documentElement.dataset.theme;
  if (set) return set;
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}
