// Chat info (/chats/<id>/info/): for a group its members with roles, notice, your alias,
// mute, invite, leave or dissolve, and what an owner or admin may do; for a direct chat
// the person's card and mute.
import { _, fmt, ngettext } from "../dom.js";
import { groupAvatar, isBot, userAvatar } from "../shell/format.js";
import { go } from "../shell/router.js";
import { Avatar, BotBadge, PanelHeader, confirmDialog, html, toast, useAction, useEffect, useFieldState, useState, useStore } from "../shell/ui.js";
import { ChatSearch } from "./message-search.js";
import { PersonCard } from "./person.js";

export function ChatInfo({ store, id }) {
  useStore(store, ["conversations"]);
  const conv = store.conversations.get(id);
  if (!conv) return html`<div class="panel"><${PanelHeader} title=${_("Chat info")} /><p class="hint pad">${_("Loading…")}</p></div>`;
  if (conv.kind === "group") return html`<${GroupInfo} store=${store} conv=${conv} />`;
  return html`<div class="panel" aria-labelledby="info-title">
    <${PanelHeader} title=${_("Chat info")} id="info-title" closeLabel=${_("Back to the chat")} />
    <div class="panel-body">
      ${conv.peer ? html`<${PersonCard} store=${store} id=${conv.peer.id} />` : null}
      <${MuteSwitch} store=${store} conv=${conv} />
      <${ChatSearch} store=${store} conversation=${conv.id} />
    </div>
  </div>`;
}

function MuteSwitch({ store, conv }) {
  const toggle = async (e) => {
    try {
      await store.setMuted(conv.id, e.currentTarget.checked);
    } catch {
      toast(_("Could not change the mute setting."), { error: true });
    }
  };
  return html`<label class="switch-row">
    <span>${_("Mute notifications")}</span>
    <input type="checkbox" role="switch" id="mute-toggle" checked=${Boolean(conv.muted)} onChange=${toggle} />
  </label>`;
}

const ROLE_NAMES = { owner: () => _("Owner"), admin: () => _("Admin") };

function GroupInfo({ store, conv }) {
  const groupId = conv.group;
  useStore(store, ["groups", "members", "people", "conversations"]);
  useEffect(() => {
    if (conv.is_active !== false) {
      store.loadGroup(groupId);
      store.loadMembers(groupId);
    }
  }, [groupId, conv.is_active]);
  const group = store.groups.get(groupId);
  const members = store.members.get(groupId);
  const title = group ? fmt(_("Group info (%(count)s)"), { count: group.member_count }) : _("Group info");
  const active = conv.is_active !== false && group && group.my_role;
  return html`<div class="panel" aria-labelledby="info-title" id="group-info">
    <${PanelHeader} title=${title} id="info-title" closeLabel=${_("Back to the chat")} />
    <div class="panel-body">
      ${!group ? html`<p class="hint pad">${conv.is_active === false ? _("You are no longer a member of this group.") : _("Loading…")}</p>` : html`
        <div class="card-head">
          <${Avatar} spec=${groupAvatar(group)} size="large" />
          <div class="card-names">
            <h2 class="card-name" id="group-name">${group.name}</h2>
            <p class="muted">${group.is_public ? _("Public group: anyone can find and join it") : _("Private group: by invitation only")}</p>
          </div>
        </div>
        ${active ? html`<${Members} store=${store} group=${group} members=${members} />` : html`<p class="read-only">${_("You are no longer a member of this group. You can read its history but not send.")}</p>`}
        <${Notice} store=${store} group=${group} editable=${active && group.my_role !== "member"} />
        <${ChatSearch} store=${store} conversation=${conv.id} />
        ${active && group.my_role !== "member" ? html`<${GroupSettings} store=${store} group=${group} members=${members} />` : null}
        ${active ? html`<${MySettings} store=${store} group=${group} conv=${conv} members=${members} />` : null}
        ${active ? html`<${LeaveOrDissolve} store=${store} group=${group} />` : null}
      `}
    </div>
  </div>`;
}

