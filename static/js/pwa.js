// Loaded by every page: registers the service worker, routes notification clicks into the
// app, and forgets this device's offline copy and push subscription on logout.
import { forgetOfflineSnapshot } from "./offline-store.js";
import { disablePush, openInApp, refreshPush } from "./push.js";

if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(async () => {
    const reg = await navigator.serviceWorker.ready;
    reg.active?.postMessage({ type: "offline-language", lang: document.documentElement.lang });
    if (document.body.dataset.userId) refreshPush();
  }).catch(() => { /* no worker: the app still works, only not offline */ });
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "open") openInApp(event.data.url);
  });
}

// Logout is a plain form post; hold it for a moment to unsubscribe and forget the copy.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.dataset.logout === undefined || form.dataset.cleared) return;
  event.preventDefault();
  forgetOfflineSnapshot();
  const done = () => {
    form.dataset.cleared = "1";
    form.submit();
  };
  Promise.race([disablePush(), new Promise((resolve) => setTimeout(resolve, 1500))]).then(done, done);
});
