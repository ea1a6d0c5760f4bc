// A person's card: who they are, your remark, and what you can do (message, add,
// delete, block). /people/<id>/ on its own, or inside a direct chat's info panel.
import { _, fmt } from "../dom.js";
import { isBot, userAvatar } from "../shell/format.js";
import { go } from "../shell/router.js";
import { Avatar, BotBadge, PanelHeader, confirmDialog, html, toast, useAction, useEffect, useFieldState, useState, useStore } from "../shell/ui.js";

export function PersonScreen({ store, id }) {
  return html`<div class="panel" aria-labelledby="person-title">
    <${PanelHeader} title=${_("Profile")} id="person-title" />
    <div class="panel-body"><${PersonCard} store=${store} id=${id} /></div>
  </div>`;
}

export function PersonCard({ store, id }) {
  useStore(store, ["cards", "people", "conversations", "requests"]);
  useEffect(() => { store.loadCard(id); }, [id]);
  const card = store.cards.get(id);
  if (!card) return html`<p class="hint pad">${_("Loading…")}</p>`;
  if (card.missing) return html`<p class="empty">${_("This person could not be found.")}</p>`;
  const name = store.displayName(card);
  const self = card.id === store.me.id;
  return html`<div class="card" id="person-card" data-user=${String(card.id)}>
    <div class="card-head">
      <${Avatar} spec=${userAvatar(card, name)} size="large" />
      <div class="card-names">
        <h2 class="card-name" id="person-name">${name}${isBot(card) ? html` <${BotBadge} />` : null}</h2>
        ${card.remark ? html`<p class="muted">${fmt(_("Nickname: %(name)s"), { name: card.nickname })}</p>` : null}
        <p class="muted">@${card.username}</p>
      </div>
    </div>
    ${card.bio || card.region ? html`<dl class="facts">
      ${card.region ? html`<dt>${_("Region")}</dt><dd>${card.region}</dd>` : null}
      ${card.bio ? html`<dt>${_("About")}</dt><dd class="pre">${card.bio}</dd>` : null}
    </dl>` : null}
    ${self ? html`<div class="actions"><a class="btn primary" href="/me/">${_("Edit your profile")}</a></div>`
      : html`<${PersonActions} store=${store} card=${card} />`}
  </div>`;
}

function PersonActions({ store, card }) {
  const [busy, run] = useAction();
  const [remark, setRemark] = useFieldState(card.remark || "");
  const [note, setNote] = useState("");
  const conv = store.conversationWith(card.id);
  const name = store.displayName(card);
  const outgoing = (store.requests || []).find((r) => r.status === "pending" && r.to.id === card.id && r.from.id === store.me.id);
  const incoming = (store.requests || []).find((r) => r.status === "pending" && r.from.id === card.id && r.to.id === store.me.id);

  const message = () => run(async () => {
    let target = conv;
    if (!target) {
      await store.loadConversations();
      target = store.conversationWith(card.id);
    }
    if (target) go(`/chats/${target.id}/`);
    else toast(_("There is no chat with this person yet."), { error: true });
  });
  const saveRemark = (e) => {
    e.preventDefault();
    run(async () => {
      const friend = await store.api.setRemark(card.id, remark.trim());
      store.rememberUser({ ...friend, remark: friend.remark || "" });
      store.cards.set(card.id, { ...card, remark: friend.remark || undefined });
      store.loadFriends();
      store.changed("cards", "people", "conversations");
      toast(_("Remark saved"));
    }, _("The remark was not saved."));
  };
  const add = (e) => {
    e.preventDefault();
    run(async () => {
      const request = await store.api.sendFriendRequest(card.id, note.trim());
      await store.loadRequests();
      if (request && request.status === "accepted") {
        await store.loadCard(card.id);
        toast(fmt(_("You and %(name)s are now friends"), { name }));
      } else {
        toast(_("Friend request sent"));
      }
    }, _("The request was not sent."));
  };
  const accept = () => run(async () => {
    await store.api.acceptFriendRequest(incoming.id);
    await Promise.all([store.loadRequests(), store.loadCard(card.id), store.loadConversations()]);
    toast(fmt(_("You and %(name)s are now friends"), { name }));
  });
  const remove = () => run(async () => {
    if (!(await confirmDialog(fmt(_("Delete %(name)s from your friends? Neither of you can send in your chat afterwards."), { name }), { confirm: _("Delete"), danger: true }))) return;
    await store.api.removeFriend(card.id);
    await store.loadCard(card.id);
    store.loadFriends();
    toast(_("Friend deleted"));
  });
  const block = () => run(async () => {
    if (card.is_blocked) {
      await store.api.unblock(card.id);
      toast(_("Unblocked"));
    } else {
      if (!(await confirmDialog(fmt(_("Block %(name)s? They cannot send you messages or friend requests."), { name }), { confirm: _("Block"), danger: true }))) return;
      await store.api.block(card.id);
      toast(_("Blocked"));
    }
    await store.loadCard(card.id);
    store.loadBlocks();
  });

  if (isBot(card)) {
    return html`<div class="actions"><button type="button" class="btn primary" id="person-message" disabled=${busy} onClick=${message}>${_("Message")}</button></div>`;
  }
  return html`
    ${card.is_friend ? html`<div class="actions">
        <button type="button" class="btn primary" id="person-message" disabled=${busy} onClick=${message}>${_("Message")}</button>
      </div>
      <form class="field-form" onSubmit=${saveRemark}>
        <label for="remark-input">${_("Remark")}</label>
        <div class="inline-form">
          <input id="remark-input" class="input" maxlength="64" value=${remark} placeholder=${_("A name only you see")}
            onInput=${(e) => setRemark(e.currentTarget.value)} />
          <button type="submit" class="btn" disabled=${busy}>${_("Save")}</button>
        </div>
      </form>`
      : incoming ? html`<div class="actions"><p class="hint">${fmt(_("%(name)s asked to be your friend."), { name })}${incoming.message ? ` “${incoming.message}”` : ""}</p>
          <button type="button" class="btn primary" disabled=${busy} onClick=${accept}>${_("Accept")}</button></div>`
      : outgoing ? html`<p class="hint pad">${_("Friend request sent. Waiting for an answer.")}</p>`
      : card.is_blocked ? null
      : html`<form class="field-form" onSubmit=${add}>
          <label for="request-note">${_("Say hello (optional)")}</label>
          <div class="inline-form">
            <input id="request-note" class="input" maxlength="200" value=${note} onInput=${(e) => setNote(e.currentTarget.value)} />
            <button type="submit" class="btn primary" id="person-add" disabled=${busy}>${_("Add friend")}</button>
          </div>
        </form>`}
    <div class="actions danger-zone">
      ${card.is_friend ? html`<button type="button" class="btn danger" disabled=${busy} id="person-delete" onClick=${remove}>${_("Delete friend")}</button>` : null}
      <button type="button" class="btn danger" disabled=${busy} id="person-block" onClick=${block}>${card.is_blocked ? _("Unblock") : _("Block")}</button>
    </div>`;
}
