// Niceties only: every page works without this file.
(function () {
  "use strict";
  var DIGITS = document.documentElement.lang === "bn" ? "০১২৩৪৫৬৭৮৯" : "0123456789";
  function local(n) {
    return String(n).replace(/\d/g, function (d) { return DIGITS[+d]; });
  }
  // Add-row tables: clone the last row, renumber its inputs, empty it; each row's "remove this row" box (which,
  // without this file, leaves the row out when the form is sent) becomes a button that takes the row away and
  // renumbers the rows after it.
  function number(row, index) {
    row.querySelectorAll("input, select, textarea").forEach(function (el) {
      el.name = el.name.replace(/\.\d+\./, "." + index + ".");
      if (el.id) el.id = el.id.replace(/-\d+-/, "-" + index + "-");
      var described = el.getAttribute("aria-describedby");
      if (described) el.setAttribute("aria-describedby", described.replace(/-\d+-/, "-" + index + "-"));
    });
    row.querySelectorAll("label[for]").forEach(function (label) {
      label.htmlFor = label.htmlFor.replace(/-\d+-/, "-" + index + "-");
    });
    row.querySelectorAll(".error[id]").forEach(function (e) { e.id = e.id.replace(/-\d+-/, "-" + index + "-"); });
    var n = row.querySelector("[data-n]");
    if (n) n.textContent = local(index + 1);
  }
  function removable(table, row) {
    var box = row.querySelector("[data-remove-row]");
    if (!box || box.querySelector("button")) return;
    var label = box.querySelector("label");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = label.textContent.trim();
    label.hidden = true;
    box.appendChild(button);
    button.addEventListener("click", function () {
      var rows = table.querySelectorAll("[data-row]");
      var next = row.nextElementSibling;
      if (rows.length === 1) {  // the last row is emptied rather than taken away
        row.querySelectorAll("input:not([type=checkbox]), select").forEach(function (el) {
          if (el.tagName === "SELECT") el.selectedIndex = 0; else el.value = "";
        });
        return;
      }
      row.remove();
      table.querySelectorAll("[data-row]").forEach(function (r, i) { number(r, i); });
      var focus = next && next.matches("[data-row]") ? next.querySelector("input, select")
        : table.querySelector("[data-add-row]");
      if (focus) focus.focus();
    });
  }
  document.querySelectorAll("[data-table]").forEach(function (table) {
    table.querySelectorAll("[data-row]").forEach(function (row) { removable(table, row); });
    var button = table.querySelector("[data-add-row]");
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var rows = table.querySelectorAll("[data-row]");
      var last = rows[rows.length - 1];
      var row = last.cloneNode(true);
      number(row, rows.length);
      row.querySelectorAll("input, select, textarea").forEach(function (el) {
        el.required = false;
        el.removeAttribute("aria-invalid");
        el.removeAttribute("aria-describedby");
        if (el.tagName === "SELECT") el.selectedIndex = 0;
        else if (el.type === "checkbox") el.checked = false;
        else el.value = "";
      });
      row.querySelectorAll(".error").forEach(function (e) { e.remove(); });
      row.querySelectorAll(".has-error").forEach(function (e) { e.classList.remove("has-error"); });
      row.querySelectorAll("[data-remove-row] button").forEach(function (b) { b.remove(); });
      last.after(row);
      removable(table, row);
      var first = row.querySelector("input, select");
      if (first) first.focus();
    });
  });
  // Print buttons.
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
  // Deadlines count down live, in the page's words and digits (partials/status.html: countdown, countdown_words),
  // on the server's clock rather than the phone's.
  var words = document.getElementById("countdown-words");
  var dues = document.querySelectorAll("[data-deadline]");
  if (words && dues.length) {
    var w = JSON.parse(words.textContent);
    var skew = w.now - Date.now();
    var say = function (key, name, value) { return w[key].replace("{" + name + "}", value); };
    var duration = function (ms) {
      var minutes = Math.floor(Math.abs(ms) / 60000);
      var days = Math.floor(minutes / 1440), hours = Math.floor(minutes / 60) % 24, parts = [];
      if (days) parts.push(say("days", "n", local(days)));
      if (hours) parts.push(say("hours", "n", local(hours)));
      if (minutes % 60 || !parts.length) parts.push(say("minutes", "n", local(minutes % 60)));
      return parts.join(" ");
    };
    var tick = function () {
      var now = Date.now() + skew;
      dues.forEach(function (due) {
        var left = Date.parse(due.getAttribute("data-deadline")) - now;
        var late = left < 0 || due.hasAttribute("data-overdue");
        var text = say(left >= 0 ? "left" : "overdue_by", "t", duration(left));
        var shown = due.querySelector("[data-left]");
        if (shown.textContent !== text) shown.textContent = text;
        due.classList.toggle("late", late);
        if (late && !due.querySelector("[data-warn]")) {
          var warn = document.createElement("span");
          warn.setAttribute("aria-hidden", "true");
          warn.setAttribute("data-warn", "");
          warn.textContent = "⚠ ";
          due.prepend(warn);
        }
        var row = due.closest(".queue li");
        if (row) row.classList.toggle("late", late);
      });
    };
    tick();
    setInterval(tick, 1000);
  }
  // Move focus to an error summary so that screen readers and keyboards land on it.
  var errors = document.getElementById("form-errors");
  if (errors) errors.focus();
})();
