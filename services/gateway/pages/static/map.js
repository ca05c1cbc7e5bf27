// The published results on a map: ward polygons of the chosen province, markers clustered; a base tile layer only
// when the province configured one (PAHT_TILE_URL). The list below the map works without any of this.
(function () {
  "use strict";
  var element = document.getElementById("map");
  if (!element || !window.L) { return; }
  var map = L.map(element, { preferCanvas: true, maxZoom: 19 }).setView([16.0, 106.5], 6);
  if (element.dataset.tiles) {
    L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: "" }).addTo(map);
  }
  var fitted = false;
  function fit(bounds) {
    if (bounds && bounds.isValid && bounds.isValid()) { map.fitBounds(bounds, { maxZoom: 15 }); fitted = true; }
  }
  if (element.dataset.wards) {
    fetch(element.dataset.wards).then(function (r) { return r.ok ? r.json() : null; }).then(function (wards) {
      if (!wards) { return; }
      var layer = L.geoJSON(wards, { style: { color: "#0b5cab", weight: 1, fillOpacity: 0.04 },
        onEachFeature: function (feature, polygon) { polygon.bindTooltip(feature.properties.ward_name || ""); } });
      layer.addTo(map);
      if (!fitted) { fit(layer.getBounds()); }
    });
  }
  fetch(element.dataset.points).then(function (r) { return r.ok ? r.json() : []; }).then(function (points) {
    var group = L.markerClusterGroup ? L.markerClusterGroup({ chunkedLoading: true }) : L.layerGroup();
    var markers = points.map(function (p) {
      var marker = L.marker([p[1], p[2]], { title: p[0], alt: p[0] });
      var link = document.createElement("a");
      link.href = "/reports/" + encodeURIComponent(p[0]);
      link.textContent = p[0];
      marker.bindPopup(link);
      return marker;
    });
    if (group.addLayers) { group.addLayers(markers); } else { markers.forEach(function (m) { group.addLayer(m); }); }
    group.addTo(map);
    element.dataset.loaded = String(points.length);
    if (points.length) { fit(L.latLngBounds(points.map(function (p) { return [p[1], p[2]]; }))); }
  });
}());
