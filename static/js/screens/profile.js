// Your profile (/me/): picture, nickname, about, region, gender; links to settings.
import { _ } from "../dom.js";
import { errorText } from "../shell/api.js";
import { userAvatar } from "../shell/format.js";
import { Avatar, PanelHeader, html, toast, useEffect, useState, useStore } from "../shell/ui.js";

const GENDERS = [
  ["unknown", () => _("Prefer not to say")],
  ["female", () => _("Female")],
  ["male", () => _("Male")],
  ["other", () => _("Other")],
];

export function ProfileScreen({ store, phone }) {
  useStore(store, ["me"]);
  useEffect(() => { store.loadMe(); }, []);
  const me = store.me;
  const [form, setForm] = useState(null);
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!form && me.email !== undefined) setForm({ nickname: me.nickname || "", bio: me.bio || "", region: me.region || "", gender: me.gender || "unknown" });
  }, [me.email]);

  const save = async (e) => {
    e.preventDefault();
    const formEl = e.currentTarget;
    const data = new FormData(formEl);
    const file = data.get("avatar");
    if (!file || !file.size) data.delete("avatar");
    setBusy(true);
    try {
      const updated = await store.api.updateMe(data);
      store.setMe(updated);
      setErrors({});
      formEl.querySelector("input[type=file]").value = "";
      toast(_("Your profile has been saved."));
    } catch (err) {
      setErrors((err && err.body && err.body.errors) || {});
      toast(errorText(err, _("Nothing was saved. Please correct the errors.")), { error: true });
    } finally {
      setBusy(false);
    }
  };
  const field = (name) => ({
    id: `profile-${name}`, name, value: form ? form[name] : "",
    onInput: (e) => setForm({ ...form, [name]: e.currentTarget.value }),
    "aria-invalid": errors[name] ? "true" : null,
    "aria-describedby": errors[name] ? `profile-${name}-error` : null,
  });
  const error = (name) => (errors[name] ? html`<p class="error" id=${`profile-${name}-error`}>${errors[name].join(" ")}</p>` : null);
  const name = me.nickname || me.username;
  return html`<div class="panel" aria-labelledby="profile-title" id="profile-screen">
    <${PanelHeader} title=${_("Your profile")} id="profile-title" back=${!phone} closeLabel=${_("Back")} />
    <div class="panel-body">
      <div class="card-head">
        <${Avatar} spec=${userAvatar(me, name)} size="large" />
        <div class="card-names">
          <h2 class="card-name">${name}</h2>
          <p class="muted">@${me.username}${me.email ? ` · ${me.email}` : ""}</p>
        </div>
      </div>
      ${form ? html`<form class="field-form stacked" id="profile-form" onSubmit=${save} novalidate>
        <label for="profile-avatar">${_("Picture")}</label>
        <input type="file" id="profile-avatar" name="avatar" accept="image/jpeg,image/png,image/gif,image/webp" class="input" />
        ${error("avatar")}
        <label for="profile-nickname">${_("Nickname")}</label>
        <input class="input" maxlength="64" ...${field("nickname")} />
        ${error("nickname")}
        <label for="profile-bio">${_("About you")}</label>
        <textarea class="input" rows="3" maxlength="280" ...${field("bio")}></textarea>
        ${error("bio")}
        <label for="profile-region">${_("Region")}</label>
        <input class="input" maxlength="64" ...${field("region")} />
        ${error("region")}
        <label for="profile-gender">${_("Gender")}</label>
        <select class="input" ...${field("gender")}>
          ${GENDERS.map(([value, label]) => html`<option value=${value}>${label()}</option>`)}
        </select>
        <div class="actions"><button type="submit" class="btn primary" id="profile-save" disabled=${busy}>${_("Save")}</button></div>
      </form>` : html`<p class="hint pad">${_("Loading…")}</p>`}
      <nav class="link-list" aria-label=${_("More")}>
        <a href="/settings/" class="link-row" id="open-settings">${_("Settings")}<span aria-hidden="true">›</span></a>
        <a href=${`/people/${me.id}/`} class="link-row">${_("How others see you")}<span aria-hidden="true">›</span></a>
      </nav>
    </div>
  </div>`;
}
