// Shared pieces of the Preact screens: the store hook, avatars, the bot badge, panel
// headers, toasts and a confirm dialog. Text goes in as text (htm escapes it), never HTML.
import { html, render, useEffect, useRef, useState } from "../../vendor/htm/preact-standalone.module.js";
import { _, avatarColour, safeUrl } from "../dom.js";
import { errorText } from "./api.js";

export { html, render, useEffect, useRef, useState };

/** Re-render the calling component whenever the store changes one of `topics`. */
export function useStore(store, topics) {
  const [, setTick] = useState(0);
  useEffect(() => store.subscribe((topic) => {
    if (!topics || topics.includes(topic)) setTick((n) => n + 1);
  }), [store]);
  return store;
}

/** The same avatar on every screen: picture, or first letter on the key's colour. */
export function Avatar({ spec, size = "" }) {
  const src = safeUrl(spec.url);
  const cls = `avatar ${size}${spec.bot ? " bot" : ""}`;
  if (src) return html`<span class=${cls} aria-hidden="true"><img src=${src} alt="" loading="lazy" /></span>`;
  const letter = spec.bot ? "🤖" : Array.from((spec.name || "?").trim() || "?")[0].toUpperCase();
  return html`<span class=${cls} aria-hidden="true" style=${{ background: avatarColour(spec) }}>${letter}</span>`;
}

export function BotBadge() {
  return html`<span class="bot-badge">${_("Bot")}</span>`;
}

/** The header of a pushed screen or panel: back (phones) or close, a title, actions. */
export function PanelHeader({ title, back = true, closeLabel, actions = null, id }) {
  return html`<header class="bar panel-bar">
    ${back ? html`<a class="icon-btn back panel-back" href="/" data-back aria-label=${closeLabel || _("Back")}>
      <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M15 5l-7 7 7 7"/></svg></a>` : null}
    <h1 class="panel-title" id=${id}>${title}</h1>
    ${actions}
  </header>`;
}

let toastRoot = null;
/** A short message near the bottom, clear of every header; read out politely. */
export function toast(text, { error = false } = {}) {
  toastRoot = toastRoot || document.getElementById("toasts");
  if (!toastRoot) return;
  const item = document.createElement("p");
  item.className = error ? "toast-item error" : "toast-item";
  item.textContent = text;
  toastRoot.append(item);
  setTimeout(() => item.classList.add("gone"), 3500);
  setTimeout(() => item.remove(), 4000);
}

/** Ask before something that cannot be undone; resolves true when confirmed. */
export function confirmDialog(text, { confirm = _("OK"), danger = false } = {}) {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.className = "dialog";
    dialog.setAttribute("aria-label", text);
    const p = document.createElement("p");
    p.textContent = text;
    const actions = document.createElement("div");
    actions.className = "dialog-actions";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn";
    cancel.textContent = _("Cancel");
    const ok = document.createElement("button");
    ok.type = "button";
    ok.className = danger ? "btn danger" : "btn primary";
    ok.textContent = confirm;
    ok.dataset.confirm = "";
    actions.append(cancel, ok);
    dialog.append(p, actions);
    let answer = false;
    cancel.addEventListener("click", () => dialog.close());
    ok.addEventListener("click", () => { answer = true; dialog.close(); });
    dialog.addEventListener("close", () => { dialog.remove(); resolve(answer); });
    document.getElementById("app").append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/**
 * A form field's value: it starts as `value` and follows `value` when that changes (saved
 * elsewhere, another device), but is never reset to the value it started from. Resetting
 * in an effect that also ran on mount could wipe what was typed before the effect ran.
 */
export function useFieldState(value) {
  const [state, setState] = useState(value);
  const last = useRef(value);
  useEffect(() => {
    if (last.current !== value) {
      last.current = value;
      setState(value);
    }
  }, [value]);
  return [state, setState];
}

/** Run an async action with a busy flag and a toast for its failure. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const run = async (fn, failure) => {
    if (busy) return undefined;
    setBusy(true);
    try {
      return await fn();
    } catch (err) {
      toast(errorText(err, failure || _("Something went wrong. Please try again.")), { error: true });
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return [busy, run];
}
