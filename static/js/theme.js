// Applied in <head> before the page paints, so a dark-mode user never sees a white flash.
(function () {
  try {
    var theme = localStorage.getItem("happychat.theme");
    if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  } catch (e) { /* storage blocked: follow the system */ }
})();
