// The /verify page with no network (issue 17; sonod/offline.py is the same in Python, docs/CERTIFICATES.md).
// Online, it downloads the trust list and the status lists, checks them against the sonod root that the page
// carries, and keeps them on the phone. Opened with a certificate but no network (the service worker,
// static/verify-sw.js, then gives the kept page), it verifies the QR here: base32, zlib, COSE_Sign1 (CBOR),
// Ed25519 by the union's key, vouched for by the root's ES256 signature, then the union's status list.
(function () {
  "use strict";
  var data = document.getElementById("verify-data");
  var LISTS = "sonod-verify-lists";
  var TRUST_URL = "/.well-known/sonod-trust-list.jws", INDEX_URL = "/api/v1/status-lists";
  var MAX_AGE_S = 72 * 3600;  // as `sonod verify --max-age`: older lists are said to be old
  var REFRESH_EVERY_MS = 15 * 60 * 1000;  // online, the lists are fetched again when older than this here
  var MAX_COSE_BYTES = 8192, CLOCK_SKEW_S = 300, MIN_YEAR = 1970;
  var te = new TextEncoder(), utf8 = new TextDecoder("utf-8", {fatal: true});
  var page = data ? JSON.parse(data.textContent) : null;

  function Reject(reason) { this.reason = reason; }
  function fail(reason) { throw new Reject(reason); }

  // --- bytes -------------------------------------------------------------------------------------------------
  function unb64url(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) fail("not base64url");
    var bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    return Uint8Array.from(bin, function (ch) { return ch.charCodeAt(0); });
  }

  function unbase32(text) {  // RFC 4648 without padding; the unused trailing bits must be zero (sonod.signing)
    if ([1, 3, 6].indexOf(text.length % 8) >= 0) fail("the payload is not valid base32");
    var out = new Uint8Array(Math.floor(text.length * 5 / 8)), buffer = 0, bits = 0, n = 0;
    for (var i = 0; i < text.length; i++) {
      buffer = (buffer << 5 | "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".indexOf(text[i])) & 0xffff;
      bits += 5;
      if (bits >= 8) { bits -= 8; out[n++] = buffer >> bits & 0xff; }
    }
    if (buffer & ((1 << bits) - 1)) fail("the payload is not canonical base32");
    return out;
  }

  function inflate(bytes, format, limit) {  // resolves to the bytes, or rejects past `limit` or on bad data
    var reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream(format)).getReader();
    var parts = [], size = 0;
    function next() {
      return reader.read().then(function (step) {
        if (step.done) {
          var out = new Uint8Array(size), at = 0;
          parts.forEach(function (part) { out.set(part, at); at += part.length; });
          return out;
        }
        size += step.value.length;
        if (size > limit) { reader.cancel(); fail("the payload decompresses to more than a certificate can hold"); }
        parts.push(step.value);
        return next();
      });
    }
    return next();
  }

  // --- CBOR (RFC 8949): the definite-length subset sonod writes --------------------------------------------------
  function Tag(tag, value) { this.tag = tag; this.value = value; }

  function cbor(bytes, what) {
    var at = 0;
    function need(n) { if (at + n > bytes.length) fail("the " + what + " is not valid CBOR"); }
    function uint(info) {
      if (info < 24) return info;
      var size = {24: 1, 25: 2, 26: 4, 27: 8}[info];
      if (!size) fail("the " + what + " is not valid CBOR");
      need(size);
      var value = 0;
      for (var i = 0; i < size; i++) value = value * 256 + bytes[at++];
      if (value > Number.MAX_SAFE_INTEGER) fail("the " + what + " holds a number out of range");
      return value;
    }
    function item() {
      need(1);
      var head = bytes[at++], major = head >> 5, info = head & 31;
      if (major === 7) {
        var simple = {20: false, 21: true, 22: null, 23: undefined};
        if (info in simple) return simple[info];
        fail("the " + what + " holds an unsupported CBOR value");
      }
      var n = uint(info), out, i;
      switch (major) {
        case 0: return n;
        case 1: return -1 - n;
        case 2: need(n); at += n; return bytes.slice(at - n, at);
        case 3:
          need(n); at += n;
          try { return utf8.decode(bytes.subarray(at - n, at)); } catch (e) { fail("the " + what + " is not valid CBOR"); }
          break;
        case 4: out = []; for (i = 0; i < n; i++) out.push(item()); return out;
        case 5: out = new Map(); for (i = 0; i < n; i++) { var key = item(); out.set(key, item()); } return out;
        default: return new Tag(n, item());
      }
    }
    var value = item();
    if (at !== bytes.length) fail("the " + what + " has trailing data");
    return value;
  }

  function cborHead(major, n) {
    if (n < 24) return [major << 5 | n];
    if (n < 256) return [major << 5 | 24, n];
    return [major << 5 | 25, n >> 8, n & 255];  // a certificate's parts are under 8 KB
  }

  function sigStructure(protectedBytes, body) {  // ["Signature1", protected, h'', payload]
    var label = te.encode("Signature1");
    var parts = [[0x84], cborHead(3, label.length), label, cborHead(2, protectedBytes.length), protectedBytes,
                 [0x40], cborHead(2, body.length), body];
    var out = new Uint8Array(parts.reduce(function (n, p) { return n + p.length; }, 0)), at = 0;
    parts.forEach(function (part) { out.set(part, at); at += part.length; });
    return out;
  }

  // --- signed lists --------------------------------------------------------------------------------------------
  function jws(token, typ) {
    var parts = typeof token === "string" ? token.trim().split(".") : [];
    if (parts.length !== 3) fail("not a compact JWS");
    var header, payload;
    try {
      header = JSON.parse(utf8.decode(unb64url(parts[0])));
      payload = JSON.parse(utf8.decode(unb64url(parts[1])));
    } catch (e) { fail("the JWS header or payload is not JSON"); }
    if (!header || !payload || typeof header !== "object" || typeof payload !== "object") fail("not a JWS");
    if (header.typ !== typ) fail("not a " + typ);
    if ("crit" in header) fail("the JWS has critical header parameters");
    var iat = payload.iat, next = payload.next_update;
    if (!(Number.isInteger(iat) && Number.isInteger(next) && iat >= 0 && iat <= next)) fail("iat or next_update is malformed");
    return {header: header, payload: payload, input: te.encode(parts[0] + "." + parts[1]), signature: unb64url(parts[2])};
  }

  function edKey(raw) { return crypto.subtle.importKey("raw", raw, {name: "Ed25519"}, false, ["verify"]); }

  function readTrustList(token) {
    var t = jws(token, "sonod-trust-list+jws"), root = page.root;
    if (t.header.alg !== "ES256" || t.header.kid !== root.kid) fail("the trust list is not signed by the pinned root");
    var jwk = {kty: "EC", crv: "P-256", x: root.x, y: root.y, ext: true};
    return crypto.subtle.importKey("jwk", jwk, {name: "ECDSA", namedCurve: "P-256"}, false, ["verify"])
      .then(function (key) {
        return crypto.subtle.verify({name: "ECDSA", hash: "SHA-256"}, key, t.signature, t.input);
      }).then(function (ok) {
        if (!ok) fail("the trust list's signature does not match the pinned root");
        if (t.payload.iss !== "sonod-root" || !Array.isArray(t.payload.keys)) fail("not the sonod root's trust list");
        var keys = new Map();
        t.payload.keys.forEach(function (k) {
          if (!k || k.kty !== "OKP" || k.crv !== "Ed25519") return;
          var x = unb64url(k.x);
          if (x.length !== 32 || typeof k.kid !== "string" || typeof k.union !== "string" || !Number.isInteger(k.nbf) ||
              !(k.exp === undefined || Number.isInteger(k.exp))) fail("malformed key in the trust list");
          keys.set(k.kid, {kid: k.kid, union: k.union, x: x, nbf: k.nbf, exp: k.exp === undefined ? null : k.exp});
        });
        return {iat: t.payload.iat, next: t.payload.next_update, keys: keys};
      });
  }

  function readStatusList(token, trust) {
    var s = jws(token, "sonod-status-list+jws"), p = s.payload, key = trust.keys.get(s.header.kid);
    if (s.header.alg !== "EdDSA" || !key) fail("the status list is not signed by a key of the trust list");
    if (p.iss !== key.union) fail("the status list is signed by another union's key");
    if (!(Number.isInteger(p.year) && p.year >= MIN_YEAR && Number.isInteger(p.size) && p.size > 0 &&
          p.size % 8 === 0 && p.size <= 1 << 24)) fail("the status list's year or size is malformed");
    if (p.iat < key.nbf || (key.exp !== null && p.iat >= key.exp)) fail("the status list was signed outside its key's use");
    return edKey(key.x).then(function (k) {
      return crypto.subtle.verify({name: "Ed25519"}, k, s.signature, s.input);
    }).then(function (ok) {
      if (!ok) fail("the status list's signature does not match its union's key");
      return inflate(unb64url(p.bits), "gzip", p.size / 8);
    }).then(function (bits) {
      if (bits.length !== p.size / 8) fail("the status list's bits do not hold `size` bits");
      return {union: p.iss, year: p.year, iat: p.iat, next: p.next_update, size: p.size, bits: bits};
    });
  }

  // --- the lists on this phone -----------------------------------------------------------------------------------
  function refresh() {  // download, check everything, and only then replace what the phone keeps
    function text(url) {
      return fetch(url, {cache: "no-store"}).then(function (r) { if (!r.ok) throw new Error(url); return r.text(); });
    }
    var names = "{}";  // the unions' and types' names (api/services/status_lists.names): shown, never trusted
    return text(TRUST_URL).then(function (trustToken) {
      return readTrustList(trustToken).then(function (trust) {
        return text(page.names_url).then(function (found) { names = found; return text(INDEX_URL); }).then(function (index) {
          var urls = JSON.parse(index).lists.map(function (e) {
            if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(e.union) || !Number.isInteger(e.year)) throw new Error("bad index");
            return INDEX_URL + "/" + e.union + "/" + e.year;
          });
          return Promise.all(urls.map(function (url) {
            return text(url).then(function (token) { return readStatusList(token, trust).then(function () { return [url, token]; }); });
          }));
        }).then(function (lists) {
          return caches.delete(LISTS).then(function () { return caches.open(LISTS); }).then(function (cache) {
            var all = lists.concat([[TRUST_URL, trustToken], ["/kept/index", JSON.stringify(lists.map(function (l) { return l[0]; }))],
                                    ["/kept/names", names], ["/kept/at", String(Date.now())]]);
            return Promise.all(all.map(function (l) { return cache.put(l[0], new Response(l[1])); }));
          });
        });
      });
    });
  }

  function refreshed() {  // refresh, then say so on the page (tests wait for it)
    return refresh().then(function () { document.documentElement.dataset.refreshed = String(Date.now()); });
  }

  function refreshedIfOld() {  // opening QR after QR does not download every list each time
    return caches.open(LISTS).then(function (cache) { return cache.match("/kept/at"); })
      .then(function (r) { return r ? r.text() : "0"; })
      .then(function (at) { return Date.now() - Number(at) > REFRESH_EVERY_MS ? refreshed() : null; });
  }

  function kept() {  // the phone's lists, checked again: {trust, lists: Map "union/year" → list}
    return caches.open(LISTS).then(function (cache) {
      function read(url) { return cache.match(url).then(function (r) { return r ? r.text() : null; }); }
      return Promise.all([read(TRUST_URL), read("/kept/index"), read("/kept/names")]).then(function (found) {
        if (!found[0] || !found[1]) return null;
        return readTrustList(found[0]).then(function (trust) {
          return Promise.all(JSON.parse(found[1]).map(function (url) {
            return read(url).then(function (token) { return token ? readStatusList(token, trust) : null; });
          })).then(function (lists) {
            var byYear = new Map();
            lists.forEach(function (l) { if (l) byYear.set(l.union + "/" + l.year, l); });
            return {trust: trust, lists: byYear, names: JSON.parse(found[2] || "{}")};
          });
        });
      });
    });
  }

  // --- the certificate -----------------------------------------------------------------------------------------
  function payloadOf(text) {  // sonod.signing.payload_from_qr_text
    text = text.replace(/\s+/g, "");
    if (text.indexOf("?") >= 0 || text.indexOf("://") >= 0) {
      var values;
      try { values = new URL(text, location.href).searchParams.getAll("c"); } catch (e) { fail("the text is not a well-formed URL"); }
      if (values.length !== 1) fail("the URL carries no certificate (no single c= parameter)");
      text = values[0];
    }
    if (!text) fail("the text is empty");
    if (text.length > 4096) fail("the text is too long to be a certificate");
    if (!/^[A-Z2-7]+$/.test(text)) fail("the payload is not uppercase base32");
    return text;
  }

  function isInt(v) { return Number.isInteger(v); }
  function isText(v, min) { return typeof v === "string" && v.length >= min; }

  function check(text, store, now) {  // resolves to {status, reason, claims, kid, list}
    var cose, protectedBytes, body, signature, kid, key, claims, iss, iat;
    return Promise.resolve().then(function () {
      return inflate(unbase32(payloadOf(text)), "deflate", MAX_COSE_BYTES)
        .catch(function (e) { if (e instanceof Reject) throw e; fail("the payload is not zlib-compressed data"); });
    }).then(function (bytes) {
      cose = cbor(bytes, "payload");
      if (!(cose instanceof Tag) || cose.tag !== 18) fail("the payload is not a COSE_Sign1 message (CBOR tag 18)");
      if (!Array.isArray(cose.value) || cose.value.length !== 4) fail("the COSE_Sign1 message does not have four parts");
      protectedBytes = cose.value[0]; body = cose.value[2]; signature = cose.value[3];
      if (!(protectedBytes instanceof Uint8Array && cose.value[1] instanceof Map && body instanceof Uint8Array)) {
        fail("the COSE_Sign1 headers or content are malformed");
      }
      if (!(signature instanceof Uint8Array && signature.length === 64)) fail("the signature is not a 64-byte Ed25519 signature");
      var header = cbor(protectedBytes, "protected header");
      if (!(header instanceof Map)) fail("the protected header is not a map");
      var alg = header.get(1);
      if (alg !== -8) fail("unsupported signature algorithm " + (alg === undefined ? "None" : alg) + " (expected EdDSA, -8)");
      var rawKid = header.get(4);
      if (!(rawKid instanceof Uint8Array && rawKid.length > 0 && rawKid.length <= 64 &&
            rawKid.every(function (b) { return b >= 0x20 && b < 0x7f; }))) fail("the protected header carries no usable key ID");
      kid = String.fromCharCode.apply(null, rawKid);
      key = store.trust.keys.get(kid);
      if (!key) fail("unknown signing key '" + kid + "'");
      return edKey(key.x).then(function (k) {
        return crypto.subtle.verify({name: "Ed25519"}, k, signature, sigStructure(protectedBytes, body));
      });
    }).then(function (ok) {
      if (!ok) fail("the signature does not match: the certificate was altered or not issued by sonod");
      var raw = cbor(body, "claim set");
      if (!(raw instanceof Map)) fail("the claim set is not a map");
      iss = raw.get(1); iat = raw.get(6);
      var days = raw.get(-6), exp = raw.get(4);
      if (typeof iss !== "string" || !isInt(iat) || !isInt(days)) fail("the claim set lacks its issuer, issue time or issue date");
      if (!(iat >= 0 && iat < Math.pow(2, 40) && days >= 0 && days < 2900000)) fail("the issue time or issue date is out of range");
      if (exp !== undefined && !(isInt(exp) && exp >= 0 && exp < Math.pow(2, 40))) fail("the end of validity (exp) is malformed or out of range");
      var hash = raw.get("h");
      claims = {certificate_no: raw.get(-1), certificate_type: raw.get(-2), union: raw.get(-3), name_bn: raw.get(-4),
                name_en: raw.get(-5), issued_on: days, valid_until: exp === undefined ? null : exp};
      var bad = ["certificate_no", "certificate_type", "union", "name_bn", "name_en"].filter(function (field) {
        return !isText(claims[field], field.indexOf("name") === 0 ? 0 : 1);
      });
      if (!(hash instanceof Uint8Array && hash.length === 16)) bad.push("content_hash");
      if (bad.length) fail("the claim set is malformed (" + bad.join(", ") + ")");  // in sonod.signing's order
      if (claims.union !== iss) fail("the certificate names union '" + claims.union + "' but was issued by '" + iss + "'");
      if (key.union !== iss) fail("key '" + kid + "' belongs to union '" + key.union + "', not to the issuer '" + iss + "'");
      if (iat < key.nbf) fail("signed before key '" + kid + "' came into use");
      if (key.exp !== null && iat >= key.exp) fail("signed after key '" + kid + "' was retired");
      if (iat > now + CLOCK_SKEW_S) fail("the issue time is in the future");
      var number = /^([A-Z0-9][A-Z0-9-]{0,39})-(\d{4})-(\d{6,9})(?:-EN)?$/.exec(claims.certificate_no);  // -EN: English
      if (!number) fail("'" + claims.certificate_no + "' is not a certificate number <UNION>-<YEAR>-<SEQ>");
      if (number[1].toLowerCase() !== claims.union) fail("the number " + claims.certificate_no + " is not of union " + claims.union);
      var list = store.lists.get(claims.union + "/" + Number(number[2])), seq = Number(number[3]);
      if (!list) fail("no status list of " + claims.union + " " + Number(number[2]) + " is kept on this phone");
      var answer = {claims: claims, kid: kid, list: list};
      if (seq < list.size && list.bits[seq >> 3] & (0x80 >> (seq & 7))) answer.status = "revoked";
      else if (claims.valid_until !== null && now >= claims.valid_until) answer.status = "expired";
      else answer.status = "valid";
      return answer;
    }).catch(function (e) {
      if (e instanceof Reject) return {status: "invalid", reason: e.reason};
      throw e;
    });
  }

  // --- the page ------------------------------------------------------------------------------------------------
  function bnDigits(text) { return String(text).replace(/\d/g, function (d) { return "০১২৩৪৫৬৭৮৯"[d]; }); }

  function ages(seconds) {  // [Bengali, English], as sonod.offline.age
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60);
    var mm = (m < 10 ? "0" : "") + m;
    return d ? [bnDigits(d) + " দিন " + bnDigits(h) + " ঘণ্টা", d + " d " + h + " h"]
             : [bnDigits(h) + " ঘণ্টা " + bnDigits(mm) + " মিনিট", h + " h " + mm + " min"];
  }

  function dates(day) {  // a UTC calendar day (ms) → [Bengali, English]
    var date = new Date(day);
    return [bnDigits(date.getUTCDate()) + " " + page.months_bn[date.getUTCMonth()] + " " + bnDigits(date.getUTCFullYear()),
            date.toLocaleDateString("en-GB", {day: "numeric", month: "long", year: "numeric", timeZone: "UTC"})];
  }

  function fill(root, slots) {
    root.querySelectorAll("[data-slot]").forEach(function (slot) {
      if (slots[slot.dataset.slot] !== undefined) slot.textContent = slots[slot.dataset.slot];
    });
  }

  function showAge(store, now, place) {
    var oldest = Math.min.apply(null, [store.trust.iat].concat(Array.from(store.lists.values(), function (l) { return l.iat; })));
    var age = ages(Math.max(0, now - oldest)), note = document.getElementById("offline-lists");
    fill(note, {age_bn: age[0], age_en: age[1]});
    note.hidden = false;
    var stale = document.getElementById("offline-stale");
    stale.hidden = now - oldest <= MAX_AGE_S;
    if (place) place.querySelector(".verdict").after(note, stale);
  }

  function render(answer, store, now) {
    var place = document.getElementById("offline-result");
    var view = document.getElementById("offline-" + answer.status).content.cloneNode(true);
    var c = answer.claims, slots = {reason: answer.reason};
    if (c) {
      var known = store.names || {}, union = (known.unions || {})[c.union] || [c.union, c.union];
      var kind = (known.types || {})[c.certificate_type] || [c.certificate_type, c.certificate_type];
      var issued = dates(c.issued_on * 86400000), until = c.valid_until !== null ? dates((c.valid_until - 1 + 6 * 3600) * 1000) : null;
      slots = {name_bn: c.name_bn, name_en: c.name_en, type_bn: kind[0], type_en: kind[1], certificate_no: c.certificate_no,
               union_bn: union[0], union_en: union[1], place_bn: union[2] ? ", " + union[2] + ", " + union[3] : "",
               issued_on_bn: issued[0], issued_on_en: issued[1], kid: answer.kid,
               valid_until_bn: until ? until[0] : "", valid_until_en: until ? until[1] : ""};
      if (!until) view.querySelectorAll("[data-row=valid_until]").forEach(function (row) { row.remove(); });
    }
    fill(view, slots);
    place.replaceChildren(view);
    place.dataset.status = answer.status;
    document.title = place.querySelector("h1").textContent + " — " + document.title;
    showAge(store, now, place);
  }

  function verifyHere(text) {
    var now = Math.floor(Date.now() / 1000);
    return kept().then(function (store) {
      if (!store) { document.getElementById("offline-none").hidden = false; return; }
      return check(text, store, now).then(function (answer) { render(answer, store, now); });
    });
  }

  function start() {
    if (!page || !window.caches || !window.crypto || !crypto.subtle) return;
    var params = new URLSearchParams(location.search), text = params.get("c") || params.get("qr");
    var done = text && !document.querySelector(".verdict") ? verifyHere(text) : Promise.resolve();
    done.then(function () { return navigator.onLine ? refreshedIfOld() : null; }).catch(function () { return null; })
      .then(function () { return kept(); }).then(function (store) {
        var now = Math.floor(Date.now() / 1000);
        if (store && !text) showAge(store, now, null);
        document.documentElement.dataset.lists = store ? "kept" : "none";
      }).catch(function () { document.documentElement.dataset.lists = "none"; });
  }

  if ("serviceWorker" in navigator && location.pathname === "/verify") {
    navigator.serviceWorker.register("/verify-sw.js", {scope: "/verify"}).catch(function () {});
  }
  window.addEventListener("online", function () { refreshed().catch(function () {}); });
  start();
})();
