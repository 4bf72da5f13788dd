// Draw every chart on the page from JSON embedded beside it (no inline scripts):
//   <div class="chart" data-figure="fig-1"></div>  {{ figure|json_script:"fig-1" }}
// The JSON is {"data": [...], "layout": {...}}. Runs on load and after every htmx swap,
// so partials can carry charts too. plotly.js (4.7 MB, about 1.4 MB compressed) is loaded
// only when a page has a chart to draw: its URL comes from this script tag's data-plotly.
(function () {
  "use strict";

  var plotlyUrl = document.currentScript && document.currentScript.dataset.plotly;
  var loading = null;

  function loadPlotly() {
    if (typeof Plotly !== "undefined") return Promise.resolve();
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = plotlyUrl;
        script.onload = resolve;
        script.onerror = function () { loading = null; reject(new Error("plotly did not load")); };
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  function draw(root) {
    var targets = root.querySelectorAll ? root.querySelectorAll("[data-figure]") : [];
    if (!targets.length || !plotlyUrl) return;
    loadPlotly().then(function () {
      targets.forEach(function (target) {
        var source = document.getElementById(target.dataset.figure);
        if (!source || !target.isConnected) return;
        var figure = JSON.parse(source.textContent);
        var layout = Object.assign(
          { margin: { l: 48, r: 16, t: 32, b: 40 }, font: { family: "system-ui, sans-serif", size: 12 },
            paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)" },
          figure.layout || {}
        );
        Plotly.react(target, figure.data || [], layout, { displayModeBar: false, responsive: true });
        target.dataset.drawn = "true";
      });
    }, function () { /* offline: the page works without its charts */ });
  }

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else window.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
