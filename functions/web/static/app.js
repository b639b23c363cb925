// Progressive enhancement only: the app works without this file. Registers the service worker (the shell
// cached for offline use); htmx (hx-boost) is loaded by its own script tag.
"use strict";
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(function () {});
  });
}
