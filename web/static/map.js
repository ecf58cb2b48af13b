// Maps without a tile server: a plain background, sites as markers, parcels as shapes.
// Data comes from a <script type="application/json" id="map-data"> element next to #map;
// popups are built from DOM text nodes, never from HTML strings.
(function () {
  "use strict";

  function link(item) {
    var a = document.createElement("a");
    a.href = item.url;
    a.textContent = item.title;
    return a;
  }

  function show(el, items) {
    if (!el || !window.L) return null;
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
    var layer = L.featureGroup().addTo(map);
    items.forEach(function (item) {
      var shape = item.geometry;
      if (shape && shape.type !== "Point") {
        L.geoJSON(shape, { style: { color: "#b5452b", weight: 2, fillOpacity: 0.25 } })
          .bindPopup(link(item)).addTo(layer);
      } else if (item.lat !== null && item.lat !== undefined) {
        L.circleMarker([item.lat, item.lon], { radius: 7, color: "#8a1c1c", fillOpacity: 0.8 })
          .bindPopup(link(item)).addTo(layer);
      }
    });
    if (layer.getLayers().length) {
      map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 18 });
    } else {
      map.setView([21.0285, 105.8542], 11); // Hà Nội
    }
    el.dataset.features = String(layer.getLayers().length);
    return map;
  }

  window.sohoaMap = { show: show };
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("map");
    var data = document.getElementById("map-data");
    if (el && data) show(el, JSON.parse(data.textContent || "[]"));
  });
})();
