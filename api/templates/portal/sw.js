// The union portal's service worker, scope {{ config.base }}/ only (api/pages/app.py says what it keeps and why).
"use strict";
const C = {{ config | tojson }};
const SHELL = C.cache + C.version;
const KEPT = "sonod-kept";  // the citizen's certificates and drafts, across versions; their addresses carry the base

// Every page it keeps comes in one answer (api/pages/app.py: offline_pages), and is stored under its own address.
async function install() {
  const shell = await caches.open(SHELL);
  await shell.addAll(C.static);
  const pages = await (await fetch(C.base + "/offline-pages", {credentials: "same-origin"})).json();
  await Promise.all(Object.keys(pages).map((path) => shell.put(path, new Response(pages[path],
    {headers: {"Content-Type": "text/html; charset=utf-8"}}))));
  await self.skipWaiting();
}

self.addEventListener("install", (event) => event.waitUntil(install()));

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n.startsWith(C.cache) && n !== SHELL).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

function missing() {
  return new Response("", {status: 404});
}

// A form sent without a network is kept as a draft; api/static/app.js sends it, with the same Idempotency-Key,
// when the network returns.
async function sendOrKeep(request) {
  const fields = [];
  (await request.clone().formData()).forEach((value, name) => {
    if (typeof value === "string") fields.push([name, value]);
  });
  try {
    return await fetch(request);
  } catch (offline) {
    const id = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    const draft = {id: id, action: request.url, fields: fields, saved: new Date().toISOString()};
    const kept = await caches.open(KEPT);
    await kept.put(C.base + "/drafts/" + id + ".json", new Response(JSON.stringify(draft),
      {headers: {"Content-Type": "application/json"}}));
    return Response.redirect(C.base + "/kept?draft=" + id, 303);
  }
}

// Pages: the network first (a page is never older than it must be), the phone's copy without a network.
async function page(request, url) {
  const shell = await caches.open(SHELL);
  try {
    const response = await fetch(request);
    if (response.ok && !url.search && C.pages.includes(url.pathname)) await shell.put(url.pathname, response.clone());
    return response;
  } catch (offline) {
    return (await shell.match(url.pathname)) || (await shell.match(C.base + "/")) || missing();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request, url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (path.startsWith(C.base + "/kept/") || path.startsWith(C.base + "/drafts/")) {
    event.respondWith(caches.open(KEPT).then((c) => c.match(path)).then((r) => r || missing()));
  } else if (request.method === "POST" && request.mode === "navigate" && path.startsWith(C.base + "/apply/")) {
    event.respondWith(sendOrKeep(request));
  } else if (request.method === "POST" && request.mode === "navigate" && path.startsWith(C.base + "/")) {
    // tracking and the rest need the server: without a network, what this phone keeps instead of an error
    event.respondWith(fetch(request).catch(() => Response.redirect(C.base + "/kept", 303)));
  } else if (request.method === "GET" && C.static.includes(path)) {
    event.respondWith(caches.match(path, {cacheName: SHELL}).then((r) => r || fetch(request)));
  } else if (request.method === "GET" && request.mode === "navigate" && path.startsWith(C.base + "/")) {
    event.respondWith(page(request, url));
  }
});
