// Portfolio pages: small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Entry form: show the levels and results of the chosen item, and the points it claims.
  var form = document.getElementById("pf-entry-form");
  if (form) {
    var table = JSON.parse(form.dataset.pointsTable || "{}");
    var item = document.getElementById("pf-item");
    var level = document.getElementById("pf-level");
    var result = document.getElementById("pf-result");
    var count = document.getElementById("pf-count");
    var out = document.getElementById("pf-points");
    var only = Object.keys(table).length === 1 ? Object.keys(table)[0] : null;
    var chosenItem = function () { return item ? item.value : only; };
    var filter = function (select) {
      if (!select) { return; }
      var key = chosenItem();
      Array.prototype.forEach.call(select.querySelectorAll("option[data-item], optgroup[data-item]"), function (opt) {
        var keep = !key || opt.dataset.item === key;
        opt.hidden = !keep;
        opt.disabled = !keep;
        if (!keep && opt.selected) { select.value = ""; }
      });
    };
    var toggle = function (id, show) {
      var label = document.getElementById(id);
      if (label) { label.hidden = !show; }
    };
    var update = function () {
      var spec = table[chosenItem()];
      filter(level);
      filter(result);
      toggle("pf-level-label", spec ? spec.levels.length > 0 : true);
      toggle("pf-result-label", spec ? Object.keys(spec.results).length > 0 : true);
      toggle("pf-count-label", spec ? spec.counted : true);
      if (!spec) { out.textContent = "—"; return; }
      var points = null;
      if (Object.keys(spec.results).length) {
        var byLevel = result && spec.results[result.value];
        if (byLevel) { points = byLevel["*"] !== undefined ? byLevel["*"] : byLevel[level ? level.value : ""]; }
      } else {
        points = spec.points;
      }
      if (points === null || points === undefined) { out.textContent = "—"; return; }
      var n = spec.counted && count ? parseInt(count.value, 10) || 0 : 1;
      out.textContent = String(points * n);
    };
    [item, level, result, count].forEach(function (el) { if (el) { el.addEventListener("change", update); el.addEventListener("input", update); } });
    update();
  }

  // Uploads: static/js/upload.js checks size and type and shows the progress.

  // Confirm before deleting.
  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (f) {
    f.addEventListener("submit", function (event) {
      if (!window.confirm(f.dataset.confirm)) { event.preventDefault(); }
    });
  });

  // The queue: choose all.
  Array.prototype.forEach.call(document.querySelectorAll(".pf-check-all"), function (all) {
    all.addEventListener("change", function () {
      Array.prototype.forEach.call(document.querySelectorAll("input[name=entry]"), function (box) { box.checked = all.checked; });
    });
  });

  // Showcase links: select the whole link on focus, for copying.
  Array.prototype.forEach.call(document.querySelectorAll(".pf-copy"), function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // Print button on the summary.
  Array.prototype.forEach.call(document.querySelectorAll(".pf-print-button"), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
}());
