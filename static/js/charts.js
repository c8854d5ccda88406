// Draw every Plotly figure the server embedded: <div data-figure="ID"> reads the JSON of
// <script id="ID" type="application/json"> (Django's json_script). No inline scripts, no CDN.
// A chart with data-drilldown="URL" opens URL&category=…&severity=… for the clicked bar (the
// bar's customdata names both).
(function () {
  "use strict";
  function drillDown(el) {
    el.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      if (!point || !point.customdata) return;
      var filters = point.customdata;
      var url = el.dataset.drilldown;
      Object.keys(filters).forEach(function (key) {
        url += "&" + encodeURIComponent(key) + "=" + encodeURIComponent(filters[key]);
      });
      window.location.assign(url);
    });
  }
  function draw() {
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.dataset.figure);
      if (!source || !window.Plotly) return;
      var fig = JSON.parse(source.textContent);
      window.Plotly.newPlot(el, fig.data, fig.layout, {
        displaylogo: false,
        responsive: true,
      }).then(function () {
        if (el.dataset.drilldown) drillDown(el);
      });
    });
  }
  // A <form data-autosubmit> reloads when one of its fields changes (the team filter).
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function () { form.submit(); });
  });
  draw();
})();
