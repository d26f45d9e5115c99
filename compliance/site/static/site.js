// Sorting and filtering of the overview's plan table. No network, no storage, no inline handlers: the page's
// Content-Security-Policy allows this script by its hash and nothing else.
"use strict";
(function () {
  var table = document.getElementById("plan-table");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var ranks = { none: 0, watch: 1, info: 2, warning: 3, error: 4 };
  var fields = { plan: document.getElementById("f-plan"), rule: document.getElementById("f-rule"),
                 severity: document.getElementById("f-severity"), keeper: document.getElementById("f-keeper") };
  var shown = document.getElementById("shown");

  function value(row, key, kind) {
    var raw = key === "name" ? row.cells[0].textContent.trim().toLowerCase()
      : key === "keeper" ? row.getAttribute("data-keeper").toLowerCase()
      : row.getAttribute("data-" + key.replace("_", "-"));
    if (kind === "number") { return Number(raw); }
    if (kind === "rank") { return ranks[raw]; }
    return raw;
  }

  Array.prototype.forEach.call(table.tHead.querySelectorAll("button[data-sort]"), function (button) {
    button.addEventListener("click", function () {
      var th = button.parentNode;
      var descending = th.getAttribute("aria-sort") !== "descending";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) { cell.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      var key = button.getAttribute("data-sort"), kind = button.getAttribute("data-kind");
      rows.sort(function (a, b) {
        var x = value(a, key, kind), y = value(b, key, kind);
        var order = x < y ? -1 : x > y ? 1 : 0;
        return descending ? -order : order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });

  function filter() {
    var text = fields.plan.value.trim().toLowerCase(), rule = fields.rule.value;
    var severity = fields.severity.value, keeper = fields.keeper.value, count = 0;
    rows.forEach(function (row) {
      var keep = (!text || row.getAttribute("data-name").indexOf(text) !== -1)
        && (!rule || row.getAttribute("data-rules").indexOf(" " + rule + " ") !== -1)
        && (!severity || row.getAttribute("data-worst") === severity)
        && (!keeper || row.getAttribute("data-keeper") === keeper);
      row.hidden = !keep;
      count += keep ? 1 : 0;
    });
    shown.textContent = "Showing " + count + " of " + rows.length + " plans.";
  }
  Object.keys(fields).forEach(function (name) {
    fields[name].addEventListener("input", filter);
    fields[name].addEventListener("change", filter);
  });
  document.querySelector("form.filters").addEventListener("submit", function (event) { event.preventDefault(); });
}());
