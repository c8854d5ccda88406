// The findings list: a header checkbox selects (or clears) every row's checkbox on the page;
// and the keyboard walks the triage queue: j / k move to the next / previous finding, x
// selects it for a bulk action, o (or Enter on the row) opens it, s focuses its status.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-select-all]")) return;
    document.querySelectorAll("input[type=checkbox][name=ids]").forEach(function (row) {
      row.checked = box.checked;
    });
  });

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr[data-finding]"));
  }
  function current() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("tr[data-finding]") : null;
  }
  function typing(el) {
    return el && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(el.tagName) && el.type !== "checkbox";
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(document.activeElement)) return;
    var all = rows();
    if (!all.length) return;
    var row = current();
    var i = row ? all.indexOf(row) : -1;
    var key = event.key;
    if (key === "j" || key === "k") {
      var next = all[Math.min(all.length - 1, Math.max(0, key === "j" ? i + 1 : i - 1))];
      next.focus();
      event.preventDefault();
    } else if (row && key === "x") {
      var box = row.querySelector("input[type=checkbox][name=ids]");
      if (box) box.checked = !box.checked;
      event.preventDefault();
    } else if (row && (key === "o" || (key === "Enter" && document.activeElement === row))) {
      var link = row.querySelector("a[href]");
      if (link) window.location.assign(link.href);
      event.preventDefault();
    } else if (row && key === "s") {
      var status = row.querySelector("select[name=status]");
      if (status) status.focus();
      event.preventDefault();
    }
  });
})();
