// The "notify me when HappyChat is closed" switch of the settings dialog, on push.js.
// Its status texts come from the template (data-* on #push-status), in the page's language.
import { disablePush, enablePush, pushState } from "./push.js";

const toggle = document.getElementById("push-toggle");
const status = document.getElementById("push-status");

function render(state) {
  toggle.checked = state === "enabled";
  toggle.disabled = state === "unsupported" || state === "unavailable" || state === "denied";
  status.textContent = status.dataset[state] || "";
  toggle.closest("label")?.setAttribute("data-state", state);
}

if (toggle && status) {
  toggle.addEventListener("change", async () => {
    const wanted = toggle.checked;
    toggle.disabled = true;
    try {
      render(wanted ? await enablePush() : await disablePush());
    } catch {
      render(await pushState().catch(() => "disabled"));
      status.textContent = status.dataset.failed;
    }
  });
  pushState().then(render, () => render("unsupported"));
}
