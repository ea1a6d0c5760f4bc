// Forward: pick the conversation to copy messages into, from a searchable list of those the
// user may post in. A modal dialog over whichever screen asked for it.
import { _, fmt, ngettext } from "../dom.js";
import { errorText } from "../shell/api.js";
import { conversationAvatar } from "../shell/format.js";
import { Avatar, html, render, toast, useState } from "../shell/ui.js";

function ForwardPicker({ store, count, onPick, busy }) {
  const [query, setQuery] = useState("");
  const needle = query.trim().toLocaleLowerCase();
  const targets = store.sortedConversations()
    .filter((c) => c.is_active !== false)
    .filter((c) => !needle || store.conversationTitle(c).toLocaleLowerCase().includes(needle)
      || (c.peer && c.peer.username.toLocaleLowerCase().includes(needle)));
  return html`<form method="dialog" class="forward-form">
    <h2 id="forward-title">${fmt(ngettext("Forward %(count)s message to…", "Forward %(count)s messages to…", count), { count })}</h2>
    <label class="visually-hidden" for="forward-search">${_("Search chats")}</label>
    <input type="search" id="forward-search" class="search-input" placeholder=${_("Search chats")} value=${query}
      autocomplete="off" onInput=${(e) => setQuery(e.currentTarget.value)} />
    <ul class="rows forward-list" id="forward-list" aria-labelledby="forward-title">
      ${targets.map((c) => {
        const title = store.conversationTitle(c);
        return html`<li class="row" key=${c.id} data-conversation=${String(c.id)}>
          <button type="button" class="row-link row-button" disabled=${busy} onClick=${() => onPick(c)}>
            <${Avatar} spec=${conversationAvatar(c, title)} size="small" />
            <span class="row-main"><span class="row-title">${title}</span></span>
          </button>
        </li>`;
      })}
    </ul>
    ${targets.length ? null : html`<p class="empty">${_("No chat matches.")}</p>`}
    <div class="dialog-actions"><button value="cancel" class="btn">${_("Cancel")}</button></div>
  </form>`;
}

/** Ask where to forward `messages` (in order) and do it; resolves true when forwarded. */
export function forwardMessages(store, messages) {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.className = "dialog forward-dialog";
    dialog.id = "forward-dialog";
    dialog.setAttribute("aria-labelledby", "forward-title");
    let done = false;
    let busy = false;
    const draw = () => render(html`<${ForwardPicker} store=${store} count=${messages.length} onPick=${pick} busy=${busy} />`, dialog);
    async function pick(conv) {
      if (busy) return;
      busy = true;
      draw();
      try {
        await store.forward(conv.id, messages.map((m) => m.id));
        done = true;
        toast(fmt(_("Forwarded to %(name)s"), { name: store.conversationTitle(conv) }));
        dialog.close();
      } catch (err) {
        toast(errorText(err, _("Could not forward. Please try again.")), { error: true });
        busy = false;
        draw();
      }
    }
    dialog.addEventListener("close", () => {
      render(null, dialog);
      dialog.remove();
      resolve(done);
    });
    document.getElementById("app").append(dialog);
    draw();
    dialog.showModal();
    dialog.querySelector("#forward-search")?.focus();
  });
}
