// The /verify page's service worker (scope /verify; api/routers/verify_app.py prepends CONFIG): it keeps the page
// and its code, so that the page opens and verifies with no network. Pages with a certificate in their address are
// never kept (they carry a holder's name): without a network, the kept page verifies them itself
// (static/verify-offline.js). The signed lists are kept by the page, not here.
"use strict";
var CACHE = "sonod-verify:" + CONFIG.version;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(CONFIG.kept.map(function (url) { return new Request(url, {cache: "reload"}); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("sonod-verify:") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) return;
  if (request.mode === "navigate" && url.pathname === CONFIG.shell) {
    event.respondWith(fresh(request, url.search ? null : CONFIG.shell, CONFIG.shell));
  } else if (CONFIG.kept.indexOf(url.pathname) >= 0) {
    event.respondWith(fresh(request, url.pathname, url.pathname));
  }
});

// The network's answer when there is one (kept as `keepAs`, unless null), else the kept copy of `fallback`.
function fresh(request, keepAs, fallback) {
  return fetch(request).then(function (response) {
    if (keepAs && response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { return cache.put(keepAs, copy); });
    }
    return response;
  }, function (error) {
    return caches.open(CACHE).then(function (cache) { return cache.match(fallback); }).then(function (kept) {
      if (kept) return kept;
      throw error;
    });
  });
}
