// "+" → New chat (pick a friend) or New group (a name and friends to add).
import { _, fmt } from "../dom.js";
import { userAvatar } from "../shell/format.js";
import { go } from "../shell/router.js";
import { Avatar, PanelHeader, html, toast, useAction, useEffect, useState, useStore } from "../shell/ui.js";

export function NewScreen({ store, kind }) {
  useStore(store, ["friends", "conversations"]);
  useEffect(() => { store.loadFriends(); }, []);
  const friends = [...(store.friends || [])].sort((a, b) => store.displayName(a).localeCompare(store.displayName(b)));
  return html`<div class="panel" aria-labelledby="new-title" id="new-screen">
    <${PanelHeader} title=${kind === "group" ? _("New group") : _("New chat")} id="new-title" />
    <div class="panel-body">
      ${!store.friends ? html`<p class="hint pad">${_("Loading…")}</p>`
        : !friends.length ? html`<p class="empty">${_("Add friends first, then chat with them or make a group.")} <a href="/contacts/find/">${_("Find people")}</a></p>`
        : kind === "group" ? html`<${NewGroup} store=${store} friends=${friends} />` : html`<${NewChat} store=${store} friends=${friends} />`}
    </div>
  </div>`;
}

function NewChat({ store, friends }) {
  const [busy, run] = useAction();
  const open = (f) => run(async () => {
    let conv = store.conversationWith(f.id);
    if (!conv) {
      await store.loadConversations();
      conv = store.conversationWith(f.id);
    }
    if (conv) go(`/chats/${conv.id}/`, { replace: true });
    else toast(_("There is no chat with this person yet."), { error: true });
  });
  return html`<ul class="rows" id="new-chat-list" aria-label=${_("Friends")}>
    ${friends.map((f) => html`<li class="row" key=${f.id}>
      <button type="button" class="row-link row-button" disabled=${busy} onClick=${() => open(f)}>
        <${Avatar} spec=${userAvatar(f, store.displayName(f))} size="small" />
        <span class="row-main"><span class="row-title">${store.displayName(f)}</span><span class="row-sub">@${f.username}</span></span>
      </button></li>`)}
  </ul>`;
}

function NewGroup({ store, friends }) {
  const [name, setName] = useState("");
  const [isPublic, setPublic] = useState(true);
  const [chosen, setChosen] = useState(new Set());
  const [error, setError] = useState("");
  const [busy, run] = useAction();
  const toggle = (id) => {
    const next = new Set(chosen);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setChosen(next);
  };
  const create = (e) => {
    e.preventDefault();
    if (!name.trim()) {
      setError(_("A group needs a name."));
      return;
    }
    setError("");
    run(async () => {
      const group = await store.api.createGroup({ name: name.trim(), members: [...chosen], isPublic });
      store.groups.set(group.id, group);
      await store.loadConversations();
      toast(fmt(_("%(name)s was created"), { name: group.name }));
      go(`/chats/${group.conversation}/`, { replace: true });
    }, _("The group was not created."));
  };
  return html`<form class="field-form stacked" id="new-group-form" onSubmit=${create} novalidate>
    <label for="new-group-name">${_("Group name")}</label>
    <input id="new-group-name" class="input" maxlength="64" value=${name} onInput=${(e) => setName(e.currentTarget.value)}
      aria-invalid=${error ? "true" : null} aria-describedby=${error ? "new-group-error" : null} />
    ${error ? html`<p class="error" id="new-group-error">${error}</p>` : null}
    <label class="choice"><input type="checkbox" checked=${isPublic} onChange=${(e) => setPublic(e.currentTarget.checked)} /> ${_("Public: anyone can find and join")}</label>
    <fieldset class="choices">
      <legend>${fmt(_("Members (%(count)s chosen)"), { count: chosen.size })}</legend>
      <ul class="rows">${friends.map((f) => html`<li class="row" key=${f.id}>
        <label class="row-link pick">
          <input type="checkbox" checked=${chosen.has(f.id)} onChange=${() => toggle(f.id)} />
          <${Avatar} spec=${userAvatar(f, store.displayName(f))} size="small" />
          <span class="row-main"><span class="row-title">${store.displayName(f)}</span></span>
        </label></li>`)}</ul>
    </fieldset>
    <div class="actions"><button type="submit" class="btn primary" id="new-group-create" disabled=${busy}>${_("Create group")}</button></div>
  </form>`;
}