function Members({ store, group, members }) {
  const [busy, run] = useAction();
  const [inviting, setInviting] = useState(false);
  if (!members) return html`<p class="hint pad">${_("Loading…")}</p>`;
  const myRole = group.my_role;
  const canManage = (m) => m.user.id !== store.me.id && m.role !== "owner" && (myRole === "owner" || (myRole === "admin" && m.role === "member"));
  const act = (label, fn, done) => run(async () => {
    await fn();
    await Promise.all([store.loadMembers(group.id), store.loadGroup(group.id)]);
    toast(done);
  }, label);
  const remove = async (m) => {
    const name = store.displayName(m.user);
    if (!(await confirmDialog(fmt(_("Remove %(name)s from the group?"), { name }), { confirm: _("Remove"), danger: true }))) return;
    act(_("Could not remove the member."), () => (isBot(m.user) ? store.api.removeRobot(group.id) : store.api.removeGroupMember(group.id, m.user.id)), fmt(_("%(name)s was removed"), { name }));
  };
  const transfer = async (m) => {
    const name = store.displayName(m.user);
    if (!(await confirmDialog(fmt(_("Make %(name)s the owner? You become a plain member."), { name }), { confirm: _("Transfer"), danger: true }))) return;
    act(_("Could not transfer the group."), () => store.api.transferGroup(group.id, m.user.id), fmt(_("%(name)s owns the group now"), { name }));
  };
  return html`<section class="result-section" aria-labelledby="members-h">
    <h2 class="section-title" id="members-h">${fmt(ngettext("%(count)s member", "%(count)s members", members.length), { count: members.length })}</h2>
    <ul class="rows" id="member-list">
      ${members.map((m) => {
        const name = store.displayName(m.user);
        return html`<li class="row member" key=${m.user.id} data-user=${m.user.username}>
          <a class="row-link" href=${`/people/${m.user.id}/`}>
            <${Avatar} spec=${userAvatar(m.user, name)} size="small" />
            <span class="row-main">
              <span class="row-title">${name}${isBot(m.user) ? html` <${BotBadge} />` : null}
                ${ROLE_NAMES[m.role] ? html` <span class=${`role role-${m.role}`}>${ROLE_NAMES[m.role]()}</span>` : null}</span>
              ${m.alias ? html`<span class="row-sub">${fmt(_("In this group: %(alias)s"), { alias: m.alias })}</span>` : null}
            </span>
          </a>
          ${canManage(m) ? html`<details class="member-actions">
            <summary class="btn small" aria-label=${fmt(_("Actions for %(name)s"), { name })}>⋯</summary>
            <div class="menu" onClick=${(e) => { e.currentTarget.closest("details").open = false; }}>
              ${myRole === "owner" && !isBot(m.user) ? html`<button type="button" class="menu-item" disabled=${busy}
                onClick=${() => act(_("Could not change the role."), () => store.api.setGroupRole(group.id, m.user.id, m.role === "admin" ? "member" : "admin"), m.role === "admin" ? _("No longer an admin") : _("Now an admin"))}>
                ${m.role === "admin" ? _("Remove admin") : _("Make admin")}</button>` : null}
              ${myRole === "owner" && !isBot(m.user) ? html`<button type="button" class="menu-item" disabled=${busy} onClick=${() => transfer(m)}>${_("Make owner")}</button>` : null}
              <button type="button" class="menu-item danger" disabled=${busy} onClick=${() => remove(m)}>${_("Remove from group")}</button>
            </div>
          </details>` : null}
        </li>`;
      })}
    </ul>
    <div class="pad">
      <button type="button" class="btn" id="invite-open" aria-expanded=${String(inviting)} onClick=${() => setInviting(!inviting)}>${_("Invite friends")}</button>
    </div>
    ${inviting ? html`<${Invite} store=${store} group=${group} members=${members} onDone=${() => setInviting(false)} />` : null}
  </section>`;
}

