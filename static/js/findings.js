// The findings list: a header checkbox selects (or clears) every row's checkbox on the page.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-select-all]")) return;
    document.querySelectorAll("input[type=checkbox][name=ids]").forEach(function (row) {
      row.checked = box.checked;
    });
  });
})();
