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

const PALETTE = ["#e8684a", "#f6bd16", "#5b8ff9", "#5ad8a6", "#9270ca", "#ff9d4d", "#269a99", "#ff99c3"];

/** Fill an avatar element with the picture, or the first letter on a stable colour. */
export function fillAvatar(el, { name = "?", url = null, key = 0 } = {}) {
  el.replaceChildren();
  const src = safeUrl(url);
  if (src) {
    el.append(h("img", { src, alt: "", loading: "lazy" }));
    el.style.background = "";
  } else {
    el.textContent = Array.from(name.trim() || "?")[0].toUpperCase();
    el.style.background = PALETTE[Math.abs(Number(key) || hash(name)) % PALETTE.length];
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