function Invite({ store, group, members, onDone }) {
  useStore(store, ["friends"]);
  useEffect(() => { store.loadFriends(); }, []);
  const [busy, run] = useAction();
  const inGroup = new Set(members.map((m) => m.user.id));
  const candidates = (store.friends || []).filter((f) => !inGroup.has(f.id));
  const invite = (f) => run(async () => {
    const result = await store.api.addGroupMember(group.id, f.id);
    await Promise.all([store.loadMembers(group.id), store.loadGroup(group.id)]);
    toast(result && result.status === "pending" ? fmt(_("Invitation sent to %(name)s"), { name: store.displayName(f) }) : fmt(_("%(name)s joined the group"), { name: store.displayName(f) }));
    onDone();
  }, _("Could not invite."));
  if (!store.friends) return html`<p class="hint pad">${_("Loading…")}</p>`;
  if (!candidates.length) return html`<p class="empty">${_("All your friends are in this group already.")}</p>`;
  return html`<ul class="rows" id="invite-list" aria-label=${_("Invite friends")}>
    ${candidates.map((f) => html`<li class="row" key=${f.id}>
      <span class="row-link"><${Avatar} spec=${userAvatar(f, store.displayName(f))} size="small" />
        <span class="row-main"><span class="row-title">${store.displayName(f)}</span></span></span>
      <button type="button" class="btn small primary" disabled=${busy} onClick=${() => invite(f)}
        aria-label=${fmt(_("Invite %(name)s"), { name: store.displayName(f) })}>${_("Invite")}</button>
    </li>`)}
  </ul>`;
}

function Notice({ store, group, editable }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useFieldState(group.notice || "");
  const [busy, run] = useAction();
  const save = (e) => {
    e.preventDefault();
    run(async () => {
      const updated = await store.api.updateGroup(group.id, { notice: text });
      store.groups.set(group.id, updated);
      store.changed("groups");
      setEditing(false);
      toast(_("Notice saved"));
    }, _("The notice was not saved."));
  };
  if (!group.notice && !editable) return null;
  return html`<section class="result-section" aria-labelledby="notice-h">
    <h2 class="section-title" id="notice-h">${_("Group notice")}</h2>
    ${editing ? html`<form class="field-form" onSubmit=${save}>
        <label class="visually-hidden" for="notice-input">${_("Group notice")}</label>
        <textarea id="notice-input" class="input" rows="4" maxlength="2000" value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea>
        <div class="actions"><button type="button" class="btn" onClick=${() => setEditing(false)}>${_("Cancel")}</button>
          <button type="submit" class="btn primary" disabled=${busy}>${_("Save")}</button></div>
      </form>`
      : html`<p class="notice-text pre pad" id="group-notice">${group.notice || _("No notice yet.")}</p>
        ${editable ? html`<div class="pad"><button type="button" class="btn small" id="notice-edit" onClick=${() => setEditing(true)}>${_("Edit notice")}</button></div>` : null}`}
  </section>`;
}

