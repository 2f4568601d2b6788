// The union portal as an app (api/pages/app.py): its service worker, the certificates kept on this phone, and the
// drafts of applications made without a network, sent when it returns. Niceties only: every page works without it.
(function () {
  "use strict";
  var BASE = document.currentScript && document.currentScript.getAttribute("data-base");
  if (!BASE || !("serviceWorker" in navigator) || !window.caches || !window.fetch) return;
  navigator.serviceWorker.register(BASE + "/sw.js", {scope: BASE + "/"});

  var W = {};
  ["app-words", "kept-words", "keep-words"].forEach(function (id) {
    var el = document.getElementById(id);
    if (el) Object.assign(W, JSON.parse(el.textContent));
  });
  function say(key, n) { return (W[key] || "").replace("{n}", n || ""); }
  function node(tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text) el.textContent = text;
    return el;
  }
  function button(text, cls, act) {
    var b = node("button", cls, text);
    b.type = "button";
    b.addEventListener("click", act);
    return b;
  }

  // The phone's copies: certificates under BASE/kept/<no>.{json,pdf,svg}, drafts under BASE/drafts/<id>.json, in one
  // cache that the service worker answers those addresses from.
  function shelf() { return caches.open("sonod-kept"); }
  function put(path, body, type) {
    return shelf().then(function (c) { return c.put(BASE + path, new Response(body, {headers: {"Content-Type": type}})); });
  }
  function record(path, value) { return put(path, JSON.stringify(value), "application/json"); }
  function drop(paths) {
    return shelf().then(function (c) { return Promise.all(paths.map(function (p) { return c.delete(BASE + p); })); });
  }
  function records(prefix) {
    return shelf().then(function (c) {
      return c.keys().then(function (keys) {
        var mine = keys.filter(function (k) {
          var p = new URL(k.url).pathname;
          return p.indexOf(BASE + prefix) === 0 && /\.json$/.test(p);
        });
        return Promise.all(mine.map(function (k) { return c.match(k).then(function (r) { return r.json(); }); }));
      });
    }).then(function (all) { return all.sort(function (a, b) { return a.saved < b.saved ? -1 : 1; }); });
  }

  // A fresh Idempotency-Key for each form shown (a form kept on the phone is shown many times); a draft keeps its own.
  var idem = document.querySelector("form.app-form input[name=idem]");
  if (idem && window.crypto) {
    var bytes = crypto.getRandomValues(new Uint8Array(18));
    idem.value = btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_");
  }

  // Keeping a certificate, from the tracking page: the PDF and the QR, behind the same check as the download.
  var keep = document.getElementById("keep");
  if (keep) {
    keep.hidden = false;
    keep.addEventListener("click", function () {
      var no = keep.getAttribute("data-no"), status = document.getElementById("keep-status");
      var body = new URLSearchParams(new FormData(keep.form));
      function fetched(path) {
        return fetch(BASE + path, {method: "POST", body: body, credentials: "same-origin"}).then(function (r) {
          if (!r.ok) throw new Error(String(r.status));
          return r.blob();
        });
      }
      keep.disabled = true;
      if (navigator.storage && navigator.storage.persist) navigator.storage.persist();  // not evicted when space runs low
      Promise.all([fetched("/track/pdf"), fetched("/track/qr")]).then(function (got) {
        return Promise.all([put("/kept/" + no + ".pdf", got[0], "application/pdf"),
          put("/kept/" + no + ".svg", got[1], "image/svg+xml")]);
      }).then(function () {
        return record("/kept/" + no + ".json", {no: no, kind: keep.getAttribute("data-kind"), saved: new Date().toISOString()});
      }).then(function () { status.textContent = say("kept"); }, function () { status.textContent = say("not_kept"); })
        .then(function () { keep.disabled = false; });
    });
  }

  // The QR on the whole screen, white around it, for an officer's scanner.
  function showQr(k, opener, src) {
    var box = node("div", "qr-full"), img = node("img"), awake = null;
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", say("qr_label", k.no));
    img.src = src || BASE + "/kept/" + k.no + ".svg";
    img.alt = say("qr_label", k.no);
    var close = button(say("close"), "secondary", function () {
      if (document.fullscreenElement) document.exitFullscreen().catch(function () {});
      if (awake) awake.then(function (lock) { return lock.release(); }).catch(function () {});
      box.remove();
      opener.focus();
    });
    box.append(img, node("p", "mono", k.no), node("p", null, say("qr_hint")), close);
    box.addEventListener("keydown", function (e) { if (e.key === "Escape") close.click(); });
    document.body.append(box);
    close.focus();
    if (box.requestFullscreen) box.requestFullscreen().catch(function () {});
    if (navigator.wakeLock) awake = navigator.wakeLock.request("screen");  // the screen stays on while it is shown
    if (awake) awake.catch(function () {});
  }

  // "Show the QR code" on the tracking page: on the whole screen here, rather than a bare picture to come back from.
  var qrButton = document.getElementById("show-qr");
  if (qrButton) {
    qrButton.addEventListener("click", function (e) {
      e.preventDefault();
      fetch(BASE + "/track/qr", {method: "POST", body: new URLSearchParams(new FormData(qrButton.form)),
        credentials: "same-origin"}).then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.blob();
      }).then(function (svg) {
        showQr({no: qrButton.getAttribute("data-no")}, qrButton, URL.createObjectURL(svg));
      }, function () { qrButton.form.requestSubmit(qrButton); });
    });
  }

  var keptList = document.getElementById("kept-list");
  function showKept() {
    return records("/kept/").then(function (items) {
      keptList.textContent = "";
      document.getElementById("kept-none").hidden = items.length > 0;
      items.forEach(function (k) {
        var li = node("li"), actions = node("p", "actions"), pdf = node("a", "button secondary", say("open_pdf"));
        pdf.href = BASE + "/kept/" + k.no + ".pdf";
        pdf.download = k.no + ".pdf";
        var show = button(say("show_qr"), "primary", function () { showQr(k, show); });
        actions.append(show, pdf, button(say("remove"), "danger", function () {
          drop(["/kept/" + k.no + ".json", "/kept/" + k.no + ".pdf", "/kept/" + k.no + ".svg"]).then(showKept);
        }));
        li.append(node("strong", null, k.kind), node("span", "mono", k.no), actions);
        keptList.append(li);
      });
    });
  }

  // Drafts: listed on the kept page, sent one at a time when the network is there, each with its own key, so that a
  // draft sent twice (a lost answer, two tabs) lands on one application number.
  var draftList = document.getElementById("drafts-list"), note = document.getElementById("app-note");
  function code(d) { return decodeURIComponent(d.action.split("/apply/")[1] || ""); }
  function field(d, name) {
    var f = (d.fields || []).filter(function (x) { return x[0] === name; })[0];
    return f ? f[1] : "";
  }
  function showDrafts() {
    if (!draftList) return Promise.resolve();
    return records("/drafts/").then(function (drafts) {
      draftList.textContent = "";
      document.getElementById("drafts").hidden = !drafts.length;
      document.getElementById("draft-note").hidden = !drafts.some(function (d) { return !d.application_id; });
      drafts.forEach(function (d) {
        var li = node("li"), state = node("p", d.problem ? "error" : "hint"), actions = node("p", "actions");
        if (code(d)) li.append(node("strong", null, (W.kinds || {})[code(d)] || code(d)));
        li.append(node("span", null, d.name || field(d, "applicant.name_bn")));
        if (d.application_id) {
          var said = say("sent_no", "\n").split("\n");  // the number in bold, where the words put it
          state.append(said[0], node("strong", "mono", d.application_id), said[1] || "");
          var track = node("a", "button secondary", say("track"));
          track.href = BASE + "/track?id=" + encodeURIComponent(d.application_id);
          actions.append(track);
        } else if (d.problem) {
          state.textContent = say("mistakes");
          var fix = node("a", "button secondary", say("correct"));
          fix.href = d.action + "#draft=" + d.id;
          actions.append(fix);
        } else {
          state.textContent = sending && navigator.onLine ? say("sending") : say("waiting");
        }
        actions.append(button(say("remove"), "danger", function () { drop(["/drafts/" + d.id + ".json"]).then(showDrafts); }));
        li.append(state, actions);
        draftList.append(li);
      });
    });
  }
  function freshCsrf(d) {
    return fetch(d.action, {credentials: "same-origin"}).then(function (r) { return r.text(); }).then(function (html) {
      var m = /name="csrf" value="([^"]+)"/.exec(html);
      if (m) d.fields = d.fields.map(function (f) { return f[0] === "csrf" ? ["csrf", m[1]] : f; });
    });
  }
  function send(d, again) {
    return fetch(d.action, {method: "POST", body: new URLSearchParams(d.fields), credentials: "same-origin"})
      .then(function (r) {
        var sent = /\/applied\/([^/?#]+)/.exec(r.url);
        if (r.ok && sent) {  // what was personal leaves the phone's copy; the number stays
          var no = decodeURIComponent(sent[1]);
          if (note) { note.textContent = say("sent", no); note.className = "app-note ok"; note.hidden = false; }
          return record("/drafts/" + d.id + ".json", {id: d.id, action: d.action, saved: d.saved,
            name: field(d, "applicant.name_bn"), application_id: no});
        }
        if (r.status === 403 && !again) return freshCsrf(d).then(function () { return send(d, true); });
        if (r.status === 422 || r.status === 409) { d.problem = true; return record("/drafts/" + d.id + ".json", d); }
      }, function () { /* no network after all: the draft waits */ });
  }
  var sending = null;
  function sendDrafts() {
    if (sending || !navigator.onLine) return;
    var run = function () {
      return records("/drafts/").then(function (drafts) {
        return drafts.reduce(function (done, d) {
          return done.then(function () { return d.application_id || d.problem ? null : send(d); });
        }, Promise.resolve());
      });
    };
    var done = function () { sending = null; return showDrafts(); };
    sending = (navigator.locks ? navigator.locks.request("sonod-drafts", run) : run()).then(done, done);
    showDrafts();
  }

  // A draft with mistakes, opened from the kept page: its fields filled back into the form.
  var fill = /#draft=([\w-]+)/.exec(location.hash), form = document.querySelector("form.app-form");
  if (fill && form) {
    records("/drafts/").then(function (drafts) {
      var d = drafts.filter(function (x) { return x.id === fill[1]; })[0];
      if (!d) return;
      d.fields.forEach(function (f) {
        var add = form.querySelector("[data-add-row]");
        if (!form.elements[f[0]] && add && /\.\d+\./.test(f[0])) add.click();
        var el = form.elements[f[0]];
        if (el && f[0] !== "csrf" && f[0] !== "idem" && el.type !== "checkbox") el.value = f[1];
      });
      drop(["/drafts/" + d.id + ".json"]);
    });
  }

  // An application sent with the network: its number is kept too, so that the citizen need not write it down.
  var applied = document.getElementById("application-no"), sentFrom = "sonod-sent-from";
  if (idem) idem.form.addEventListener("submit", function () { sessionStorage.setItem(sentFrom, idem.form.action); });
  if (applied) {
    var number = applied.textContent.trim();
    records("/drafts/").then(function (all) {
      if (all.some(function (d) { return d.application_id === number; })) return;
      return record("/drafts/" + encodeURIComponent(number) + ".json", {id: encodeURIComponent(number),
        action: sessionStorage.getItem(sentFrom) || "", saved: new Date().toISOString(), application_id: number});
    });
  }

  function offline() {
    if (note && !navigator.onLine) { note.textContent = say("offline"); note.className = "app-note"; note.hidden = false; }
  }
  window.addEventListener("offline", function () { offline(); showDrafts(); });
  window.addEventListener("online", function () { if (note) note.hidden = true; sendDrafts(); });
  offline();
  if (keptList) showKept();
  showDrafts().then(sendDrafts);
  setInterval(sendDrafts, 30000);  // a server that did not answer is asked again
})();
