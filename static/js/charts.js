// Draw every Plotly figure the server embedded: <div data-figure="ID"> reads the JSON of
// <script id="ID" type="application/json"> (Django's json_script). No inline scripts, no CDN.
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.dataset.figure);
      if (!source || !window.Plotly) return;
      var fig = JSON.parse(source.textContent);
      window.Plotly.newPlot(el, fig.data, fig.layout, {
        displaylogo: false,
        responsive: true,
      });
    });
  }
  // A <form data-autosubmit> reloads when one of its fields changes (the team filter).
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function () { form.submit(); });
  });
  draw();
})();
