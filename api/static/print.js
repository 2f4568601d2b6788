// The print batch's page (/dashboard/print/<id>): polls its progress until the PDF is ready or failed.
(function () {
  "use strict";
  var box = document.getElementById("print-progress");
  if (!box) return;
  var running = ["selecting", "rendering", "marking"];
  var digits = document.documentElement.lang === "bn" ? "০১২৩৪৫৬৭৮৯" : null;
  function num(n) {
    return digits ? String(n).replace(/[0-9]/g, function (d) { return digits[+d]; }) : String(n);
  }
  function show(state) {
    box.dataset.status = state.status;
    document.getElementById("print-bar").max = Math.max(state.total, 1);
    document.getElementById("print-bar").value = state.status === "done" ? Math.max(state.total, 1) : state.done;
    document.getElementById("print-done").textContent = num(state.done);
    var when = running.indexOf(state.status) >= 0 ? "running" : state.status;
    box.querySelectorAll("[data-when]").forEach(function (el) { el.hidden = el.dataset.when !== when; });
    document.getElementById("print-download").hidden = !state.pdf_url;
  }
  function poll() {
    fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (state) show(state);
        if (!state || running.indexOf(state.status) >= 0) setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  if (running.indexOf(box.dataset.status) >= 0) poll();
})();
