/* The unit's trend by month on the leaders' dashboard (Chart.js, vendored): the numbers come from the page
   (data-trend), the same as the table under the chart, which stays the text alternative. */
(function () {
  "use strict";
  var holder = document.getElementById("trend");
  if (!holder || typeof window.Chart === "undefined") {
    return;
  }
  var trend = JSON.parse(holder.getAttribute("data-trend"));
  var names = JSON.parse(holder.getAttribute("data-names"));
  var canvas = holder.querySelector("canvas");
  new window.Chart(canvas, {
    data: {
      labels: trend.labels,
      datasets: [
        {type: "bar", label: names.received, data: trend.received, backgroundColor: "#0b5cab"},
        {type: "bar", label: names.on_time, data: trend.on_time, backgroundColor: "#1e7a3c"},
        {type: "bar", label: names.late, data: trend.late, backgroundColor: "#b3261e"},
        {type: "line", label: names.satisfied, data: trend.satisfied, yAxisID: "rate", borderColor: "#8a5a00",
         backgroundColor: "#8a5a00", spanGaps: true}
      ]
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        y: {beginAtZero: true, ticks: {precision: 0}},
        rate: {position: "right", min: 0, max: 100, grid: {drawOnChartArea: false}}
      },
      plugins: {legend: {position: "bottom"}}
    }
  });
}());
