// The report form's place: the browser's position on request, or a point picked on the map (a manual place).
// Without JavaScript the latitude and longitude fields are typed in.
(function () {
  "use strict";
  var lat = document.getElementById("lat"), lon = document.getElementById("lon");
  var source = document.getElementById("location_source");
  var button = document.getElementById("locate"), picker = document.getElementById("picker");
  if (!lat || !lon) { return; }
  var marker = null, map = null;
  function place(latitude, longitude, how) {
    lat.value = latitude.toFixed(6); lon.value = longitude.toFixed(6); source.value = how;
    if (map) {
      if (marker) { marker.setLatLng([latitude, longitude]); } else { marker = L.marker([latitude, longitude]).addTo(map); }
      map.setView([latitude, longitude], Math.max(map.getZoom(), 15));
    }
  }
  var pack = document.getElementById("pack"), category = document.getElementById("category"), wards = null;
  if (picker && window.L) {
    picker.hidden = false;
    map = L.map(picker, { maxZoom: 19 }).setView([16.0, 106.5], 6);
    if (picker.dataset.tiles) { L.tileLayer(picker.dataset.tiles, { maxZoom: 19 }).addTo(map); }
    map.on("click", function (event) { place(event.latlng.lat, event.latlng.lng, "manual"); });
  }
  // the chosen province: its categories only, and its wards on the map to pick the place in
  function province() {
    if (category) {
      Array.prototype.forEach.call(category.options, function (option) {
        var packs = option.dataset.packs;
        option.hidden = Boolean(packs) && packs.split(" ").indexOf(pack.value) < 0;
        if (option.hidden && option.selected) { category.value = ""; }
      });
    }
    if (!map) { return; }
    fetch("/map/wards/" + encodeURIComponent(pack.value) + ".geojson").then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (data) {
      if (wards) { map.removeLayer(wards); wards = null; }
      if (!data) { return; }
      wards = L.geoJSON(data, { style: { color: "#0b5cab", weight: 1, fillOpacity: 0.05 },
        onEachFeature: function (feature, polygon) { polygon.bindTooltip(feature.properties.ward_name || ""); } });
      wards.on("click", function (event) { place(event.latlng.lat, event.latlng.lng, "manual"); });
      wards.addTo(map);
      if (!marker) { map.fitBounds(wards.getBounds()); }
    });
  }
  if (pack) { pack.addEventListener("change", province); province(); }
  if (button && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (position) {
        place(position.coords.latitude, position.coords.longitude, "gps");
      }, function () { button.textContent = button.textContent + " ✕"; }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }
}());
