// Draw every chart on the page from JSON embedded beside it (no inline scripts):
//   <div class="chart" data-figure="fig-1"></div>  {{ figure|json_script:"fig-1" }}
// The JSON is {"data": [...], "layout": {...}}. Runs on load and after every htmx swap,
// so partials can carry charts too.
(function () {
  "use strict";

  function draw(root) {
    if (typeof Plotly === "undefined") return;
    root.querySelectorAll("[data-figure]").forEach(function (target) {
      var source = document.getElementById(target.dataset.figure);
      if (!source) return;
      var figure = JSON.parse(source.textContent);
      var layout = Object.assign(
        { margin: { l: 48, r: 16, t: 32, b: 40 }, font: { family: "system-ui, sans-serif", size: 12 },
          paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)" },
        figure.layout || {}
      );
      Plotly.react(target, figure.data || [], layout, { displayModeBar: false, responsive: true });
      target.dataset.drawn = "true";
    });
  }

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else window.addEventListener("load", fn);
  }

  ready(function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
