// Settings (/settings/): theme, language, notifications and sound on this device, Web
// Push, account links and logging out.
import { _ } from "../dom.js";
import { disablePush, enablePush, pushState } from "../push.js";
import { applyTheme, prefs } from "../shell/prefs.js";
import { PanelHeader, html, useEffect, useState } from "../shell/ui.js";

const THEMES = [
  ["system", () => _("Same as the system")],
  ["light", () => _("Light")],
  ["dark", () => _("Dark")],
];

export function SettingsScreen({ notifier, languages }) {
  const [theme, setTheme] = useState(prefs.theme);
  const [sound, setSound] = useState(prefs.sound);
  const [notify, setNotify] = useState(prefs.notify);
  const [permission, setPermission] = useState("Notification" in window ? Notification.permission : "unsupported");
  const current = document.documentElement.lang;

  const chooseTheme = (value) => {
    applyTheme(value);
    setTheme(value);
  };
  const chooseLanguage = (e) => {
    const form = document.getElementById("language-form");
    form.querySelector("input[name=language]").value = e.currentTarget.value;
    form.submit();
  };
  const toggleSound = (e) => {
    prefs.set("sound", e.currentTarget.checked);
    setSound(prefs.sound);
    if (prefs.sound) notifier.playSound();
  };
  // Permission is asked only here, on the user's own click.
  const toggleNotify = async (e) => {
    const wanted = e.currentTarget.checked;
    if (wanted && permission === "default") setPermission(await Notification.requestPermission());
    prefs.set("notify", wanted);
    setNotify(wanted);
  };
  // requestSubmit: the submit event lets pwa.js forget this device's copy and push first.
  const logout = () => document.getElementById("logout-form").requestSubmit();

  return html`<div class="panel" aria-labelledby="settings-title" id="settings-screen">
    <${PanelHeader} title=${_("Settings")} id="settings-title" />
    <div class="panel-body">
      <section class="result-section" aria-labelledby="look-h">
        <h2 class="section-title" id="look-h">${_("Appearance")}</h2>
        <fieldset class="choices pad" id="theme-choice">
          <legend>${_("Theme")}</legend>
          ${THEMES.map(([value, label]) => html`<label class="choice">
            <input type="radio" name="theme" value=${value} checked=${theme === value} onChange=${() => chooseTheme(value)} /> ${label()}</label>`)}
        </fieldset>
        <div class="field-form">
          <label for="language-select">${_("Language")}</label>
          <select id="language-select" class="input" onChange=${chooseLanguage}>
            ${languages.map((l) => html`<option value=${l.code} selected=${l.code === current}>${l.name}</option>`)}
          </select>
        </div>
      </section>
      <section class="result-section" aria-labelledby="notify-h">
        <h2 class="section-title" id="notify-h">${_("Notifications")}</h2>
        <label class="switch-row"><span>${_("Desktop notifications")}</span>
          <input type="checkbox" role="switch" id="notify-toggle" disabled=${permission === "unsupported"}
            checked=${notify && permission === "granted"} onChange=${toggleNotify} /></label>
        <p id="notify-status" class="hint pad" role="status">${permission === "unsupported" ? _("This browser cannot show notifications.")
          : permission === "denied" ? _("Notifications are blocked in the browser settings.") : ""}</p>
        <label class="switch-row"><span>${_("Sound for new messages")}</span>
          <input type="checkbox" role="switch" id="sound-toggle" checked=${sound} onChange=${toggleSound} /></label>
        <${PushSetting} />
      </section>
      <section class="result-section" aria-labelledby="account-h">
        <h2 class="section-title" id="account-h">${_("Account")}</h2>
        <nav class="link-list" aria-labelledby="account-h">
          <a class="link-row" href="/me/">${_("Edit your profile")}<span aria-hidden="true">›</span></a>
          <a class="link-row" href="/accounts/password/change/">${_("Change password")}<span aria-hidden="true">›</span></a>
        </nav>
        <div class="actions pad"><button type="button" class="btn danger" id="logout" onClick=${logout}>${_("Log out")}</button></div>
      </section>
    </div>
  </div>`;
}

// Web Push ("notify me when HappyChat is closed"), on static/js/push.js; its words come
// from the page (#push-texts), translated with the template.
function PushSetting() {
  const texts = document.getElementById("push-texts").dataset;
  const [state, setState] = useState("unsupported");
  const [failed, setFailed] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => { pushState().then(setState, () => setState("unsupported")); }, []);
  const toggle = async (e) => {
    const wanted = e.currentTarget.checked;
    setBusy(true);
    setFailed(false);
    try {
      setState(wanted ? await enablePush() : await disablePush());
    } catch {
      setState(await pushState().catch(() => "disabled"));
      setFailed(true);
    } finally {
      setBusy(false);
    }
  };
  const off = state === "unsupported" || state === "unavailable" || state === "denied";
  return html`<label class="switch-row" data-state=${state}><span>${texts.label}</span>
      <input type="checkbox" role="switch" id="push-toggle" checked=${state === "enabled"} disabled=${busy || off} onChange=${toggle} /></label>
    <p id="push-status" class="hint pad" role="status">${failed ? texts.failed : texts[state] || ""}</p>`;
}
