// The centre's console: its charts (Chart.js, each with the same numbers in a table beside it) and the wards shaded
// by their count of reports (Leaflet). Without JavaScript the tables show everything.
(function () {
  "use strict";
  var COLORS = { received: "#0b5cab", resolved: "#1e7a3c", on_time: "#1e7a3c", late: "#b3261e", satisfied: "#8a5a00" };

  function read(element, name) {
    try { return JSON.parse(element.dataset[name] || "null"); } catch (e) { return null; }
  }

  function lines(label, width) {
    // a long name on several lines: Chart.js draws an array as one line each
    var words = String(label).split(" "), found = [], line = "";
    words.forEach(function (word) {
      if (line && (line + " " + word).length > width) {
        found.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    });
    if (line) { found.push(line); }
    return found.length > 1 ? found : label;
  }

  function chart(canvas) {
    var spec = read(canvas, "chart"), names = read(canvas, "names") || {};
    if (!spec || !window.Chart) { return; }
    var percent = !!spec.percent, horizontal = !!spec.horizontal, stacked = !!spec.stacked;
    var datasets = spec.series.map(function (series) {
      var color = COLORS[series.key] || "#5b6470";
      return {
        label: names[series.key] || series.key,
        data: series.data.map(function (v) { return v === null ? null : (percent ? Math.round(v * 1000) / 10 : v); }),
        backgroundColor: color, borderColor: color, borderWidth: spec.type === "line" ? 2 : 0,
        pointRadius: series.key === "satisfied" ? 6 : 4, pointStyle: series.key === "satisfied" ? "rectRot" : "circle",
        spanGaps: true, tension: 0.2, maxBarThickness: 28, clip: false
      };
    });
    if (horizontal) {   // room for every bar however many agencies or categories
      canvas.parentNode.style.height = Math.max(288, spec.labels.length * 44 + 90) + "px";
    }
    var value = horizontal ? "x" : "y", category = horizontal ? "y" : "x";
    var scales = {};
    scales[value] = { beginAtZero: true, stacked: stacked, ticks: { precision: 0 } };
    scales[category] = { stacked: stacked, ticks: { autoSkip: !horizontal } };
    if (percent) {
      scales[value].max = 100;
      scales[value].ticks.callback = function (v) { return v + " %"; };
    }
    canvas.chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels.map(function (l) {
        var label = l || names.none || "";
        return horizontal ? lines(label, canvas.clientWidth < 500 ? 16 : 26) : label;
      }), datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x", responsive: true, maintainAspectRatio: false, animation: false,
        layout: { padding: { top: 8, right: 8 } },
        scales: scales,
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 14 } },
          tooltip: { callbacks: percent ? {
            label: function (c) { return c.dataset.label + ": " + c.formattedValue + " %"; } } : {} }
        }
      }
    });
    canvas.dataset.drawn = "1";
  }

  Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), chart);

  var element = document.getElementById("ward-map");
  if (!element || !window.L) { return; }
  var counts = read(element, "counts") || {}, unit = element.dataset.unit || "";
  var classes = Array.prototype.map.call(document.querySelectorAll("#ward-legend li"), function (item) {
    return { low: Number(item.dataset.low), high: Number(item.dataset.high),
             color: window.getComputedStyle(item.querySelector(".swatch")).backgroundColor };
  });
  function shade(n) {
    for (var i = 0; i < classes.length; i += 1) {
      if (n >= classes[i].low && n <= classes[i].high) { return classes[i].color; }
    }
    return classes.length ? classes[classes.length - 1].color : "#f3f5f7";
  }
  var map = L.map(element, { preferCanvas: true, zoomSnap: 0.25, maxZoom: 18 }).setView([16.0, 106.5], 6);
  fetch(element.dataset.wards).then(function (r) { return r.ok ? r.json() : null; }).then(function (wards) {
    if (!wards) { return; }
    var layer = L.geoJSON(wards, {
      style: function (feature) {
        var count = counts[feature.properties.ward_code] || 0;
        return { color: "#3d4652", weight: 0.6, fillColor: shade(count), fillOpacity: 0.85 };
      },
      onEachFeature: function (feature, polygon) {
        polygon.bindTooltip((feature.properties.ward_name || feature.properties.ward_code) + ": " +
                            (counts[feature.properties.ward_code] || 0) + " " + unit, { sticky: true });
      }
    }).addTo(map);
    if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { padding: [8, 8], animate: false }); }
    element.dataset.loaded = String(Object.keys(counts).length);
  });
}());
