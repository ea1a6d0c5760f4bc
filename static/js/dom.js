// DOM helpers. User data only ever goes in through textContent or attributes, never HTML.

/** Create an element: h("p", {class: "x", "aria-label": "y"}, child, "text"). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Only http(s) or same-site paths may become src/href: never javascript: or data:. */
export function safeUrl(url) {
  if (typeof url !== "string" || !url) return null;
  if (url.startsWith("/") && !url.startsWith("//")) return url;
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

const PALETTE = ["#b94a33", "#94600a", "#3a66cc", "#177a56", "#7a52b3", "#b04e0d", "#1a6f6e", "#c23a7c"];
const BOT_COLOUR = "#4b5563";

/** The colour of a letter avatar: stable per key (a user or conversation id) or name. */
export function avatarColour({ name = "?", key = 0, bot = false } = {}) {
  if (bot) return BOT_COLOUR;
  return PALETTE[Math.abs(Number(key) || hash(name)) % PALETTE.length];
}

/** Fill an avatar element with the picture, or the first letter on a stable colour; the
 * robot gets a robot face, so it is never mistaken for a person. */
export function fillAvatar(el, { name = "?", url = null, key = 0, bot = false } = {}) {
  el.replaceChildren();
  el.classList.toggle("bot", Boolean(bot));
  const src = safeUrl(url);
  if (src) {
    el.append(h("img", { src, alt: "", loading: "lazy" }));
    el.style.background = "";
  } else {
    el.textContent = bot ? "🤖" : Array.from(name.trim() || "?")[0].toUpperCase();
    el.style.background = avatarColour({ name, key, bot });
  }
  return el;
}

function hash(text) {
  let n = 0;
  for (const ch of text) n = (n * 31 + ch.codePointAt(0)) | 0;
  return n;
}

export const _ = (s) => (window.gettext ? window.gettext(s) : s);
export const ngettext = (one, many, n) => (window.ngettext ? window.ngettext(one, many, n) : n === 1 ? one : many);
export const fmt = (s, obj) => (window.interpolate ? window.interpolate(s, obj, true) : s.replace(/%\((\w+)\)s/g, (_m, k) => obj[k]));
export const pgettext = (context, s) => (window.pgettext ? window.pgettext(context, s) : s);
