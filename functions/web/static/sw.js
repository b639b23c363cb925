// The citizen app's service worker: caches the SHELL only (styles, scripts, icon, the offline page), never a
// page with personal data. A navigation without network shows /app/offline; everything else goes to the network.
"use strict";
const CACHE = "pic-app-shell-v1";
const SHELL = [
  "/app/offline",
  "/app/static/app.css",
  "/app/static/app.js",
  "/app/static/htmx-2.0.11.min.js",
  "/app/static/icon.svg",
  "/app/manifest.webmanifest",
];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
    })
  );
  self.clients.claim();
});

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") { return; }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(function () { return caches.match("/app/offline"); }));
    return;
  }
  if (SHELL.indexOf(url.pathname) !== -1) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
  }
});
