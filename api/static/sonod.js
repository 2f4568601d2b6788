// Niceties only: every page works without this file.
(function () {
  "use strict";
  var DIGITS = document.documentElement.lang === "bn" ? "০১২৩৪৫৬৭৮৯" : "0123456789";
  function local(n) {
    return String(n).replace(/\d/g, function (d) { return DIGITS[+d]; });
  }
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
      if (n) n.textContent = local(index + 1);
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
