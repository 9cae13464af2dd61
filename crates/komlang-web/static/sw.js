// Komlang's service worker. It keeps the field app (its page, script, style sheet, manifest
// and icon) so that /field opens without a connection, and answers a page asked for while
// offline with the field app. Nothing else is kept: the records the app needs are kept by the
// app itself, for the signed-in account only, and forgotten on signing out.
"use strict";
var CACHE = "komlang-field-1";
var SHELL = ["/field", "/static/field.js", "/static/komlang.js", "/static/app.css", "/manifest.webmanifest", "/static/icon.svg"];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return Promise.all(SHELL.map(function (url) {
        return fetch(url, { credentials: "same-origin" }).then(function (res) {
          if (res.ok && !res.redirected) return cache.put(url, res);
        }).catch(function () {});
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (SHELL.indexOf(url.pathname) >= 0) {
    // The network first (the newest app and a fresh CSRF token), the kept copy without one.
    event.respondWith(
      fetch(req).then(function (res) {
        if (res.ok && !res.redirected) {
          var copy = res.clone();
          caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
        }
        return res;
      }).catch(function () {
        return caches.match(url.pathname).then(function (hit) { return hit || Response.error(); });
      })
    );
  } else if (req.mode === "navigate") {
    event.respondWith(
      fetch(req).catch(function () {
        return caches.match("/field").then(function (hit) { return hit || Response.error(); });
      })
    );
  }
});
