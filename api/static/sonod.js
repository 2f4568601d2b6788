// Niceties only: every page works without this file.
(function () {
  "use strict";
  // Add-row tables: clone the last row, renumber its inputs, empty it.
  document.querySelectorAll("[data-table]").forEach(function (table) {
    var button = table.querySelector("[data-add-row]");
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var rows = table.querySelectorAll("[data-row]");
      var last = rows[rows.length - 1];
      var index = rows.length;
      var row = last.cloneNode(true);
      row.querySelectorAll("input, select, textarea").forEach(function (el) {
        el.name = el.name.replace(/\.\d+\./, "." + index + ".");
        el.id = el.id.replace(/-\d+-/, "-" + index + "-");
        el.required = false;
        el.removeAttribute("aria-invalid");
        el.removeAttribute("aria-describedby");
        if (el.tagName === "SELECT") el.selectedIndex = 0; else el.value = "";
      });
      row.querySelectorAll("label").forEach(function (label) {
        label.htmlFor = label.htmlFor.replace(/-\d+-/, "-" + index + "-");
      });
      row.querySelectorAll(".error").forEach(function (e) { e.remove(); });
      row.querySelectorAll(".has-error").forEach(function (e) { e.classList.remove("has-error"); });
      var n = row.querySelector("[data-n]");
      if (n) {
        var digits = document.documentElement.lang === "bn" ? "০১২৩৪৫৬৭৮৯" : "0123456789";
        n.textContent = String(index + 1).replace(/\d/g, function (d) { return digits[+d]; });
      }
      last.after(row);
      var first = row.querySelector("input, select");
      if (first) first.focus();
    });
  });
  // Print buttons.
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
  // Move focus to an error summary so that screen readers and keyboards land on it.
  var errors = document.getElementById("form-errors");
  if (errors) errors.focus();
})();