function GroupSettings({ store, group, members }) {
  const [name, setName] = useFieldState(group.name);
  const [busy, run] = useAction();
  const robotHere = (members || []).some((m) => isBot(m.user));
  const rename = (e) => {
    e.preventDefault();
    run(async () => {
      const updated = await store.api.updateGroup(group.id, { name: name.trim() });
      store.groups.set(group.id, updated);
      const conv = store.conversationOfGroup(group.id);
      if (conv) conv.title = updated.name;
      store.changed("groups", "conversations");
      toast(_("Group renamed"));
    }, _("The name was not saved."));
  };
  const setPublic = (e) => {
    const wanted = e.currentTarget.checked;
    run(async () => {
      store.groups.set(group.id, await store.api.updateGroup(group.id, { is_public: wanted }));
      store.changed("groups");
    }, _("Could not change who may join."));
  };
  const robot = (e) => {
    const wanted = e.currentTarget.checked;
    run(async () => {
      if (wanted) await store.api.addRobot(group.id);
      else await store.api.removeRobot(group.id);
      await Promise.all([store.loadMembers(group.id), store.loadGroup(group.id)]);
    }, _("Could not change the robot."));
  };
  return html`<section class="result-section" aria-labelledby="manage-h">
    <h2 class="section-title" id="manage-h">${_("Manage the group")}</h2>
    <form class="field-form" onSubmit=${rename}>
      <label for="group-name-input">${_("Group name")}</label>
      <div class="inline-form">
        <input id="group-name-input" class="input" maxlength="64" value=${name} onInput=${(e) => setName(e.currentTarget.value)} />
        <button type="submit" class="btn" disabled=${busy || !name.trim() || name === group.name}>${_("Save")}</button>
      </div>
    </form>
    <label class="switch-row"><span>${_("Public: anyone can find and join")}</span>
      <input type="checkbox" role="switch" checked=${group.is_public} disabled=${busy} onChange=${setPublic} /></label>
    <label class="switch-row"><span>${_("Robot in this group (answers @robot)")}</span>
      <input type="checkbox" role="switch" checked=${robotHere} disabled=${busy || !members} onChange=${robot} /></label>
  </section>`;
}

function MySettings({ store, group, conv, members }) {
  const mine = (members || []).find((m) => m.user.id === store.me.id);
  const [alias, setAlias] = useFieldState(mine ? mine.alias : "");
  const [busy, run] = useAction();
  const save = (e) => {
    e.preventDefault();
    run(async () => {
      const result = await store.api.updateGroupMe(group.id, { alias: alias.trim() });
      setAlias(result.alias);
      await store.loadMembers(group.id);
      toast(_("Your name in this group was saved"));
    }, _("The name was not saved."));
  };
  return html`<section class="result-section" aria-labelledby="mine-h">
    <h2 class="section-title" id="mine-h">${_("You in this group")}</h2>
    <form class="field-form" onSubmit=${save}>
      <label for="alias-input">${_("Your name in this group")}</label>
      <div class="inline-form">
        <input id="alias-input" class="input" maxlength="64" value=${alias} placeholder=${store.me.nickname || store.me.username}
          onInput=${(e) => setAlias(e.currentTarget.value)} />
        <button type="submit" class="btn" id="alias-save" disabled=${busy}>${_("Save")}</button>
      </div>
    </form>
    <${MuteSwitch} store=${store} conv=${conv} />
  </section>`;
}

function LeaveOrDissolve({ store, group }) {
  const [busy, run] = useAction();
  const leave = () => run(async () => {
    if (!(await confirmDialog(fmt(_("Leave %(name)s? You keep the history you have."), { name: group.name }), { confirm: _("Leave"), danger: true }))) return;
    await store.api.leaveGroup(group.id);
    store.endMembership(group.id, "left", store.me.id);
    toast(fmt(_("You left %(name)s"), { name: group.name }));
    go("/", { replace: true });
  }, _("Could not leave the group."));
  const dissolve = () => run(async () => {
    if (!(await confirmDialog(fmt(_("Dissolve %(name)s for everyone? Members keep the history they have."), { name: group.name }), { confirm: _("Dissolve"), danger: true }))) return;
    await store.api.dissolveGroup(group.id);
    store.endMembership(group.id, "dissolved", store.me.id);
    toast(fmt(_("%(name)s was dissolved"), { name: group.name }));
    go("/", { replace: true });
  }, _("Could not dissolve the group."));
  return html`<div class="actions danger-zone pad">
    <button type="button" class="btn danger" id="group-leave" disabled=${busy} onClick=${leave}>${_("Leave group")}</button>
    ${group.my_role === "owner" ? html`<button type="button" class="btn danger" id="group-dissolve" disabled=${busy} onClick=${dissolve}>${_("Dissolve group")}</button>` : null}
  </div>`;
}
