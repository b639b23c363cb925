// Progressive enhancement only: the app works without this file. Registers the service worker (the shell
// cached for offline use); htmx (hx-boost) is loaded by its own script tag.
"use strict";
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(function () {});
  });
}
// The pay page's way on to the payment gateway: its form (the gateway's signed fields) is sent at once; without
// this file the person presses its button.
document.addEventListener("DOMContentLoaded", function () {
  var gateway = document.querySelector("form[data-autosubmit]");
  if (gateway) {
    gateway.submit();
  }
});
